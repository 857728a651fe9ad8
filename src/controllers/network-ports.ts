// What a controller needs to reach one Nosana network: the jobs program, IPFS, and the batched
// chain poller. Controllers get these from a NetworkRegistry and never learn whether the other
// end is mainnet, devnet or the localnet.
import type { PublicKey } from '@solana/web3.js';
import type { NetworkName, NosanaNetwork } from '../chain/addresses.ts';
import type { JobView, JobsClient, MarketView } from '../chain/jobs-client.ts';
import type { GatewayReader } from '../ipfs/gateway.ts';
import type { PinningClient } from '../ipfs/pinning-client.ts';
import type { ObjectKey } from '../runtime/types.ts';

/** Where a network is reached; built from a NosanaMarket's spec merged with the operator's defaults. */
export interface NetworkSettings {
  name: NetworkName;
  rpcUrl: string;
  /** Extra HTTP headers for the RPC (providers that authenticate by header). Never logged. */
  rpcHeaders?: Record<string, string>;
  gatewayUrls: string[];
  pinning: { provider: 'pinata' | 'kubo'; url: string; jwt?: string };
  /** The domain of service URLs of exposed ops (mainnet: node.k8s.prd.nos.ci). */
  serviceDomain: string;
}

/**
 * Reads the chain for every job the operator follows on one network in a few batched calls
 * (getMultipleAccounts by 100, one run-account query), so N jobs cost O(N/100) requests per
 * interval instead of N. Reconcilers read its snapshots on their own requeueAfter polls; where the
 * RPC's websocket tells of a change, the watcher reads the job again and wakes its followers.
 */
export interface ChainJobWatcher {
  /**
   * Follows a job: polled with every other followed job, and `owner` (the NosanaJob following it)
   * woken when a change is heard and read. Tracking twice is tracking once.
   */
  track(address: PublicKey, owner?: ObjectKey): void;
  /**
   * Wakes `owner` (the NosanaNode serving as `node`) when a run naming that node is notified: the
   * run a `list` or `work` creates is how a waiting node learns it got a job.
   */
  trackNode(node: PublicKey, owner: ObjectKey): void;
  /** Stops following a job (terminal and its result stored), for every owner. */
  forget(address: PublicKey): void;
  /**
   * The job as last polled. Fetches now (batched with every other request in flight) when it was
   * never polled or the snapshot is older than maxAgeMs (default: the poll interval).
   */
  job(address: PublicKey, options?: { maxAgeMs?: number }): Promise<JobView | undefined>;
  /** The market as last read (same batching and freshness rules). */
  market(address: PublicKey, options?: { maxAgeMs?: number }): Promise<MarketView | undefined>;
  close(): void;
}

export interface NetworkPorts {
  settings: NetworkSettings;
  network: NosanaNetwork;
  jobs: JobsClient;
  pinning: PinningClient;
  gateway: GatewayReader;
  watcher: ChainJobWatcher;
}

/** Hands out one NetworkPorts per distinct settings, so jobs on one network share clients and batches. */
export interface NetworkRegistry {
  ports(settings: NetworkSettings): NetworkPorts;
  close(): void;
}
