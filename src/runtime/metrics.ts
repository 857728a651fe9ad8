// Prometheus metrics. The runtime's series carry controller-runtime's names so existing
// dashboards and alerts work unchanged; the domain series describe money and the chain.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, exponentialBuckets } from 'prom-client';
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

/** What the work queue reads at scrape time (no timer in the queue keeps these fresh). */
export interface WorkQueueGauges {
  depth: number;
  unfinishedWorkSeconds: number;
  longestRunningProcessorSeconds: number;
}

/** One work queue's series (label `name`). */
export interface WorkQueueMetrics {
  added(): void;
  /** Seconds between a key being added and a worker getting it. */
  queued(seconds: number): void;
  /** Seconds a worker held a key. */
  worked(seconds: number): void;
  retried(): void;
  /** Registers the queue's gauges source; a later call for the same name replaces it. */
  observe(source: () => WorkQueueGauges): void;
}

/** controller-runtime's result label values (`requeue` is a rate-limited requeue without an error). */
export const RECONCILE_RESULTS = ['success', 'error', 'requeue', 'requeue_after'] as const;
export type ReconcileResult = (typeof RECONCILE_RESULTS)[number];

/** One controller's series (label `controller`). */
export interface ControllerMetrics {
  setMaxConcurrentReconciles(workers: number): void;
  /** A worker started (+1) or finished (-1) a reconcile. */
  activeWorkers(delta: 1 | -1): void;
  reconciled(result: ReconcileResult, seconds: number): void;
  reconcileError(): void;
  reconcilePanic(): void;
}

/** What the work queue, the controller and leader election report through. */
export interface RuntimeMetrics {
  /** Series for the queue `name`, its label values set to zero now. */
  workQueue(name: string): WorkQueueMetrics;
  /** Series for the controller `name`, every result label set to zero now. */
  controller(name: string): ControllerMetrics;
  /** leader_election_master_status{name}: 1 while this process holds the lease `name`. */
  setLeader(name: string, isLeader: boolean): void;
}

export interface Metrics {
  registry: Registry;
  runtime: RuntimeMetrics;
  nosana: NosanaMetrics;
}

