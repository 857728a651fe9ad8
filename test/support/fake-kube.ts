// An in-memory stand-in for the API server, used only to unit-test reconciler logic against the
// localnet: caches, the writer, the reader and the event recorder all share one store, and every
// write is journaled so tests can assert what was written, in which order, and that nothing was
// written when nothing changed. It keeps the API-server behaviours reconcilers rely on:
// resourceVersion preconditions on metadata patches, an object with finalizers lingering
// (deletionTimestamp set) until the last finalizer goes, and the size limits of stored objects.
// Tests against a real API server are elsewhere (test/integration); this double only has to be
// faithful where the reconciler looks.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { KubernetesObject, V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { NetworkName } from '../../src/chain/addresses.ts';
import type { JobsClient } from '../../src/chain/jobs-client.ts';
import type { RpcRequestEvent } from '../../src/chain/rpc-transport.ts';
import { GatewayReader } from '../../src/ipfs/gateway.ts';
import type { IpfsRequestEvent } from '../../src/ipfs/http.ts';
import { PinataClient } from '../../src/ipfs/pinata.ts';
import { LOCALNET } from '../../src/localnet/localnet.ts';
import type { Localnet } from '../../src/localnet/localnet.ts';
import { BatchedChainJobWatcher } from '../../src/controllers/chain-watcher.ts';
import type { NetworkPorts, NetworkRegistry, NetworkSettings } from '../../src/controllers/network-ports.ts';
import type { KubeReader, NosanaJobControllerDeps, NosanaJobControllerOptions } from '../../src/controllers/nosana-job/context.ts';
import type { NosanaJobObject } from '../../src/api/crds/nosana-job.ts';
import type { NosanaMarketObject } from '../../src/api/crds/nosana-market.ts';
import type { MarketLabels, NosanaMetrics } from '../../src/controllers/nosana-metrics.ts';
import { StaleObjectError, keyString, refOf } from '../../src/runtime/types.ts';
import type {
  EventRecorder,
  EventType,
  KubeWriter,
  MetadataChange,
  ObjectCache,
  ObjectKey,
  ObjectRef,
  ReconcileContext,
  Reconciler,
} from '../../src/runtime/types.ts';

// ---- the store ---------------------------------------------------------------------------------

/** One write (or a test's own note, e.g. "broadcast") in the order it happened. */
export interface JournalEntry {
  verb: 'applyStatus' | 'patchMetadata' | 'applyObject' | 'writeObject' | 'deleteObject' | 'note';
  kind: string;
  namespace: string;
  name: string;
  /** patchMetadata: the change; note: the label; applyStatus: the status written. */
  detail?: unknown;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** What the API server would store: JSON, so undefined fields vanish and Dates become strings. */
function asStored<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** etcd's default request limit: the API server cannot store a larger object. */
const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024;
/** The API server's validation of ConfigMaps (and Secrets): at most 1 MiB of values. */
const MAX_CONFIGMAP_DATA_BYTES = 1024 * 1024;

/** Refuses what the real API server would refuse for its size, with the errors it gives. */
function requireStorable(object: KubernetesObject): void {
  const size = Buffer.byteLength(JSON.stringify(object), 'utf8');
  if (size > MAX_OBJECT_BYTES) throw new Error(`etcdserver: request is too large (${object.kind} of ${size} bytes)`);
  const data = (object as { data?: Record<string, string> }).data ?? {};
  const dataSize = Object.values(data).reduce((sum, value) => sum + Buffer.byteLength(value, 'utf8'), 0);
  if (object.kind === 'ConfigMap' && dataSize > MAX_CONFIGMAP_DATA_BYTES) {
    throw new Error(`ConfigMap "${object.metadata?.name}" is invalid: []: Too long: must have at most ${MAX_CONFIGMAP_DATA_BYTES} bytes`);
  }
}

export class FakeKube {
  readonly journal: JournalEntry[] = [];
  readonly events: RecordedEvents = new RecordedEvents();
  readonly #objects = new Map<string, Map<string, KubernetesObject>>();
  /** Objects a cache keeps serving after the store moved on: an informer that has not caught up. */
  readonly #stale = new Map<string, KubernetesObject>();
  #resourceVersion = 1000;

