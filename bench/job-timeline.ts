// When each NosanaJob of a namespace passed each milestone, as this process's watch saw it: the
// clock both scenarios measure NosanaJob latencies with.
import type * as k8s from '@kubernetes/client-node';
import type { PublicKey } from '@solana/web3.js';
import pino from 'pino';
import { JOB_ADDRESS_ANNOTATION, PENDING_POST_ANNOTATION } from '../src/api/annotations.ts';
import type { NosanaJobPhase } from '../src/api/crds/nosana-job.ts';
import { waitFor } from '../src/local-cluster/wait.ts';
import { SupervisedInformer } from '../src/runtime/informer.ts';
import { describeJob, NOSANA_API_VERSION, type NosanaJobResource } from '../test/harness/nosana-fixtures.ts';

/**
 * `postRecorded`: the controller has recorded its signed post, the first write that says a post
 * exists (see posting.ts). The others are the benchmark's own marks or the phases.
 */
export type Milestone = 'applied' | 'postRecorded' | 'claimLanded' | 'claimReturned' | 'finishLanded' | 'finishReturned' | NosanaJobPhase;

/**
 * When each NosanaJob of a namespace passed each milestone, in Date.now() milliseconds (the
 * localnet's chain clock is Date.now too, so confirmation times compare directly): phases are
 * the first time the watch showed them, so no poll of ours adds a delay to what is measured.
 */
export class JobTimeline {
  readonly #informer: SupervisedInformer<NosanaJobResource>;
  readonly #times = new Map<string, Map<Milestone, number>>();
  readonly #latest = new Map<string, NosanaJobResource>();
  readonly #byAddress = new Map<string, string>();

  constructor(kubeConfig: k8s.KubeConfig, namespace: string) {
    const path = `/apis/${NOSANA_API_VERSION}/namespaces/${namespace}/nosanajobs`;
    this.#informer = new SupervisedInformer<NosanaJobResource>(kubeConfig, path, pino({ level: 'silent' }));
    this.#informer.on(({ type, object }) => {
      if (type === 'deleted') return;
      const name = object.metadata?.name ?? '';
      this.#latest.set(name, object);
      const { phase, jobAddress, pendingPost } = object.status ?? {};
      const annotations = object.metadata?.annotations ?? {};
      // the pending-post annotation comes first; the others only if the watch missed its version
      if (
        annotations[PENDING_POST_ANNOTATION] !== undefined ||
        annotations[JOB_ADDRESS_ANNOTATION] !== undefined ||
        pendingPost !== undefined
      ) {
        this.mark(name, 'postRecorded');
      }
      if (phase !== undefined) this.mark(name, phase);
      if (jobAddress !== undefined) this.#byAddress.set(jobAddress, name);
    });
  }

  start(): Promise<void> {
    return this.#informer.start();
  }

  stop(): Promise<void> {
    return this.#informer.stop();
  }

  /** Records the first time only: a phase seen again after a relist is not a new transition. */
  mark(name: string, milestone: Milestone, at = Date.now()): void {
    const times = this.#times.get(name) ?? new Map<Milestone, number>();
    if (!times.has(milestone)) times.set(milestone, at);
    this.#times.set(name, times);
  }

  nameOf(job: PublicKey): string {
    const name = this.#byAddress.get(job.toBase58());
    if (name === undefined) throw new Error(`no NosanaJob of this run follows job ${job.toBase58()}`);
    return name;
  }

  /** Milliseconds from `from` to `to` for each job that has both. */
  intervals(names: readonly string[], from: Milestone, to: Milestone): number[] {
    return names.flatMap((name) => {
      const times = this.#times.get(name);
      const start = times?.get(from);
      const end = times?.get(to);
      return start === undefined || end === undefined ? [] : [end - start];
    });
  }

  /** How many of `names` have passed `milestone`. */
  count(names: readonly string[], milestone: Milestone): number {
    return names.filter((name) => this.#times.get(name)?.has(milestone) === true).length;
  }

  /** Waits until every job has reached `phase`; a job that failed or stopped ends the run at once. */
  async waitAll(names: readonly string[], phase: NosanaJobPhase, timeoutMs: number): Promise<void> {
    const waiting = (): string[] => names.filter((name) => !this.#times.get(name)?.has(phase));
    const describe = (name: string): string => `NosanaJob ${name}: ${describeJob(this.#latest.get(name))}`;
    let outcome: { failed: string } | 'done';
    try {
      outcome = await waitFor(
        () => {
          const failed = names.find((name) => ['Failed', 'Stopped'].includes(this.#latest.get(name)?.status?.phase ?? ''));
          if (failed !== undefined) return { failed };
          return waiting().length === 0 ? 'done' : undefined;
        },
        { what: `every NosanaJob to reach ${phase}`, timeoutMs, intervalMs: 50 },
      );
    } catch (error) {
      const stuck = waiting();
      const examples = stuck.slice(0, 5).map(describe).join('\n  ');
      throw new Error(`${(error as Error).message}; ${stuck.length} are not there, e.g.\n  ${examples}`, { cause: error });
    }
    if (outcome !== 'done') throw new Error(`while waiting for ${phase}: ${describe(outcome.failed)}`);
  }
}
