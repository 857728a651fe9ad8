// Retrying an HTTP request: how many tries, and how long to wait between them (capped exponential
// backoff with full jitter, or the server's Retry-After). Shared by the IPFS clients and the
// resource downloader, so every HTTP client of the operator backs off the same way.

export interface RetryPolicy {
  /** Tries per request, the first included; 1 disables retries. */
  attempts: number;
  /** Upper bound of the first backoff; it doubles per retry. */
  baseDelayMs: number;
  /**
   * Longest wait between tries. A Retry-After beyond it ends the retries: waiting that long inside
   * one call is worse than failing and letting the caller (a reconcile loop) come back later.
   */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({ attempts: 4, baseDelayMs: 250, maxDelayMs: 10_000 });

/**
 * Milliseconds to wait before retry number `retry` (0 for the first retry), or undefined when the
 * server asked for a longer wait than the policy allows. Without Retry-After the wait is drawn
 * uniformly from [0, min(maxDelayMs, baseDelayMs * 2^retry)] so that many clients failing together
 * do not retry together.
 */
export function retryDelayMs(
  retry: number,
  policy: RetryPolicy,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number | undefined {
  if (retryAfterMs !== undefined) return retryAfterMs <= policy.maxDelayMs ? retryAfterMs : undefined;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.round(ceiling * random());
}
