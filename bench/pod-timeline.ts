// When the Pods of a namespace passed each milestone, grouped by what they belong to (a batch/v1
// Job, or a Nosana run), as this process's watch saw it: the peer side of the posting and
// end-to-end scenarios, and the Pod side of ours in end-to-end, measured as JobTimeline measures
// NosanaJobs. With `followJobs`, the batch/v1 Jobs' completions are watched too.
import type * as k8s from '@kubernetes/client-node';
import pino from 'pino';
import { waitFor } from '../src/local-cluster/wait.ts';
import { SupervisedInformer } from '../src/runtime/informer.ts';

/**
 * `applied`: the create of the owner returned (the benchmark's mark). `podSeen`: its first Pod
 * appeared; `podRunning`: its first Pod was Running; `complete`: the Job's Complete condition.
 */
export type PodMilestone = 'applied' | 'podSeen' | 'podRunning' | 'complete';

/** A Pod names its Job in the label the Job controller sets (older clusters: job-name; else its owner). */
export function batchJobOf(pod: k8s.V1Pod): string | undefined {
  const labels = pod.metadata?.labels ?? {};
  return (
    labels['batch.kubernetes.io/job-name'] ??
    labels['job-name'] ??
    pod.metadata?.ownerReferences?.find((owner) => owner.kind === 'Job')?.name
  );
}

export class PodTimeline {
  readonly #informers: SupervisedInformer<k8s.KubernetesObject>[] = [];
  readonly #times = new Map<string, Map<PodMilestone, number>>();

  /** `ownerOf` groups Pods (default: by batch/v1 Job); Pods it returns nothing for are ignored. */
  constructor(
    kubeConfig: k8s.KubeConfig,
    namespace: string,
    options: { ownerOf?: (pod: k8s.V1Pod) => string | undefined; followJobs?: boolean } = {},
  ) {
    const ownerOf = options.ownerOf ?? batchJobOf;
    const silent = pino({ level: 'silent' });
    const pods = new SupervisedInformer<k8s.V1Pod>(kubeConfig, `/api/v1/namespaces/${namespace}/pods`, silent);
    pods.on(({ type, object }) => {
      if (type === 'deleted') return;
      const owner = ownerOf(object);
      if (owner === undefined) return;
      this.mark(owner, 'podSeen');
      if (object.status?.phase === 'Running') this.mark(owner, 'podRunning');
    });
    this.#informers.push(pods as SupervisedInformer<k8s.KubernetesObject>);
    if (options.followJobs === true) {
      const jobs = new SupervisedInformer<k8s.V1Job>(kubeConfig, `/apis/batch/v1/namespaces/${namespace}/jobs`, silent);
      jobs.on(({ type, object }) => {
        if (type === 'deleted') return;
        const complete = object.status?.conditions?.some((condition) => condition.type === 'Complete' && condition.status === 'True');
        if (complete === true) this.mark(object.metadata?.name ?? '', 'complete');
      });
      this.#informers.push(jobs as SupervisedInformer<k8s.KubernetesObject>);
    }
  }

  async start(): Promise<void> {
    await Promise.all(this.#informers.map((informer) => informer.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.#informers.map((informer) => informer.stop()));
  }

  /** Records the first time only: an update seen again after a relist is not a new transition. */
  mark(owner: string, milestone: PodMilestone, at = Date.now()): void {
    const times = this.#times.get(owner) ?? new Map<PodMilestone, number>();
    if (!times.has(milestone)) times.set(milestone, at);
    this.#times.set(owner, times);
  }

  /** When `owner` passed `milestone`, if it has. */
  timeOf(owner: string, milestone: PodMilestone): number | undefined {
    return this.#times.get(owner)?.get(milestone);
  }

  /** Every owner that has passed `milestone`. */
  ownersAt(milestone: PodMilestone): string[] {
    return [...this.#times].flatMap(([owner, times]) => (times.has(milestone) ? [owner] : []));
  }

  /** Milliseconds from `from` to `to` for each owner that has both. */
  intervals(owners: readonly string[], from: PodMilestone, to: PodMilestone): number[] {
    return owners.flatMap((owner) => {
      const start = this.timeOf(owner, from);
      const end = this.timeOf(owner, to);
      return start === undefined || end === undefined ? [] : [end - start];
    });
  }

  /** How many of `owners` have passed `milestone`. */
  count(owners: readonly string[], milestone: PodMilestone): number {
    return owners.filter((owner) => this.timeOf(owner, milestone) !== undefined).length;
  }

  async waitAll(owners: readonly string[], milestone: PodMilestone, timeoutMs: number): Promise<void> {
    const waiting = (): string[] => owners.filter((owner) => this.timeOf(owner, milestone) === undefined);
    try {
      await waitFor(() => waiting().length === 0, { what: `every Job to reach ${milestone}`, timeoutMs, intervalMs: 50 });
    } catch (error) {
      const stuck = waiting();
      throw new Error(`${(error as Error).message}; ${stuck.length} are not there, e.g. ${stuck.slice(0, 5).join(', ')}`, {
        cause: error,
      });
    }
  }
}
