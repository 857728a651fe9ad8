// When the runner performs the health checks no probe can (build-service.ts `runnerChecks`), and
// what their results mean for the op. Pure: the runner keeps one CheckRecord per check, asks
// `decideChecks` what is due and where the op stands, performs the due checks (health-check.ts),
// and folds each outcome in with `recordOutcome`.
//
// The pace is Nosana's node's (NODE.md §2.2, §2.9):
//   - from the container's start, a check is tried every 5 s (up to 60 s per attempt) until it
//     passes: startup;
//   - a port has started once all its checks have passed; the op has started (its dependents may
//     launch) once one of its ports has;
//   - after its port has started, a `continuous` check is tried again every 30 s (up to 20 s per
//     attempt). The node walks a port's checks in order and stops its continuous pass at the
//     first check that is not continuous, so a continuous check declared after one is never
//     re-run, here neither;
//   - a continuous attempt that fails marks the check failing (the node shows the endpoint
//     OFFLINE); if the check has `restart_on_failure`, the container is restarted, unless the op
//     has already been restarted `max_restarts` times for failed checks (counted per op, over all
//     checks), in which case it is left running, failing. A check that fails during startup only
//     delays startup;
//   - a restart starts all of this again: results from before the current container's start are
//     ignored, so nothing needs resetting.
// Deviations, each because checks run side by side here rather than one after another: a check
// that passed keeps its pass while the other checks of its port are still starting up (the node
// re-runs the whole port until one round passes), and a failing continuous check reads as passing
// again when it next passes (the node keeps the endpoint OFFLINE until a restart). And on a port
// that also has a startup-only check, the node ends its continuous rounds the first time the
// checks before it pass; here those keep running every 30 s, as the node's own warning about
// unreachable restart checks says they should.
//
// Checks the kubelet performs as probes are not scheduled here; their state is the Pod's Ready
// condition, which stands for every port that has a probe-performed check.
import type { ContainerRunArgs, HealthCheck } from '../api/job-definition/index.ts';
import { exposedPorts, healthCheckProbes } from './build-service.ts';
import type { CheckOutcome, CheckTimeouts } from './health-check.ts';

/** Nosana's node's pace and per-attempt bounds (§2.9). */
export const STARTUP_CHECK_PERIOD_MS = 5_000;
export const CONTINUOUS_CHECK_PERIOD_MS = 30_000;
export const STARTUP_CHECK_TIMEOUTS: CheckTimeouts = { connectMs: 2_000, totalMs: 60_000 };
export const CONTINUOUS_CHECK_TIMEOUTS: CheckTimeouts = { connectMs: 2_000, totalMs: 20_000 };

// ---------------------------------------------------------------------------------------------
// Which checks the runner performs

export interface ScheduledCheck {
  /** `<port>/<index among the port's health_checks>`: stable for a definition, unique in an op. */
  key: string;
  port: number;
  check: HealthCheck;
  /** Re-run after startup: `continuous`, and not behind a check of its port that is not. */
  continuous: boolean;
}

export interface RunnerCheckPlan {
  /** The checks the runner performs, in the definition's order. */
  checks: ScheduledCheck[];
  /** Ports with at least one check a probe performs: started, for the runner, when the Pod is Ready. */
  probePorts: number[];
}

/** The runner's share of an op's health checks, from its args with literals resolved. */
export function runnerCheckPlan(args: Pick<ContainerRunArgs, 'expose'>): RunnerCheckPlan {
  const byRunner = new Set(healthCheckProbes(args).runnerChecks.map(({ check }) => check));
  const checks: ScheduledCheck[] = [];
  const probePorts: number[] = [];
  for (const { port, healthChecks } of exposedPorts(args.expose)) {
    const firstStartupOnly = healthChecks.findIndex((check) => !check.continuous);
    healthChecks.forEach((check, index) => {
      if (!byRunner.has(check)) return;
      const reachedByContinuousPass = firstStartupOnly === -1 || index < firstStartupOnly;
      checks.push({ key: `${port}/${index}`, port, check, continuous: check.continuous && reachedByContinuousPass });
    });
    if (healthChecks.some((check) => !byRunner.has(check))) probePorts.push(port);
  }
  return { checks, probePorts };
}

