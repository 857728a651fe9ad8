// The demo's eyes on the cluster: watches of the demo's NosanaJobs, NosanaNodes and NosanaMarkets
// and of the Pods in its job namespace, through the operator's own informers. Every change worth a
// line is printed as it arrives (a watch, not a poll, so no phase goes by unseen), and the demo
// waits on what the watches hold.
import type { KubeConfig, KubernetesObject, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { API_VERSION } from '../api/crds/common.ts';
import { nosanaJobCrd } from '../api/crds/nosana-job.ts';
import type { NosanaJobObject } from '../api/crds/nosana-job.ts';
import { nosanaMarketCrd } from '../api/crds/nosana-market.ts';
import type { NosanaMarketObject } from '../api/crds/nosana-market.ts';
import { nosanaNodeCrd } from '../api/crds/nosana-node.ts';
import type { NosanaNodeObject } from '../api/crds/nosana-node.ts';
import { SupervisedInformer } from '../runtime/informer.ts';
import type { CacheEvent } from '../runtime/types.ts';
import { DEMO } from './manifests.ts';
import { jobLine, nodeLine, podLine } from './phase-lines.ts';
import type { Progress } from './progress.ts';

type LineOf<T> = (object: T, previous: T | undefined) => string | undefined;

/** Resolves with the first cached object `accept` takes, now or at a later change; rejects when `signal` aborts. */
export function until<T extends KubernetesObject>(
  cache: Pick<SupervisedInformer<T>, 'list' | 'on'>,
  accept: (object: T) => boolean,
  signal: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let unsubscribe: () => void = () => undefined;
    const onAbort = (): void => {
      unsubscribe();
      reject(signal.reason as Error);
    };
    const check = (): void => {
      const found = cache.list().find(accept);
      if (found === undefined) return;
      unsubscribe();
      signal.removeEventListener('abort', onAbort);
      resolve(found);
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    unsubscribe = cache.on(check);
    check();
  });
}

export class LiveView {
  readonly jobs: SupervisedInformer<NosanaJobObject>;
  readonly nodes: SupervisedInformer<NosanaNodeObject>;
  readonly markets: SupervisedInformer<NosanaMarketObject>;
  readonly pods: SupervisedInformer<V1Pod>;

  constructor(kubeConfig: KubeConfig, log: Logger, progress: Progress) {
    const demo = { namespaces: [DEMO.namespace] };
    this.jobs = new SupervisedInformer(kubeConfig, `/apis/${API_VERSION}/${nosanaJobCrd.plural}`, log, demo);
    this.nodes = new SupervisedInformer(kubeConfig, `/apis/${API_VERSION}/${nosanaNodeCrd.plural}`, log, demo);
    this.markets = new SupervisedInformer(kubeConfig, `/apis/${API_VERSION}/${nosanaMarketCrd.plural}`, log, demo);
    this.pods = new SupervisedInformer(kubeConfig, '/api/v1/pods', log, { namespaces: [DEMO.jobNamespace] });
    const print =
      <T extends KubernetesObject>(line: LineOf<T>) =>
      (event: CacheEvent<T>): void => {
        if (event.type === 'deleted') return;
        const text = line(event.object, event.type === 'modified' ? event.previous : undefined);
        if (text !== undefined) progress.step(text);
      };
    this.jobs.on(print(jobLine));
    this.nodes.on(print(nodeLine));
    this.pods.on(print(podLine));
  }

  /** Starts every watch; resolves once each has listed. */
  async start(): Promise<void> {
    await Promise.all([this.jobs.start(), this.nodes.start(), this.markets.start(), this.pods.start()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.jobs.stop(), this.nodes.stop(), this.markets.stop(), this.pods.stop()]);
  }

  job(): NosanaJobObject | undefined {
    return this.jobs.get({ namespace: DEMO.namespace, name: DEMO.job });
  }

  node(): NosanaNodeObject | undefined {
    return this.nodes.get({ namespace: DEMO.namespace, name: DEMO.node });
  }

  jobPods(): V1Pod[] {
    return this.pods.list(DEMO.jobNamespace);
  }
}
