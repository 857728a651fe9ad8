// Credentials out of text that leaves the process: error messages, log lines, Event notes and
// condition messages. RPC URLs often carry an API key (user:pass@, ?api-key=…, a token as a path
// segment), and fetch, undici and web3.js errors echo the URL they failed on, sometimes a header.
// The adapters that build errors from network failures (chain/rpc-transport.ts, ipfs/) redact
// their messages here, and the last-line sinks (runtime/logger.ts, events.ts, conditions.ts)
// redact again, so a message built somewhere nobody thought of is still caught on its way out.
//
// It lives in http/, below chain/, ipfs/ and runtime/, because all of them need it and it needs
// nothing of the project. What is kept: scheme, host and port (the thing to debug), path shape,
// parameter names. What goes (replaced by REDACTED):
// - the whole userinfo of a URL (`user:pass@`; a bare `key@` is a credential as often as a name);
// - the value of a query or fragment parameter whose name ends like a credential (key, token,
//   secret, password, auth, signature, jwt, session…), case, "-" and "_" ignored;
// - a path segment right after one named key, api-key, token, auth, secret… (`/api-key/<value>`);
// - a path segment that looks like an opaque token: 24 or more of [A-Za-z0-9_-] with both a letter
//   and a digit (QuickNode, Alchemy, GetBlock, Ankr and Chainstack put keys there). Public content
//   addresses after /ipfs/ or /ipns/ are kept. This is deliberately broad: a long generated name in
//   a URL is lost to the reader now and then, which is cheaper than a key in a Kubernetes Event;
// - outside URLs: the value of an Authorization header, a Bearer token, and `name: value` /
//   `name=value` pairs whose name is an API key, token, secret, password or JWT.
// A URL without a scheme ("user:pass@host") is not recognised.

export const REDACTED = '[redacted]';

/** Query, fragment and path names whose values are credentials (lowercased, without "-", "_", "."). */
const CREDENTIAL_NAME =
  /(?:key|token|secret|password|passwd|pass|pwd|auth|authorization|signature|sig|jwt|credential|credentials|session|sessionid)$/;