// ---------------------------------------------------------------------------------------------
// What the runner keeps per check

export interface CheckRecord {
  /** The start of the container the record speaks of; a record of an earlier container is ignored. */
  containerStartedAt: number;
  /** When the latest attempt began. */
  attemptAt: number;
  /** An attempt is under way: no other starts meanwhile, even in a newer container. */
  running: boolean;
  /** When the check first passed in that container. */
  passedAt?: number;
  /** The latest finished attempt. */
  last?: { ok: boolean; detail: string; at: number; phase: CheckPhase };
}

export type CheckPhase = 'startup' | 'continuous';

/** When, and against which container, a record changes. */
export interface CheckClock {
  now: number;
  containerStartedAt: number;
}

/** The record once an attempt begins; a record of an earlier container starts afresh. */
export function beginAttempt(record: CheckRecord | undefined, clock: CheckClock): CheckRecord {
  const base = record?.containerStartedAt === clock.containerStartedAt ? record : { containerStartedAt: clock.containerStartedAt };
  return { ...base, attemptAt: clock.now, running: true };
}

/**
 * The record with an attempt's outcome. An attempt that began in an earlier container (or in one
 * that no longer runs: `containerStartedAt` undefined) speaks of that container: only its
 * `running` mark is cleared.
 */
export function recordOutcome(
  record: CheckRecord,
  outcome: CheckOutcome,
  clock: Omit<CheckClock, 'containerStartedAt'> & { containerStartedAt: number | undefined },
): CheckRecord {
  if (record.containerStartedAt !== clock.containerStartedAt) return { ...record, running: false };
  const phase: CheckPhase = record.passedAt === undefined ? 'startup' : 'continuous';
  const passedAt = record.passedAt ?? (outcome.ok ? clock.now : undefined);
  return {
    containerStartedAt: record.containerStartedAt,
    attemptAt: record.attemptAt,
    running: false,
    ...(passedAt === undefined ? {} : { passedAt }),
    last: { ok: outcome.ok, detail: outcome.detail, at: clock.now, phase },
  };
}

/** The record if it speaks of the current container. */
function currentRecord(record: CheckRecord | undefined, containerStartedAt: number | undefined): CheckRecord | undefined {
  return record !== undefined && record.containerStartedAt === containerStartedAt ? record : undefined;
}

// ---------------------------------------------------------------------------------------------
// The decision

export interface CheckWorld {
  plan: RunnerCheckPlan;
  /** By ScheduledCheck.key. */
  records: Readonly<Record<string, CheckRecord>>;
  /**
   * When the op's current container started (after a restart, the latest start); undefined while
   * no container runs, or while the Pod is being stopped or replaced: then nothing is due.
   */
  containerStartedAt?: number;
  /** The Pod's Ready condition is True now (the probe-performed checks pass). */
  podReady: boolean;
  /** Restarts already made for failed health checks, over the op's life. */
  healthRestarts: number;
  now: number;
}

export interface DueCheck {
  key: string;
  phase: CheckPhase;
  timeouts: CheckTimeouts;
}

export type RestartVerdict =
  | { kind: 'none' }
  /** Restart the op's container; `restarts` is the count once it is done. */
  | { kind: 'restart'; key: string; restarts: number; detail: string }
  /** A check asks for a restart the limit no longer allows: the op runs on, failing. */
  | { kind: 'exhausted'; key: string; maxRestarts: number; detail: string };

