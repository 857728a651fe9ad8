// What the scenarios create on both sides, and how: the same names, the same create concurrency,
// the smallest batch/v1 Job there is, and how many NosanaJobs a market is given.
import type * as k8s from '@kubernetes/client-node';

/** Creates in flight at once, for both sides: a CI pipeline or `kubectl apply -f dir/` is about this parallel. */
export const CREATE_CONCURRENCY = 20;
/** A market's queue holds ~300 entries; the rest is headroom for whatever else lists there. */
export const JOBS_PER_MARKET = 250;

export function jobNames(jobs: number): string[] {
  const width = Math.max(4, String(jobs - 1).length);
  return Array.from({ length: jobs }, (_, index) => `job-${String(index).padStart(width, '0')}`);
}

/** One container, one completion; `suspend` keeps kube-controller-manager from creating its Pod. */
export function batchJob(namespace: string, name: string, suspend = false): k8s.V1Job & { apiVersion: string; kind: string } {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace },
    spec: {
      ...(suspend ? { suspend: true } : {}),
      completions: 1,
      parallelism: 1,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox', command: ['echo', 'ok'] }] } },
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
