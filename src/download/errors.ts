// The one error the downloader reports. Its message is printed on stderr and ends in the op's
// error in the job result, which the job's poster reads: it is redacted when it is made, so a
// token in a URL or an Authorization value echoed back by a server never leaves the process.
// `retryable` is what the shared retry loop (fetch-retry.ts) decides on.
import { redactError, redactSecrets } from '../http/redact.ts';

export interface DownloadErrorDetails {
  /** Worth trying again: network failures, timeouts, a body cut short, HTTP 408, 429 and 5xx. */
  retryable?: boolean;
  /** The HTTP status, when a server answered. */
  status?: number;
  /** How long the server asked us to wait (Retry-After), in milliseconds. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class DownloadError extends Error {
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, details: DownloadErrorDetails = {}) {
    super(redactSecrets(message), details.cause === undefined ? undefined : { cause: redactError(details.cause) });
    this.name = 'DownloadError';
    this.retryable = details.retryable ?? false;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
  }
}
