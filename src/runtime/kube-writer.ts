// Every write a reconciler makes, shaped so it never clobbers anyone else's:
//
// - Status: server-side apply on the /status subresource under one stable field manager. The
//   API server merges by field ownership, so the operator replaces exactly the status fields it
//   set last time (fields it stops sending are removed) and nothing else. force=true because the
//   controller is the one authority on the status it computes: without it, a field another
//   manager touched once (kubectl edit --subresource=status, or an older field-manager name after
//   an upgrade) would be a conflict that blocks every later status write until a person steps in.
//   Kubernetes' SSA guidance says controllers should apply with force for exactly this reason.
// - Metadata (annotations, finalizers): a merge patch carrying metadata.resourceVersion, which the
//   API server treats as a precondition: if anyone wrote the object since that version, it answers
//   409 and nothing changes. The create-once protocol relies on this (a pending post is recorded
//   only on the version the reconciler decided from).
// - Whole objects the operator owns (the logs ConfigMap): server-side apply, create or update.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { PatchStrategy } from '@kubernetes/client-node';
import { KubeApi, hasStatus } from './kube-api.ts';
import type { KubeWriter, MetadataChange, ObjectRef } from './types.ts';
import { StaleObjectError } from './types.ts';

export const FIELD_MANAGER = 'nosana-operator';

interface ObjectMetadata {
  uid?: string;
  resourceVersion?: string;
  annotations?: Record<string, string>;
  finalizers?: string[];
}

export class ApiKubeWriter implements KubeWriter {
  private readonly api: KubeApi;
  private readonly fieldManager: string;

  constructor(kubeConfig: KubeConfig, options: { fieldManager?: string } = {}) {
    this.api = new KubeApi(kubeConfig);
    this.fieldManager = options.fieldManager ?? FIELD_MANAGER;
  }

  async applyStatus(ref: ObjectRef, status: object, current?: object): Promise<string | undefined> {
    if (current !== undefined && canonicalJson(current) === canonicalJson(status)) return undefined;
    const path = `${await this.api.resourcePath(ref)}/status`;
    // No uid precondition is possible here: the status subresource ignores metadata in the body.
    // An object deleted meanwhile answers 404 (StaleObjectError).
    const applied = await this.apply(ref, path, {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { name: ref.name, namespace: ref.namespace },
      status,
    });
    return applied.metadata?.resourceVersion ?? '';
  }

  async replaceStatus(ref: ObjectRef, resourceVersion: string, status: object, current: object): Promise<string | undefined> {
    if (canonicalJson(current) === canonicalJson(status)) return undefined;
    const path = `${await this.api.resourcePath(ref)}/status`;
    // A merge patch keeps what it does not name: what the new status drops is named as null.
    const dropped = Object.fromEntries(
      Object.keys(current)
        .filter((key) => !(key in status))
        .map((key) => [key, null]),
    );
    const patched = await this.stale(ref, () =>
      this.api.request<KubernetesObject>('PATCH', path, {
        query: { fieldManager: this.fieldManager },
        contentType: PatchStrategy.MergePatch,
        body: { metadata: { resourceVersion }, status: { ...dropped, ...status } },
      }),
    );
    return patched.metadata?.resourceVersion ?? '';
  }

  async patchMetadata(ref: ObjectRef, resourceVersion: string, change: MetadataChange): Promise<string> {
    const path = await this.api.resourcePath(ref);
    // finalizers are a list: a merge patch replaces it whole, so the new list is computed from the
    // object as it is at `resourceVersion` (the version precondition makes that safe)
    const current = await this.stale(ref, () => this.api.request<KubernetesObject>('GET', path));
    const metadata = (current.metadata ?? {}) as ObjectMetadata;
    if (ref.uid !== undefined && metadata.uid !== ref.uid)
      throw new StaleObjectError(ref, `it was deleted and created again (uid ${metadata.uid ?? 'none'})`);
    if (metadata.resourceVersion !== resourceVersion) {
      throw new StaleObjectError(
        ref,
        `resourceVersion ${resourceVersion} is no longer current (now ${metadata.resourceVersion ?? 'unknown'})`,
      );
    }
    const annotations = annotationChanges(metadata.annotations ?? {}, change.annotations ?? {});
    const finalizers = finalizerList(metadata.finalizers ?? [], change);
    if (annotations === undefined && finalizers === undefined) return resourceVersion;
    const patched = await this.stale(ref, () =>
      this.api.request<KubernetesObject>('PATCH', path, {
        contentType: PatchStrategy.MergePatch,
        body: {
          metadata: {
            resourceVersion,
            ...(annotations === undefined ? {} : { annotations }),
            ...(finalizers === undefined ? {} : { finalizers }),
          },
        },
      }),
    );
    return patched.metadata?.resourceVersion ?? '';
  }

