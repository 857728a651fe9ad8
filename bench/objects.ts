// What the scenarios create on both sides, and how: the same names, the same create concurrency,
// the smallest batch/v1 Job there is, and how many NosanaJobs a market is given.
import * as k8s from '@kubernetes/client-node';
import { waitFor } from '../src/local-cluster/wait.ts';
import type { ClusterContext } from '../test/harness/fixture.ts';
import { GPU_RESOURCE } from '../src/local-cluster/gpu-nodes.ts';

/** Creates in flight at once, for both sides: a CI pipeline or `kubectl apply -f dir/` is about this parallel. */
export const CREATE_CONCURRENCY = 20;
/** A market's queue holds ~300 entries; the rest is headroom for whatever else lists there. */
export const JOBS_PER_MARKET = 250;

export function jobNames(jobs: number): string[] {
  const width = Math.max(4, String(jobs - 1).length);
  return Array.from({ length: jobs }, (_, index) => `job-${String(index).padStart(width, '0')}`);
}

/** What a batch/v1 Job's one container is and asks for. */
export interface BatchJobShape {
  /** Keeps kube-controller-manager from creating its Pod. */
  suspend?: boolean;
  image?: string;
  command?: string[];
  /** nvidia.com/gpu requested (and limited to), as a NosanaNode's job Pod asks. */
  gpus?: number;
  /** Pods retried after a failure (the API's default is 6). */
  backoffLimit?: number;
}

/** One container, one completion: the smallest batch/v1 Job there is, unless `shape` says more. */
export function batchJob(namespace: string, name: string, shape: BatchJobShape = {}): k8s.V1Job & { apiVersion: string; kind: string } {
  const gpus = shape.gpus === undefined ? {} : { resources: { limits: { [GPU_RESOURCE]: String(shape.gpus) } } };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace },
    spec: {
      ...(shape.suspend === true ? { suspend: true } : {}),
      completions: 1,
      parallelism: 1,
      ...(shape.backoffLimit === undefined ? {} : { backoffLimit: shape.backoffLimit }),
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'main', image: shape.image ?? 'busybox', command: shape.command ?? ['echo', 'ok'], ...gpus }],
        },
      },
    },
  };
}

/** Runs `action` on every item, at most `limit` at a time, in order of the items. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  action: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      await action(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** Deletes every batch/v1 Job of the namespace and waits (up to 2 minutes) for their Pods to be gone, saying so if they are not. */
export async function deleteBatchJobs(ctx: ClusterContext, namespace: string, progress: (line: string) => void): Promise<void> {
  progress('deleting the Jobs and their Pods');
  await ctx.kubeConfig.makeApiClient(k8s.BatchV1Api).deleteCollectionNamespacedJob({ namespace, propagationPolicy: 'Background' });
  await waitFor(async () => (await ctx.core.listNamespacedPod({ namespace })).items.length === 0, {
    what: `the Pods of namespace ${namespace} to be gone`,
    timeoutMs: 120_000,
    intervalMs: 500,
  }).catch((error: unknown) => progress((error as Error).message));
}
