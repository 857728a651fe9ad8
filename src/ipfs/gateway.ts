// Reading content by CID from HTTP gateways, trusting none of them.
//
// Gateways are tried in order; each gets its own retries. Whatever a gateway sends is bounded (the
// body is streamed and cut off at the cap, whatever Content-Length claimed) and its CIDv0 is
// recomputed: bytes that do not hash to the requested CID are rejected and the next gateway is
// tried. The recomputation uses the default CIDv0 import parameters, which is how Pinata and Kubo
// (and so Nosana's job definitions and results) produce CIDv0s; content imported with other
// parameters (another chunk size, trickle layout) cannot be verified this way and is rejected.
import { redactSecrets } from '../http/redact.ts';
import { cidV0Problem, NO_RESULT_CID } from './cid.ts';
import { ContentIntegrityError, ContentTooLargeError, GatewayReadError } from './errors.ts';
import {
  assertTimeout,
  fetchFrom,
  readBodyUpTo,
  resolveRetryPolicy,
  responseFailure,
  withRetries,
  type IpfsRequestObserver,
  type RequestSettings,
  type RetryPolicy,
} from './http.ts';
import { normaliseBaseUrl } from './pinning-client.ts';
import { computeCidV0 } from './unixfs.ts';

export const DEFAULT_GATEWAY_MAX_BYTES = 16 * 1024 * 1024;
export const DEFAULT_GATEWAY_TIMEOUT_MS = 30_000;

export interface GatewayReaderOptions {
  /** Gateway base URLs in order of preference: `https://host/ipfs/` or `https://host`. */
  gateways: readonly string[];
  /** Per HTTP attempt, body included. Default 30 s. */
  timeoutMs?: number;
  /** Retries per gateway, before moving on to the next one. */
  retry?: Partial<RetryPolicy>;
  /** Largest content accepted, in bytes. Default 16 MiB. */
  maxBytes?: number;
  onRequest?: IpfsRequestObserver;
}

export interface GatewayContent {
  /** Verified: their CIDv0 is the one requested. */
  bytes: Uint8Array;
  /** The gateway (normalised base URL) that served them. */
  gateway: string;
}

export interface ReadOptions {
  signal?: AbortSignal;
}

/** `https://host`, `https://host/ipfs` and `https://host/ipfs/` all become `https://host/ipfs/`. */
export function normaliseGatewayUrl(url: string): string {
  const base = normaliseBaseUrl(url, 'gateway URL');
  return base.endsWith('/ipfs') ? `${base}/` : `${base}/ipfs/`;
}

export class GatewayReader {
  readonly gateways: readonly string[];
  readonly maxBytes: number;
  readonly #settings: RequestSettings;

  constructor(options: GatewayReaderOptions) {
    if (options.gateways.length === 0) throw new TypeError('at least one IPFS gateway URL is required');
    this.gateways = options.gateways.map(normaliseGatewayUrl);
    this.maxBytes = options.maxBytes ?? DEFAULT_GATEWAY_MAX_BYTES;
    if (!Number.isSafeInteger(this.maxBytes) || this.maxBytes < 0) {
      throw new RangeError(`maxBytes must be a non-negative integer, got ${this.maxBytes}`);
    }
    this.#settings = {
      timeoutMs: assertTimeout(options.timeoutMs ?? DEFAULT_GATEWAY_TIMEOUT_MS),
      retry: resolveRetryPolicy(options.retry),
      onRequest: options.onRequest,
    };
  }

  async read(cid: string, options: ReadOptions = {}): Promise<GatewayContent> {
    const problem = cidV0Problem(cid);
    if (problem !== undefined) throw new TypeError(`cannot read from IPFS: ${problem}`);
    if (cid === NO_RESULT_CID) {
      throw new TypeError(`cannot read from IPFS: ${cid} is the placeholder for 32 zero bytes on chain (no result yet), not content`);
    }
    const failures: { gateway: string; error: Error }[] = [];
    for (const gateway of this.gateways) {
      const target = { operation: 'read' as const, metricsService: gateway, service: `gateway ${gateway}` };
      try {
        const bytes = await withRetries(target, this.#settings, options.signal, (signal) => this.#fetchVerified(gateway, cid, signal));
        return { bytes, gateway };
      } catch (error) {
        options.signal?.throwIfAborted();
        failures.push({ gateway, error: error instanceof Error ? error : new Error(String(error)) });
      }
    }
    throw new GatewayReadError(cid, failures);
  }

  /**
   * Reads and parses JSON. The type parameter is not checked: validate the value (e.g. with zod)
   * before trusting its shape.
   */
  async readJson<T = unknown>(cid: string, options: ReadOptions = {}): Promise<{ value: T; gateway: string }> {
    const { bytes, gateway } = await this.read(cid, options);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch (error) {
      throw new SyntaxError(redactSecrets(`content of ${cid} (served by ${gateway}) is not UTF-8 text, so not JSON`), { cause: error });
    }
    try {
      return { value: JSON.parse(text) as T, gateway };
    } catch (error) {
      throw new SyntaxError(redactSecrets(`content of ${cid} (served by ${gateway}) is not valid JSON: ${(error as Error).message}`), {
        cause: error,
      });
    }
  }

  async #fetchVerified(gateway: string, cid: string, signal: AbortSignal): Promise<Uint8Array> {
    const service = `gateway ${gateway}`;
    const response = await fetchFrom(service, `${gateway}${cid}`, { signal });
    if (!response.ok) throw await responseFailure(service, response, `the request for ${cid}`);
    const declaredLength = Number(response.headers.get('content-length') ?? 0);
    if (declaredLength > this.maxBytes) {
      await response.body?.cancel();
      throw new ContentTooLargeError(gateway, cid, this.maxBytes);
    }
    const { bytes, truncated } = await readBodyUpTo(service, response, this.maxBytes);
    if (truncated) throw new ContentTooLargeError(gateway, cid, this.maxBytes);
    const servedCid = await computeCidV0(bytes);
    if (servedCid !== cid) throw new ContentIntegrityError(gateway, cid, servedCid);
    return bytes;
  }
}
