import type { GitHubUserJson } from "../github-user-json.js";
import type { CommitState, IssueState, PermissionLevel, ReviewState } from "./types.js";

/** The JSON the emulator answers with, typed for tests that read it (fields follow GitHub's OpenAPI response schemas). */

export type UserJson = GitHubUserJson;

export interface LabelJson {
  id: number;
  node_id: string;
  url: string;
  name: string;
  description: string | null;
  color: string;
  default: boolean;
}

export interface AppJson {
  id: number;
  slug: string;
  node_id: string;
  client_id: string;
  owner: UserJson;
  name: string;
  description: string;
  external_url: string;
  html_url: string;
  created_at: string;
  updated_at: string;
  permissions: Record<string, PermissionLevel>;
  events: string[];
  installations_count: number;
}

export interface ReactionRollupJson {
  url: string;
  total_count: number;
  "+1": number;
  "-1": number;
  laugh: number;
  confused: number;
  heart: number;
  hooray: number;
  eyes: number;
  rocket: number;
}

export interface IssueJson {
  id: number;
  node_id: string;
  url: string;
  repository_url: string;
  labels_url: string;
  comments_url: string;
  events_url: string;
  html_url: string;
  timeline_url: string;
  number: number;
  state: IssueState;
  state_reason: string | null;
  title: string;
  body: string | null;
  user: UserJson;
  labels: LabelJson[];
  assignee: null;
  assignees: UserJson[];
  milestone: null;
  locked: boolean;
  active_lock_reason: null;
  comments: number;
  closed_at: string | null;
  closed_by: UserJson | null;
  created_at: string;
  updated_at: string;
  author_association: string;
  performed_via_github_app: AppJson | null;
  reactions: ReactionRollupJson;
  issue_dependencies_summary: { blocked_by: number; blocking: number; total_blocked_by: number; total_blocking: number };
}

export interface CommentJson {
  id: number;
  node_id: string;
  url: string;
  html_url: string;
  issue_url: string;
  body: string;
  user: UserJson;
  created_at: string;
  updated_at: string;
  author_association: string;
  performed_via_github_app: AppJson | null;
  reactions: ReactionRollupJson;
}

export interface ReactionJson {
  id: number;
  node_id: string;
  user: UserJson;
  content: string;
  created_at: string;
}

export interface GitIdentityJson {
  name: string;
  email: string;
  date: string;
}

export interface CommitJson {
  sha: string;
  node_id: string;
  url: string;
  html_url: string;
  author: GitIdentityJson;
  committer: GitIdentityJson;
  tree: { sha: string; url: string };
  message: string;
  parents: Array<{ sha: string; url: string; html_url: string }>;
  verification: { verified: boolean; reason: string; signature: null; payload: null; verified_at: null };
}

export interface RefJson {
  ref: string;
  node_id: string;
  url: string;
  object: { type: string; sha: string; url: string };
}

export interface CheckRunJson {
  id: number;
  head_sha: string;
  node_id: string;
  external_id: string;
  url: string;
  html_url: string;
  details_url: string;
  status: string;
  conclusion: string | null;
  started_at: string;
  completed_at: string | null;
  output: { title: string | null; summary: string | null; text: string | null; annotations_count: number; annotations_url: string };
  name: string;
  check_suite: { id: number };
  app: AppJson;
  /** Open pull requests of the repository whose head is the run's `head_sha`, as GitHub lists them. */
  pull_requests: PullRequestMinimalJson[];
}

export interface PullRequestMinimalJson {
  id: number;
  number: number;
  url: string;
  head: { ref: string; sha: string; repo: { id: number; url: string; name: string } };
  base: { ref: string; sha: string; repo: { id: number; url: string; name: string } };
}

export interface CommitStatusJson {
  url: string;
  avatar_url: string | null;
  id: number;
  node_id: string;
  state: CommitState;
  description: string | null;
  target_url: string | null;
  context: string;
  created_at: string;
  updated_at: string;
  creator: UserJson;
}

export interface ReviewJson {
  id: number;
  node_id: string;
  user: UserJson;
  body: string;
  state: ReviewState;
  html_url: string;
  pull_request_url: string;
  _links: { html: { href: string }; pull_request: { href: string } };
  submitted_at: string;
  commit_id: string;
  author_association: string;
}

export interface ReviewCommentJson {
  url: string;
  pull_request_review_id: number;
  id: number;
  node_id: string;
  diff_hunk: string;
  path: string;
  position: number;
  original_position: number;
  commit_id: string;
  original_commit_id: string;
  in_reply_to_id?: number;
  user: UserJson;
  body: string;
  created_at: string;
  updated_at: string;
  html_url: string;
  pull_request_url: string;
  author_association: string;
  _links: { self: { href: string }; html: { href: string }; pull_request: { href: string } };
  start_line: null;
  original_start_line: null;
  start_side: null;
  line: number;
  original_line: number;
  side: "RIGHT";
  subject_type: "line";
  reactions: ReactionRollupJson;
}
