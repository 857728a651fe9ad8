// The runner's decisions as recorded sequences: each scenario replays a job's life — what the
// cluster showed at each moment — and asserts the actions decided at every step. Between steps
// the actions are applied as the thin layer of `run` would (a launch creates the object, a stop
// leaves its mark, a finish records the op, a cluster failure is handled by its failOp), so each
// step only states what the cluster changed. Each scenario's reason is its specification.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  IMAGE_PULL_GIVE_UP_MS,
  SCHEDULING_GIVE_UP_MS,
  STOP_SETTLE_MS,
  decideRun,
  statusAfterStop,
} from '../../../src/executor/decide-run.ts';
import type { ObservedOp, RunnerAction, StopCause, TimingBounds } from '../../../src/executor/decide-run.ts';
import { isPlan, planJob } from '../../../src/executor/plan.ts';
import type { Plan } from '../../../src/executor/plan.ts';
import { jobExamples, seedDefinitions, sharedMissingReason } from '../job-definition/reference-definitions.ts';

const T0 = Date.UTC(2026, 0, 1);
/** A moment of the scenario, `seconds` after it starts. */
const at = (seconds: number): number => T0 + seconds * 1000;

// ---------------------------------------------------------------------------------------------
// Plans

function planOf(input: unknown): Plan {
  const outcome = planJob(input, 'job');
  assert.ok(isPlan(outcome), JSON.stringify(outcome));
  return outcome;
}

type Op = Record<string, unknown>;

const CHECK = { type: 'http', path: '/', method: 'GET', expected_status: 200, continuous: true };

function run(id: string, execution?: Record<string, unknown>, args: Record<string, unknown> = {}): Op {
  return { type: 'container/run', id, args: { image: 'ubuntu', ...args }, ...(execution === undefined ? {} : { execution }) };
}

const handMade = (...ops: Op[]): Plan => planOf({ version: '0.1', type: 'container', ops });

function examplePlan(file: string): Plan {
  const example = jobExamples().find(({ name }) => name === `job-examples/${file}`);
  assert.ok(example !== undefined, `${file} not found`);
  return planOf(example.definition);
}

function seedPlan(opIds: string): Plan {
  const seed = seedDefinitions().find((candidate) => candidate.opIds.join(',') === opIds);
  assert.ok(seed !== undefined, `seed ${opIds} not found`);
  return planOf(seed.definition);
}

// ---------------------------------------------------------------------------------------------
// Replaying

type Patch = { [Key in keyof ObservedOp]?: ObservedOp[Key] | undefined };

interface Step {
  /** Seconds since the start. */
  at: number;
  /** What the cluster changed since the last step, per op id. */
  observe?: Record<string, Patch>;
  /** The job's deadline from now on (seconds since the start). */
  deadline?: number;
  jobStopped?: boolean;
  /** The decided actions, abbreviated (see `abbreviate`). */
  want: string[];
}

interface Scenario {
  reason: string;
  plan: () => Plan;
  deadline?: number;
  bounds?: Partial<TimingBounds>;
  steps: Step[];
  /** Full actions to check in detail: the step index and what one of its actions must equal. */
  details?: { step: number; action: RunnerAction }[];
  shared?: boolean;
}

function abbreviate(action: RunnerAction): string {
  switch (action.kind) {
    case 'start-group':
      return `start-group ${action.group}`;
    case 'launch':
      return `launch ${action.opId}`;
    case 'stop':
      return `stop ${action.opId} ${action.cause.kind}`;
    case 'finish':
      return `finish ${action.opId} ${action.status}${action.exitCode === undefined ? '' : ` exit ${action.exitCode}`}`;
    case 'cluster-failure':
      return `cluster-failure ${action.opId} ${action.cause}`;
    case 'end-flow':
      return `end-flow ${action.status}`;
  }
}

function applyPatch(state: ObservedOp | undefined, patch: Patch): ObservedOp {
  const next: Record<string, unknown> = { ...(state ?? { phase: 'waiting', restarts: 0 }) };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete next[key];
    else next[key] = value;
  }
  return next as unknown as ObservedOp;
}

/** What `run`'s thin layer does with an action, as far as the next observation shows it. */
function perform(ops: Record<string, ObservedOp>, action: RunnerAction, now: number): void {
  const stop = (opId: string, cause: StopCause) => {
    ops[opId] = applyPatch(ops[opId], { stopRequested: { cause, at: now } });
  };
  switch (action.kind) {
    case 'launch':
      ops[action.opId] = applyPatch(ops[action.opId], { phase: 'launched', launchedAt: now, scheduled: true });
      return;
    case 'stop':
      stop(action.opId, action.cause);
      return;
    case 'cluster-failure':
      stop(action.failOp.opId, action.failOp.cause);
      return;
    case 'finish':
      ops[action.opId] = applyPatch(ops[action.opId], { finished: action.status });
      return;
    case 'start-group':
    case 'end-flow':
      return;
  }
}

