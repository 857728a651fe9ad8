// Errors of the IPFS layer. Each names the service or gateway at fault and never carries
// credentials: messages end up in logs and in resource status conditions. Base URLs with userinfo
// or a query are refused when a client is built; the messages (and the causes caught from fetch)
// still go through redactSecrets, for a token in a path or a server that echoes one back.
import { redactError, redactSecrets } from '../http/redact.ts';

export interface IpfsServiceErrorDetails {
  /** Which service failed, e.g. "pinata (https://api.pinata.cloud)" or a gateway URL. */
  service: string;
  /** HTTP status when the service answered. */
  status?: number;
  /** Worth trying again: network failures, timeouts, 408, 429 and 5xx. */
  retryable: boolean;
  /** How long the service asked us to wait (Retry-After), in milliseconds. */
  retryAfterMs?: number;
  cause?: unknown;
}

/** A request to a pinning service or gateway failed. */
export class IpfsServiceError extends Error {
  readonly service: string;
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, details: IpfsServiceErrorDetails) {
    super(redactSecrets(message), details.cause === undefined ? undefined : { cause: redactError(details.cause) });
    this.name = 'IpfsServiceError';
    this.service = details.service;
    this.status = details.status;
    this.retryable = details.retryable;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** The service refused our credentials (HTTP 401/403). Retrying cannot help; the token must change. */
export class IpfsAuthError extends IpfsServiceError {
  constructor(service: string, status: number) {
    super(`${service} rejected the credentials (HTTP ${status}): check the API token configured for it`, {
      service,
      status,
      retryable: false,
    });
    this.name = 'IpfsAuthError';
  }
}

/** A pinning service returned a CID other than the one computed locally for the bytes we sent. */
export class CidMismatchError extends Error {
  readonly service: string;
  readonly expectedCid: string;
  readonly returnedCid: string;

  constructor(service: string, expectedCid: string, returnedCid: string) {
    super(
      redactSecrets(
        `${service} returned CID ${returnedCid} but the content we sent has CID ${expectedCid}; refusing to use the returned CID`,
      ),
    );
    this.name = 'CidMismatchError';
    this.service = service;
    this.expectedCid = expectedCid;
    this.returnedCid = returnedCid;
  }
}

/** A gateway served bytes whose CID is not the one requested. */
export class ContentIntegrityError extends Error {
  readonly gateway: string;
  readonly cid: string;
  readonly servedCid: string;

  constructor(gateway: string, cid: string, servedCid: string) {
    super(redactSecrets(`gateway ${gateway} served corrupt content for ${cid}: the bytes it returned have CID ${servedCid}`));
    this.name = 'ContentIntegrityError';
    this.gateway = gateway;
    this.cid = cid;
    this.servedCid = servedCid;
  }
}

/** A gateway served (or announced) more bytes than the reader accepts. */
export class ContentTooLargeError extends Error {
  readonly gateway: string;
  readonly cid: string;
  readonly maxBytes: number;

  constructor(gateway: string, cid: string, maxBytes: number) {
    super(redactSecrets(`gateway ${gateway} served more than the ${maxBytes}-byte limit for ${cid}`));
    this.name = 'ContentTooLargeError';
    this.gateway = gateway;
    this.cid = cid;
    this.maxBytes = maxBytes;
  }
}

/** No gateway produced verified content; `failures` says what went wrong at each, in order. */
export class GatewayReadError extends Error {
  readonly cid: string;
  readonly failures: readonly { gateway: string; error: Error }[];

  constructor(cid: string, failures: readonly { gateway: string; error: Error }[]) {
    const details = failures.map(({ error }) => error.message).join('; ');
    super(redactSecrets(`could not read ${cid} from any of ${failures.length} gateway(s): ${details}`));
    this.name = 'GatewayReadError';
    this.cid = cid;
    this.failures = failures;
  }
}
