// Where an op's resources are mounted, and which volume backs each mount.
//
// A Pod cannot mount two volumes at one path, while a definition may name one target twice: most
// often two Ollama models, which both default to Ollama's model store and belong together there
// (the store is content-addressed: manifests by model name, blobs by digest). Those share one
// cache volume, keyed by the set of models, and each model gets its own download into it. Any
// other collision — two S3 folders at one target, a resource over a job volume or /dev/shm — has
// no meaning a Pod can give it, so the op fails before anything is created, naming both fields.
import type { ContainerRunArgs, Resource } from '../api/job-definition/index.ts';
import { OLLAMA_DEFAULT_TARGET, privateResourceClaimName, resourceCacheClaimName, sha256Hex } from './names.ts';

/** Mounted by every op Pod (build-pod.ts): nothing else may take the path. */
export const SHM_MOUNT_PATH = '/dev/shm';

export interface ResourceMount {
  /** Where the op sees it. */
  target: string;
  /** The resources filling it, with their index in `args.resources` (one init container each). */
  resources: { resource: Resource; index: number }[];
  /** S3 `allowWrite`: a private, writable copy owned by the run (build-volume.ts says why). */
  privateCopy: boolean;
  /** The PersistentVolumeClaim behind it. */
  claimName: string;
}

export function isPrivateCopy(resource: Resource): boolean {
  return resource.type === 'S3' && resource.allowWrite === true;
}

export function isResource(entry: unknown): entry is Resource {
  return typeof entry === 'object' && entry !== null && 'type' in entry;
}

/** Paths compare without trailing slashes: "/data/" and "/data" are one mount point. */
function mountKey(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

/** The cache of an Ollama store holding several models: named by the sorted set of model caches. */
function sharedStoreClaimName(resources: readonly Resource[]): string {
  if (resources.length === 1 && resources[0] !== undefined) return resourceCacheClaimName(resources[0]);
  const members = resources.map(resourceCacheClaimName).sort();
  return `nos-cache-${sha256Hex(JSON.stringify(members)).slice(0, 16)}`;
}

/** The op's resource mounts in order of first appearance, or why they cannot be mounted. */
export function resourceMounts(
  jobId: string,
  opIndex: number,
  args: Pick<ContainerRunArgs, 'resources' | 'volumes'>,
): ResourceMount[] | { error: string } {
  const taken = new Map<string, string>([[mountKey(SHM_MOUNT_PATH), 'the shared memory mount /dev/shm']]);
  for (const [index, volume] of (args.volumes ?? []).entries()) {
    const key = mountKey(volume.dest);
    const holder = taken.get(key);
    if (holder !== undefined) return { error: `volumes[${index}].dest ${JSON.stringify(volume.dest)} is also ${holder}` };
    taken.set(key, `volumes[${index}].dest`);
  }

  const groups = new Map<string, { target: string; resources: { resource: Resource; index: number }[] }>();
  for (const [index, entry] of (args.resources ?? []).entries()) {
    if (!isResource(entry)) continue;
    const target = entry.target ?? OLLAMA_DEFAULT_TARGET;
    const key = mountKey(target);
    const group = groups.get(key);
    if (group !== undefined) {
      const first = group.resources[0];
      const bothOllama = entry.type === 'Ollama' && group.resources.every(({ resource }) => resource.type === 'Ollama');
      if (!bothOllama) {
        return { error: `resources[${index}] is mounted at ${JSON.stringify(target)}, where resources[${first?.index ?? 0}] already is` };
      }
      group.resources.push({ resource: entry, index });
      continue;
    }
    const holder = taken.get(key);
    if (holder !== undefined) return { error: `resources[${index}].target ${JSON.stringify(target)} is also ${holder}` };
    groups.set(key, { target, resources: [{ resource: entry, index }] });
  }

  return [...groups.values()].map(({ target, resources }) => {
    const first = resources[0] as { resource: Resource; index: number };
    const privateCopy = isPrivateCopy(first.resource);
    return {
      target,
      resources,
      privateCopy,
      claimName: privateCopy
        ? privateResourceClaimName(jobId, opIndex, first.index)
        : sharedStoreClaimName(resources.map(({ resource }) => resource)),
    };
  });
}