function replay(scenario: Scenario): void {
  const plan = scenario.plan();
  const ops: Record<string, ObservedOp> = {};
  let deadlineSeconds = scenario.deadline;
  let ended = false;
  scenario.steps.forEach((step, index) => {
    assert.equal(ended, false, `step ${index}: the flow already ended`);
    for (const [id, patch] of Object.entries(step.observe ?? {})) ops[id] = applyPatch(ops[id], patch);
    if (step.deadline !== undefined) deadlineSeconds = step.deadline;
    const now = at(step.at);
    const world = {
      plan,
      ops: { ...ops },
      now,
      ...(deadlineSeconds === undefined ? {} : { deadline: at(deadlineSeconds) }),
      ...(step.jobStopped === undefined ? {} : { jobStopped: step.jobStopped }),
      ...(scenario.bounds === undefined ? {} : { bounds: scenario.bounds }),
    };
    const actions = decideRun(world);
    assert.deepEqual(actions.map(abbreviate), step.want, `step ${index} at ${step.at}s`);
    for (const detail of scenario.details ?? []) {
      if (detail.step === index) {
        assert.ok(
          actions.some((action) => isDeepStrictEqual(action, detail.action)),
          `step ${index}: expected ${JSON.stringify(detail.action)}\nin ${JSON.stringify(actions, null, 1)}`,
        );
      }
    }
    // Deciding again on the same world gives the same actions: deciding is level-based.
    assert.deepEqual(decideRun(world), actions, `step ${index}: not level-based`);
    for (const action of actions) {
      perform(ops, action, now);
      if (action.kind === 'end-flow') ended = true;
    }
  });
}

function isDeepStrictEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

// Shorthands for what the cluster shows.
const started = (seconds: number): Patch => ({ phase: 'running', startedAt: at(seconds) });
const ready = (seconds: number): Patch => ({ phase: 'ready', readyAt: at(seconds) });
const exited = (seconds: number, exitCode: number, extra: Patch = {}): Patch => ({
  phase: 'ended',
  endedAt: at(seconds),
  exitCode,
  ...extra,
});

// ---------------------------------------------------------------------------------------------
// Scenarios