  #bucket(kind: string): Map<string, KubernetesObject> {
    let bucket = this.#objects.get(kind);
    if (bucket === undefined) {
      bucket = new Map();
      this.#objects.set(kind, bucket);
    }
    return bucket;
  }

  #nextVersion(): string {
    this.#resourceVersion += 1;
    return String(this.#resourceVersion);
  }

  #store(kind: string, object: KubernetesObject): KubernetesObject {
    const frozen = deepFreeze(asStored(object));
    this.#bucket(kind).set(keyString({ namespace: frozen.metadata?.namespace ?? '', name: frozen.metadata?.name ?? '' }), frozen);
    return frozen;
  }

  /** Creates an object as `kubectl create` would: uid, generation 1, a resourceVersion, a timestamp. */
  create<T extends KubernetesObject>(object: T): T {
    const kind = object.kind ?? '';
    const key = { namespace: object.metadata?.namespace ?? '', name: object.metadata?.name ?? '' };
    if (this.get(kind, key) !== undefined) throw new Error(`${kind} ${keyString(key)} already exists`);
    return this.#store(kind, {
      ...object,
      metadata: {
        ...object.metadata,
        uid: randomUUID(),
        generation: 1,
        resourceVersion: this.#nextVersion(),
        creationTimestamp: new Date(),
      },
    }) as T;
  }

  /** Replaces the spec (a user's edit): bumps generation like the API server does for spec changes. */
  updateSpec<T extends KubernetesObject & { spec?: unknown }>(kind: string, key: ObjectKey, spec: T['spec']): T {
    const current = this.require(kind, key) as T;
    return this.#store(kind, {
      ...current,
      spec,
      metadata: { ...current.metadata, generation: (current.metadata?.generation ?? 0) + 1, resourceVersion: this.#nextVersion() },
    } as T) as T;
  }

  /** Sets annotations as a person with kubectl would (null removes). */
  annotate(kind: string, key: ObjectKey, annotations: Record<string, string | null>): KubernetesObject {
    const current = this.require(kind, key);
    return this.#store(kind, {
      ...current,
      metadata: {
        ...current.metadata,
        annotations: mergeAnnotations(current.metadata?.annotations, annotations),
        resourceVersion: this.#nextVersion(),
      },
    });
  }

  /** Replaces an object's finalizers outright, as `kubectl patch` by a person would. */
  setFinalizers(kind: string, key: ObjectKey, finalizers: string[]): KubernetesObject {
    const current = this.require(kind, key);
    return this.#store(kind, { ...current, metadata: { ...current.metadata, finalizers, resourceVersion: this.#nextVersion() } });
  }

  /** Replaces an object's status outright, as another writer (or a restore from backup) would. */
  setStatus(kind: string, key: ObjectKey, status: unknown): KubernetesObject {
    const current = this.require(kind, key);
    return this.#store(kind, {
      ...current,
      status,
      metadata: { ...current.metadata, resourceVersion: this.#nextVersion() },
    } as KubernetesObject);
  }

  /** `kubectl delete`: with finalizers the object stays, marked for deletion, until they are removed. */
  delete(kind: string, key: ObjectKey): void {
    const current = this.get(kind, key);
    if (current === undefined) return;
    if ((current.metadata?.finalizers ?? []).length === 0) {
      this.#bucket(kind).delete(keyString(key));
      return;
    }
    if (current.metadata?.deletionTimestamp !== undefined) return;
    this.#store(kind, {
      ...current,
      metadata: { ...current.metadata, deletionTimestamp: new Date(), resourceVersion: this.#nextVersion() },
    });
  }

  /** The object vanishes without its finalizers running, as when a namespace is rebuilt or etcd is restored. */
  wipe(kind: string, key: ObjectKey): void {
    this.#bucket(kind).delete(keyString(key));
  }

  get(kind: string, key: ObjectKey): KubernetesObject | undefined {
    return this.#bucket(kind).get(keyString(key));
  }

  require(kind: string, key: ObjectKey): KubernetesObject {
    const object = this.get(kind, key);
    if (object === undefined) throw new Error(`no ${kind} ${keyString(key)} in the fake API server`);
    return object;
  }

  /** From now on the cache of `kind` serves the object as it is now, whatever is written after. */
  freezeCache(kind: string, key: ObjectKey): void {
    this.#stale.set(`${kind}/${keyString(key)}`, this.require(kind, key));
  }

  /** The cache catches up with the store again. */
  thawCache(kind: string, key: ObjectKey): void {
    this.#stale.delete(`${kind}/${keyString(key)}`);
  }

  /** A read-only informer-like view of one kind (frozen objects; stale where freezeCache said so). */
  cache<T extends KubernetesObject>(kind: string): ObjectCache<T> {
    const view = (object: KubernetesObject): T =>
      (this.#stale.get(`${kind}/${keyString({ namespace: object.metadata?.namespace ?? '', name: object.metadata?.name ?? '' })}`) ??
        object) as T;
    return {
      get: (key) => {
        const stale = this.#stale.get(`${kind}/${keyString(key)}`);
        if (stale !== undefined) return stale as T;
        const object = this.get(kind, key);
        return object === undefined ? undefined : view(object);
      },
      list: (namespace) =>
        [...this.#bucket(kind).values()].filter((object) => namespace === undefined || object.metadata?.namespace === namespace).map(view),
      hasSynced: () => true,
    };
  }

  /** A test's own entry in the journal, to order outside actions (a broadcast) against writes. */
  note(label: string, ref?: ObjectKey): void {
    this.journal.push({ verb: 'note', kind: '', namespace: ref?.namespace ?? '', name: ref?.name ?? '', detail: label });
  }

  /** How many writes of each verb were made (optionally only for one kind). */
  writeCounts(kind?: string): Record<JournalEntry['verb'], number> {
    const counts = { applyStatus: 0, patchMetadata: 0, applyObject: 0, writeObject: 0, deleteObject: 0, note: 0 };
    for (const entry of this.journal) if (kind === undefined || entry.kind === kind) counts[entry.verb] += 1;
    return counts;
  }

  readonly writer: KubeWriter = {
    applyStatus: async (ref, status, current) => {
      const stored = asStored(status);
      if (current !== undefined && isDeepStrictEqual(stored, asStored(current))) return undefined;
      const object = this.#requireForWrite(ref);
      requireStorable({ ...object, status: stored } as KubernetesObject);
      const resourceVersion = this.#nextVersion();
      this.#store(ref.kind, { ...object, status: stored, metadata: { ...object.metadata, resourceVersion } } as KubernetesObject);
      this.journal.push({ verb: 'applyStatus', kind: ref.kind, namespace: ref.namespace, name: ref.name, detail: stored });
      return resourceVersion;
    },
    replaceStatus: async (ref, resourceVersion, status, current) => {
      if (isDeepStrictEqual(asStored(status), asStored(current))) return undefined;
      const object = this.#requireForWrite(ref);
      if (object.metadata?.resourceVersion !== resourceVersion)
        throw new StaleObjectError(
          ref,
          `resourceVersion ${resourceVersion} is not the current ${object.metadata?.resourceVersion ?? '(none)'}`,
        );
      return this.writer.applyStatus(ref, status, current);
    },
    patchMetadata: async (ref, resourceVersion, change) => {
      const object = this.#requireForWrite(ref);
      if (object.metadata?.resourceVersion !== resourceVersion) {
        throw new StaleObjectError(
          ref,
          `resourceVersion ${resourceVersion} is not the current ${object.metadata?.resourceVersion ?? '(none)'}`,
        );
      }
      const finalizers = applyFinalizerChange(object.metadata?.finalizers, change);
      const version = this.#nextVersion();
      this.journal.push({ verb: 'patchMetadata', kind: ref.kind, namespace: ref.namespace, name: ref.name, detail: change });
      if (object.metadata?.deletionTimestamp !== undefined && finalizers.length === 0) {
        this.#bucket(ref.kind).delete(keyString(ref));
        return version;
      }
      this.#store(ref.kind, {
        ...object,
        metadata: {
          ...object.metadata,
          annotations: mergeAnnotations(object.metadata?.annotations, change.annotations ?? {}),
          finalizers,
          resourceVersion: version,
        },
      });
      return version;
    },
    applyObject: async (object) => {
      requireStorable(object);
      const ref = refOf(object);
      const existing = this.get(ref.kind, ref);
      this.#store(ref.kind, {
        ...object,
        metadata: {
          ...object.metadata,
          uid: existing?.metadata?.uid ?? randomUUID(),
          resourceVersion: this.#nextVersion(),
          creationTimestamp: existing?.metadata?.creationTimestamp ?? new Date(),
        },
      });
      this.journal.push({ verb: 'applyObject', kind: ref.kind, namespace: ref.namespace, name: ref.name });
    },
    writeObject: async (object) => {
      requireStorable(object);
      const ref = refOf(object);
      const existing = this.get(ref.kind, ref);
      const wanted = object.metadata?.resourceVersion;
      if (wanted === undefined ? existing !== undefined : existing?.metadata?.resourceVersion !== wanted) {
        throw new StaleObjectError(
          ref,
          wanted === undefined
            ? 'it exists already'
            : `resourceVersion ${wanted} is not the current ${existing?.metadata?.resourceVersion ?? '(none)'}`,
        );
      }
      this.#store(ref.kind, {
        ...object,
        metadata: {
          ...object.metadata,
          uid: existing?.metadata?.uid ?? randomUUID(),
          resourceVersion: this.#nextVersion(),
          creationTimestamp: existing?.metadata?.creationTimestamp ?? new Date(),
        },
      });
      this.journal.push({ verb: 'writeObject', kind: ref.kind, namespace: ref.namespace, name: ref.name });
    },
    deleteObject: async (ref) => {
      const existing = this.get(ref.kind, ref);
      if (existing === undefined) return;
      if (ref.uid !== undefined && existing.metadata?.uid !== ref.uid) throw new StaleObjectError(ref, 'it was deleted and created again');
      this.journal.push({ verb: 'deleteObject', kind: ref.kind, namespace: ref.namespace, name: ref.name });
      if ((existing.metadata?.finalizers ?? []).length === 0) {
        this.#bucket(ref.kind).delete(keyString(ref));
        return;
      }
      this.#store(ref.kind, {
        ...existing,
        metadata: { ...existing.metadata, deletionTimestamp: new Date(), resourceVersion: this.#nextVersion() },
      });
    },
  };

  readonly reader: KubeReader = {
    getSecret: async (key) => this.#copy<V1Secret>('Secret', key),
    getConfigMap: async (key) => this.#copy<V1ConfigMap>('ConfigMap', key),
  };

  #copy<T>(kind: string, key: ObjectKey): T | undefined {
    const object = this.get(kind, key);
    return object === undefined ? undefined : (structuredClone(object) as T);
  }

  #requireForWrite(ref: ObjectRef): KubernetesObject {
    const object = this.get(ref.kind, ref);
    if (object === undefined) throw new StaleObjectError(ref, 'it no longer exists');
    if (ref.uid !== undefined && object.metadata?.uid !== ref.uid) throw new StaleObjectError(ref, 'it was deleted and created again');
    return object;
  }
}

