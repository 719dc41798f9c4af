/** A user as GitHub's REST API and webhooks show it (`simple-user`). */
export type GitHubUserJson = {
  login: string;
  id: number;
  node_id: string;
  avatar_url: string;
  gravatar_id: string;
  url: string;
  html_url: string;
  followers_url: string;
  following_url: string;
  gists_url: string;
  starred_url: string;
  subscriptions_url: string;
  organizations_url: string;
  repos_url: string;
  events_url: string;
  received_events_url: string;
  type: "User" | "Bot" | "Organization";
  site_admin: boolean;
  user_view_type: string;
};

export interface GitHubHosts {
  /** REST base, e.g. `https://api.github.com` or `http://127.0.0.1:PORT/api/v3`. */
  api: string;
  /** Web base, e.g. `https://github.com`. */
  web: string;
  /** Avatar base, e.g. `https://avatars.githubusercontent.com`. */
  avatars: string;
}

export const GITHUB_COM: GitHubHosts = { api: "https://api.github.com", web: "https://github.com", avatars: "https://avatars.githubusercontent.com" };

/** Builds a user object with every URL GitHub puts in one, for the given hosts. */
export function githubUserJson(user: { login: string; id: number; nodeId: string; type: GitHubUserJson["type"] }, hosts: GitHubHosts): GitHubUserJson {
  const api = `${hosts.api}/users/${encodeURIComponent(user.login)}`;
  return {
    login: user.login,
    id: user.id,
    node_id: user.nodeId,
    avatar_url: `${hosts.avatars}/u/${user.id}?v=4`,
    gravatar_id: "",
    url: api,
    html_url:
      user.type === "Bot" ? `${hosts.web}/apps/${encodeURIComponent(user.login.replace(/\[bot\]$/, ""))}` : `${hosts.web}/${encodeURIComponent(user.login)}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: user.type,
    site_admin: false,
    user_view_type: "public",
  };
}