const scenarios: Scenario[] = [
  // --- cli-nginx-multi-ops.json: group "run" (nginx-1; nginx-2 depends on it), then "run2" (nginx-3)
  {
    reason:
      'nginx-multi-ops: nginx-2 waits for nginx-1’s health check, both serve until the deadline, which stops them as expired (success) and ends the flow before run2',
    shared: true,
    plan: () => examplePlan('cli-nginx-multi-ops.json'),
    deadline: 600,
    steps: [
      { at: 0, want: ['start-group run', 'launch nginx-1'] },
      { at: 5, want: [] },
      { at: 10, observe: { 'nginx-1': started(10) }, want: [] },
      { at: 20, observe: { 'nginx-1': ready(20) }, want: ['launch nginx-2'] },
      { at: 25, want: [] },
      { at: 40, observe: { 'nginx-2': { ...started(30), ...ready(40) } }, want: [] },
      { at: 599, want: [] },
      { at: 600, want: ['stop nginx-1 job-expired', 'stop nginx-2 job-expired'] },
      { at: 601, observe: { 'nginx-1': exited(601, 0) }, want: ['finish nginx-1 success exit 0'] },
      { at: 603, observe: { 'nginx-2': exited(603, 0) }, want: ['finish nginx-2 success exit 0', 'end-flow success'] },
    ],
  },
  {
    reason:
      'nginx-multi-ops: no fail-fast — nginx-1 exits, nginx-2 keeps running; when both have finished run2 starts; a failed op fails the flow',
    shared: true,
    plan: () => examplePlan('cli-nginx-multi-ops.json'),
    steps: [
      { at: 0, want: ['start-group run', 'launch nginx-1'] },
      { at: 20, observe: { 'nginx-1': { ...started(10), ...ready(20) } }, want: ['launch nginx-2'] },
      { at: 30, observe: { 'nginx-2': { ...started(25), ...ready(30) } }, want: [] },
      { at: 40, observe: { 'nginx-1': exited(40, 0) }, want: ['finish nginx-1 success exit 0'] },
      { at: 50, observe: { 'nginx-2': exited(50, 1) }, want: ['finish nginx-2 failed exit 1', 'start-group run2', 'launch nginx-3'] },
      { at: 60, observe: { 'nginx-3': exited(60, 0, { startedAt: at(55) }) }, want: ['finish nginx-3 success exit 0', 'end-flow failed'] },
    ],
  },
  {
    reason:
      'nginx-multi-ops: nginx-1 fails before its health check passes — nginx-2 is never launched (it stays init), the group ends, run2 runs',
    shared: true,
    plan: () => examplePlan('cli-nginx-multi-ops.json'),
    steps: [
      { at: 0, want: ['start-group run', 'launch nginx-1'] },
      { at: 10, observe: { 'nginx-1': started(10) }, want: [] },
      { at: 15, observe: { 'nginx-1': exited(15, 1) }, want: ['finish nginx-1 failed exit 1', 'start-group run2', 'launch nginx-3'] },
      { at: 30, observe: { 'nginx-3': exited(30, 0, { startedAt: at(20) }) }, want: ['finish nginx-3 success exit 0', 'end-flow failed'] },
    ],
  },
  {
    reason:
      'nginx-multi-ops: a dependency’s readiness seen again and again (the reference fires once per port) launches the dependent once',
    shared: true,
    plan: () => examplePlan('cli-nginx-multi-ops.json'),
    steps: [
      { at: 0, want: ['start-group run', 'launch nginx-1'] },
      { at: 20, observe: { 'nginx-1': { ...started(10), ...ready(20) } }, want: ['launch nginx-2'] },
      { at: 21, want: [] },
      { at: 22, observe: { 'nginx-1': { phase: 'running' } }, want: [] },
      { at: 23, observe: { 'nginx-1': { phase: 'ready' } }, want: [] },
    ],
  },
  // --- the seeds' multi_job.json: create-volume, run-from-cli, run-from-cli-2, all ungrouped
  {
    reason: 'multi_job: three ungrouped ops run one after another in ops order; the volume counts as done once its claim exists',
    shared: true,
    plan: () => seedPlan('create-volume,run-from-cli,run-from-cli-2'),
    steps: [
      { at: 0, want: ['start-group create-volume', 'launch create-volume'] },
      {
        at: 1,
        observe: { 'create-volume': exited(1, 0, { startedAt: at(1) }) },
        want: ['finish create-volume success exit 0', 'start-group run-from-cli', 'launch run-from-cli'],
      },
      { at: 5, observe: { 'run-from-cli': started(5) }, want: [] },
      {
        at: 9,
        observe: { 'run-from-cli': exited(9, 0) },
        want: ['finish run-from-cli success exit 0', 'start-group run-from-cli-2', 'launch run-from-cli-2'],
      },
      {
        at: 12,
        observe: { 'run-from-cli-2': exited(12, 2, { startedAt: at(11) }) },
        want: ['finish run-from-cli-2 failed exit 2', 'end-flow failed'],
      },
    ],
  },
  {
    reason:
      'multi_job: the caller stops the job in the second group — that op is stopped (status stopped), the third never starts, the flow succeeds',
    shared: true,
    plan: () => seedPlan('create-volume,run-from-cli,run-from-cli-2'),
    steps: [
      { at: 0, want: ['start-group create-volume', 'launch create-volume'] },
      {
        at: 1,
        observe: { 'create-volume': exited(1, 0, { startedAt: at(1) }) },
        want: ['finish create-volume success exit 0', 'start-group run-from-cli', 'launch run-from-cli'],
      },
      { at: 5, observe: { 'run-from-cli': started(5) }, jobStopped: true, want: ['stop run-from-cli stopped'] },
      { at: 6, jobStopped: true, want: [] },
      {
        at: 8,
        observe: { 'run-from-cli': exited(8, 143) },
        jobStopped: true,
        want: ['finish run-from-cli stopped exit 143', 'end-flow success'],
      },
    ],
  },
  // --- readiness (§2.2)
  {
    reason: 'an exposed op without health checks is ready when it starts (the reference node never marks it ready)',
    plan: () => handMade(run('web', { group: 'g' }, { expose: 8080 }), run('client', { group: 'g', depends_on: ['web'] })),
    steps: [
      { at: 0, want: ['start-group g', 'launch web'] },
      { at: 3, observe: { web: { phase: 'launched' } }, want: [] },
      { at: 8, observe: { web: started(8) }, want: ['launch client'] },
    ],
  },
  {
    reason: 'a batch dependency that started and exited between two looks was ready: the dependent launches as it is finished',
    plan: () => handMade(run('setup', { group: 'g' }), run('main', { group: 'g', depends_on: ['setup'] })),
    steps: [
      { at: 0, want: ['start-group g', 'launch setup'] },
      { at: 4, observe: { setup: exited(4, 0, { startedAt: at(2) }) }, want: ['finish setup success exit 0', 'launch main'] },
      { at: 9, observe: { main: exited(9, 0, { startedAt: at(6) }) }, want: ['finish main success exit 0', 'end-flow success'] },
    ],
  },
  {
    reason: 'a health-checked dependency that started but is not Ready yet holds its dependents back',
    plan: () =>
      handMade(
        run('api', { group: 'g' }, { expose: [{ port: 80, health_checks: [CHECK] }] }),
        run('client', { group: 'g', depends_on: ['api'] }),
      ),
    steps: [
      { at: 0, want: ['start-group g', 'launch api'] },
      { at: 5, observe: { api: started(5) }, want: [] },
      { at: 60, want: [] },
      { at: 65, observe: { api: ready(65) }, want: ['launch client'] },
    ],
  },
  {
    reason: 'health checks that only literals reveal: the Pod’s Ready condition decides, not the start',
    plan: () =>
      handMade(
        run('api', { group: 'g' }, { expose: [{ __spread__: '%%global.variables.PORTS%%' }] }),
        run('client', { group: 'g', depends_on: ['api'] }),
      ),
    steps: [
      { at: 0, want: ['start-group g', 'launch api'] },
      { at: 5, observe: { api: started(5) }, want: [] },
      { at: 9, observe: { api: ready(9) }, want: ['launch client'] },
    ],
  },
  {
    reason: 'a waiting op launches as soon as ONE of its dependencies is ready; the other is not waited for',
    plan: () =>
      handMade(
        run('a', { group: 'g' }, { expose: [{ port: 80, health_checks: [CHECK] }] }),
        run('b', { group: 'g' }, { expose: [{ port: 81, health_checks: [CHECK] }] }),
        run('c', { group: 'g', depends_on: ['a', 'b'] }),
      ),
    steps: [
      { at: 0, want: ['start-group g', 'launch a', 'launch b'] },
      { at: 10, observe: { a: started(5), b: { ...started(6), ...ready(10) } }, want: ['launch c'] },
    ],
  },
  {
    reason: 'a dependency that failed to launch never becomes ready: its dependent stays init and the flow ends failed',
    plan: () => handMade(run('a', { group: 'g' }), run('b', { group: 'g', depends_on: ['a'] })),
    steps: [
      { at: 0, want: ['start-group g', 'launch a'] },
      {
        at: 1,
        observe: {
          a: { phase: 'failed-to-launch', launchFailure: { cause: 'unresolved-literal', message: 'no value for %%ops.x.results.y%%' } },
        },
        want: ['finish a failed exit 0', 'end-flow failed'],
      },
    ],
    details: [
      {
        step: 1,
        action: {
          kind: 'finish',
          opId: 'a',
          status: 'failed',
          exitCode: 0,
          reason: 'no value for %%ops.x.results.y%%',
          nodeLog: 'no value for %%ops.x.results.y%%',
        },
      },
    ],
  },
  {
    reason: 'a resource that cannot be fetched fails the op with exit code 2 and a resource-error entry',
    plan: () => handMade(run('a')),
    steps: [
      { at: 0, want: ['start-group a', 'launch a'] },
      {
        at: 30,
        observe: { a: { phase: 'failed-to-launch', launchFailure: { cause: 'resource-error', message: 'Missing required resource' } } },
        want: ['finish a failed exit 2', 'end-flow failed'],
      },
    ],
    details: [
      {
        step: 1,
        action: {
          kind: 'finish',
          opId: 'a',
          status: 'failed',
          exitCode: 2,
          reason: 'Missing required resource',
          error: { event: 'resource-error', message: 'Missing required resource' },
        },
      },
    ],
  },
  // --- ungrouped dependencies (§1.8: allowed, trivially satisfied when earlier)
  {
    reason: 'an ungrouped op depending on an earlier ungrouped op starts in its own group once that op has finished',
    plan: () => handMade(run('a'), run('b', { depends_on: ['a'] })),
    steps: [
      { at: 0, want: ['start-group a', 'launch a'] },
      { at: 5, observe: { a: exited(5, 1, { startedAt: at(1) }) }, want: ['finish a failed exit 1', 'start-group b', 'launch b'] },
      { at: 9, observe: { b: exited(9, 0, { startedAt: at(6) }) }, want: ['finish b success exit 0', 'end-flow failed'] },
    ],
  },
  {
    reason: 'an ungrouped op depending on a LATER one can never start: its group passes, it stays init',
    plan: () => handMade(run('b', { depends_on: ['a'] }), run('a')),
    steps: [
      { at: 0, want: ['start-group a', 'launch a'] },
      { at: 5, observe: { a: exited(5, 0, { startedAt: at(1) }) }, want: ['finish a success exit 0', 'end-flow success'] },
    ],
  },
  {
    reason: 'a job without ops (a confidential envelope) ends at once, successfully',
    plan: () => handMade(),
    steps: [{ at: 0, want: ['end-flow success'] }],
  },
  // --- stop_if_dependent_stops
  {
    reason: 'stop_if_dependent_stops: when its dependency ends (even successfully) the op is stopped, status stopped',
    plan: () =>
      handMade(run('server', { group: 'g' }), run('sidecar', { group: 'g', depends_on: ['server'], stop_if_dependent_stops: true })),
    steps: [
      { at: 0, want: ['start-group g', 'launch server'] },
      { at: 3, observe: { server: started(3) }, want: ['launch sidecar'] },
      { at: 8, observe: { sidecar: started(8) }, want: [] },
      { at: 20, observe: { server: exited(20, 0) }, want: ['finish server success exit 0', 'stop sidecar dependency-ended'] },
      { at: 22, observe: { sidecar: exited(22, 143) }, want: ['finish sidecar stopped exit 143', 'end-flow success'] },
    ],
    details: [
      {
        step: 4,
        action: {
          kind: 'finish',
          opId: 'sidecar',
          status: 'stopped',
          exitCode: 143,
          endedAt: at(22),
          reason: 'stopped because "server" ended (stop_if_dependent_stops)',
          cause: { kind: 'dependency-ended', dependency: 'server' },
        },
      },
    ],
  },
  {
    reason: 'stop_if_dependent_stops: a dependency already over when it got ready — the op is recorded stopped without being launched',
    plan: () =>
      handMade(run('server', { group: 'g' }), run('sidecar', { group: 'g', depends_on: ['server'], stop_if_dependent_stops: true })),
    steps: [
      { at: 0, want: ['start-group g', 'launch server'] },
      {
        at: 5,
        observe: { server: exited(5, 0, { startedAt: at(2) }) },
        want: ['finish server success exit 0', 'finish sidecar stopped', 'end-flow success'],
      },
    ],
  },
  {
    reason: 'without stop_if_dependent_stops a dependency’s failure stops nothing (no fail-fast)',
    plan: () => handMade(run('server', { group: 'g' }), run('client', { group: 'g', depends_on: ['server'] })),
    steps: [
      { at: 0, want: ['start-group g', 'launch server'] },
      { at: 3, observe: { server: started(3) }, want: ['launch client'] },
      { at: 5, observe: { client: started(5), server: exited(5, 1) }, want: ['finish server failed exit 1'] },
      { at: 50, want: [] },
    ],
  },
  // --- timeouts (§2.7)
  {
    reason: 'execution.timeout counts from the container start, not the image pull; at expiry the op is stopped and succeeds',
    plan: () => handMade(run('bench', { timeout: 30 }, { image: 'vllm' }), run('after')),
    steps: [
      { at: 0, want: ['start-group bench', 'launch bench'] },
      { at: 40, observe: { bench: { waiting: { reason: 'ContainerCreating', since: at(1) } } }, want: [] },
      { at: 50, observe: { bench: { ...started(50), waiting: undefined } }, want: [] },
      { at: 79, want: [] },
      { at: 80, want: ['stop bench op-timeout'] },
      { at: 81, observe: { bench: exited(81, 137) }, want: ['finish bench success exit 137', 'start-group after', 'launch after'] },
    ],
    details: [
      {
        step: 5,
        action: {
          kind: 'finish',
          opId: 'bench',
          status: 'success',
          exitCode: 137,
          endedAt: at(81),
          reason: 'stopped after exceeding its execution.timeout of 30s',
          cause: { kind: 'op-timeout', timeoutSeconds: 30 },
        },
      },
    ],
  },
  {
    reason: 'the job deadline may move later between calls: nothing stops until the new deadline',
    plan: () => handMade(run('svc')),
    deadline: 100,
    steps: [
      { at: 0, want: ['start-group svc', 'launch svc'] },
      { at: 10, observe: { svc: started(10) }, want: [] },
      { at: 100, deadline: 200, want: [] },
      { at: 200, want: ['stop svc job-expired'] },
      { at: 202, observe: { svc: exited(202, 0) }, want: ['finish svc success exit 0', 'end-flow success'] },
    ],
  },
  {
    reason: 'once the deadline has stopped the job, extending it does not bring it back: later groups never start',
    plan: () => handMade(run('first'), run('second')),
    deadline: 100,
    steps: [
      { at: 0, want: ['start-group first', 'launch first'] },
      { at: 10, observe: { first: started(10) }, want: [] },
      { at: 100, want: ['stop first job-expired'] },
      { at: 103, deadline: 900, observe: { first: exited(103, 143) }, want: ['finish first success exit 143', 'end-flow success'] },
    ],
  },
  {
    reason: 'the deadline also ends ops still pulling their image (expired ⇒ success), and launches nothing more',
    plan: () => handMade(run('a', { group: 'g' }), run('b', { group: 'g', depends_on: ['a'] })),
    deadline: 100,
    steps: [
      { at: 0, want: ['start-group g', 'launch a'] },
      { at: 100, observe: { a: { waiting: { reason: 'ContainerCreating' } } }, want: ['stop a job-expired'] },
      { at: 101, observe: { a: { phase: 'ended' } }, want: ['finish a success', 'end-flow success'] },
    ],
  },
  {
    reason: 'a deadline already past before anything ran: nothing is launched and the flow ends',
    plan: () => handMade(run('a')),
    deadline: 0,
    steps: [{ at: 5, want: ['end-flow success'] }],
  },
  {
    reason: 'a stop whose Pod never goes away (its node is gone) is recorded after STOP_SETTLE_MS',
    plan: () => handMade(run('a')),
    steps: [
      { at: 0, want: ['start-group a', 'launch a'] },
      { at: 5, observe: { a: started(5) }, jobStopped: true, want: ['stop a stopped'] },
      { at: 5 + STOP_SETTLE_MS / 1000 - 1, jobStopped: true, want: [] },
      { at: 5 + STOP_SETTLE_MS / 1000, jobStopped: true, want: ['finish a stopped', 'end-flow success'] },
    ],
  },
  // --- image pulls, memory, restarts (§2.5)
  {
    reason: 'a failing image pull is retried by the kubelet; past IMAGE_PULL_GIVE_UP_MS the op fails with an image-pull-error, exit 2',
    plan: () => handMade(run('a', undefined, { image: 'nosuch/image' })),
    steps: [
      { at: 0, want: ['start-group a', 'launch a'] },
      { at: 10, observe: { a: { waiting: { reason: 'ErrImagePull', message: 'not found', since: at(5) } } }, want: [] },
      { at: 60, observe: { a: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling', since: at(5) } } }, want: [] },
      { at: 5 + IMAGE_PULL_GIVE_UP_MS / 1000, want: ['stop a image-pull-error'] },
      { at: 126, observe: { a: { phase: 'ended', waiting: undefined } }, want: ['finish a failed exit 2', 'end-flow failed'] },
    ],
    details: [
      {
        step: 4,
        action: {
          kind: 'finish',
          opId: 'a',
          status: 'failed',
          exitCode: 2,
          reason: 'ImagePullBackOff: Back-off pulling',
          cause: { kind: 'image-pull-error', message: 'ImagePullBackOff: Back-off pulling' },
          error: { event: 'image-pull-error', message: 'ImagePullBackOff: Back-off pulling' },
        },
      },
    ],
  },
  {
    reason: 'a resource download that exits non-zero fails the op with a resource-error, exit 2, also while the kubelet would retry it',
    plan: () => handMade(run('a'), run('b')),
    steps: [
      { at: 0, want: ['start-group a', 'launch a'] },
      { at: 5, observe: { a: { waiting: { reason: 'PodInitializing', since: at(1) } } }, want: [] },
      {
        at: 9,
        observe: { a: { waiting: { reason: 'CrashLoopBackOff', since: at(9) }, downloadFailure: 'resource-0 exited with code 3: 401' } },
        want: ['stop a resource-error'],
      },
      { at: 10, observe: { a: { phase: 'waiting', waiting: undefined } }, want: ['finish a failed exit 2', 'start-group b', 'launch b'] },
    ],
    details: [
      {
        step: 3,
        action: {
          kind: 'finish',
          opId: 'a',
          status: 'failed',
          exitCode: 2,
          reason: 'resource-0 exited with code 3: 401',
          cause: { kind: 'resource-error', message: 'resource-0 exited with code 3: 401' },
          error: { event: 'resource-error', message: 'resource-0 exited with code 3: 401' },
        },
      },
    ],
  },
  {
    reason: 'an image name that can never be pulled fails at once',
    plan: () => handMade(run('a', undefined, { image: 'Not A Name' })),
    steps: [
      { at: 0, want: ['start-group a', 'launch a'] },
      { at: 2, observe: { a: { waiting: { reason: 'InvalidImageName', since: at(2) } } }, want: ['stop a image-pull-error'] },
    ],
  },
  {
    reason: 'a container the kubelet cannot create fails as a container-runtime-error once the bound has passed',
    plan: () => handMade(run('a')),
    bounds: { containerCreateMs: 30_000 },
    steps: [
      { at: 0, want: ['start-group a', 'launch a'] },
      { at: 20, observe: { a: { waiting: { reason: 'CreateContainerConfigError', since: at(5) } } }, want: [] },
      { at: 35, want: ['stop a container-runtime-error'] },
    ],
  },
  {
    reason: 'OOMKilled: the op fails with its exit code and the reason named',
    plan: () => handMade(run('a')),
    steps: [
      { at: 0, want: ['start-group a', 'launch a'] },
      {
        at: 9,
        observe: { a: exited(9, 137, { startedAt: at(3), terminatedReason: 'OOMKilled' }) },
        want: ['finish a failed exit 137', 'end-flow failed'],
      },
    ],
    details: [
      {
        step: 1,
        action: { kind: 'finish', opId: 'a', status: 'failed', exitCode: 137, endedAt: at(9), reason: 'ran out of memory (OOMKilled)' },
      },
    ],
  },
  {
    reason:
      'restart_policy on-failure with restart_tries 2: restarts are counted; the third failed run stops the op, failed with its exit code',
    plan: () => handMade(run('flaky', undefined, { restart_policy: { policy: 'on-failure', restart_tries: 2 } })),
    steps: [
      { at: 0, want: ['start-group flaky', 'launch flaky'] },
      { at: 5, observe: { flaky: started(5) }, want: [] },
      { at: 10, observe: { flaky: { restarts: 1, exitCode: 3 } }, want: [] },
      { at: 20, observe: { flaky: { restarts: 2, exitCode: 3 } }, want: [] },
      { at: 30, observe: { flaky: { waiting: { reason: 'CrashLoopBackOff' } } }, want: ['stop flaky restart-limit'] },
      { at: 31, observe: { flaky: { phase: 'ended' } }, want: ['finish flaky failed exit 3', 'end-flow failed'] },
    ],
  },
  {
    reason: 'restart_tries exceeded by a run already under way (missed back-off): stopped as well',
    plan: () => handMade(run('flaky', undefined, { restart_policy: { policy: 'on-failure', restart_tries: 1 } })),
    steps: [
      { at: 0, want: ['start-group flaky', 'launch flaky'] },
      { at: 30, observe: { flaky: { ...started(5), restarts: 2, exitCode: 1 } }, want: ['stop flaky restart-limit'] },
    ],
  },
  {
    reason: 'restart_policy on-failure without restart_tries restarts without bound',
    plan: () => handMade(run('flaky', undefined, { restart_policy: 'on-failure' })),
    steps: [
      { at: 0, want: ['start-group flaky', 'launch flaky'] },
      { at: 300, observe: { flaky: { ...started(5), restarts: 12, exitCode: 1, waiting: { reason: 'CrashLoopBackOff' } } }, want: [] },
    ],
  },
  // --- cluster failures
  {
    reason: 'a Pod that never gets a node within SCHEDULING_GIVE_UP_MS is a cluster failure; run fails the op with that reason',
    plan: () => handMade(run('a'), run('b')),
    steps: [
      { at: 0, want: ['start-group a', 'launch a'] },
      { at: 1, observe: { a: { scheduled: false, unschedulableMessage: '0/3 nodes have enough nvidia.com/gpu' } }, want: [] },
      { at: SCHEDULING_GIVE_UP_MS / 1000 - 1, want: [] },
      { at: SCHEDULING_GIVE_UP_MS / 1000, want: ['cluster-failure a unschedulable'] },
      { at: SCHEDULING_GIVE_UP_MS / 1000 + 1, observe: { a: { phase: 'ended' } }, want: ['finish a failed', 'start-group b', 'launch b'] },
    ],
    details: [
      {
        step: 3,
        action: {
          kind: 'cluster-failure',
          opId: 'a',
          cause: 'unschedulable',
          message: 'not scheduled within 5 min: 0/3 nodes have enough nvidia.com/gpu',
          failOp: {
            kind: 'stop',
            opId: 'a',
            cause: {
              kind: 'cluster-failure',
              cause: 'unschedulable',
              message: 'not scheduled within 5 min: 0/3 nodes have enough nvidia.com/gpu',
            },
          },
        },
      },
      {
        step: 4,
        action: {
          kind: 'finish',
          opId: 'a',
          status: 'failed',
          reason: 'unschedulable: not scheduled within 5 min: 0/3 nodes have enough nvidia.com/gpu',
          cause: {
            kind: 'cluster-failure',
            cause: 'unschedulable',
            message: 'not scheduled within 5 min: 0/3 nodes have enough nvidia.com/gpu',
          },
          error: { event: 'operation-error', message: 'unschedulable: not scheduled within 5 min: 0/3 nodes have enough nvidia.com/gpu' },
        },
      },
    ],
  },
  {
    reason: 'the scheduling bound is the caller’s to set',
    plan: () => handMade(run('a')),
    bounds: { schedulingMs: 20_000 },
    steps: [
      { at: 0, want: ['start-group a', 'launch a'] },
      { at: 20, observe: { a: { scheduled: false } }, want: ['cluster-failure a unschedulable'] },
    ],
  },
  {
    reason: 'a Pod still pulling a large image long after scheduling is not a scheduling failure',
    plan: () => handMade(run('a')),
    steps: [
      { at: 0, want: ['start-group a', 'launch a'] },
      { at: 3600, observe: { a: { waiting: { reason: 'ContainerCreating', since: at(1) } } }, want: [] },
    ],
  },
  {
    reason: 'an evicted Pod is a cluster failure, not the job’s exit',
    plan: () => handMade(run('a')),
    steps: [
      { at: 0, want: ['start-group a', 'launch a'] },
      { at: 10, observe: { a: started(5) }, want: [] },
      {
        at: 20,
        observe: {
          a: { phase: 'ended', exitCode: 137, clusterLoss: { cause: 'evicted', message: 'The node was low on resource: memory' } },
        },
        want: ['cluster-failure a evicted'],
      },
      { at: 21, want: ['finish a failed exit 137', 'end-flow failed'] },
    ],
  },
  {
    reason: 'a lost node leaves the Pod running on paper: a cluster failure, then the stop settles by the bound',
    plan: () => handMade(run('a')),
    steps: [
      { at: 0, want: ['start-group a', 'launch a'] },
      {
        at: 30,
        observe: { a: { ...started(5), clusterLoss: { cause: 'node-lost', message: 'node gpu-1 NotReady' } } },
        want: ['cluster-failure a node-lost'],
      },
      { at: 31, want: [] },
      { at: 30 + STOP_SETTLE_MS / 1000, want: ['finish a failed', 'end-flow failed'] },
    ],
  },
  {
    reason: 'a job-wide stop comes after facts: a Pod already preempted is reported as a cluster failure, not stopped',
    plan: () => handMade(run('a')),
    steps: [
      { at: 0, want: ['start-group a', 'launch a'] },
      {
        at: 10,
        jobStopped: true,
        observe: { a: { phase: 'ended', clusterLoss: { cause: 'preempted', message: 'preempted by a higher priority Pod' } } },
        want: ['cluster-failure a preempted'],
      },
    ],
  },
  {
    reason: 'a launch not yet visible (a stale read) is decided again, start-group included: performing it twice is harmless',
    plan: () => handMade(run('a')),
    steps: [
      { at: 0, want: ['start-group a', 'launch a'] },
      { at: 1, observe: { a: { phase: 'waiting', launchedAt: undefined, scheduled: undefined } }, want: ['start-group a', 'launch a'] },
    ],
  },
  {
    reason: 'an op already finished whose Pod was cleaned up is never launched again',
    plan: () => handMade(run('a', { group: 'g' }), run('b', { group: 'g' })),
    steps: [
      { at: 0, want: ['start-group g', 'launch a', 'launch b'] },
      { at: 5, observe: { a: exited(5, 0, { startedAt: at(2) }) }, want: ['finish a success exit 0'] },
      { at: 6, observe: { a: { phase: 'waiting' } }, want: [] },
    ],
  },
];

describe('the runner decides what to do next, step by step', () => {
  for (const scenario of scenarios) {
    test(scenario.reason, { skip: scenario.shared === true ? (sharedMissingReason ?? false) : false }, () => replay(scenario));
  }
});

describe('the status an op gets when the runner cut it short', () => {
  const rows: { reason: string; cause: StopCause; want: string }[] = [
    { reason: 'the job deadline: paid work, success', cause: { kind: 'job-expired' }, want: 'success' },
    { reason: 'its own execution.timeout: success', cause: { kind: 'op-timeout', timeoutSeconds: 5 }, want: 'success' },
    { reason: 'the owner’s stop: stopped', cause: { kind: 'stopped' }, want: 'stopped' },
    { reason: 'a dependency ended: stopped', cause: { kind: 'dependency-ended', dependency: 'x' }, want: 'stopped' },
    { reason: 'too many restarts: failed', cause: { kind: 'restart-limit', restarts: 3, restartTries: 2 }, want: 'failed' },
    { reason: 'an image that cannot be pulled: failed', cause: { kind: 'image-pull-error', message: 'x' }, want: 'failed' },
    { reason: 'a container that cannot be created: failed', cause: { kind: 'container-runtime-error', message: 'x' }, want: 'failed' },
    {
      reason: 'a cluster failure, for run: failed',
      cause: { kind: 'cluster-failure', cause: 'evicted', message: 'x' },
      want: 'failed',
    },
  ];
  for (const { reason, cause, want } of rows) test(reason, () => assert.equal(statusAfterStop(cause), want));
});
