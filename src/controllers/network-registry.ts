// One set of network clients per distinct NetworkSettings, shared by every reconcile that uses the
// same settings: jobs on one network then share one RPC transport (one request budget, one set of
// metrics) and one batched chain watcher, instead of each reconcile building its own.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { NETWORKS } from '../chain/addresses.ts';
import type { JobsClient } from '../chain/jobs-client.ts';
import { assertNetwork, endpointOrigin } from '../chain/network-detect.ts';
import { ProgramSubscriber, websocketUrlOf } from '../chain/program-subscription.ts';
import { createConnection } from '../chain/rpc-transport.ts';
import { SolanaJobsClient } from '../chain/solana-jobs-client.ts';
import { GatewayReader } from '../ipfs/gateway.ts';
import type { IpfsRequestObserver } from '../ipfs/http.ts';
import { KuboClient } from '../ipfs/kubo.ts';
import { PinataClient } from '../ipfs/pinata.ts';
import type { PinningClient } from '../ipfs/pinning-client.ts';
import type { ObjectKey } from '../runtime/types.ts';
import type { NosanaMetrics } from './nosana-metrics.ts';
import type { ChainJobWatcher, NetworkPorts, NetworkRegistry, NetworkSettings } from './network-ports.ts';
import { BatchedChainJobWatcher, type SubscriptionHandlers } from './chain-watcher.ts';

export interface NetworkRegistryOptions {
  metrics: NosanaMetrics;
  log: Logger;
  /** How often each network's watcher polls the jobs it follows. */
  pollIntervalMs: number;
  /** Builds a network's watcher; the batched poller unless a test needs another. */
  createWatcher?: (jobs: JobsClient, log: Logger) => ChainJobWatcher;
  /** Subscribe to job changes over the RPC's websocket (websocketUrlOf: the same host, the next port when one is given). */
  subscribe?: boolean;
  /** Wakes a NosanaJob whose on-chain job changed. */
  wake?: (owner: ObjectKey) => void;
}

/**
 * Identifies settings without keeping them readable: the RPC headers and the pinning JWT are part
 * of the identity (a rotated token needs new clients) but must never appear in a log or a map key
 * someone might print.
 */
export function settingsFingerprint(settings: NetworkSettings): string {
  return createHash('sha256').update(canonicalJson(settings)).digest('hex');
}