function mergeAnnotations(current: Record<string, string> | undefined, change: Record<string, string | null>): Record<string, string> {
  const merged: Record<string, string> = { ...current };
  for (const [name, value] of Object.entries(change)) {
    if (value === null) delete merged[name];
    else merged[name] = value;
  }
  return merged;
}

function applyFinalizerChange(current: string[] | undefined, change: MetadataChange): string[] {
  const remove = new Set(change.removeFinalizers ?? []);
  const kept = (current ?? []).filter((finalizer) => !remove.has(finalizer));
  for (const finalizer of change.addFinalizers ?? []) if (!kept.includes(finalizer)) kept.push(finalizer);
  return kept;
}

// ---- events and metrics ------------------------------------------------------------------------

export interface RecordedEvent {
  namespace: string;
  name: string;
  type: EventType;
  reason: string;
  action: string;
  note: string;
}

export class RecordedEvents implements EventRecorder {
  readonly list: RecordedEvent[] = [];

  record(regarding: KubernetesObject, type: EventType, reason: string, action: string, note: string): void {
    this.list.push({ namespace: regarding.metadata?.namespace ?? '', name: regarding.metadata?.name ?? '', type, reason, action, note });
  }

  reasons(): string[] {
    return this.list.map((event) => event.reason);
  }
}

