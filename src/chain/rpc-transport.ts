// The HTTP transport under web3.js's Connection: per-request timeouts, retries with backoff that
// honour Retry-After on 429, retries on 5xx and network errors, a request budget (requests per
// second, shared by everything using the transport) and an observer for metrics.
//
// A Retry-After longer than maxDelayMs ends the retries with an error, as in the IPFS clients:
// waiting that long inside one call is worse than failing and letting the reconcile loop come back,
// and retrying sooner than asked is what gets a key throttled harder.
//
// Error messages go through redactSecrets: RPC URLs carry API keys, and fetch echoes the URL in
// some of its errors (a URL with user:pass@ is refused with the whole URL in the message).
//
// Retrying is safe for every method the project calls: reads are idempotent and
// sendTransaction re-sends the same signed bytes, which the cluster de-duplicates by signature.
import { Connection } from '@solana/web3.js';
import type { Commitment } from '@solana/web3.js';
import { readBodyUpTo } from '../ipfs/http.ts';
import { redactSecrets } from '../http/redact.ts';
import { parseRetryAfter } from '../http/retry-after.ts';

export interface RpcRequestEvent {
  /** JSON-RPC method(s) of the request; a batch reports them joined with ",". */
  method: string;
  outcome: 'ok' | 'retry' | 'error';
  /** HTTP status, when there was a response. */
  status?: number;
  seconds: number;
}

export interface RpcTransportOptions {
  /** Per-attempt timeout. */
  timeoutMs?: number;
  /** Attempts after the first one. */
  maxRetries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Request budget: at most this many requests per second leave the process (undefined = unlimited). */
  requestsPerSecond?: number;
  onRequest?: (event: RpcRequestEvent) => void;
  /** For tests: the fetch to wrap. */
  fetch?: typeof fetch;
}

const DEFAULTS = { timeoutMs: 30_000, maxRetries: 5, baseDelayMs: 250, maxDelayMs: 10_000 };
/** The largest answer read from an RPC: far above any the operator asks for (a page of program accounts). */
const RPC_RESPONSE_MAX_BYTES = 64 * 1024 * 1024;

/** The RPC could not be reached or kept failing; `method` says what was being asked. */
export class RpcUnavailableError extends Error {
  readonly method: string;
  constructor(method: string, detail: string) {
    super(redactSecrets(`RPC ${method} failed: ${detail}`));
    this.name = 'RpcUnavailableError';
    this.method = method;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A token bucket refilled continuously; callers wait for a token instead of failing. */
class RequestBudget {
  private tokens: number;
  private last = performance.now();
  private readonly perSecond: number;
  private readonly capacity: number;

  constructor(perSecond: number) {
    if (!(perSecond > 0)) throw new Error(`the RPC request budget must be a positive number of requests per second, got ${perSecond}`);
    this.perSecond = perSecond;
    // A bucket must hold at least one whole token, or a budget below 1/s would never release one.
    this.capacity = Math.max(1, perSecond);
    this.tokens = this.capacity;
  }

  async take(): Promise<void> {
    for (;;) {
      const now = performance.now();
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.perSecond);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await sleep(Math.ceil(((1 - this.tokens) / this.perSecond) * 1000));
    }
  }
}

function methodOf(body: unknown): string {
  try {
    const parsed = JSON.parse(String(body)) as { method?: string } | { method?: string }[];
    return Array.isArray(parsed) ? parsed.map((entry) => entry.method ?? '?').join(',') : (parsed.method ?? '?');
  } catch {
    return '?';
  }
}

/** What a failed fetch says: undici's "fetch failed" names the reason only in its cause. */
function networkFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
}

export function createRpcFetch(options: RpcTransportOptions = {}): typeof fetch {
  const settings = { ...DEFAULTS, ...options };
  const inner = options.fetch ?? fetch;
  const budget = options.requestsPerSecond === undefined ? undefined : new RequestBudget(options.requestsPerSecond);
  const backoff = (attempt: number): number => {
    const ceiling = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** attempt);
    return ceiling / 2 + Math.random() * (ceiling / 2);
  };

  return async (input, init) => {
    const method = methodOf(init?.body);
    for (let attempt = 0; ; attempt += 1) {
      await budget?.take();
      const started = performance.now();
      const report = (outcome: RpcRequestEvent['outcome'], status?: number): void =>
        options.onRequest?.({
          method,
          outcome,
          ...(status === undefined ? {} : { status }),
          seconds: (performance.now() - started) / 1000,
        });
      const finalAttempt = attempt >= settings.maxRetries;
      const timeout = AbortSignal.timeout(settings.timeoutMs);
      const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
      let response: Response;
      try {
        // The body is read inside the attempt so a stalled body times out and is retried like a
        // stalled connection, instead of failing later in the caller.
        const raw = await inner(input, { ...init, signal });
        // Bounded: an RPC (a NosanaMarket may name any) that streams without end must not exhaust memory.
        const { bytes, truncated } = await readBodyUpTo('the RPC', raw, RPC_RESPONSE_MAX_BYTES);
        if (truncated) throw new RpcUnavailableError(method, `the answer is larger than ${RPC_RESPONSE_MAX_BYTES} bytes`);
        response = new Response(bytes, { status: raw.status, statusText: raw.statusText, headers: raw.headers });
      } catch (error) {
        if (init?.signal?.aborted === true) throw error;
        const detail = (error as Error).name === 'TimeoutError' ? `no answer within ${settings.timeoutMs} ms` : networkFailure(error);
        if (finalAttempt) {
          report('error');
          throw new RpcUnavailableError(method, `${detail} (after ${attempt + 1} attempts)`);
        }
        report('retry');
        await sleep(backoff(attempt));
        continue;
      }
      const retryable = response.status === 429 || response.status >= 500;
      if (!retryable) {
        report(response.ok ? 'ok' : 'error', response.status);
        return response;
      }
      if (finalAttempt) {
        report('error', response.status);
        return response;
      }
      const wait = response.status === 429 ? parseRetryAfter(response.headers.get('retry-after')) : undefined;
      if (wait !== undefined && wait > settings.maxDelayMs) {
        report('error', response.status);
        throw new RpcUnavailableError(
          method,
          `HTTP 429 with Retry-After of ${wait} ms, longer than the ${settings.maxDelayMs} ms this transport waits (after ${attempt + 1} attempts)`,
        );
      }
      report('retry', response.status);
      await sleep(wait ?? backoff(attempt));
    }
  };
}

export interface ConnectionOptions extends RpcTransportOptions {
  commitment?: Commitment;
  /** Websocket URL, when the RPC offers one; the project polls and never depends on it. */
  wsEndpoint?: string;
}

export function createConnection(url: string, options: ConnectionOptions = {}): Connection {
  return new Connection(url, {
    commitment: options.commitment ?? 'confirmed',
    fetch: createRpcFetch(options),
    // Our transport retries 429s itself (honouring Retry-After); web3.js's own retry would double it.
    disableRetryOnRateLimit: true,
    ...(options.wsEndpoint === undefined ? {} : { wsEndpoint: options.wsEndpoint }),
  });
}