/** A registry with the process metrics, the runtime's series and the domain series. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return { registry, runtime: createRuntimeMetrics(registry), nosana: createNosanaMetrics(registry) };
}

// client-go's work queue buckets: 10 ns to 1000 s, one per power of ten.
const WORKQUEUE_BUCKETS = exponentialBuckets(1e-8, 10, 12);
const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60];

function createRuntimeMetrics(registry: Registry): RuntimeMetrics {
  const registers = [registry];
  const queueSources = new Map<string, () => WorkQueueGauges>();
  // Sampled at scrape time from every registered queue.
  const queueGauge = (name: string, help: string, pick: (gauges: WorkQueueGauges) => number): void =>
    void new Gauge({
      name, help, labelNames: ['name'], registers,
      collect() {
        for (const [queue, source] of queueSources) this.set({ name: queue }, pick(source()));
      },
    });
  queueGauge('workqueue_depth', 'Current depth of the work queue.', (gauges) => gauges.depth);
  queueGauge('workqueue_unfinished_work_seconds', 'Seconds of work in progress that no worker has finished yet.', (gauges) => gauges.unfinishedWorkSeconds);
  queueGauge('workqueue_longest_running_processor_seconds', 'Seconds the longest-running worker has held its key.', (gauges) => gauges.longestRunningProcessorSeconds);
  const adds = new Counter({ name: 'workqueue_adds_total', help: 'Keys added to the work queue.', labelNames: ['name'], registers });
  const retries = new Counter({ name: 'workqueue_retries_total', help: 'Rate-limited re-adds (retries after a failure).', labelNames: ['name'], registers });
  const queueDuration = new Histogram({ name: 'workqueue_queue_duration_seconds', help: 'Seconds a key waits in the queue before a worker takes it.', labelNames: ['name'], buckets: WORKQUEUE_BUCKETS, registers });
  const workDuration = new Histogram({ name: 'workqueue_work_duration_seconds', help: 'Seconds a worker spends on one key.', labelNames: ['name'], buckets: WORKQUEUE_BUCKETS, registers });

  const reconcileTotal = new Counter({ name: 'controller_runtime_reconcile_total', help: 'Reconciles per controller and result.', labelNames: ['controller', 'result'], registers });
  const reconcileErrors = new Counter({ name: 'controller_runtime_reconcile_errors_total', help: 'Reconciles that failed (threw or rejected).', labelNames: ['controller'], registers });
  const reconcilePanics = new Counter({ name: 'controller_runtime_reconcile_panics_total', help: 'Reconciles that broke the reconciler contract: threw synchronously or threw something that is not an Error.', labelNames: ['controller'], registers });
  const reconcileTime = new Histogram({ name: 'controller_runtime_reconcile_time_seconds', help: 'Seconds per reconcile.', labelNames: ['controller'], buckets: RECONCILE_BUCKETS, registers });
  const maxConcurrent = new Gauge({ name: 'controller_runtime_max_concurrent_reconciles', help: 'Workers configured per controller.', labelNames: ['controller'], registers });
  const activeWorkers = new Gauge({ name: 'controller_runtime_active_workers', help: 'Workers currently reconciling.', labelNames: ['controller'], registers });

  const leaderStatus = new Gauge({ name: 'leader_election_master_status', help: '1 while this process holds the leader election lease, else 0.', labelNames: ['name'], registers });

  return {
    workQueue(name) {
      const labels = { name };
      adds.inc(labels, 0);
      retries.inc(labels, 0);
      queueDuration.zero(labels);
      workDuration.zero(labels);
      return {
        added: () => adds.inc(labels),
        queued: (seconds) => queueDuration.observe(labels, seconds),
        worked: (seconds) => workDuration.observe(labels, seconds),
        retried: () => retries.inc(labels),
        observe: (source) => void queueSources.set(name, source),
      };
    },
    controller(controller) {
      const labels = { controller };
      for (const result of RECONCILE_RESULTS) reconcileTotal.inc({ controller, result }, 0);
      reconcileErrors.inc(labels, 0);
      reconcilePanics.inc(labels, 0);
      reconcileTime.zero(labels);
      activeWorkers.set(labels, 0);
      maxConcurrent.set(labels, 0);
      return {
        setMaxConcurrentReconciles: (workers) => maxConcurrent.set(labels, workers),
        activeWorkers: (delta) => activeWorkers.inc(labels, delta),
        reconciled: (result, seconds) => {
          reconcileTotal.inc({ controller, result });
          reconcileTime.observe(labels, seconds);
        },
        reconcileError: () => reconcileErrors.inc(labels),
        reconcilePanic: () => reconcilePanics.inc(labels),
      };
    },
    setLeader(name, isLeader) {
      leaderStatus.set({ name }, isLeader ? 1 : 0);
    },
  };
}

/** The poster actions NosanaMetrics.chainAction reports; their series start at zero per network. */
export const CHAIN_ACTIONS = ['post', 'delist', 'end', 'extend', 'recover'] as const;
const CHAIN_ACTION_OUTCOMES = ['ok', 'error'] as const;

const RPC_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const IPFS_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/**
 * Prometheus samples are float64. Base-unit amounts below 2^53 (about 9 billion NOS, far beyond
 * NOS's total supply) convert exactly; anything larger rounds to the nearest double, an error
 * below one part in 2^53 that no rate or dashboard can show. A negative amount is a caller bug:
 * counters only go up, and a silently dropped amount would hide it.
 */
export function baseUnitsToSample(baseUnits: bigint, what: string): number {
  if (baseUnits < 0n) throw new RangeError(`${what} must not be negative, got ${baseUnits} base units`);
  return Number(baseUnits);
}

/**
 * Gateway services are reported by base URL; only the origin becomes a label, so a path or query
 * carrying an access token (some gateways take one) never reaches the metrics endpoint.
 */
function serviceLabel(service: string): string {
  if (!URL.canParse(service)) return service;
  return new URL(service).origin;
}