export interface CheckVerdict {
  /** Checks to begin now. */
  due: DueCheck[];
  /** Startup success (§2.2): a port's checks have all passed in the current container. */
  started: boolean;
  /** The ports whose checks have all passed (the node's ONLINE endpoints). */
  startedPorts: number[];
  /** Keys of the checks whose latest continuous attempt failed. */
  failing: string[];
  /** Started, and no runner-performed check failing (probe-performed ones show in the Pod's Ready). */
  healthy: boolean;
  restart: RestartVerdict;
  /** The earliest time a check not running now becomes due; undefined when none will. */
  nextDueAt?: number;
}

export function decideChecks(world: CheckWorld): CheckVerdict {
  const { plan, containerStartedAt, now } = world;
  const record = (key: string): CheckRecord | undefined => currentRecord(world.records[key], containerStartedAt);
  const passedAt = (key: string): number | undefined => record(key)?.passedAt;

  const ports = [...new Set([...plan.checks.map(({ port }) => port), ...plan.probePorts])];
  const runnerChecksOf = (port: number): ScheduledCheck[] => plan.checks.filter((entry) => entry.port === port);
  // When a port's runner checks had all passed (its continuous checks begin then), if they have.
  const runnerPartStartedAt = (port: number): number | undefined => {
    const times = runnerChecksOf(port).map(({ key }) => passedAt(key));
    return times.every((time) => time !== undefined) ? Math.max(containerStartedAt ?? 0, ...times) : undefined;
  };
  const startedPorts =
    containerStartedAt === undefined
      ? []
      : ports.filter((port) => runnerPartStartedAt(port) !== undefined && (world.podReady || !plan.probePorts.includes(port)));
  // An op with no checks at all has started with its container (decide-run.ts's rule for it).
  const started = ports.length === 0 ? containerStartedAt !== undefined : startedPorts.length > 0;

  const due: DueCheck[] = [];
  let nextDueAt: number | undefined;
  if (containerStartedAt !== undefined) {
    for (const entry of plan.checks) {
      // A stale record's attempt may still be under way: one attempt per check at a time.
      if (world.records[entry.key]?.running === true) continue;
      const current = record(entry.key);
      const portStartedAt = runnerPartStartedAt(entry.port);
      let dueAt: number;
      let phase: CheckPhase;
      if (current?.passedAt === undefined) {
        phase = 'startup';
        dueAt = (current?.attemptAt ?? containerStartedAt) + STARTUP_CHECK_PERIOD_MS;
      } else {
        if (!entry.continuous || portStartedAt === undefined) continue;
        phase = 'continuous';
        dueAt = Math.max(current.attemptAt, portStartedAt) + CONTINUOUS_CHECK_PERIOD_MS;
      }
      if (dueAt <= now)
        due.push({ key: entry.key, phase, timeouts: phase === 'startup' ? STARTUP_CHECK_TIMEOUTS : CONTINUOUS_CHECK_TIMEOUTS });
      else nextDueAt = nextDueAt === undefined ? dueAt : Math.min(nextDueAt, dueAt);
    }
  }

  const failingChecks = plan.checks.filter(({ key }) => {
    const last = record(key)?.last;
    return last !== undefined && !last.ok && last.phase === 'continuous';
  });
  return {
    due,
    started,
    startedPorts,
    failing: failingChecks.map(({ key }) => key),
    healthy: started && failingChecks.length === 0,
    restart: restartVerdict(failingChecks, (key) => record(key)?.last?.detail ?? '', world.healthRestarts),
    ...(nextDueAt === undefined ? {} : { nextDueAt }),
  };
}

/** The first failing check that restarts on failure decides, as the node's first failure in order does. */
function restartVerdict(failing: ScheduledCheck[], detailOf: (key: string) => string, healthRestarts: number): RestartVerdict {
  const asking = failing.find(({ check }) => check.restart_on_failure === true);
  if (asking === undefined) return { kind: 'none' };
  const detail = detailOf(asking.key);
  const maxRestarts = asking.check.max_restarts;
  if (maxRestarts !== undefined && healthRestarts >= maxRestarts) return { kind: 'exhausted', key: asking.key, maxRestarts, detail };
  return { kind: 'restart', key: asking.key, restarts: healthRestarts + 1, detail };
}
