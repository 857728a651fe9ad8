// A cache of one kind kept current by list + watch, and a supervisor that keeps the watch alive.
//
// WHY its own list + watch rather than client-node's ListWatch: ListWatch stops for good on any
// error other than 410 (so a dropped connection ends the cache unless someone restarts it), never
// asks for bookmarks and hides them, keeps full objects with managedFields, hands update callbacks
// no previous object, and lists without paging. Its Watch aborts a stream after 30 s of silence,
// shorter than the API server's ~60 s bookmark period, so a quiet collection would be re-watched
// every 30 s and its resourceVersion would age until a reconnect hits 410 and a full relist.
//
// The supervisor: every failure (connection refused or reset, a 5xx, a 403 while RBAC is being
// fixed) restarts the list/watch after a jittered exponential backoff; a 410 Gone (the version the
// watch resumes from was compacted away) clears the version so the next attempt relists; a watch
// that brings nothing (no event, no bookmark) and no successful list for `stallTimeoutMs` is
// torn down and relisted. A relist replaces the cached set and emits the differences as
// added/modified/deleted events, so a change made while the watch was down is never missed.
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { KubeApi, KubeApiError, SilentConnectionError, describeError, hasStatus } from './kube-api.ts';
import type { CacheEvent, ObjectCache, ObjectKey } from './types.ts';
import { keyOf, keyString } from './types.ts';

export type RestartReason = 'error' | 'expired' | 'stalled';

export interface InformerOptions {
  /** Watch only these namespaces (one watch each); empty or absent: all namespaces. */
  namespaces?: readonly string[];
  labelSelector?: string;
  fieldSelector?: string;
  /** No event, bookmark or successful list for this long: rebuild. Default 5 min; keep it above the ~1 min bookmark period. */
  stallTimeoutMs?: number;
  /** Restart backoff: doubles from `initialMs` to `maxMs`, each delay jittered to 50-100 %. Defaults 500 ms and 30 s. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Called for every restart of a list/watch (for a restarts metric). */
  onRestart?: (reason: RestartReason) => void;
}

export type CacheEventHandler<T extends KubernetesObject> = (event: CacheEvent<T>) => void;

const DEFAULT_STALL_TIMEOUT_MS = 5 * 60_000;
const LIST_PAGE_SIZE = 500;
const LIST_TIMEOUT_MS = 60_000;
// client-go's spread: each watch asks the server to end it after 5-10 min, so reconnects of many
// informers do not line up; a normal end resumes at once from the last version.
const MIN_WATCH_TIMEOUT_SECONDS = 300;

export class SupervisedInformer<T extends KubernetesObject> implements ObjectCache<T> {
  private readonly store: CacheStore<T>;
  private readonly streams: CollectionStream<T>[];
  private readonly stopping = new AbortController();
  private running: Promise<void>[] | undefined;

  /**
   * @param path the collection's URL path: cluster-wide (/apis/nosana.io/v1alpha1/nosanajobs),
   *   which `options.namespaces` narrows, or already namespaced (/api/v1/namespaces/x/configmaps)
   */
  constructor(kubeConfig: KubeConfig, path: string, log: Logger, options: InformerOptions = {}) {
    const informerLog = log.child({ informer: path });
    this.store = new CacheStore<T>(informerLog);
    const api = new KubeApi(kubeConfig);
    const namespaces = options.namespaces ?? [];
    if (namespaces.length > 0 && namespaceOfPath(path) !== undefined) {
      throw new Error(
        `informer path ${path} is already namespaced: pass the cluster-wide path to watch namespaces ${namespaces.join(', ')}`,
      );
    }
    const scopes =
      namespaces.length > 0
        ? namespaces.map((namespace) => ({ path: namespacedPath(path, namespace), namespace }))
        : [{ path, namespace: namespaceOfPath(path) }];
    this.streams = scopes.map(
      (scope) =>
        new CollectionStream<T>({
          api,
          path: scope.path,
          namespace: scope.namespace,
          store: this.store,
          options,
          log: namespaces.length > 0 ? informerLog.child({ namespace: scope.namespace }) : informerLog,
          stop: this.stopping.signal,
        }),
    );
  }

  /** Subscribes to changes; returns the unsubscribe function. Handlers run synchronously: enqueue, do not work. */
  on(handler: CacheEventHandler<T>): () => void {
    this.store.handlers.add(handler);
    return () => this.store.handlers.delete(handler);
  }

  /** Starts every list/watch; resolves once each has listed successfully (the cache is synced). */
  start(): Promise<void> {
    if (this.running !== undefined) throw new Error('informer already started');
    this.running = this.streams.map((stream) => stream.run());
    return Promise.all(this.streams.map((stream) => stream.synced)).then(() => undefined);
  }

