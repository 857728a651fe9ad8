// What one NosanaJob reconcile works with, and how it is built. The steps (posting, mirroring,
// chain actions, deletion) read the world through it and record what they saw in `status`, a
// working copy written once at the end of the reconcile (no write when unchanged). Every write
// to the object itself goes through the context's writeStatus/patchMetadata, which track the
// object's resourceVersion: a status written in the middle of a reconcile (an intent recorded
// before a transaction) must not make the next metadata write of the same reconcile look stale.
// Network ports and the wallet are resolved lazily (once), because most reconciles of a running
// job need neither a Secret read nor a settings lookup.
import type { V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import type { Keypair } from '@solana/web3.js';
import type { Logger } from 'pino';
import type { NosanaJobObject, NosanaJobPhase, NosanaJobStatus } from '../../api/crds/nosana-job.ts';
import type { NosanaMarketObject } from '../../api/crds/nosana-market.ts';
import type {
  EventRecorder,
  EventType,
  KubeWriter,
  MetadataChange,
  ObjectCache,
  ObjectKey,
  ReconcileContext,
} from '../../runtime/types.ts';
import { refOf } from '../../runtime/types.ts';
import type { NosanaMetrics } from '../nosana-metrics.ts';
import type { NetworkPorts, NetworkRegistry, NetworkSettings } from '../network-ports.ts';
import { applyPhase } from '../phase.ts';
import { isRefusal } from './refusal.ts';
import { resolveMarketReference } from './resolve.ts';
import type { MarketReference } from './resolve.ts';
import { loadWallet, walletSourceFor } from './wallet.ts';

/** Reads that are not cached: Secrets and ConfigMaps are fetched only when a step needs them. */
export interface KubeReader {
  getSecret(key: ObjectKey): Promise<V1Secret | undefined>;
  getConfigMap(key: ObjectKey): Promise<V1ConfigMap | undefined>;
}

export interface NosanaJobControllerOptions {
  /** How often queued/running jobs are polled (the watcher's interval). */
  pollIntervalMs: number;
  /** Follow jobs over the RPC's websocket too, polling only to resync while it is up (unset: off; the controller command turns it on). */
  chainSubscribe?: boolean;
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

export interface JobReconcileContext {
  readonly deps: NosanaJobControllerDeps;
  readonly object: NosanaJobObject;
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** The working copy of the status, applied at the end of the reconcile. */
  status: NosanaJobStatus;
  /** The object's resourceVersion as this reconcile last read or wrote it. */
  readonly resourceVersion: string;
  /** Writes the working status now (nothing when it is what was last written) and tracks the new resourceVersion. */
  writeStatus(): Promise<void>;
  /** Changes annotations or finalizers at the tracked resourceVersion; StaleObjectError when anyone else wrote since. */
  patchMetadata(change: MetadataChange): Promise<void>;
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
}

function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => {
    // A failed load is not cached: the next call (next step) tries again.
    loaded ??= load().catch((error: unknown) => {
      loaded = undefined;
      throw error;
    });
    return loaded;
  };
}

/** The market the job refers to, when it can be told from the caches. */
function marketReferenceOf(deps: NosanaJobControllerDeps, object: NosanaJobObject): MarketReference | undefined {
  const reference = resolveMarketReference(object, deps.markets);
  return isRefusal(reference) ? undefined : reference;
}

export function buildJobContext(
  deps: NosanaJobControllerDeps,
  object: NosanaJobObject,
  reconcile: ReconcileContext,
  jobAddress?: string,
): JobReconcileContext {
  const namespace = object.metadata?.namespace ?? '';
  const ports = once<NetworkPorts>(async () =>
    deps.networks.ports(await deps.settingsFor(marketReferenceOf(deps, object)?.settingsFrom, namespace)),
  );
  const wallet = once<Keypair>(() => loadWallet(deps.reader, walletSourceFor(object, marketReferenceOf(deps, object))));
  const ref = refOf(object);
  let resourceVersion = object.metadata?.resourceVersion ?? '';
  let written: NosanaJobStatus | undefined = object.status;
  const context: JobReconcileContext = {
    deps,
    object,
    log: jobAddress === undefined ? reconcile.log : reconcile.log.child({ jobAddress }),
    signal: reconcile.signal,
    status: structuredClone(object.status ?? {}),
    get resourceVersion() {
      return resourceVersion;
    },
    async writeStatus() {
      const snapshot = structuredClone(context.status);
      const version = await deps.writer.applyStatus(ref, snapshot, written);
      if (version === undefined) return;
      resourceVersion = version;
      written = snapshot;
    },
    async patchMetadata(change) {
      resourceVersion = await deps.writer.patchMetadata(ref, resourceVersion, change);
    },
    ports,
    wallet,
    setPhase(phase, reason, message) {
      context.status = applyPhase('NosanaJob', context.status, phase, reason, message, object.metadata?.generation, deps.now());
    },
    event(type, reason, note) {
      deps.events.record(object, type, reason, 'Reconcile', note);
    },
  };
  return context;
}
