// Prometheus metrics. The runtime's series carry controller-runtime's names so existing
// dashboards and alerts work unchanged; the domain series describe money and the chain.
import type { RpcRequestEvent } from '../chain/rpc-transport.ts';
import type { IpfsRequestEvent } from '../ipfs/http.ts';

export interface MarketLabels {
  network: string;
  market: string;
}

/** The domain metrics reconcilers report through. Implemented over prom-client below. */
export interface NosanaMetrics {
  /** A post landed (counted once per on-chain job). */
  jobPosted(labels: MarketLabels): void;
  /** NOS paid into a market (deposits and extensions), in base units. */
  nosSpent(labels: MarketLabels, baseUnits: bigint): void;
  /** NOS returned (delist, recover, the unused part of an end), in base units. */
  nosRefunded(labels: MarketLabels, baseUnits: bigint): void;
  /** A poster action sent to the chain: post, delist, end, extend, recover. */
  chainAction(network: string, action: string, outcome: 'ok' | 'error'): void;
  /** Reported by the RPC transport of a network. */
  rpcRequest(network: string, event: RpcRequestEvent): void;
  /** Reported by pinning clients and gateway readers. */
  ipfsRequest(event: IpfsRequestEvent): void;
  /** The wallet's balances as last read, by public key (never anything secret). */
  walletBalance(network: string, wallet: string, lamports: bigint, nosBaseUnits: bigint): void;
  /** Posts recorded but not yet resolved: a gauge read from this callback at scrape time. */
  setPendingPostsSource(count: () => number): void;
}
