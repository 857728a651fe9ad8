// What one NosanaJob reconcile works with. The orchestrator (reconciler.ts) builds it; the steps
// (posting, mirroring, lifecycle, deletion) read the world through it and record what they saw in
// `status`, a working copy applied once at the end of the reconcile (no write when unchanged).
import type { KubernetesObject, V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import type { Keypair } from '@solana/web3.js';
import type { Logger } from 'pino';
import type { NosanaJobPhase, NosanaJobSpec, NosanaJobStatus } from '../../api/crds/nosana-job.ts';
import type { NosanaMarketSpec, NosanaMarketStatus } from '../../api/crds/nosana-market.ts';
import type { MarketView } from '../../chain/jobs-client.ts';
import type { EventRecorder, EventType, KubeWriter, ObjectCache, ObjectKey } from '../../runtime/types.ts';
import type { NosanaMetrics } from '../../runtime/metrics.ts';
import type { NetworkPorts, NetworkRegistry, NetworkSettings } from '../network-ports.ts';

export interface NosanaJobObject extends KubernetesObject {
  spec: NosanaJobSpec;
  status?: NosanaJobStatus;
}

export interface NosanaMarketObject extends KubernetesObject {
  spec: NosanaMarketSpec;
  status?: NosanaMarketStatus;
}

/** Reads that are not cached: Secrets and ConfigMaps are fetched only when a step needs them. */
export interface KubeReader {
  getSecret(key: ObjectKey): Promise<V1Secret | undefined>;
  getConfigMap(key: ObjectKey): Promise<V1ConfigMap | undefined>;
}

export interface NosanaJobControllerOptions {
  /** How often queued/running jobs are polled (the watcher's interval). */
  pollIntervalMs: number;
  /** How long after run start + timeout a silent node is given before the job is ended. */
  deadNodeGraceMs: number;
  /** How long a job ended without a result waits for `complete` before it is Failed/NoResult. */
  resultWaitMs: number;
  /** Cap of the `<name>-logs` ConfigMap (default 1 MiB). */
  logsConfigMapMaxBytes: number;
  /** Cap of each op's status.ops[].logTail. */
  logTailMaxBytes: number;
}

/** Everything the NosanaJob controller is wired to; one instance per controller. */
export interface NosanaJobControllerDeps {
  jobs: ObjectCache<NosanaJobObject>;
  markets: ObjectCache<NosanaMarketObject>;
  reader: KubeReader;
  writer: KubeWriter;
  events: EventRecorder;
  networks: NetworkRegistry;
  /** Network settings for a job's market: the NosanaMarket's spec merged with the operator's defaults. */
  settingsFor(market: NosanaMarketObject | undefined, namespace: string): Promise<NetworkSettings>;
  metrics: NosanaMetrics;
  now(): Date;
  options: NosanaJobControllerOptions;
}

/** The market a job posts to: a NosanaMarket of its namespace, or a bare address. */
export interface ResolvedMarket {
  object?: NosanaMarketObject;
  address: string;
  view: MarketView;
}

export interface JobReconcileContext {
  readonly deps: NosanaJobControllerDeps;
  readonly object: NosanaJobObject;
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** The working copy of the status, applied at the end of the reconcile. */
  status: NosanaJobStatus;
  /** The object's current resourceVersion (updated after each metadata patch). */
  resourceVersion: string;
  /** Lazily resolved once per reconcile. */
  ports(): Promise<NetworkPorts>;
  /** Lazily resolved: the wallet that pays (throws a WalletProblem naming the Secret and key). */
  wallet(): Promise<Keypair>;
  setPhase(phase: NosanaJobPhase, reason: string, message: string): void;
  event(type: EventType, reason: string, note: string): void;
}

/** What a step asks the orchestrator to do next. */
export interface StepOutcome {
  requeueAfterMs?: number;
  /** The chain job ended without success and spec.retries allows another attempt: post a fresh job. */
  repost?: boolean;
}
