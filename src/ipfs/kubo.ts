// A Kubo node's RPC API (`POST /api/v0/add`), e.g. a self-hosted IPFS node next to the operator.
import {
  assertTimeout,
  fetchFrom,
  resolveRetryPolicy,
  responseFailure,
  withRetries,
  type RequestSettings,
  type RequestTarget,
} from './http.ts';
import { encodeJsonForPinning } from './json.ts';
import {
  DEFAULT_PIN_TIMEOUT_MS,
  normaliseBaseUrl,
  ownedCopy,
  readPinResponse,
  verifyReturnedCid,
  type PinOptions,
  type PinningClient,
  type PinningClientOptions,
} from './pinning-client.ts';
import { computeCidV0 } from './unixfs.ts';

export const KUBO_DEFAULT_API_URL = 'http://127.0.0.1:5001';

export interface KuboClientOptions extends PinningClientOptions {
  /** The RPC API's base, e.g. http://127.0.0.1:5001 (a trailing /api/v0 is accepted). */
  apiUrl?: string;
  /** Full Authorization header value when the RPC API is protected (Kubo's API.Authorizations). */
  authorization?: string;
}

// The import parameters are spelled out rather than left to the node's defaults: a node whose
// Import.* config differs (raw leaves, another chunker) would otherwise produce another CID for
// the same bytes, and the pin would fail verification.
const ADD_QUERY = new URLSearchParams({
  'cid-version': '0',
  'raw-leaves': 'false',
  chunker: 'size-262144',
  pin: 'true',
}).toString();

export class KuboClient implements PinningClient {
  readonly kind = 'kubo';
  readonly #authorization: string | undefined;
  readonly #addUrl: string;
  readonly #settings: RequestSettings;
  readonly #target: RequestTarget;

  constructor(options: KuboClientOptions = {}) {
    const base = normaliseBaseUrl(options.apiUrl ?? KUBO_DEFAULT_API_URL, 'Kubo API URL').replace(/\/api\/v0$/, '');
    this.#addUrl = `${base}/api/v0/add?${ADD_QUERY}`;
    this.#authorization = options.authorization;
    this.#settings = {
      timeoutMs: assertTimeout(options.timeoutMs ?? DEFAULT_PIN_TIMEOUT_MS),
      retry: resolveRetryPolicy(options.retry),
      onRequest: options.onRequest,
    };
    this.#target = { operation: 'pin', metricsService: 'kubo', service: `kubo (${base})` };
  }

  async pinBytes(bytes: Uint8Array, options: PinOptions = {}): Promise<string> {
    const content = ownedCopy(bytes);
    const expectedCid = await computeCidV0(content);
    const form = new FormData();
    form.set('file', new Blob([content]), options.name ?? 'content');
    const headers: Record<string, string> = {};
    if (this.#authorization !== undefined) headers['authorization'] = this.#authorization;
    const service = this.#target.service;
    const answer = await withRetries(this.#target, this.#settings, options.signal, async (signal) => {
      const response = await fetchFrom(service, this.#addUrl, { method: 'POST', headers, body: form, signal });
      if (!response.ok) throw await responseFailure(service, response, 'add');
      // `add` streams one JSON object per line; with a single file and no progress the last is the file.
      return readPinResponse(service, response, true);
    });
    return verifyReturnedCid(service, expectedCid, answer['Hash']);
  }

  async pinJson(value: unknown, options: PinOptions = {}): Promise<string> {
    return this.pinBytes(encodeJsonForPinning(value), options);
  }
}
