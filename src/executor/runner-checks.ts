// The health checks the runner performs itself (those no probe can express: any method, a body, an
// exact status, a websocket), kept per op between the runner's rounds. check-schedule.ts decides
// what is due and where the op stands; this thin layer starts the due attempts without waiting for
// them, folds their outcomes in, and tells the runner two things:
//   - the op as its dependents should see it: not ready until its checks have passed (startup
//     success, §2.2), whatever the Pod's Ready condition says;
//   - whether a `restart_on_failure` check asks for a restart.
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ContainerRunArgs } from '../api/job-definition/index.ts';
import { OP_CONTAINER_NAME } from './build-pod.ts';
import { beginAttempt, decideChecks, recordOutcome, runnerCheckPlan } from './check-schedule.ts';
import type { CheckRecord, CheckVerdict, RunnerCheckPlan } from './check-schedule.ts';
import { checkTarget } from './check-target.ts';
import type { CheckTargetResolver } from './check-target.ts';
import type { ObservedOp } from './decide-run.ts';
import { performHealthCheck } from './health-check.ts';

/** The most Pod replacements for failed checks per op, whatever `max_restarts` says. */
export const MAX_HEALTH_RESTARTS = 10;
/** The most health checks of one op the runner performs (a definition could list thousands). */
export const MAX_RUNNER_CHECKS_PER_OP = 16;

interface OpChecks {
  plan: RunnerCheckPlan;
  records: Record<string, CheckRecord>;
  /** When startup success was first seen: the op is ready for its dependents from then on. */
  startedAt?: number;
  /** Restarts made for failed checks over the op's life. */
  healthRestarts: number;
  /** The last verdict, for the runner to act on. */
  verdict?: CheckVerdict;
  /** A restart limit already reported (logged once). */
  exhaustedLogged?: boolean;
  /** When the op's current container started, as last observed: outcomes of older ones are dropped. */
  currentStart?: number;
}

export interface RunnerChecksOptions {
  namespace: string;
  jobId: string;
  resolver: CheckTargetResolver;
  log: Logger;
  /** Called when an outcome arrives, so the runner decides again at once. */
  wake: () => void;
}

function containerStart(pod: V1Pod | undefined): number | undefined {
  if (pod === undefined || pod.metadata?.deletionTimestamp !== undefined) return undefined;
  const status = pod.status?.containerStatuses?.find((candidate) => candidate.name === OP_CONTAINER_NAME);
  const startedAt = status?.state?.running?.startedAt;
  return startedAt === undefined ? undefined : new Date(startedAt).getTime();
}

function podIsReady(pod: V1Pod | undefined): boolean {
  return pod?.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') === true;
}

export class RunnerChecks {
  readonly #options: RunnerChecksOptions;
  readonly #ops = new Map<string, OpChecks>();
  readonly #stop = new AbortController();

  constructor(options: RunnerChecksOptions) {
    this.#options = options;
  }

