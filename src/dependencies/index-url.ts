// The package index the control plane names: which URLs we accept, how pip is pointed at them,
// and how they appear in messages (never with a password).

const MAX_INDEX_URL_LENGTH = 2048;

/** Why `value` is refused as an index URL, or undefined when it is usable. */
export function indexUrlProblem(value: string): string | undefined {
  if (value.trim() === '') return 'is empty: send the URL of a PEP 503 simple index, e.g. https://<your-index>/simple';
  if (value.length > MAX_INDEX_URL_LENGTH) return `is longer than ${MAX_INDEX_URL_LENGTH} characters`;
  // pip takes the URL as one argv item, but a URL with spaces or control characters is no URL
  if (/[\s\x00-\x1f\x7f]/.test(value)) return 'contains whitespace or control characters';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `is not a URL: expected http(s)://host[:port]/path, got "${redactIndexUrl(value)}"`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be an http or https URL, got the scheme "${url.protocol.replace(/:$/, '')}"`;
  return undefined;
}

/** pip refuses plain-http indexes unless their host is trusted; https keeps certificate checks. */
export function pipIndexArguments(indexUrl: string): string[] {
  const url = new URL(indexUrl);
  const args = ['--index-url', indexUrl];
  if (url.protocol === 'http:') args.push('--trusted-host', url.host);
  return args;
}

/**
 * The URL as it may be shown: a password (private indexes) replaced by ****, a user name alone
 * too (a token is often sent as https://TOKEN@host/), and every query value (…?token=…).
 */
export function redactIndexUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '****';
    else if (url.username) url.username = '****';
    if (url.search) {
      const names = [...url.searchParams.keys()];
      url.search = names.map((name) => `${encodeURIComponent(name)}=****`).join('&');
    }
    return url.toString();
  } catch {
    return value.replace(/\/\/[^/@\s]*@/, '//****@').replace(/\?.*$/s, '?****');
  }
}