  async applyObject(object: KubernetesObject): Promise<void> {
    const ref = {
      apiVersion: object.apiVersion ?? '',
      kind: object.kind ?? '',
      namespace: object.metadata?.namespace ?? '',
      name: object.metadata?.name ?? '',
    };
    await this.apply(ref, await this.api.resourcePath(ref), object);
  }

  async writeObject(object: KubernetesObject): Promise<void> {
    const ref = {
      apiVersion: object.apiVersion ?? '',
      kind: object.kind ?? '',
      namespace: object.metadata?.namespace ?? '',
      name: object.metadata?.name ?? '',
    };
    if (object.metadata?.resourceVersion === undefined) {
      const collection = await this.api.resourcePath({ ...ref, name: undefined });
      await this.stale(ref, () => this.api.request('POST', collection, { query: { fieldManager: this.fieldManager }, body: object }));
      return;
    }
    const path = await this.api.resourcePath(ref);
    await this.stale(ref, () => this.api.request('PUT', path, { query: { fieldManager: this.fieldManager }, body: object }));
  }

  async deleteObject(ref: ObjectRef): Promise<void> {
    const path = await this.api.resourcePath(ref);
    const body = {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      propagationPolicy: 'Background',
      ...(ref.uid === undefined ? {} : { preconditions: { uid: ref.uid } }),
    };
    try {
      await this.api.request('DELETE', path, { body });
    } catch (err) {
      if (hasStatus(err, 404)) return;
      // 409: the precondition failed, so the object of this name is another one now.
      if (hasStatus(err, 409)) throw new StaleObjectError(ref, (err as Error).message);
      throw err;
    }
  }

  private async apply(ref: ObjectRef, path: string, body: object): Promise<KubernetesObject> {
    return this.stale(ref, () =>
      this.api.request<KubernetesObject>('PATCH', path, {
        query: { fieldManager: this.fieldManager, force: true },
        contentType: PatchStrategy.ServerSideApply,
        body,
      }),
    );
  }

  /** 409 and 404 mean the caller decided from an object that is no longer there as it saw it. */
  private async stale<T>(ref: ObjectRef, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (hasStatus(err, 409)) throw new StaleObjectError(ref, (err as Error).message);
      if (hasStatus(err, 404)) throw new StaleObjectError(ref, 'it no longer exists');
      throw err;
    }
  }
}

/** The annotations to send: only those that differ; undefined when none do. */
function annotationChanges(
  current: Record<string, string>,
  wanted: Record<string, string | null>,
): Record<string, string | null> | undefined {
  const changes = Object.entries(wanted).filter(([key, value]) => (value === null ? key in current : current[key] !== value));
  return changes.length === 0 ? undefined : Object.fromEntries(changes);
}

/** The new finalizer list, adding and removing idempotently; undefined when it does not change. */
function finalizerList(current: string[], change: MetadataChange): string[] | undefined {
  const remove = new Set(change.removeFinalizers ?? []);
  const next = current.filter((finalizer) => !remove.has(finalizer));
  for (const finalizer of change.addFinalizers ?? []) if (!next.includes(finalizer)) next.push(finalizer);
  const unchanged = next.length === current.length && next.every((finalizer, i) => finalizer === current[i]);
  return unchanged ? undefined : next;
}

/** JSON with object keys sorted: equal for equal content whatever the key order; undefined fields drop out as they do on the wire. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return inner;
    return Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}
