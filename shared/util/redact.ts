/**
 * Credentials never leave the process in text: a URL's user information
 * (scheme://user:password@host) is replaced wherever it occurs in a message,
 * whoever wrote the message (a client library quoting the URL it was given, say).
 */
const urlUserInfo = /([a-z][a-z0-9+.-]*:\/\/)[^\s/@'"]+@/gi;

export function redactCredentials(text: string): string {
  return text.replace(urlUserInfo, '$1***@');
}

/** An error's message and stack with credentials redacted, for logs and CLI output. */
export function redactedError(err: unknown): { name: string; message: string; stack?: string } {
  if (!(err instanceof Error)) return { name: 'Error', message: redactCredentials(String(err)) };
  const out: { name: string; message: string; stack?: string } = {
    name: err.name,
    message: redactCredentials(err.message),
  };
  if (err.stack !== undefined) out.stack = redactCredentials(err.stack);
  return out;
}