/** Records every call, so tests can check what was counted (amounts stay bigint). */
export class RecordedMetrics implements NosanaMetrics {
  readonly posted: MarketLabels[] = [];
  readonly spent: { labels: MarketLabels; baseUnits: bigint }[] = [];
  readonly refunded: { labels: MarketLabels; baseUnits: bigint }[] = [];
  readonly actions: { network: string; action: string; outcome: 'ok' | 'error' }[] = [];
  readonly balances: { network: string; wallet: string; lamports: bigint; nosBaseUnits: bigint }[] = [];
  rpcRequests = 0;
  chainNotifications = 0;
  ipfsRequests = 0;
  pendingPosts: (() => number) | undefined;

  jobPosted(labels: MarketLabels): void {
    this.posted.push(labels);
  }
  nosSpent(labels: MarketLabels, baseUnits: bigint): void {
    this.spent.push({ labels, baseUnits });
  }
  nosRefunded(labels: MarketLabels, baseUnits: bigint): void {
    this.refunded.push({ labels, baseUnits });
  }
  chainAction(network: string, action: string, outcome: 'ok' | 'error'): void {
    this.actions.push({ network, action, outcome });
  }
  rpcRequest(_network: string, _event: RpcRequestEvent): void {
    this.rpcRequests += 1;
  }
  chainNotification(_network: string): void {
    this.chainNotifications += 1;
  }
  ipfsRequest(_event: IpfsRequestEvent): void {
    this.ipfsRequests += 1;
  }
  walletBalance(network: string, wallet: string, lamports: bigint, nosBaseUnits: bigint): void {
    this.balances.push({ network, wallet, lamports, nosBaseUnits });
  }
  setPendingPostsSource(count: () => number): void {
    this.pendingPosts = count;
  }
}

