/** Secrets shorter than this are not redacted: too likely to match ordinary text. */
const MIN_SECRET_LENGTH = 8;

/**
 * Replaces every occurrence of a secret in text headed for the model, in the forms a secret leaks
 * in: as written, base64-encoded, and as the Basic credentials git sends for an installation token.
 * A second line of defence: the sandbox keeps secrets out in the first place.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    forms.add(secret);
    forms.add(Buffer.from(secret).toString("base64"));
    forms.add(Buffer.from(`x-access-token:${secret}`).toString("base64"));
    for (const line of secret.split(/\r?\n/)) if (line.trim().length >= 16) forms.add(line.trim());
  }
  let result = text;
  for (const form of [...forms].sort((a, b) => b.length - a.length)) result = result.split(form).join("[redacted]");
  return result;
}
