// Remembers, per object, the version our own last write replaced, until the cache shows another.
//
// WHY: a reconcile reads the object from the informer's cache, and the cache learns of our own
// write only when the watch brings it. Under load that takes longer than a short requeue, and a
// reconcile that runs in between decides from the copy we have just overwritten: it reads the
// chain and the cluster for nothing, may act on a world it no longer describes, and its status
// write is refused as a conflict. Finding the cache still at the replaced version, a reconcile
// stops before reading anything; the watch event of our write queues the object again.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ObjectKey } from './types.ts';
import { keyOf, keyString } from './types.ts';

interface Replaced {
  uid: string;
  version: string;
}

export class OwnWrites {
  readonly #replaced = new Map<string, Replaced>();

  /**
   * Our write of `object`, conditioned on `replacedVersion`, made `newVersion`. A write that
   * changed nothing (the same version back) leaves nothing to wait for.
   */
  wrote(object: KubernetesObject, replacedVersion: string, newVersion: string | undefined): void {
    if (replacedVersion === '' || newVersion === undefined || newVersion === '' || newVersion === replacedVersion) return;
    const key = keyString(keyOf(object));
    this.#replaced.set(key, { uid: object.metadata?.uid ?? '', version: replacedVersion });
  }

  /**
   * Whether `cached` is a copy our own write already replaced. Anything else (a newer version, or
   * another object of the same name) means the cache moved on, and the write is forgotten.
   */
  isBehind(cached: KubernetesObject): boolean {
    const key = keyString(keyOf(cached));
    const replaced = this.#replaced.get(key);
    if (replaced === undefined) return false;
    if (replaced.uid === (cached.metadata?.uid ?? '') && replaced.version === cached.metadata?.resourceVersion) return true;
    this.#replaced.delete(key);
    return false;
  }

  /** The object is gone from the cache: nothing of it is remembered. */
  forget(key: ObjectKey): void {
    this.#replaced.delete(keyString(key));
  }

  /** How many objects have a write the cache has not shown yet. */
  get size(): number {
    return this.#replaced.size;
  }
}
