// The port through which the operator pins content, and what its adapters (Pinata, Kubo) share.
import { CidMismatchError, IpfsServiceError } from './errors.ts';
import { readBodyUpTo, type IpfsRequestObserver, type RetryPolicy } from './http.ts';
import { cidV0Problem } from './cid.ts';

export interface PinOptions {
  /** A human-readable name, kept by services that support one (Pinata metadata, Kubo's file name). */
  name?: string;
  signal?: AbortSignal;
}

export interface PinningClient {
  readonly kind: 'pinata' | 'kubo';
  /** Pins the exact bytes as a file with CID version 0 and returns the CID, after checking it against the locally computed one. */
  pinBytes(bytes: Uint8Array, options?: PinOptions): Promise<string>;
  /** Pins a JSON value (serialised once, by us) and returns its CIDv0. */
  pinJson(value: unknown, options?: PinOptions): Promise<string>;
}

export interface PinningClientOptions {
  /** Per HTTP attempt, uploading included. Default 60 s. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  onRequest?: IpfsRequestObserver;
}

export const DEFAULT_PIN_TIMEOUT_MS = 60_000;

/** An http(s) base URL without trailing slashes; `what` names the setting in the error. */
export function normaliseBaseUrl(url: string, what: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`${what} ${JSON.stringify(url)} is not a valid URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`${what} ${JSON.stringify(url)} must use http or https`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new TypeError(`${what} must not embed credentials; pass the token separately`);
  }
  if (parsed.search !== '' || parsed.hash !== '') {
    throw new TypeError(`${what} ${JSON.stringify(url)} must not have a query or fragment`);
  }
  return parsed.href.replace(/\/+$/, '');
}

/** The CID a service returned, accepted only when it is the CID of what we sent. */
export function verifyReturnedCid(service: string, expectedCid: string, returned: unknown): string {
  if (typeof returned !== 'string' || cidV0Problem(returned) !== undefined) {
    throw new IpfsServiceError(`${service} returned ${JSON.stringify(returned)} where a CIDv0 was expected`, { service, retryable: false });
  }
  if (returned !== expectedCid) throw new CidMismatchError(service, expectedCid, returned);
  return returned;
}

// Pin responses are a few hundred bytes; anything much larger is not the answer we asked for.
const PIN_RESPONSE_LIMIT = 64 * 1024;

/** The body of a successful pin response, parsed as JSON (or the last line of NDJSON when `lastLine`). */
export async function readPinResponse(service: string, response: Response, lastLine = false): Promise<Record<string, unknown>> {
  const { bytes, truncated } = await readBodyUpTo(service, response, PIN_RESPONSE_LIMIT);
  if (truncated) {
    throw new IpfsServiceError(`${service} sent a pin response larger than ${PIN_RESPONSE_LIMIT} bytes`, { service, retryable: false });
  }
  const text = new TextDecoder().decode(bytes);
  const json = lastLine ? (text.trim().split('\n').at(-1) ?? '') : text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new IpfsServiceError(`${service} sent a pin response that is not JSON: ${JSON.stringify(text.slice(0, 200))}`, {
      service,
      retryable: false,
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new IpfsServiceError(`${service} sent a pin response that is not a JSON object: ${JSON.stringify(text.slice(0, 200))}`, {
      service,
      retryable: false,
    });
  }
  return parsed as Record<string, unknown>;
}

/**
 * A private copy of bytes about to be uploaded: the CID is computed over exactly what is sent, even
 * if the caller reuses its array during a retried upload, and Blob parts need an ArrayBuffer-backed
 * array (not a SharedArrayBuffer view).
 */
export function ownedCopy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}
