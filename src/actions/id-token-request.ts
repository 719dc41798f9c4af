/** The most bytes of Actions' answer to an ID token request (a token is about 1 KB). */
const MAX_ANSWER_BYTES = 64 * 1024;
const TIMEOUT_MS = 15_000;

/**
 * Asks GitHub Actions for this job's OIDC token with `audience`, as `core.getIDToken` does: a GET of
 * `ACTIONS_ID_TOKEN_REQUEST_URL` with the audience added, authorised by
 * `ACTIONS_ID_TOKEN_REQUEST_TOKEN`. Both exist only in a job whose workflow has
 * `permissions: id-token: write`. Throws with what to fix when they are missing or Actions refuses.
 */
export async function requestIdToken(env: NodeJS.ProcessEnv, audience: string, fetch: typeof globalThis.fetch = globalThis.fetch): Promise<string> {
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL ?? "";
  const bearer = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ?? "";
  if (url === "" || bearer === "")
    throw new Error(
      "this job cannot ask GitHub Actions for an OIDC token: ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set (the workflow needs `permissions: id-token: write`)",
    );
  const target = new URL(url);
  target.searchParams.set("audience", audience);
  const response = await fetch(target, { headers: { authorization: `Bearer ${bearer}`, accept: "application/json" }, signal: AbortSignal.timeout(TIMEOUT_MS) });
  const text = await response.text();
  if (text.length > MAX_ANSWER_BYTES)
    throw new Error(`GitHub Actions answered the OIDC token request with ${text.length} bytes; afk expects a token of about 1 KB`);
  if (!response.ok) throw new Error(`GitHub Actions refused the OIDC token request (${response.status}${text === "" ? "" : `: ${text.slice(0, 200)}`})`);
  let value: unknown;
  try {
    const body: unknown = JSON.parse(text);
    value = typeof body === "object" && body !== null && "value" in body ? body.value : undefined;
  } catch {
    value = undefined;
  }
  if (typeof value !== "string" || value.length === 0) throw new Error("GitHub Actions answered the OIDC token request without a token");
  return value;
}