// ---- network ports over a localnet -------------------------------------------------------------

export const TEST_CONTROLLER_OPTIONS: NosanaJobControllerOptions = {
  pollIntervalMs: 200,
  deadNodeGraceMs: 2_000,
  resultWaitMs: 2_000,
  logsConfigMapMaxBytes: 1024 * 1024,
  logTailMaxBytes: 2048,
};

export const LOCALNET_SERVICE_DOMAIN = 'nodes.localnet.test';
// The localnet's pinning API accepts any bearer token unless started with requireJwt.
const LOCALNET_TEST_JWT = 'localnet-test-jwt';

export function localnetSettings(localnet: Localnet): NetworkSettings {
  return {
    name: 'localnet' satisfies NetworkName,
    rpcUrl: localnet.chain.url,
    gatewayUrls: [localnet.ipfs.gatewayUrl],
    pinning: { provider: 'pinata', url: localnet.ipfs.apiUrl, jwt: LOCALNET_TEST_JWT },
    serviceDomain: LOCALNET_SERVICE_DOMAIN,
  };
}

/** One NetworkPorts for the localnet, whatever settings are asked for. `wrapJobs` lets a test observe or perturb the client. */
function localnetPorts(
  localnet: Localnet,
  options: { wrapJobs?: (jobs: JobsClient) => JobsClient; pollIntervalMs?: number } = {},
): NetworkPorts {
  const client = localnet.jobsClient();
  const jobs = options.wrapJobs === undefined ? client : options.wrapJobs(client);
  return {
    settings: localnetSettings(localnet),
    network: LOCALNET,
    jobs,
    pinning: new PinataClient({ apiUrl: localnet.ipfs.apiUrl, jwt: LOCALNET_TEST_JWT }),
    gateway: new GatewayReader({ gateways: [localnet.ipfs.gatewayUrl] }),
    watcher: new BatchedChainJobWatcher({ jobs, pollIntervalMs: options.pollIntervalMs ?? TEST_CONTROLLER_OPTIONS.pollIntervalMs }),
  };
}

// ---- controller deps ---------------------------------------------------------------------------

