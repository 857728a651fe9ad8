// Market slugs ("nvidia-4090") to addresses, through a market directory: an HTTP URL answering a
// JSON array of markets, each an object with at least a `slug` and an `address` string. That is
// the shape of Nosana's own directory (GET https://host-manager.k8s.prd.nos.ci/markets/, which
// `nosana market list` reads; entries carry more fields, such as name, which are ignored), and it
// is small enough to serve from a ConfigMap behind any web server for a private network.
import { PublicKey } from '@solana/web3.js';
import type { NetworkName } from '../../chain/addresses.ts';
import { readBodyUpTo } from '../../ipfs/http.ts';

export interface MarketDirectoryOptions {
  /** The directory of each network that has one. */
  urls: Partial<Record<NetworkName, string>>;
  /** How long a fetched list is trusted before it is fetched again. Default 5 minutes. */
  cacheTtlMs?: number;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
  /** Largest answer accepted. Default 1 MiB. */
  maxBytes?: number;
  now?: () => number;
}

/** The directory could not be read; transient (retried with backoff). */
export class MarketDirectoryUnavailableError extends Error {
  readonly url: string;
  constructor(url: string, detail: string) {
    super(`the market directory ${url} cannot be read: ${detail}`);
    this.name = 'MarketDirectoryUnavailableError';
    this.url = url;
  }
}

/** The slug cannot be resolved until someone acts: unknown to the directory, or no directory at all. */
export class UnknownMarketSlugError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownMarketSlugError';
  }
}

export interface ResolvedSlug {
  address: string;
  /** The directory that resolved it. */
  url: string;
}

interface CachedList {
  addresses: Map<string, string>;
  fetchedAt: number;
}

const DEFAULTS = { cacheTtlMs: 5 * 60_000, timeoutMs: 10_000, maxBytes: 1024 * 1024 };

export class MarketDirectory {
  readonly #urls: Partial<Record<NetworkName, string>>;
  readonly #cacheTtlMs: number;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #now: () => number;
  readonly #lists = new Map<string, CachedList>();

  constructor(options: MarketDirectoryOptions) {
    this.#urls = options.urls;
    this.#cacheTtlMs = options.cacheTtlMs ?? DEFAULTS.cacheTtlMs;
    this.#timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
    this.#maxBytes = options.maxBytes ?? DEFAULTS.maxBytes;
    this.#now = options.now ?? Date.now;
  }

  /** The address (base58) of `slug` on `network`. */
  async resolve(network: NetworkName, slug: string, signal?: AbortSignal): Promise<ResolvedSlug> {
    const url = this.#urls[network];
    if (url === undefined) {
      throw new UnknownMarketSlugError(
        `network ${network} has no market directory to resolve the slug "${slug}": set spec.address, or start the controller with --market-directory-url ${network}=URL`,
      );
    }
    const address = (await this.#list(url, signal)).get(slug);
    if (address === undefined) throw new UnknownMarketSlugError(`the market slug "${slug}" is not in the market directory ${url}`);
    return { address, url };
  }

  async #list(url: string, signal: AbortSignal | undefined): Promise<Map<string, string>> {
    const cached = this.#lists.get(url);
    if (cached !== undefined && this.#now() - cached.fetchedAt < this.#cacheTtlMs) return cached.addresses;
    try {
      const addresses = await this.#fetch(url, signal);
      this.#lists.set(url, { addresses, fetchedAt: this.#now() });
      return addresses;
    } catch (error) {
      // Slugs almost never move: an outdated list beats no list while the directory is down.
      if (cached !== undefined && error instanceof MarketDirectoryUnavailableError) return cached.addresses;
      throw error;
    }
  }

  async #fetch(url: string, signal: AbortSignal | undefined): Promise<Map<string, string>> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { accept: 'application/json' },
        signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      });
    } catch (error) {
      throw new MarketDirectoryUnavailableError(url, (error as Error).message);
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new MarketDirectoryUnavailableError(url, `HTTP ${response.status}`);
    }
    let body: { bytes: Uint8Array; truncated: boolean };
    try {
      body = await readBodyUpTo('the market directory', response, this.#maxBytes);
    } catch (error) {
      throw new MarketDirectoryUnavailableError(url, (error as Error).message);
    }
    if (body.truncated) throw new MarketDirectoryUnavailableError(url, `the answer is larger than ${this.#maxBytes} bytes`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(body.bytes));
    } catch {
      throw new MarketDirectoryUnavailableError(url, 'the answer is not JSON');
    }
    if (!Array.isArray(parsed)) throw new MarketDirectoryUnavailableError(url, 'the answer is not a JSON array of markets');
    return addressesBySlug(parsed);
  }
}

/** Entries without a string slug and a valid address are skipped: one bad entry must not hide the others. */
function addressesBySlug(entries: unknown[]): Map<string, string> {
  const addresses = new Map<string, string>();
  for (const entry of entries) {
    if (entry === null || typeof entry !== 'object') continue;
    const { slug, address } = entry as { slug?: unknown; address?: unknown };
    if (typeof slug !== 'string' || typeof address !== 'string' || !isAddress(address)) continue;
    addresses.set(slug, address);
  }
  return addresses;
}

function isAddress(text: string): boolean {
  try {
    return new PublicKey(text).toBase58() === text;
  } catch {
    return false;
  }
}
