// HTTP plumbing shared by the pinning clients and the gateway reader: a timeout per attempt,
// retries with capped exponential backoff and full jitter (or the server's Retry-After), turning
// responses into typed errors, bounded body reads, and one observer event per HTTP request.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseRetryAfter } from '../http/retry-after.ts';
import { DEFAULT_RETRY_POLICY, retryDelayMs } from '../http/retry.ts';
import type { RetryPolicy } from '../http/retry.ts';

export { DEFAULT_RETRY_POLICY, type RetryPolicy };
import { IpfsAuthError, IpfsServiceError } from './errors.ts';

export interface IpfsRequestEvent {
  operation: 'pin' | 'read';
  /** "pinata", "kubo", or the gateway base URL. */
  service: string;
  outcome: 'ok' | 'error';
  seconds: number;
}

/** Called once per HTTP request (so a retried call reports each try). Must not throw. */
export type IpfsRequestObserver = (event: IpfsRequestEvent) => void;

export interface RequestSettings {
  timeoutMs: number;
  retry: RetryPolicy;
  onRequest?: IpfsRequestObserver;
}

export interface RequestTarget {
  operation: IpfsRequestEvent['operation'];
  /** Label reported to the observer. */
  metricsService: string;
  /** How errors name the service, e.g. "pinata (https://api.pinata.cloud)". */
  service: string;
}

export function resolveRetryPolicy(overrides: Partial<RetryPolicy> | undefined): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY, ...overrides };
  if (!Number.isInteger(policy.attempts) || policy.attempts < 1) {
    throw new RangeError(`retry.attempts must be an integer >= 1, got ${policy.attempts}`);
  }
  for (const field of ['baseDelayMs', 'maxDelayMs'] as const) {
    if (!Number.isFinite(policy[field]) || policy[field] < 0) {
      throw new RangeError(`retry.${field} must be a finite number >= 0, got ${policy[field]}`);
    }
  }
  return policy;
}

export function assertTimeout(timeoutMs: number): number {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(`timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`);
  }
  return timeoutMs;
}

/**
 * Runs `attempt` until it succeeds, fails with a non-retryable error, or the policy gives up.
 * Each attempt gets a signal that fires on the per-attempt timeout or when `callerSignal` aborts;
 * a caller abort ends everything at once with the caller's reason.
 */
export async function withRetries<T>(
  target: RequestTarget,
  settings: RequestSettings,
  callerSignal: AbortSignal | undefined,
  attempt: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  for (let tryIndex = 0; ; tryIndex++) {
    callerSignal?.throwIfAborted();
    const timeout = AbortSignal.timeout(settings.timeoutMs);
    const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;
    const started = performance.now();
    try {
      const result = await attempt(signal);
      report(target, settings, 'ok', started);
      return result;
    } catch (error) {
      report(target, settings, 'error', started);
      callerSignal?.throwIfAborted();
      const failure = timeout.aborted
        ? new IpfsServiceError(`${target.service} did not answer within ${settings.timeoutMs} ms`, {
            service: target.service,
            retryable: true,
            cause: error,
          })
        : error;
      if (!(failure instanceof IpfsServiceError) || !failure.retryable) throw failure;
      const attemptsMade = tryIndex + 1;
      const delay = attemptsMade < settings.retry.attempts ? retryDelayMs(tryIndex, settings.retry, failure.retryAfterMs) : undefined;
      if (delay === undefined) {
        if (attemptsMade === 1) throw failure;
        throw new IpfsServiceError(`${failure.message} (gave up after ${attemptsMade} attempts)`, {
          service: failure.service,
          status: failure.status,
          retryable: true,
          retryAfterMs: failure.retryAfterMs,
          cause: failure,
        });
      }
      await sleep(delay, undefined, { signal: callerSignal });
    }
  }
}

function report(target: RequestTarget, settings: RequestSettings, outcome: IpfsRequestEvent['outcome'], started: number): void {
  settings.onRequest?.({
    operation: target.operation,
    service: target.metricsService,
    outcome,
    seconds: (performance.now() - started) / 1000,
  });
}

/** `fetch`, with connection-level failures turned into retryable errors that name the service. */
export async function fetchFrom(service: string, url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    if (init.signal?.aborted) throw error;
    const reason = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new IpfsServiceError(`${service} could not be reached: ${reason}`, { service, retryable: true, cause: error });
  }
}

const ERROR_BODY_LIMIT = 300;

/** The error for a non-2xx response. The body is drained (bounded) so the connection can be reused. */
export async function responseFailure(service: string, response: Response, what: string): Promise<IpfsServiceError> {
  const { status } = response;
  if (status === 401 || status === 403) {
    await response.body?.cancel();
    return new IpfsAuthError(service, status);
  }
  const retryable = status === 408 || status === 429 || status >= 500;
  const { bytes, truncated } = await readBodyUpTo(service, response, ERROR_BODY_LIMIT);
  const text = new TextDecoder().decode(bytes).replace(/\s+/g, ' ').trim();
  const detail = text === '' ? '' : `: ${text}${truncated ? '…' : ''}`;
  return new IpfsServiceError(`${service} answered HTTP ${status} ${response.statusText} to ${what}${detail}`, {
    service,
    status,
    retryable,
    retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
  });
}

/**
 * Reads at most `limit` bytes of the body. When there are more, stops reading and cancels the
 * stream at once (so an endless or oversized body costs at most `limit` bytes), and says so.
 * A connection lost mid-body is a retryable failure of `service`; aborts (timeout, caller) surface
 * as such because `withRetries` checks the signals before looking at the error.
 */
export async function readBodyUpTo(service: string, response: Response, limit: number): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  if (response.body === null) return { bytes: new Uint8Array(0), truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read().catch((error: unknown) => {
      throw new IpfsServiceError(`${service} broke off the response: ${error instanceof Error ? error.message : String(error)}`, {
        service,
        retryable: true,
        cause: error,
      });
    });
    if (done) break;
    if (length + value.length > limit) {
      chunks.push(value.subarray(0, limit - length));
      length = limit;
      await reader.cancel();
      return { bytes: concat(chunks, length), truncated: true };
    }
    chunks.push(value);
    length += value.length;
  }
  return { bytes: concat(chunks, length), truncated: false };
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}
