/**
 * Why a notification webhook address cannot be used, or `undefined` when it can: it must be an
 * absolute `https:` address, or `http:` to this machine's loopback (a relay on the same host, a
 * test receiver), and carry no user name or password. An incoming-webhook address holds its secret
 * in the path, so the problem names only the scheme and host, never the address itself. Pure.
 */
export function notifyUrlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "is not an absolute URL (expected https://hooks.slack.com/services/…)";
  }
  if (url.username !== "" || url.password !== "")
    return `carries a user name or password before ${url.host}; put credentials in the path, as incoming webhooks do`;
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:") {
    return isLoopbackHost(url.hostname) ? undefined : `uses http:// to ${url.hostname}; use https://, or http:// only to 127.0.0.1, ::1 or localhost`;
  }
  return `uses ${url.protocol.replace(/:$/, "")}://; use https://, or http:// only to 127.0.0.1, ::1 or localhost`;
}

/** A host name that reaches only this machine. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}
