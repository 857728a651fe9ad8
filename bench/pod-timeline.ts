// When each batch/v1 Job of a namespace was created and when its first Pod appeared, as this
// process's watch saw it: the posting scenario's peer side, measured as JobTimeline measures ours.
import type * as k8s from '@kubernetes/client-node';
import pino from 'pino';
import { waitFor } from '../src/local-cluster/wait.ts';
import { SupervisedInformer } from '../src/runtime/informer.ts';

/** A Pod names its Job in the label the Job controller sets (older clusters: job-name; else its owner). */
export class PodTimeline {
  readonly #informer: SupervisedInformer<k8s.V1Pod>;
  readonly #applied = new Map<string, number>();
  readonly #podSeen = new Map<string, number>();

  constructor(kubeConfig: k8s.KubeConfig, namespace: string) {
    this.#informer = new SupervisedInformer<k8s.V1Pod>(kubeConfig, `/api/v1/namespaces/${namespace}/pods`, pino({ level: 'silent' }));
    this.#informer.on(({ type, object }) => {
      if (type === 'deleted') return;
      const labels = object.metadata?.labels ?? {};
      const job =
        labels['batch.kubernetes.io/job-name'] ??
        labels['job-name'] ??
        object.metadata?.ownerReferences?.find((owner) => owner.kind === 'Job')?.name;
      if (job !== undefined && !this.#podSeen.has(job)) this.#podSeen.set(job, Date.now());
    });
  }

  start(): Promise<void> {
    return this.#informer.start();
  }

  stop(): Promise<void> {
    return this.#informer.stop();
  }

  /** The create of Job `name` returned. */
  applied(name: string, at = Date.now()): void {
    if (!this.#applied.has(name)) this.#applied.set(name, at);
  }

  /** Milliseconds from each Job's create to its first Pod. */
  intervals(names: readonly string[]): number[] {
    return names.flatMap((name) => {
      const applied = this.#applied.get(name);
      const seen = this.#podSeen.get(name);
      return applied === undefined || seen === undefined ? [] : [seen - applied];
    });
  }

  async waitAll(names: readonly string[], timeoutMs: number): Promise<void> {
    const waiting = (): string[] => names.filter((name) => !this.#podSeen.has(name));
    try {
      await waitFor(() => waiting().length === 0, { what: 'a Pod for every Job', timeoutMs, intervalMs: 50 });
    } catch (error) {
      const stuck = waiting();
      throw new Error(`${(error as Error).message}; ${stuck.length} Jobs have none, e.g. ${stuck.slice(0, 5).join(', ')}`, {
        cause: error,
      });
    }
  }
}
