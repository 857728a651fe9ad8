// PersistentVolumeClaims: job volumes, resource caches and private resource copies.
//
// Ops of a job share a job volume across Pods, which an emptyDir cannot do (NODE.md §6); all Pods
// of a job run on one node (build-pod.ts pins them), so ReadWriteOnce is enough: it restricts a
// volume to one node, not to one Pod.
//
// A resource cache is shared between jobs and outlives them, as a node's cached volumes do
// (§2.3): it carries no job label and no owner, and its name says what it holds (names.ts). Its
// init container re-syncs it on each use. A resource with S3 `allowWrite` gets a private copy
// instead: the reference node mounts its shared cache writable, which would let one job change
// the files the next job reads; here the job's writes stay in a volume of its own, at the cost of
// downloading it afresh.
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { jobObjectMeta, opObjectMeta, resourceCacheLabels } from './labels.ts';
import type { JobContext, OpContext } from './labels.ts';
import { jobVolumeClaimName, privateResourceClaimName } from './names.ts';
import type { ResourceMount } from './resource-mounts.ts';
import type { ExecutorSettings } from './settings.ts';

/** The volume's name as the definition wrote it (the PVC name may be a hash of it). */
export const VOLUME_NAME_ANNOTATION = 'nosana.io/volume-name';
/** On a resource cache: the resource type, for whoever prunes caches. */
export const RESOURCE_TYPE_ANNOTATION = 'nosana.io/resource-type';

function claimSpec(settings: ExecutorSettings): V1PersistentVolumeClaim['spec'] {
  return {
    accessModes: ['ReadWriteOnce'],
    volumeMode: 'Filesystem',
    resources: { requests: { storage: settings.volumeSize } },
    ...(settings.storageClassName === undefined ? {} : { storageClassName: settings.storageClassName }),
  };
}

/** The PVC behind a job volume (`container/create-volume`, or a name in `args.volumes`). */
export function buildJobVolumeClaim(context: JobContext, volumeName: string): V1PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: jobObjectMeta(context, jobVolumeClaimName(context.jobId, volumeName), { [VOLUME_NAME_ANNOTATION]: volumeName }),
    spec: claimSpec(context.settings),
  };
}

/** The shared cache behind one resource mount (resource-mounts.ts names it); never owned by a run. */
export function buildResourceCacheClaim(
  settings: ExecutorSettings,
  mount: Pick<ResourceMount, 'claimName' | 'resources'>,
): V1PersistentVolumeClaim {
  const name = mount.claimName;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name,
      namespace: settings.namespace,
      labels: resourceCacheLabels(settings, name.slice('nos-cache-'.length)),
      annotations: { [RESOURCE_TYPE_ANNOTATION]: mount.resources[0]?.resource.type ?? '' },
    },
    spec: claimSpec(settings),
  };
}

/** An op's private, writable copy of one resource (S3 `allowWrite`), owned by the run. */
export function buildPrivateResourceClaim(context: OpContext, resourceIndex: number): V1PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: opObjectMeta(context, privateResourceClaimName(context.jobId, context.opIndex, resourceIndex)),
    spec: claimSpec(context.settings),
  };
}