  /**
   * Starts following an op's checks, from its args with literals resolved (a literal may expose a
   * port). Returns why the op cannot run when it has more checks than the runner performs.
   */
  track(opId: string, args: Pick<ContainerRunArgs, 'expose'>): string | undefined {
    if (this.#ops.has(opId)) return undefined;
    const plan = runnerCheckPlan(args);
    if (plan.checks.length > MAX_RUNNER_CHECKS_PER_OP) {
      return `the op has ${plan.checks.length} health checks no probe can perform; at most ${MAX_RUNNER_CHECKS_PER_OP} are checked for one op`;
    }
    if (plan.checks.length > 0) this.#ops.set(opId, { plan, records: {}, healthRestarts: 0 });
    return undefined;
  }

  /**
   * The op as the decision should see it: with runner checks, ready only once they passed. Starts
   * the attempts that are due (their outcomes arrive later and wake the runner).
   */
  observe(opId: string, opIndex: number, pod: V1Pod | undefined, observed: ObservedOp, now: number): ObservedOp {
    const state = this.#ops.get(opId);
    if (state === undefined) return observed;
    const stopping = observed.stopRequested !== undefined || observed.finished !== undefined;
    const containerStartedAt = stopping ? undefined : containerStart(pod);
    if (containerStartedAt === undefined) delete state.currentStart;
    else state.currentStart = containerStartedAt;
    const verdict = decideChecks({
      plan: state.plan,
      records: state.records,
      ...(containerStartedAt === undefined ? {} : { containerStartedAt }),
      podReady: podIsReady(pod),
      healthRestarts: state.healthRestarts,
      now,
    });
    state.verdict = verdict;
    if (verdict.started) state.startedAt ??= now;
    if (containerStartedAt !== undefined) {
      for (const due of verdict.due) this.#attempt(state, opIndex, due, containerStartedAt, pod?.status?.podIP, now);
    }
    const { readyAt: _readyAt, ...rest } = observed;
    return {
      ...rest,
      ...(state.startedAt === undefined ? {} : { readyAt: state.startedAt }),
      phase: observed.phase === 'ready' && state.startedAt === undefined ? 'running' : observed.phase,
    };
  }

  /** What a `restart_on_failure` check asks of the op now (after `observe`). */
  restartWanted(opId: string): { detail: string; restarts: number } | undefined {
    const state = this.#ops.get(opId);
    const restart = state?.verdict?.restart;
    if (state === undefined || restart === undefined) return undefined;
    // However many restarts a definition allows, the node replaces a Pod at most this often: each
    // replacement costs a Pod start and keeps a log.
    if (restart.kind === 'restart' && restart.restarts > MAX_HEALTH_RESTARTS) {
      if (state.exhaustedLogged !== true) {
        state.exhaustedLogged = true;
        this.#options.log.warn(
          { op: opId, check: restart.key, limit: MAX_HEALTH_RESTARTS },
          'a health check keeps failing; the node restarts an op at most this often, the op runs on',
        );
      }
      return undefined;
    }
    if (restart.kind === 'exhausted' && state.exhaustedLogged !== true) {
      state.exhaustedLogged = true;
      this.#options.log.warn(
        { op: opId, check: restart.key, maxRestarts: restart.maxRestarts, detail: restart.detail },
        'a health check keeps failing; max_restarts reached, the op runs on',
      );
    }
    return restart.kind === 'restart' ? { detail: restart.detail, restarts: restart.restarts } : undefined;
  }

  /** The runner restarted the op for a failed check: counted against max_restarts. */
  restarted(opId: string, restarts: number): void {
    const state = this.#ops.get(opId);
    if (state !== undefined) state.healthRestarts = restarts;
  }

  /** Cancels the attempts in flight; nothing is checked afterwards. */
  close(): void {
    this.#stop.abort();
  }

  #attempt(
    state: OpChecks,
    opIndex: number,
    due: NonNullable<CheckVerdict['due'][number]>,
    containerStartedAt: number,
    podIP: string | undefined,
    now: number,
  ): void {
    const scheduled = state.plan.checks.find((check) => check.key === due.key);
    if (scheduled === undefined) return;
    state.records[due.key] = beginAttempt(state.records[due.key], { now, containerStartedAt });
    const { namespace, jobId, resolver } = this.#options;
    const target = checkTarget({ namespace, jobId, opIndex, ...(podIP === undefined ? {} : { podIP }) }, scheduled.port);
    void resolver(target)
      .then((address) => performHealthCheck(scheduled.check, address, due.timeouts, this.#stop.signal))
      .catch((error: unknown) => ({ ok: false, detail: `cannot reach the op: ${(error as Error).message}` }))
      .then((outcome) => {
        const record = state.records[due.key];
        if (record === undefined || this.#stop.signal.aborted) return;
        state.records[due.key] = recordOutcome(record, outcome, { now: Date.now(), containerStartedAt: state.currentStart });
        this.#options.wake();
      });
  }
}
