// Pinata's pinning API (https://docs.pinata.cloud): pinFileToIPFS and pinJSONToIPFS, CIDv0,
// authenticated with a JWT. The JWT is held in a private field so it cannot leak through logging
// the client object, and no error message carries it.
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

export const PINATA_DEFAULT_API_URL = 'https://api.pinata.cloud';

export interface PinataClientOptions extends PinningClientOptions {
  /** The Pinata JWT (read by the caller from a Kubernetes Secret). */
  jwt: string;
  /** Default https://api.pinata.cloud. */
  apiUrl?: string;
}

// What Pinata asks us to produce: a CIDv0, never wrapped in a directory.
const PINATA_OPTIONS = { cidVersion: 0 };

export class PinataClient implements PinningClient {
  readonly kind = 'pinata';
  readonly #jwt: string;
  readonly #apiUrl: string;
  readonly #settings: RequestSettings;
  readonly #target: RequestTarget;

  constructor(options: PinataClientOptions) {
    if (options.jwt.trim() === '') throw new TypeError('the Pinata JWT is empty');
    this.#jwt = options.jwt.trim();
    this.#apiUrl = normaliseBaseUrl(options.apiUrl ?? PINATA_DEFAULT_API_URL, 'Pinata API URL');
    this.#settings = {
      timeoutMs: assertTimeout(options.timeoutMs ?? DEFAULT_PIN_TIMEOUT_MS),
      retry: resolveRetryPolicy(options.retry),
      onRequest: options.onRequest,
    };
    this.#target = { operation: 'pin', metricsService: 'pinata', service: `pinata (${this.#apiUrl})` };
  }

  async pinBytes(bytes: Uint8Array, options: PinOptions = {}): Promise<string> {
    const content = ownedCopy(bytes);
    const expectedCid = await computeCidV0(content);
    const form = new FormData();
    form.set('file', new Blob([content]), options.name ?? 'content');
    form.set('pinataOptions', JSON.stringify(PINATA_OPTIONS));
    if (options.name !== undefined) form.set('pinataMetadata', JSON.stringify({ name: options.name }));
    return this.#pin('/pinning/pinFileToIPFS', form, expectedCid, options.signal);
  }

  /**
   * Objects go through pinJSONToIPFS, whose documented body is
   * `{pinataOptions, pinataMetadata, pinataContent}` with `pinataContent` an object. Other JSON
   * values (arrays, strings, numbers…) are pinned as a file holding the same serialisation, which
   * gives the same CID a JSON pin of those bytes would have.
   */
  async pinJson(value: unknown, options: PinOptions = {}): Promise<string> {
    const bytes = encodeJsonForPinning(value);
    const text = new TextDecoder().decode(bytes);
    if (!text.startsWith('{')) return this.pinBytes(bytes, options);
    const expectedCid = await computeCidV0(bytes);
    // The content is spliced in as the text we hashed, so it is serialised exactly once.
    const metadata = options.name === undefined ? '' : `"pinataMetadata":${JSON.stringify({ name: options.name })},`;
    const body = `{"pinataOptions":${JSON.stringify(PINATA_OPTIONS)},${metadata}"pinataContent":${text}}`;
    return this.#pin('/pinning/pinJSONToIPFS', body, expectedCid, options.signal);
  }

  async #pin(path: string, body: FormData | string, expectedCid: string, signal: AbortSignal | undefined): Promise<string> {
    const service = this.#target.service;
    const endpoint = path.slice(path.lastIndexOf('/') + 1);
    const headers: Record<string, string> = { authorization: `Bearer ${this.#jwt}` };
    if (typeof body === 'string') headers['content-type'] = 'application/json';
    const answer = await withRetries(this.#target, this.#settings, signal, async (attemptSignal) => {
      const response = await fetchFrom(service, `${this.#apiUrl}${path}`, { method: 'POST', headers, body, signal: attemptSignal });
      if (!response.ok) throw await responseFailure(service, response, endpoint);
      return readPinResponse(service, response);
    });
    return verifyReturnedCid(service, expectedCid, answer['IpfsHash']);
  }
}
