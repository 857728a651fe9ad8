// The Nosana domain series: jobs posted, NOS spent and refunded, poster chain actions, RPC and IPFS
// requests, wallet balances, posts in flight and NosanaJobs by phase. Only the controllers report them: the chain and
// IPFS clients just emit request events, which network-registry.ts passes on to these series. The
// runtime's own series (reconciles, work queues, leader election) are in runtime/metrics.ts; both
// register on one registry, the runtime's first.
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import { PENDING_POST_ANNOTATION } from '../api/annotations.ts';
import { HEALTH_TABLE } from '../api/health.ts';
import type { NosanaJobObject } from '../api/crds/nosana-job.ts';
import { findCondition } from '../runtime/conditions.ts';
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
  /** A program-account notification arrived on a network's websocket (read, not yet believed). */
  chainNotification(network: string): void;
  /** Reported by pinning clients and gateway readers. */
  ipfsRequest(event: IpfsRequestEvent): void;
  /** The wallet's balances as last read, by public key (never anything secret). */
  walletBalance(network: string, wallet: string, lamports: bigint, nosBaseUnits: bigint): void;
  /** Posts recorded but not yet resolved: a gauge read from this callback at scrape time. */
  setPendingPostsSource(count: () => number): void;
}

/**
 * What the process owning the informer caches sets, beside what reconcilers report: the manager
 * gives the gauge its NosanaJob cache, so no reconciler (nor its test double) has to know of it.
 */
export interface NosanaMetricsSources {
  /** NosanaJobs by phase and Ready reason: a gauge computed from this list at scrape time. */
  setJobsSource(jobs: () => readonly NosanaJobObject[]): void;
}

/**
 * Every (phase, Ready reason) a NosanaJob can show, from the phase table: each is reported at every
 * scrape, zero when no job is in it, so a graph or an alert on one reason has a series to read
 * before the first job ever reaches it. The label set stays bounded by the table.
 */
const JOB_STATES = HEALTH_TABLE.filter((row) => row.kind === 'NosanaJob' && row.phase !== undefined).map((row) => ({
  phase: row.phase ?? '',
  reason: row.reason,
}));

/**
 * A job's labels on nosana_jobs. A job the controller has not reconciled yet has no status: it is
 * counted as Pending with an empty reason (no Ready condition yet).
 */
function jobStateOf(job: NosanaJobObject): { phase: string; reason: string } {
  return { phase: job.status?.phase ?? 'Pending', reason: findCondition(job.status?.conditions, 'Ready')?.reason ?? '' };
}

/** The poster actions NosanaMetrics.chainAction reports; their series start at zero per network. */
export const CHAIN_ACTIONS = ['post', 'delist', 'end', 'extend', 'recover'] as const;
const CHAIN_ACTION_OUTCOMES = ['ok', 'error'] as const;

const RPC_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const IPFS_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/**
 * Seconds since the oldest pending post of `jobs` was prepared (its nosana.io/pending-post record's
 * preparedAt), 0 when there is none; a record that cannot be read counts as prepared now.
 */
export function oldestPendingPostAgeSeconds(jobs: readonly NosanaJobObject[], nowMs: number): number {
  let oldestMs = nowMs;
  for (const job of jobs) {
    const record = job.metadata?.annotations?.[PENDING_POST_ANNOTATION];
    if (record === undefined) continue;
    let preparedMs = Number.NaN;
    try {
      preparedMs = Date.parse(String((JSON.parse(record) as { preparedAt?: unknown }).preparedAt));
    } catch {
      // unreadable: the reconciler reports it; here it counts as new
    }
    if (Number.isFinite(preparedMs)) oldestMs = Math.min(oldestMs, preparedMs);
  }
  return Math.max(0, (nowMs - oldestMs) / 1000);
}

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