// Repetition before a literal is bounded ({0,31}, {0,40}) throughout: an unbounded one would make
// these scans quadratic on long runs like "a-a-a-…", and they run on every log line.
const URL_IN_TEXT = /\b[A-Za-z][A-Za-z0-9+.-]{0,31}:\/\/[^\s"'<>`\\]+/g;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]{0,31}:\/\//;
const OPAQUE_SEGMENT = /^(?=[A-Za-z0-9_-]*[A-Za-z])(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{24,}$/;
// Punctuation that ends a sentence around a URL rather than belonging to its last segment.
const TRAILING_PUNCTUATION = new Set([...').,;:!?]']);
const CONTENT_ADDRESS_PREFIXES = new Set(['ipfs', 'ipns']);
// Path segments that announce a credential in the next one (compared like CREDENTIAL_NAME). Exact
// names, not suffixes: a path is words, and `/monkey/3` is not `/key/3`.
const CREDENTIAL_PATH_NAMES = new Set(['key', 'apikey', 'token', 'accesstoken', 'authtoken', 'auth', 'secret', 'password']);

// `Authorization: Bearer x`, `"authorization":"Basic x"`, `Proxy-Authorization=x`: the scheme stays.
// (A value that is already REDACTED is not matched again: redacting twice changes nothing.)
const AUTHORIZATION_FIELD =
  /\b((?:proxy-)?authorization["']?\s*[:=]\s*["']?)(?:(bearer|basic|token|digest)\s+)?(?!(?:bearer|basic|token|digest)\s)[^\s"',;(){}<>[\]]+/gi;
const BEARER_TOKEN = /\b(bearer)\s+[A-Za-z0-9._~+/-]+=*/gi;
// `x-api-key: k`, `"api_key":"k"`, `client_secret=k`, `password: p`, `pinataJwt=j`.
const CREDENTIAL_FIELD =
  /\b([A-Za-z0-9_-]{0,40}(?:api[-_]?key|token|secret|password|passwd|jwt)["']?\s*[:=]\s*["']?)[^\s"'&,;(){}<>[\]]+/gi;

/** A query or path name lowercased, unescaped and without "-", "_" and ".". */
function normalisedName(name: string): string {
  let decoded = name;
  try {
    decoded = decodeURIComponent(name);
  } catch {
    // a malformed escape: judge the name as written
  }
  return decoded.toLowerCase().replace(/[-_.]/g, '');
}

/** `text` with every credential it recognises (see the file header) replaced by REDACTED. */
export function redactSecrets(text: string): string {
  return text
    .replace(URL_IN_TEXT, (url) => redactUrl(url))
    .replace(
      AUTHORIZATION_FIELD,
      (_match, field: string, scheme: string | undefined) => `${field}${scheme === undefined ? '' : `${scheme} `}${REDACTED}`,
    )
    .replace(BEARER_TOKEN, (_match, word: string) => `${word} ${REDACTED}`)
    .replace(CREDENTIAL_FIELD, (_match, field: string) => `${field}${REDACTED}`);
}

/**
 * One URL with its credentials replaced (userinfo, credential parameters, token-like path
 * segments), everything else as written: the result is for people to read, not to fetch.
 * Text that does not start with a scheme is returned as it is.
 */
export function redactUrl(url: string): string {
  const scheme = SCHEME.exec(url)?.[0];
  if (scheme === undefined) return url;
  const rest = url.slice(scheme.length);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  const at = authority.lastIndexOf('@');
  const host = at === -1 ? authority : `${REDACTED}@${authority.slice(at + 1)}`;
  if (authorityEnd === -1) return scheme + host;
  const tail = rest.slice(authorityEnd);
  const fragmentStart = tail.indexOf('#');
  const beforeFragment = fragmentStart === -1 ? tail : tail.slice(0, fragmentStart);
  const fragment = fragmentStart === -1 ? '' : tail.slice(fragmentStart);
  const queryStart = beforeFragment.indexOf('?');
  const path = queryStart === -1 ? beforeFragment : beforeFragment.slice(0, queryStart);
  const query = queryStart === -1 ? '' : beforeFragment.slice(queryStart);
  return scheme + host + redactPath(path) + redactParameters(query) + redactParameters(fragment);
}

function redactPath(path: string): string {
  const segments = path.split('/');
  return segments
    .map((segment, index) => {
      const previous = index > 0 ? (segments[index - 1] ?? '') : '';
      if (segment === '' || segment.startsWith(REDACTED) || CONTENT_ADDRESS_PREFIXES.has(previous.toLowerCase())) return segment;
      let coreLength = segment.length;
      while (coreLength > 0 && TRAILING_PUNCTUATION.has(segment.charAt(coreLength - 1))) coreLength -= 1;
      const core = segment.slice(0, coreLength);
      const trailing = segment.slice(coreLength);
      if (core === '') return segment;
      return CREDENTIAL_PATH_NAMES.has(normalisedName(previous)) || OPAQUE_SEGMENT.test(core) ? REDACTED + trailing : segment;
    })
    .join('/');
}

/** "?a=1&api-key=k" or "#access_token=t": values of credential-named parameters replaced. */
function redactParameters(part: string): string {
  if (part === '') return part;
  const [lead, body] = [part.slice(0, 1), part.slice(1)];
  return (
    lead +
    body
      .split(/([&;])/)
      .map((pair) => {
        const equals = pair.indexOf('=');
        return equals > 0 && CREDENTIAL_NAME.test(normalisedName(pair.slice(0, equals))) ? `${pair.slice(0, equals + 1)}${REDACTED}` : pair;
      })
      .join('')
  );
}

/**
 * The scheme, host and port of a URL, for naming an endpoint in a message or log line: paths and
 * queries often carry API keys and userinfo always does, so none of them is shown. Undefined when
 * `url` has no origin (not a URL, or a scheme without one).
 */
export function urlOrigin(url: string): string | undefined {
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

const MAX_CAUSE_DEPTH = 8;

/**
 * `error` with the messages and stacks of it and its cause chain redacted. An error that carries
 * nothing to redact is returned as it is (same object, class and properties); one that does is
 * replaced by a plain Error with the same name, code, redacted message, stack and cause. Meant
 * for errors caught from libraries, before they are attached as the cause of one of ours.
 * `depth` is internal: how far down the cause chain this call is.
 */
export function redactError(error: unknown, depth = 0): unknown {
  if (typeof error === 'string') return redactSecrets(error);
  if (!(error instanceof Error)) return error;
  const message = redactSecrets(error.message);
  const stack = error.stack === undefined ? undefined : redactSecrets(error.stack);
  // Beyond the depth bound (or in a cycle) the rest of the chain is dropped rather than kept unread.
  const cause = error.cause === undefined || depth >= MAX_CAUSE_DEPTH ? undefined : redactError(error.cause, depth + 1);
  if (message === error.message && stack === error.stack && cause === error.cause) return error;
  const copy = new Error(message, cause === undefined ? undefined : { cause });
  copy.name = error.name;
  copy.stack = stack;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') Object.assign(copy, { code });
  return copy;
}