function createNosanaMetrics(registry: Registry): NosanaMetrics {
  const registers = [registry];
  const marketLabels = ['network', 'market'] as const;
  const posted = new Counter({ name: 'nosana_jobs_posted_total', help: 'Jobs that landed on chain, one per on-chain job.', labelNames: marketLabels, registers });
  const spent = new Counter({ name: 'nosana_nos_spent_base_units_total', help: 'NOS paid into markets (deposits and extensions), in base units (10^-6 NOS).', labelNames: marketLabels, registers });
  const refunded = new Counter({ name: 'nosana_nos_refunded_base_units_total', help: 'NOS returned by delist, recover and end, in base units (10^-6 NOS).', labelNames: marketLabels, registers });
  const chainActions = new Counter({ name: 'nosana_chain_actions_total', help: 'Poster actions sent to the chain, by outcome.', labelNames: ['network', 'action', 'outcome'], registers });
  const rpcRequests = new Counter({ name: 'nosana_rpc_requests_total', help: 'Solana JSON-RPC HTTP requests (each retry counts).', labelNames: ['network', 'method', 'outcome'], registers });
  const rpcDuration = new Histogram({ name: 'nosana_rpc_request_duration_seconds', help: 'Seconds per Solana JSON-RPC HTTP request.', labelNames: ['network', 'method'], buckets: RPC_BUCKETS, registers });
  const ipfsRequests = new Counter({ name: 'nosana_ipfs_requests_total', help: 'IPFS pinning and gateway HTTP requests (each retry counts).', labelNames: ['operation', 'service', 'outcome'], registers });
  const ipfsDuration = new Histogram({ name: 'nosana_ipfs_request_duration_seconds', help: 'Seconds per IPFS HTTP request.', labelNames: ['operation', 'service'], buckets: IPFS_BUCKETS, registers });
  const walletLamports = new Gauge({ name: 'nosana_wallet_lamports', help: 'SOL balance of a poster wallet as last read, in lamports.', labelNames: ['network', 'wallet'], registers });
  const walletNos = new Gauge({ name: 'nosana_wallet_nos_base_units', help: 'NOS balance of a poster wallet as last read, in base units.', labelNames: ['network', 'wallet'], registers });
  let pendingPosts: () => number = () => 0;
  // Registered with the registry by construction; read only through it.
  new Gauge({
    name: 'nosana_pending_posts', help: 'Posts recorded but not yet resolved as landed or never landed.', registers,
    collect() {
      this.set(pendingPosts());
    },
  });

  const seenNetworks = new Set<string>();
  const seenMarkets = new Set<string>();
  const seeNetwork = (network: string): void => {
    if (seenNetworks.has(network)) return;
    seenNetworks.add(network);
    for (const action of CHAIN_ACTIONS) {
      for (const outcome of CHAIN_ACTION_OUTCOMES) chainActions.inc({ network, action, outcome }, 0);
    }
  };
  const seeMarket = (labels: MarketLabels): void => {
    seeNetwork(labels.network);
    const id = `${labels.network}/${labels.market}`;
    if (seenMarkets.has(id)) return;
    seenMarkets.add(id);
    for (const counter of [posted, spent, refunded]) counter.inc({ ...labels }, 0);
  };

  return {
    jobPosted(labels) {
      seeMarket(labels);
      posted.inc({ ...labels });
    },
    nosSpent(labels, baseUnits) {
      const amount = baseUnitsToSample(baseUnits, 'NOS spent');
      seeMarket(labels);
      spent.inc({ ...labels }, amount);
    },
    nosRefunded(labels, baseUnits) {
      const amount = baseUnitsToSample(baseUnits, 'NOS refunded');
      seeMarket(labels);
      refunded.inc({ ...labels }, amount);
    },
    chainAction(network, action, outcome) {
      seeNetwork(network);
      chainActions.inc({ network, action, outcome });
    },
    rpcRequest(network, event) {
      seeNetwork(network);
      rpcRequests.inc({ network, method: event.method, outcome: event.outcome });
      rpcDuration.observe({ network, method: event.method }, event.seconds);
    },
    ipfsRequest(event) {
      const service = serviceLabel(event.service);
      ipfsRequests.inc({ operation: event.operation, service, outcome: event.outcome });
      ipfsDuration.observe({ operation: event.operation, service }, event.seconds);
    },
    walletBalance(network, wallet, lamports, nosBaseUnits) {
      seeNetwork(network);
      walletLamports.set({ network, wallet }, baseUnitsToSample(lamports, 'wallet lamports'));
      walletNos.set({ network, wallet }, baseUnitsToSample(nosBaseUnits, 'wallet NOS'));
    },
    setPendingPostsSource(count) {
      pendingPosts = count;
    },
  };
}