/** JSON with object keys sorted, so equal settings give equal text whatever order they were built in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, inner]) => inner !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonicalJson(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export class CachedNetworkRegistry implements NetworkRegistry {
  readonly #options: NetworkRegistryOptions;
  readonly #entries = new Map<string, NetworkPorts>();

  constructor(options: NetworkRegistryOptions) {
    this.#options = options;
  }

  ports(settings: NetworkSettings): NetworkPorts {
    const fingerprint = settingsFingerprint(settings);
    let ports = this.#entries.get(fingerprint);
    if (ports === undefined) {
      ports = this.#build(settings, fingerprint.slice(0, 12));
      this.#entries.set(fingerprint, ports);
    }
    return ports;
  }

  close(): void {
    for (const ports of this.#entries.values()) ports.watcher.close();
    this.#entries.clear();
  }

  #build(settings: NetworkSettings, id: string): NetworkPorts {
    const { metrics } = this.#options;
    const log = this.#options.log.child({ network: settings.name, settings: id });
    const network = NETWORKS[settings.name];
    const connection = createConnection(settings.rpcUrl, {
      onRequest: (event) => metrics.rpcRequest(settings.name, event),
      ...(settings.rpcHeaders === undefined ? {} : { fetch: fetchWithHeaders(settings.rpcHeaders) }),
    });
    const identity = new NetworkIdentity(() => assertNetwork(connection, settings.name));
    const jobs = verifiedFirst(new SolanaJobsClient({ connection, network }), identity);
    const onRequest: IpfsRequestObserver = (event) => metrics.ipfsRequest(event);
    const { pollIntervalMs, wake } = this.#options;
    const subscribe =
      this.#options.subscribe === true
        ? (handlers: SubscriptionHandlers) =>
            new ProgramSubscriber({
              url: websocketUrlOf(settings.rpcUrl),
              ...(settings.rpcHeaders === undefined ? {} : { headers: settings.rpcHeaders }),
              program: network.jobsProgram,
              commitment: 'confirmed',
              log,
              onNotice: (notice) => {
                metrics.chainNotification(settings.name);
                handlers.onNotice(notice);
              },
              onChange: handlers.onChange,
            })
        : undefined;
    const createWatcher =
      this.#options.createWatcher ??
      ((client: JobsClient, watcherLog: Logger) =>
        new BatchedChainJobWatcher({
          jobs: client,
          pollIntervalMs,
          log: watcherLog,
          ...(subscribe === undefined ? {} : { subscribe }),
          ...(wake === undefined ? {} : { wake }),
        }));
    log.info({ rpc: endpointOrigin(settings.rpcUrl), pinning: settings.pinning.provider }, 'network clients created');
    return {
      settings,
      network,
      jobs,
      pinning: pinningClient(settings, onRequest),
      gateway: new GatewayReader({ gateways: settings.gatewayUrls, onRequest }),
      watcher: createWatcher(jobs, log),
    };
  }
}

/** The RPC's extra headers (providers that authenticate by header) on every request. */
function fetchWithHeaders(headers: Record<string, string>): typeof fetch {
  return (input, init) => {
    const merged = new Headers(init?.headers);
    for (const [name, value] of Object.entries(headers)) merged.set(name, value);
    return fetch(input, { ...init, headers: merged });
  };
}

/**
 * Checks once per set of clients that the RPC serves the network the settings name, so a localnet
 * (or devnet) URL configured under "mainnet" is refused before anything is signed or trusted.
 * Only success is remembered: a failure (the RPC down, or the wrong network) is checked again on
 * the next call, which the callers' backoff spaces out.
 */
class NetworkIdentity {
  readonly #check: () => Promise<void>;
  #verified: Promise<void> | undefined;

  constructor(check: () => Promise<void>) {
    this.#check = check;
  }

  ensure(): Promise<void> {
    this.#verified ??= this.#check().catch((error: unknown) => {
      this.#verified = undefined;
      throw error;
    });
    return this.#verified;
  }
}

/** The client with every call waiting for the network check (every JobsClient method is async). */
function verifiedFirst(client: JobsClient, identity: NetworkIdentity): JobsClient {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]): Promise<unknown> => {
        await identity.ensure();
        return Reflect.apply(value, target, args);
      };
    },
  });
}

function pinningClient(settings: NetworkSettings, onRequest: IpfsRequestObserver): PinningClient {
  const { provider, url, jwt } = settings.pinning;
  if (provider === 'kubo') {
    return new KuboClient({ apiUrl: url, onRequest, ...(jwt === undefined ? {} : { authorization: `Bearer ${jwt}` }) });
  }
  if (jwt === undefined) return new PinataWithoutToken(settings.name);
  return new PinataClient({ apiUrl: url, jwt, onRequest });
}

/**
 * Pinata without a JWT: refuses each pin with the fix, instead of refusing the whole network. A
 * market can then be mirrored, and jobs adopted and followed, by an operator that cannot pin.
 */
class PinataWithoutToken implements PinningClient {
  readonly kind = 'pinata';
  readonly #network: string;

  constructor(network: string) {
    this.#network = network;
  }

  pinBytes(): Promise<string> {
    return Promise.reject(
      new Error(
        `cannot pin on network ${this.#network}: no Pinata JWT; set spec.ipfs.pinning.credentialsSecretRef on the NosanaMarket, or PINATA_JWT in the controller's environment`,
      ),
    );
  }

  pinJson(): Promise<string> {
    return this.pinBytes();
  }
}
