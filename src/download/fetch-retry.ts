// How every source of the downloader talks HTTP: one attempt loop with the project's backoff (full
// jitter, or the server's Retry-After) and an idle timeout, plus the rules a stranger's URLs are
// held to. Used for S3 listings, the Hub's tree pages, Ollama manifests and every file body.
//
// - Only http: and https: URLs are fetched, the first one and every redirect: a definition must
//   not make the downloader read file:// or any other scheme.
// - Redirects are followed here (at most MAX_REDIRECTS), not by fetch, so the credential rule is
//   ours: an Authorization header goes to the origin it was made for and is dropped as soon as a
//   redirect leaves that origin (the Hub and Ollama's registry redirect file bodies to a CDN).
// - The idle timeout bounds silence, not length: an attempt is aborted when no response, or no
//   body bytes, arrived for `idleTimeoutMs`. A 40 GB model takes as long as it takes.
// - Retryable: connection failures, silence, a body cut short, HTTP 408, 429 and 5xx. A 4xx is an
//   answer (wrong URL, no access) and is reported at once.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseRetryAfter } from '../http/retry-after.ts';
import { retryDelayMs } from '../http/retry.ts';
import type { RetryPolicy } from '../http/retry.ts';
import { DownloadError } from './errors.ts';

export interface HttpRequest {
  url: string;
  headers?: Record<string, string>;
}

export interface FetchSettings {
  retry: RetryPolicy;
  /** An attempt that receives nothing (headers or body bytes) for this long is aborted and retried. */
  idleTimeoutMs: number;
  /** Ends everything at once (SIGTERM of the init container). */
  signal?: AbortSignal;
}

export const DEFAULT_FETCH_SETTINGS: Readonly<FetchSettings> = Object.freeze({
  // A download is worth waiting for: a minute between tries, and a Hub that asks for a minute is obeyed.
  retry: Object.freeze({ attempts: 5, baseDelayMs: 1_000, maxDelayMs: 60_000 }),
  idleTimeoutMs: 60_000,
});

export const MAX_REDIRECTS = 10;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const ERROR_DETAIL_BYTES = 512;
const ERROR_DETAIL_CHARACTERS = 200;
// eslint-disable-next-line no-control-regex -- a server's control characters must not reach a terminal
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]+/g;

/** What one attempt gets: its signal, its number (0 first), and a way to say bytes are still coming. */
export interface Attempt {
  signal: AbortSignal;
  index: number;
  stillAlive(): void;
}

/**
 * Runs `run` until it succeeds, throws something that is not a retryable DownloadError, or the
 * policy gives up. `what` names the request in the message of an idle timeout.
 */
export async function retrying<T>(what: string, settings: FetchSettings, run: (attempt: Attempt) => Promise<T>): Promise<T> {
  for (let index = 0; ; index++) {
    settings.signal?.throwIfAborted();
    const idle = new AbortController();
    const silence = (): void =>
      idle.abort(new DownloadError(`${what}: nothing received for ${settings.idleTimeoutMs} ms`, { retryable: true }));
    const timer = setTimeout(silence, settings.idleTimeoutMs);
    const signal = settings.signal === undefined ? idle.signal : AbortSignal.any([settings.signal, idle.signal]);
    try {
      return await run({ signal, index, stillAlive: () => timer.refresh() });
    } catch (error) {
      settings.signal?.throwIfAborted();
      const failure: unknown = idle.signal.aborted ? idle.signal.reason : error;
      if (!(failure instanceof DownloadError) || !failure.retryable) throw failure;
      const attemptsMade = index + 1;
      const delay = attemptsMade < settings.retry.attempts ? retryDelayMs(index, settings.retry, failure.retryAfterMs) : undefined;
      if (delay === undefined) {
        if (attemptsMade === 1) throw failure;
        throw new DownloadError(`${failure.message} (gave up after ${attemptsMade} attempts)`, {
          retryable: false,
          ...(failure.status === undefined ? {} : { status: failure.status }),
          cause: failure,
        });
      }
      await sleep(delay, undefined, settings.signal === undefined ? {} : { signal: settings.signal });
    } finally {
      clearTimeout(timer);
    }
  }
}