/** Registers the domain series on `registry` (after the runtime's) and reports through them. */
export function createNosanaMetrics(registry: Registry): NosanaMetrics & NosanaMetricsSources {
  const registers = [registry];
  const marketLabels = ['network', 'market'] as const;
  const posted = new Counter({
    name: 'nosana_jobs_posted_total',
    help: 'Jobs that landed on chain, one per on-chain job.',
    labelNames: marketLabels,
    registers,
  });
  const spent = new Counter({
    name: 'nosana_nos_spent_base_units_total',
    help: 'NOS paid into markets (deposits and extensions), in base units (10^-6 NOS).',
    labelNames: marketLabels,
    registers,
  });
  const refunded = new Counter({
    name: 'nosana_nos_refunded_base_units_total',
    help: 'NOS returned by delist, recover and end, in base units (10^-6 NOS).',
    labelNames: marketLabels,
    registers,
  });
  const chainActions = new Counter({
    name: 'nosana_chain_actions_total',
    help: 'Poster actions sent to the chain, by outcome.',
    labelNames: ['network', 'action', 'outcome'],
    registers,
  });
  const rpcRequests = new Counter({
    name: 'nosana_rpc_requests_total',
    help: 'Solana JSON-RPC HTTP requests (each retry counts).',
    labelNames: ['network', 'method', 'outcome'],
    registers,
  });
  const rpcDuration = new Histogram({
    name: 'nosana_rpc_request_duration_seconds',
    help: 'Seconds per Solana JSON-RPC HTTP request.',
    labelNames: ['network', 'method'],
    buckets: RPC_BUCKETS,
    registers,
  });
  const chainNotifications = new Counter({
    name: 'nosana_chain_notifications_total',
    help: 'Job and run account notifications received over the RPC websocket (each is confirmed by a read before use).',
    labelNames: ['network'],
    registers,
  });
  const ipfsRequests = new Counter({
    name: 'nosana_ipfs_requests_total',
    help: 'IPFS pinning and gateway HTTP requests (each retry counts).',
    labelNames: ['operation', 'service', 'outcome'],
    registers,
  });
  const ipfsDuration = new Histogram({
    name: 'nosana_ipfs_request_duration_seconds',
    help: 'Seconds per IPFS HTTP request.',
    labelNames: ['operation', 'service'],
    buckets: IPFS_BUCKETS,
    registers,
  });
  const walletLamports = new Gauge({
    name: 'nosana_wallet_lamports',
    help: 'SOL balance of a poster wallet as last read, in lamports.',
    labelNames: ['network', 'wallet'],
    registers,
  });
  const walletNos = new Gauge({
    name: 'nosana_wallet_nos_base_units',
    help: 'NOS balance of a poster wallet as last read, in base units.',
    labelNames: ['network', 'wallet'],
    registers,
  });
  let pendingPosts: () => number = () => 0;
  // Registered with the registry by construction; read only through it.
  new Gauge({
    name: 'nosana_pending_posts',
    help: 'Posts recorded but not yet resolved as landed or never landed.',
    registers,
    collect() {
      this.set(pendingPosts());
    },
  });
  // Unset in a process without a NosanaJob cache (the node agent), which then shows no series.
  let jobs: (() => readonly NosanaJobObject[]) | undefined;
  // No namespace label: phase and reason are bounded by the phase table, namespaces are not, and
  // `kubectl get nosanajobs -A` answers "which ones" once a graph or an alert says "how many".
  new Gauge({
    name: 'nosana_jobs',
    help: "NosanaJobs by status.phase and the Ready condition's reason, as the controller's cache holds them.",
    labelNames: ['phase', 'reason'],
    registers,
    collect() {
      this.reset();
      if (jobs === undefined) return;
      for (const state of JOB_STATES) this.set(state, 0);
      for (const job of jobs()) this.inc(jobStateOf(job));
    },
  });
  // A post resolves within seconds (its blockhash expires in about a minute); one older than a
  // few minutes is stuck, which a count of pending posts cannot tell from steady posting.
  new Gauge({
    name: 'nosana_pending_post_oldest_age_seconds',
    help: 'Seconds since the oldest post still recorded as pending was prepared; 0 when none is.',
    registers,
    collect() {
      this.set(jobs === undefined ? 0 : oldestPendingPostAgeSeconds(jobs(), Date.now()));
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
    chainNotification(network) {
      seeNetwork(network);
      chainNotifications.inc({ network });
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
    setJobsSource(source) {
      jobs = source;
    },
  };
}