  /** Ends every watch and waits for the supervisors to finish. */
  async stop(): Promise<void> {
    this.stopping.abort(new Error('informer stopped'));
    await Promise.all(this.running ?? []);
  }

  get(key: ObjectKey): T | undefined {
    return this.store.objects.get(keyString(key));
  }

  list(namespace?: string): T[] {
    const all = [...this.store.objects.values()];
    return namespace === undefined ? all : all.filter((object) => object.metadata?.namespace === namespace);
  }

  hasSynced(): boolean {
    return this.streams.every((stream) => stream.hasSynced);
  }
}

/** The cached objects of all streams of one informer, and the subscribers told of each change. */
class CacheStore<T extends KubernetesObject> {
  readonly objects = new Map<string, T>();
  readonly handlers = new Set<CacheEventHandler<T>>();
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  /** Stores a watched object; emits added/modified unless this exact version is already cached. */
  upsert(raw: T): void {
    const object = snapshot(raw);
    const key = keyString(keyOf(object));
    const previous = this.objects.get(key);
    if (previous !== undefined && previous.metadata?.resourceVersion === object.metadata?.resourceVersion) return;
    this.objects.set(key, object);
    this.emit(previous === undefined ? { type: 'added', object } : { type: 'modified', object, previous });
  }

  remove(raw: T): void {
    const key = keyString(keyOf(raw));
    if (!this.objects.delete(key)) return;
    this.emit({ type: 'deleted', object: snapshot(raw) });
  }

  /** A relist of one scope: what the list lacks was deleted while nobody watched. */
  replace(namespace: string | undefined, items: T[]): void {
    const listed = new Set(items.map((item) => keyString(keyOf(item))));
    for (const [key, cached] of this.objects) {
      const inScope = namespace === undefined || cached.metadata?.namespace === namespace;
      if (inScope && !listed.has(key)) {
        this.objects.delete(key);
        this.emit({ type: 'deleted', object: cached });
      }
    }
    for (const item of items) this.upsert(item);
  }

  private emit(event: CacheEvent<T>): void {
    for (const handler of this.handlers) {
      try {
        handler(event);
      } catch (err) {
        // one faulty subscriber must not stop the watch that feeds everyone
        this.log.error({ err }, 'informer event handler threw');
      }
    }
  }
}

interface StreamSetup<T extends KubernetesObject> {
  api: KubeApi;
  path: string;
  /** The namespace this stream covers; undefined: all. */
  namespace: string | undefined;
  store: CacheStore<T>;
  options: InformerOptions;
  log: Logger;
  stop: AbortSignal;
}

interface ListResponse<T> {
  apiVersion?: string;
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items: T[];
}

interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T & { code?: number; reason?: string; message?: string };
}

// a SilentConnectionError: the API client resets the connection pool the stalled stream used
class StallError extends SilentConnectionError {
  constructor(ms: number) {
    super(`no watch event, bookmark or successful list for ${ms} ms`);
    this.name = 'StallError';
  }
}

/** One list/watch of one collection path, restarted by its own supervisor loop. */
class CollectionStream<T extends KubernetesObject> {
  private readonly setup: StreamSetup<T>;
  private readonly stallTimeoutMs: number;
  private readonly syncedSignal = Promise.withResolvers<void>();
  private resourceVersion = '';
  private eventsThisAttempt = 0;
  hasSynced = false;

  constructor(setup: StreamSetup<T>) {
    this.setup = setup;
    this.stallTimeoutMs = setup.options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    setup.stop.addEventListener(
      'abort',
      () => this.syncedSignal.reject(new Error(`informer for ${setup.path} stopped before its first list`)),
      { once: true },
    );
    // start() may never be awaited if the informer stops first; that is not an unhandled error
    this.syncedSignal.promise.catch(() => undefined);
  }

  get synced(): Promise<void> {
    return this.syncedSignal.promise;
  }

  async run(): Promise<void> {
    const { stop, log } = this.setup;
    let failures = 0;
    while (!stop.aborted) {
      this.eventsThisAttempt = 0;
      try {
        await this.attempt();
        // the server ended the watch (its timeout): resume at once, unless it ended without a
        // single event, which a healthy watch with bookmarks never does; then back off
        if (this.eventsThisAttempt > 0) {
          failures = 0;
          continue;
        }
        failures += 1;
        log.debug('watch ended without any event; backing off');
      } catch (err) {
        if (stop.aborted) break;
        failures = this.eventsThisAttempt > 0 ? 1 : failures + 1;
        const reason = this.classify(err);
        // after a 410 or a stall the version to resume from is useless or suspect: relist
        if (reason !== 'error') this.resourceVersion = '';
        this.setup.options.onRestart?.(reason);
        log.warn({ reason, err: describeError(err), attempt: failures }, 'list/watch failed; restarting');
      }
      await sleep(this.backoffMs(failures), undefined, { signal: stop }).catch(() => undefined);
    }
  }