/** A clock tests can move (spend windows, grace periods); starts at the real time. */
export class FakeClock {
  #offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.#offsetMs);
  }
  advance(ms: number): void {
    this.#offsetMs += ms;
  }
}

export interface TestDeps {
  kube: FakeKube;
  deps: NosanaJobControllerDeps;
  ports: NetworkPorts;
  metrics: RecordedMetrics;
  clock: FakeClock;
}

export function localnetDeps(
  localnet: Localnet,
  options: {
    kube?: FakeKube;
    wrapJobs?: (jobs: JobsClient) => JobsClient;
    controller?: Partial<NosanaJobControllerOptions>;
  } = {},
): TestDeps {
  const kube = options.kube ?? new FakeKube();
  const controller = { ...TEST_CONTROLLER_OPTIONS, ...options.controller };
  const ports = localnetPorts(localnet, {
    pollIntervalMs: controller.pollIntervalMs,
    ...(options.wrapJobs === undefined ? {} : { wrapJobs: options.wrapJobs }),
  });
  const metrics = new RecordedMetrics();
  const clock = new FakeClock();
  const networks: NetworkRegistry = { ports: () => ports, close: () => ports.watcher.close() };
  const deps: NosanaJobControllerDeps = {
    jobs: kube.cache<NosanaJobObject>('NosanaJob'),
    markets: kube.cache<NosanaMarketObject>('NosanaMarket'),
    reader: kube.reader,
    writer: kube.writer,
    events: kube.events,
    networks,
    settingsFor: async () => localnetSettings(localnet),
    metrics,
    now: () => clock.now(),
    options: controller,
  };
  return { kube, deps, ports, metrics, clock };
}

// ---- objects and driving reconciles ------------------------------------------------------------

export function secretWithKey(namespace: string, name: string, key: string, value: string): V1Secret {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { namespace, name }, data: { [key]: Buffer.from(value).toString('base64') } };
}

export function configMapWithKey(namespace: string, name: string, key: string, value: string): V1ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace, name }, data: { [key]: value } };
}

export function nosanaJob(namespace: string, name: string, spec: NosanaJobObject['spec']): NosanaJobObject {
  return { apiVersion: 'nosana.io/v1alpha1', kind: 'NosanaJob', metadata: { namespace, name }, spec };
}

export function nosanaMarket(
  namespace: string,
  name: string,
  spec: NosanaMarketObject['spec'],
  status?: NosanaMarketObject['status'],
): NosanaMarketObject {
  return {
    apiVersion: 'nosana.io/v1alpha1',
    kind: 'NosanaMarket',
    metadata: { namespace, name },
    spec,
    ...(status === undefined ? {} : { status }),
  };
}

const silentLog = pino({ level: 'silent' });

export function reconcileContext(signal: AbortSignal = new AbortController().signal): ReconcileContext {
  return { log: silentLog, reconcileId: randomUUID(), signal };
}

/**
 * Reconciles `key` again and again (waiting the requested requeue, capped) until `done` says so,
 * or fails after a generous deadline. Errors thrown by the reconciler are retried like the
 * runtime's backoff would, and the last one is reported when the deadline passes.
 */
export async function reconcileUntil<T>(
  reconciler: Reconciler,
  key: ObjectKey,
  done: () => T | undefined | false,
  options: { deadlineMs?: number; maxWaitMs?: number; onError?: (error: unknown) => void } = {},
): Promise<T> {
  const deadline = Date.now() + (options.deadlineMs ?? 60_000);
  let lastError: unknown;
  for (;;) {
    let waitMs = 50;
    try {
      const outcome = await reconciler.reconcile(key, reconcileContext());
      waitMs = outcome?.requeueAfterMs ?? waitMs;
      lastError = undefined;
    } catch (error) {
      lastError = error;
      options.onError?.(error);
    }
    const result = done();
    if (result !== undefined && result !== false) return result;
    if (Date.now() > deadline) {
      throw new Error(
        `reconciling ${keyString(key)} did not reach the expected state in time${lastError === undefined ? '' : `; last error: ${(lastError as Error).message}`}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(waitMs, options.maxWaitMs ?? 250)));
  }
}
