/**
 * Keeps credentials out of error messages and log lines. Everything the
 * connection layer prints about where it connects goes through here.
 */

const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)([^\s@/?#]*)@/gi;

function hidePassword(_match: string, scheme: string, userinfo: string): string {
  const colon = userinfo.indexOf(':');
  return colon === -1 ? `${scheme}${userinfo}@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
}

/**
 * Replaces the password of every URL in `text` with `***`:
 * `redis://user:secret@host:6379/2` becomes `redis://user:***@host:6379/2`.
 */
export function redactUrl(text: string): string {
  return text.replace(URL_USERINFO, hidePassword);
}

/**
 * Removes known secrets, and the passwords of URLs, from a text that came
 * from elsewhere (a node-redis error message, say). A secret is replaced
 * where it stands as a token of its own, so that a short password does not
 * mangle the words it happens to occur in.
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let clean = redactUrl(text);
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    clean = clean.replace(new RegExp(`(?<![A-Za-z0-9])${escaped}(?![A-Za-z0-9])`, 'g'), '***');
  }
  return clean;
}