  /** List (if there is no version to resume from), then watch until the stream ends or fails. */
  private async attempt(): Promise<void> {
    const { api, path, store, options, namespace, stop } = this.setup;
    const attempt = new AbortController();
    const signal = AbortSignal.any([stop, attempt.signal]);
    let stallTimer: NodeJS.Timeout | undefined;
    const progress = (): void => {
      clearTimeout(stallTimer);
      stallTimer = setTimeout(() => attempt.abort(new StallError(this.stallTimeoutMs)), this.stallTimeoutMs);
    };
    progress();
    try {
      if (this.resourceVersion === '') {
        const { items, resourceVersion } = await this.list(signal);
        store.replace(namespace, items);
        this.resourceVersion = resourceVersion;
        progress();
        if (!this.hasSynced) {
          this.hasSynced = true;
          this.syncedSignal.resolve();
        }
      }
      const query = {
        watch: true,
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: MIN_WATCH_TIMEOUT_SECONDS + Math.floor(Math.random() * MIN_WATCH_TIMEOUT_SECONDS),
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
      };
      for await (const line of api.lines(path, { query, signal })) {
        progress();
        this.eventsThisAttempt += 1;
        this.apply(JSON.parse(line) as WatchEvent<T>);
      }
    } finally {
      clearTimeout(stallTimer);
    }
  }

  private apply(event: WatchEvent<T>): void {
    const { store } = this.setup;
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED':
        store.upsert(event.object);
        break;
      case 'DELETED':
        store.remove(event.object);
        break;
      case 'BOOKMARK':
        break;
      case 'ERROR': {
        const status = event.object;
        throw new KubeApiError('WATCH', this.setup.path, status.code ?? 500, status.reason, status.message ?? 'watch error event');
      }
    }
    const version = event.object.metadata?.resourceVersion;
    if (version) this.resourceVersion = version;
  }

  private async list(signal: AbortSignal): Promise<{ items: T[]; resourceVersion: string }> {
    const { api, path, options } = this.setup;
    const items: T[] = [];
    let resourceVersion = '';
    let continueToken: string | undefined;
    do {
      const page = await api.request<ListResponse<T>>('GET', path, {
        query: {
          limit: LIST_PAGE_SIZE,
          continue: continueToken,
          labelSelector: options.labelSelector,
          fieldSelector: options.fieldSelector,
        },
        signal,
        timeoutMs: LIST_TIMEOUT_MS,
      });
      // items of a list carry no kind of their own (ConfigMapList items); watch events do
      const kind = page.kind?.replace(/List$/, '');
      for (const item of page.items) items.push({ ...item, apiVersion: item.apiVersion ?? page.apiVersion, kind: item.kind ?? kind });
      // every page of one list is the same snapshot: the first page's version stands for all
      if (resourceVersion === '') resourceVersion = page.metadata?.resourceVersion ?? '';
      continueToken = page.metadata?.continue || undefined;
    } while (continueToken !== undefined);
    return { items, resourceVersion };
  }

  private classify(err: unknown): RestartReason {
    if (err instanceof StallError) return 'stalled';
    if (hasStatus(err, 410)) return 'expired';
    return 'error';
  }

  private backoffMs(failures: number): number {
    if (failures === 0) return 0;
    const initial = this.setup.options.backoff?.initialMs ?? 500;
    const max = this.setup.options.backoff?.maxMs ?? 30_000;
    const ceiling = Math.min(max, initial * 2 ** (failures - 1));
    // jitter: replicas that lost the same API server must not come back in lockstep
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }
}

/** What the cache keeps: no managedFields (often half an object's size, never read), frozen. */
function snapshot<T extends KubernetesObject>(object: T): T {
  if (object.metadata?.managedFields !== undefined) {
    const { managedFields: _unused, ...metadata } = object.metadata;
    object = { ...object, metadata };
  }
  return deepFreeze(object);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function namespaceOfPath(path: string): string | undefined {
  return /\/namespaces\/([^/]+)\/[^/]+$/.exec(path)?.[1];
}

function namespacedPath(path: string, namespace: string): string {
  const slash = path.lastIndexOf('/');
  return `${path.slice(0, slash)}/namespaces/${encodeURIComponent(namespace)}${path.slice(slash)}`;
}
