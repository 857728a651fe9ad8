// The contracts between the controller runtime and the reconcilers built on it. The runtime
// owns caches, the work queue, leader election and writes; a reconciler only sees these shapes.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';

/** Which object a reconcile is about (all nosana.io kinds are namespaced). */
export interface ObjectKey {
  namespace: string;
  name: string;
}

export function keyOf(object: KubernetesObject): ObjectKey {
  return { namespace: object.metadata?.namespace ?? '', name: object.metadata?.name ?? '' };
}

export function keyString(key: ObjectKey): string {
  return `${key.namespace}/${key.name}`;
}

export interface ReconcileContext {
  /** Carries namespace, name and reconcileId; reconcilers add the job address when known. */
  readonly log: Logger;
  readonly reconcileId: string;
  /** Aborted when the process shuts down: finish the current step, start nothing new. */
  readonly signal: AbortSignal;
}

export interface ReconcileOutcome {
  /** Look again after this long (polling the chain); omitted: only events trigger the next reconcile. */
  requeueAfterMs?: number;
}

/**
 * Level-based: reads the world, converges it one step, says when to look again. Throwing means
 * "retry with per-key backoff"; the runtime counts it as an error.
 */
export interface Reconciler {
  readonly name: string;
  reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileOutcome | undefined>;
}

/** A read-only view of an informer's cache. Objects are frozen snapshots without managedFields. */
export interface ObjectCache<T extends KubernetesObject> {
  get(key: ObjectKey): T | undefined;
  list(namespace?: string): T[];
  hasSynced(): boolean;
}

export type WatchEventType = 'added' | 'modified' | 'deleted';

export interface CacheEvent<T extends KubernetesObject> {
  type: WatchEventType;
  object: T;
  /** The cached object before a modification. */
  previous?: T;
}

/** Identifies an object for writes. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
}

export function refOf(object: KubernetesObject): ObjectRef {
  return {
    apiVersion: object.apiVersion ?? '',
    kind: object.kind ?? '',
    namespace: object.metadata?.namespace ?? '',
    name: object.metadata?.name ?? '',
    ...(object.metadata?.uid === undefined ? {} : { uid: object.metadata.uid }),
  };
}

/** A write lost a race: the object changed since it was read (HTTP 409) or is gone (404). */
export class StaleObjectError extends Error {
  readonly ref: ObjectRef;
  constructor(ref: ObjectRef, detail: string) {
    super(`${ref.kind} ${ref.namespace}/${ref.name} changed since it was read: ${detail}`);
    this.name = 'StaleObjectError';
    this.ref = ref;
  }
}

export interface MetadataChange {
  /** null removes the annotation. */
  annotations?: Record<string, string | null>;
  addFinalizers?: string[];
  removeFinalizers?: string[];
}

/** Everything a reconciler writes to the API server goes through this. */
export interface KubeWriter {
  /**
   * Server-side apply of the status subresource with the operator's field manager. `status` is
   * the whole status this manager owns (fields left out are released). Skips the request when
   * `current` (the cached status) already equals it. Returns the object's new resourceVersion
   * when it wrote, undefined when it had nothing to write.
   */
  applyStatus(ref: ObjectRef, status: object, current?: object): Promise<string | undefined>;
  /**
   * Changes annotations/finalizers with `resourceVersion` as a precondition: throws
   * StaleObjectError when the object changed since that version. Returns the new resourceVersion.
   */
  patchMetadata(ref: ObjectRef, resourceVersion: string, change: MetadataChange): Promise<string>;
  /**
   * Replaces the status with `status` only if the object is still at `resourceVersion` (a JSON merge
   * patch of the status subresource carrying the version: fields of `current` that `status` lacks
   * are removed). Throws StaleObjectError when anyone wrote since. Skips the request when `current`
   * already equals `status`. For statuses that count things once: never written from a stale copy.
   */
  replaceStatus(ref: ObjectRef, resourceVersion: string, status: object, current: object): Promise<string | undefined>;
  /** Server-side apply of a whole object the operator owns (e.g. the logs ConfigMap). */
  applyObject(object: KubernetesObject): Promise<void>;
  /**
   * Writes a whole object the operator owns, conditionally: without metadata.resourceVersion it is
   * created (StaleObjectError when it exists already), with one it is replaced only at that
   * version (StaleObjectError when anyone wrote since). For records whose every entry counts.
   */
  writeObject(object: KubernetesObject): Promise<void>;
  /**
   * Deletes an object the operator owns, only if it is still the one with `ref.uid` (a precondition:
   * a newer object of the same name is never deleted in its place). Gone already is not an error.
   */
  deleteObject(ref: ObjectRef): Promise<void>;
}

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /**
   * Records an events.k8s.io/v1 Event on `regarding`. Repeats of the same (object, type, reason,
   * note) within the dedup window update one Event's series count instead of creating new ones.
   */
  record(regarding: KubernetesObject, type: EventType, reason: string, action: string, note: string): void;
}