/** `url` as a URL when it is http: or https:, else a refusal naming the scheme. */
export function httpUrl(url: string, what: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DownloadError(`${what} is refused: ${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new DownloadError(`${what} is refused: only http and https URLs are fetched, not ${parsed.protocol}`);
  }
  return parsed;
}

/**
 * One attempt at `request`: the response once it is 2xx (redirects followed), else a
 * DownloadError that says whether trying again can help. The body is the caller's to read.
 */
export async function openResponse(request: HttpRequest, what: string, attempt: Attempt): Promise<Response> {
  let url = httpUrl(request.url, what);
  const origin = url.origin;
  // Bytes as stored: a transparently decompressed body would not match sizes, digests or ranges.
  let headers: Record<string, string> = { 'accept-encoding': 'identity', ...request.headers };
  for (let redirects = 0; ; redirects++) {
    let response: Response;
    try {
      response = await fetch(url, { headers, signal: attempt.signal, redirect: 'manual' });
    } catch (error) {
      if (attempt.signal.aborted) throw attempt.signal.reason ?? error;
      const reason = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      throw new DownloadError(`${what}: ${url.origin} could not be reached: ${reason}`, { retryable: true, cause: error });
    }
    attempt.stillAlive();
    if (response.ok) return response;
    const location = response.headers.get('location');
    if (!REDIRECT_STATUSES.has(response.status) || location === null) throw await statusFailure(what, response);
    await response.body?.cancel();
    if (redirects + 1 > MAX_REDIRECTS) throw new DownloadError(`${what}: more than ${MAX_REDIRECTS} redirects`);
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new DownloadError(`${what}: ${url.origin} redirected to something that is not a URL`);
    }
    url = httpUrl(next.href, `${what}: a redirect`);
    // Credentials belong to the origin they were issued for; a CDN URL carries its own.
    if (url.origin !== origin) headers = withoutCredentials(headers);
  }
}

function withoutCredentials(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'));
}

/** The error for a non-2xx answer, with a short, printable detail from its body. */
async function statusFailure(what: string, response: Response): Promise<DownloadError> {
  const { status } = response;
  const retryable = status === 408 || status === 429 || status >= 500;
  const meaning = status === 401 || status === 403 ? ' (access refused)' : status === 404 ? ' (not found)' : '';
  const detail = errorDetail(await readUpTo(response, ERROR_DETAIL_BYTES).catch(() => ''));
  return new DownloadError(`${what}: HTTP ${status}${meaning}${detail === '' ? '' : `: ${detail}`}`, {
    retryable,
    status,
    ...(retryable ? retryAfterOf(response) : {}),
  });
}

function retryAfterOf(response: Response): { retryAfterMs?: number } {
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  return retryAfterMs === undefined ? {} : { retryAfterMs };
}

async function readUpTo(response: Response, limit: number): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  while (length < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.length;
  }
  await reader.cancel();
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/** S3's <Code> and <Message>, the Hub's {"error": …}, or the start of the text; printable only. */
function errorDetail(body: string): string {
  const code = /<Code>([^<]{1,100})<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]{1,200})<\/Message>/.exec(body)?.[1];
  let detail = code === undefined ? undefined : message === undefined ? code : `${code}: ${message}`;
  if (detail === undefined) {
    try {
      const parsed = JSON.parse(body) as unknown;
      const error = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>).error : undefined;
      if (typeof error === 'string') detail = error;
    } catch {
      // not JSON: the text itself
    }
  }
  const text = (detail ?? body).replace(CONTROL_CHARACTERS, ' ').replace(/\s+/g, ' ').trim();
  return text.length > ERROR_DETAIL_CHARACTERS ? `${text.slice(0, ERROR_DETAIL_CHARACTERS)}…` : text;
}

/** A whole small answer (a listing page, a manifest), refused when larger than `limit` bytes. */
export async function fetchBytes(
  request: () => HttpRequest,
  what: string,
  settings: FetchSettings,
  limit: number,
): Promise<{ bytes: Buffer; headers: Headers }> {
  return retrying(what, settings, async (attempt) => {
    const response = await openResponse(request(), what, attempt);
    const chunks: Uint8Array[] = [];
    let length = 0;
    try {
      for await (const chunk of response.body ?? []) {
        attempt.stillAlive();
        length += chunk.length;
        if (length > limit) throw new DownloadError(`${what}: the answer is larger than ${limit} bytes`);
        chunks.push(chunk);
      }
    } catch (error) {
      if (error instanceof DownloadError || attempt.signal.aborted) throw error;
      throw new DownloadError(`${what}: the answer was cut short`, { retryable: true, cause: error });
    }
    return { bytes: Buffer.concat(chunks), headers: response.headers };
  });
}
