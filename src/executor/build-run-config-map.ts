// The run ConfigMap: one per job run, the owner of every other object of the run, so deleting it
// lets the garbage collector remove Pods, Services, routes, Secrets, volumes and the policy in one
// step, even after a crash lost track of some of them. Owner references cannot cross namespaces,
// which is why every object of a run lives in settings.namespace. Resource caches are the
// exception: they outlive runs on purpose and are never owned.
//
// Its data is whatever the caller needs to pick the run up after a crash (the caller decides what;
// a ConfigMap holds at most 1 MiB).
import type { V1ConfigMap, V1OwnerReference } from '@kubernetes/client-node';
import { jobObjectMeta } from './labels.ts';
import type { JobContext } from './labels.ts';
import { runConfigMapName } from './names.ts';

/** The run ConfigMap; it owns nothing itself, so any ownerReferences in the context are ignored. */
export function buildRunConfigMap(context: JobContext, data: Record<string, string>): V1ConfigMap {
  const { ownerReferences: _ignored, ...unowned } = context;
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: jobObjectMeta(unowned, runConfigMapName(context.jobId)),
    data: { ...data },
  };
}

/**
 * The ownerReferences that make an object part of the run. The uid exists only once the
 * ConfigMap has been created, so this takes the object the API server returned.
 *
 * `controller: true` (the run is the one thing that manages its objects); no `blockOwnerDeletion`,
 * which would need permission on the ConfigMap's finalizers and buys nothing here: the runner does
 * not wait for foreground deletion.
 */
export function ownedBy(runConfigMap: Pick<V1ConfigMap, 'metadata'>): V1OwnerReference[] {
  const name = runConfigMap.metadata?.name;
  const uid = runConfigMap.metadata?.uid;
  if (name === undefined || uid === undefined || uid === '') {
    throw new Error('the run ConfigMap has no name or uid yet: create it first and pass the object the API server returned');
  }
  return [{ apiVersion: 'v1', kind: 'ConfigMap', name, uid, controller: true }];
}
