// The runner's health-check schedule as tables: which checks are the runner's (the rest are
// probes), which are due when (every 5 s until they pass, then the continuous ones every 30 s,
// NODE.md §2.9), when the op has started (§2.2), and when a failing check restarts the container.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ContainerRunArgs, Expose, HealthCheck } from '../../../src/api/job-definition/index.ts';
import { validateJobDefinition } from '../../../src/api/job-definition/validate.ts';
import { exposedPorts } from '../../../src/executor/build-service.ts';
import {
  CONTINUOUS_CHECK_TIMEOUTS,
  STARTUP_CHECK_TIMEOUTS,
  beginAttempt,
  decideChecks,
  recordOutcome,
  runnerCheckPlan,
} from '../../../src/executor/check-schedule.ts';
import type { CheckRecord, CheckVerdict, CheckWorld, RestartVerdict, RunnerCheckPlan } from '../../../src/executor/check-schedule.ts';
import { jobExamples, seedDefinitions, sharedMissingReason } from '../job-definition/reference-definitions.ts';

type HttpCheck = Extract<HealthCheck, { type: 'http' }>;

const get = (path: string, continuous: boolean, extra: Partial<HttpCheck> = {}): HealthCheck => ({
  type: 'http',
  path,
  method: 'GET',
  expected_status: 200,
  continuous,
  ...extra,
});
/** A check no probe can make: a POST with a body. */
const post = (continuous: boolean, extra: Partial<HttpCheck> = {}): HealthCheck => ({
  type: 'http',
  path: '/v1/chat/completions',
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: '{"messages":[]}',
  expected_status: 200,
  continuous,
  ...extra,
});
const websocket = (continuous: boolean): HealthCheck => ({ type: 'websocket', expected_response: 'ready', continuous });

function plan(expose: Expose): RunnerCheckPlan {
  return runnerCheckPlan({ expose });
}

// ---------------------------------------------------------------------------------------------
// Which checks are the runner's

describe("the runner's share of an op's checks", () => {
  const rows: { reason: string; expose: Expose; want: { checks: [key: string, continuous: boolean][]; probePorts: number[] } }[] = [
    {
      reason: "a GET expecting 200 is the kubelet's probe: the runner has nothing to do, the port starts with the Pod's Ready",
      expose: [{ port: 8000, health_checks: [get('/health', true)] }],
      want: { checks: [], probePorts: [8000] },
    },
    {
      reason: "a POST with a body is the runner's, continuous as declared",
      expose: [{ port: 9000, health_checks: [post(true)] }],
      want: { checks: [['9000/0', true]], probePorts: [] },
    },
    {
      reason: "a websocket check is the runner's",
      expose: [{ port: 9000, health_checks: [websocket(false)] }],
      want: { checks: [['9000/0', false]], probePorts: [] },
    },
    {
      reason: "a continuous check behind one that is not is never re-run: the node's continuous pass stops at the first startup-only check",
      expose: [{ port: 9000, health_checks: [post(false), post(true)] }],
      want: {
        checks: [
          ['9000/0', false],
          ['9000/1', false],
        ],
        probePorts: [],
      },
    },
    {
      reason: 'a port mixing a probe and runner checks is a probe port too; runner checks keep their position in the key',
      expose: [{ port: 8000, health_checks: [get('/ready', true), post(true), websocket(true), post(false)] }],
      want: {
        checks: [
          ['8000/1', true],
          ['8000/2', true],
          ['8000/3', false],
        ],
        probePorts: [8000],
      },
    },
    {
      reason: 'a second check a probe could make falls to the runner: a container has one probe of each kind',
      expose: [{ port: 8000, health_checks: [get('/a', true), get('/b', true)] }],
      want: { checks: [['8000/1', true]], probePorts: [8000] },
    },
    {
      reason: 'each port keys its own checks; ports without checks have none',
      expose: [80, { port: 9000, health_checks: [post(true)] }, { port: 9001, health_checks: [websocket(true)] }],
      want: {
        checks: [
          ['9000/0', true],
          ['9001/0', true],
        ],
        probePorts: [],
      },
    },
  ];
  for (const row of rows) {
    test(row.reason, () => {
      const got = plan(row.expose);
      assert.deepEqual(
        got.checks.map(({ key, continuous }) => [key, continuous]),
        row.want.checks,
      );
      assert.deepEqual(got.probePorts, row.want.probePorts);
      for (const entry of got.checks) {
        const [port, index] = entry.key.split('/').map(Number);
        const declared = exposedPorts(row.expose).find((spec) => spec.port === port)?.healthChecks[index ?? -1];
        assert.equal(entry.check, declared, `${entry.key} is the check declared at that position`);
        assert.equal(entry.port, port);
      }
    });
  }

  test(
    'every real job definition: its checks are all probes, and every port with checks starts with the Pod',
    { skip: sharedMissingReason ?? false },
    () => {
      let ports = 0;
      for (const { name, definition: raw } of [...jobExamples(), ...seedDefinitions()]) {
        const validation = validateJobDefinition(raw, { strictness: 'lenient' });
        assert.ok(validation.ok && validation.definition !== undefined, `${name} validates`);
        for (const op of validation.definition.ops) {
          if (op.type !== 'container/run') continue;
          const args: Pick<ContainerRunArgs, 'expose'> = op.args;
          const withChecks = exposedPorts(args.expose)
            .filter(({ healthChecks }) => healthChecks.length > 0)
            .map(({ port }) => port);
          const got = runnerCheckPlan(args);
          assert.deepEqual(got, { checks: [], probePorts: withChecks }, `${name} ${op.id ?? ''}`);
          ports += withChecks.length;
        }
      }
      assert.ok(ports >= 3, `the real definitions expose ports with checks (found ${ports})`);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Records

const S = Date.parse('2026-06-01T12:00:00Z');

describe('a check record', () => {
  const clock = { now: S + 5_000, containerStartedAt: S };
  test('an attempt begins: its time is kept and it is marked running', () => {
    assert.deepEqual(beginAttempt(undefined, clock), { containerStartedAt: S, attemptAt: S + 5_000, running: true });
  });
  test('an attempt in the same container keeps what is known; one in a newer container starts afresh', () => {
    const passed: CheckRecord = {
      containerStartedAt: S,
      attemptAt: S + 5_000,
      running: false,
      passedAt: S + 6_000,
      last: { ok: true, detail: 'ok', at: S + 6_000, phase: 'startup' },
    };
    assert.deepEqual(beginAttempt(passed, { now: S + 36_000, containerStartedAt: S }), { ...passed, attemptAt: S + 36_000, running: true });
    assert.deepEqual(beginAttempt(passed, { now: S + 90_000, containerStartedAt: S + 80_000 }), {
      containerStartedAt: S + 80_000,
      attemptAt: S + 90_000,
      running: true,
    });
  });

  const rows: {
    reason: string;
    record: CheckRecord;
    ok: boolean;
    clock: { now: number; containerStartedAt: number | undefined };
    want: CheckRecord;
  }[] = [
    {
      reason: 'a first pass is the check passing startup, at the time it finished',
      record: { containerStartedAt: S, attemptAt: S + 5_000, running: true },
      ok: true,
      clock: { now: S + 7_000, containerStartedAt: S },
      want: {
        containerStartedAt: S,
        attemptAt: S + 5_000,
        running: false,
        passedAt: S + 7_000,
        last: { ok: true, detail: 'd', at: S + 7_000, phase: 'startup' },
      },
    },
    {
      reason: 'a failure before any pass is a startup failure and passes nothing',
      record: { containerStartedAt: S, attemptAt: S + 5_000, running: true },
      ok: false,
      clock: { now: S + 7_000, containerStartedAt: S },
      want: {
        containerStartedAt: S,
        attemptAt: S + 5_000,
        running: false,
        last: { ok: false, detail: 'd', at: S + 7_000, phase: 'startup' },
      },
    },
    {
      reason: 'a failure after a pass is a continuous failure; the pass is kept (startup happened)',
      record: {
        containerStartedAt: S,
        attemptAt: S + 36_000,
        running: true,
        passedAt: S + 6_000,
        last: { ok: true, detail: 'x', at: S + 6_000, phase: 'startup' },
      },
      ok: false,
      clock: { now: S + 37_000, containerStartedAt: S },
      want: {
        containerStartedAt: S,
        attemptAt: S + 36_000,
        running: false,
        passedAt: S + 6_000,
        last: { ok: false, detail: 'd', at: S + 37_000, phase: 'continuous' },
      },
    },
    {
      reason: 'the outcome of an attempt begun in an earlier container is dropped; only the running mark goes',
      record: { containerStartedAt: S, attemptAt: S + 60_000, running: true },
      ok: true,
      clock: { now: S + 70_000, containerStartedAt: S + 65_000 },
      want: { containerStartedAt: S, attemptAt: S + 60_000, running: false },
    },
    {
      reason: 'the outcome of an attempt whose container no longer runs is dropped too',
      record: { containerStartedAt: S, attemptAt: S + 60_000, running: true },
      ok: false,
      clock: { now: S + 70_000, containerStartedAt: undefined },
      want: { containerStartedAt: S, attemptAt: S + 60_000, running: false },
    },
  ];
  for (const row of rows) {
    test(row.reason, () => {
      assert.deepEqual(recordOutcome(row.record, { ok: row.ok, detail: 'd' }, row.clock), row.want);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// The decision

const record = (attemptAt: number, fields: Partial<CheckRecord> = {}): CheckRecord => ({
  containerStartedAt: S,
  attemptAt,
  running: false,
  ...fields,
});
const passedRecord = (attemptAt: number, passedAt: number, extra: Partial<CheckRecord> = {}): CheckRecord =>
  record(attemptAt, { passedAt, last: { ok: true, detail: 'answered 200', at: passedAt, phase: 'startup' }, ...extra });
const failedContinuous = (attemptAt: number, passedAt: number): CheckRecord =>
  record(attemptAt, {
    passedAt,
    last: { ok: false, detail: 'POST /v1/chat/completions: answered 503, expected 200', at: attemptAt + 1_000, phase: 'continuous' },
  });

const ONE_CONTINUOUS = plan([{ port: 9000, health_checks: [post(true)] }]);
const ONE_STARTUP_ONLY = plan([{ port: 9000, health_checks: [post(false)] }]);
const TWO_ON_ONE_PORT = plan([{ port: 9000, health_checks: [post(true), websocket(true)] }]);
const TWO_PORTS = plan([
  { port: 9000, health_checks: [post(true)] },
  { port: 9001, health_checks: [post(true)] },
]);
const PROBE_AND_RUNNER_PORTS = plan([
  { port: 8000, health_checks: [get('/health', true)] },
  { port: 9000, health_checks: [post(true)] },
]);
const MIXED_PORT = plan([{ port: 8000, health_checks: [get('/health', true), post(true)] }]);
const BEHIND_STARTUP_ONLY = plan([{ port: 9000, health_checks: [post(false), post(true)] }]);
const restarting = (extra: Partial<HttpCheck>): RunnerCheckPlan =>
  plan([{ port: 9000, health_checks: [post(true, { restart_on_failure: true, ...extra })] }]);
const TWO_RESTARTING = plan([
  { port: 9000, health_checks: [post(true, { restart_on_failure: true, max_restarts: 1 })] },
  { port: 9001, health_checks: [post(true, { restart_on_failure: true })] },
]);

interface Row {
  reason: string;
  plan: RunnerCheckPlan;
  records?: Record<string, CheckRecord>;
  containerStartedAt?: number | 'none';
  podReady?: boolean;
  healthRestarts?: number;
  now: number;
  want: {
    due?: [key: string, phase: 'startup' | 'continuous'][];
    started?: boolean;
    startedPorts?: number[];
    failing?: string[];
    healthy?: boolean;
    restart?: RestartVerdict;
    nextDueAt?: number | undefined;
  };
}

function world(row: Row): CheckWorld {
  const containerStartedAt = row.containerStartedAt ?? S;
  return {
    plan: row.plan,
    records: row.records ?? {},
    ...(containerStartedAt === 'none' ? {} : { containerStartedAt }),
    podReady: row.podReady ?? false,
    healthRestarts: row.healthRestarts ?? 0,
    now: row.now,
  };
}

describe('which checks are due, and where the op stands', () => {
  const rows: Row[] = [
    {
      reason: 'no container runs: nothing is due, nothing has started, nothing will be due until one does',
      plan: ONE_CONTINUOUS,
      containerStartedAt: 'none',
      now: S + 60_000,
      want: { due: [], started: false, startedPorts: [], healthy: false, nextDueAt: undefined },
    },
    {
      reason: 'the container has just started: the first check is 5 s away, as the node polls every 5 s',
      plan: ONE_CONTINUOUS,
      now: S,
      want: { due: [], started: false, nextDueAt: S + 5_000 },
    },
    {
      reason: '5 s after the start a check never tried is due, as a startup check',
      plan: ONE_CONTINUOUS,
      now: S + 5_000,
      want: { due: [['9000/0', 'startup']], started: false },
    },
    {
      reason: 'an attempt under way is not started again',
      plan: ONE_CONTINUOUS,
      records: { '9000/0': record(S + 5_000, { running: true }) },
      now: S + 30_000,
      want: { due: [], nextDueAt: undefined },
    },
    {
      reason: 'a failed startup attempt is tried again 5 s after it began; it is not a failure of the op, only not started',
      plan: ONE_CONTINUOUS,
      records: { '9000/0': record(S + 5_000, { last: { ok: false, detail: 'connection refused', at: S + 5_010, phase: 'startup' } }) },
      now: S + 9_999,
      want: { due: [], started: false, failing: [], healthy: false, restart: { kind: 'none' }, nextDueAt: S + 10_000 },
    },
    {
      reason: '… and at 10 s it is due again',
      plan: ONE_CONTINUOUS,
      records: { '9000/0': record(S + 5_000, { last: { ok: false, detail: 'connection refused', at: S + 5_010, phase: 'startup' } }) },
      now: S + 10_000,
      want: { due: [['9000/0', 'startup']] },
    },
    {
      reason: 'once it passes the port and the op have started; a continuous check is next due 30 s after the port started',
      plan: ONE_CONTINUOUS,
      records: { '9000/0': passedRecord(S + 5_000, S + 6_000) },
      now: S + 6_000,
      want: { due: [], started: true, startedPorts: [9000], failing: [], healthy: true, nextDueAt: S + 36_000 },
    },
    {
      reason: '… and at 30 s it is due, as a continuous check',
      plan: ONE_CONTINUOUS,
      records: { '9000/0': passedRecord(S + 5_000, S + 6_000) },
      now: S + 36_000,
      want: { due: [['9000/0', 'continuous']], started: true },
    },
    {
      reason: 'a check that is not continuous is never tried again once it passed',
      plan: ONE_STARTUP_ONLY,
      records: { '9000/0': passedRecord(S + 5_000, S + 6_000) },
      now: S + 600_000,
      want: { due: [], started: true, healthy: true, nextDueAt: undefined },
    },
    {
      reason: 'a continuous check declared behind a startup-only one is not re-run either (the node never reaches it)',
      plan: BEHIND_STARTUP_ONLY,
      records: { '9000/0': passedRecord(S + 5_000, S + 6_000), '9000/1': passedRecord(S + 5_000, S + 7_000) },
      now: S + 600_000,
      want: { due: [], started: true, nextDueAt: undefined },
    },
    {
      reason: 'records of an earlier container are ignored: after a restart startup begins again',
      plan: ONE_CONTINUOUS,
      records: { '9000/0': passedRecord(S + 5_000, S + 6_000) },
      containerStartedAt: S + 100_000,
      now: S + 105_000,
      want: { due: [['9000/0', 'startup']], started: false, startedPorts: [], healthy: false },
    },
    {
      reason: 'a port starts when all of its checks have passed; a passed check waits for the others before its continuous round',
      plan: TWO_ON_ONE_PORT,
      records: { '9000/0': passedRecord(S + 5_000, S + 6_000) },
      now: S + 60_000,
      want: { due: [['9000/1', 'startup']], started: false, startedPorts: [], nextDueAt: undefined },
    },
    {
      reason: 'once the last check of the port passes, the continuous round of all of them is 30 s after that',
      plan: TWO_ON_ONE_PORT,
      records: { '9000/0': passedRecord(S + 5_000, S + 6_000), '9000/1': passedRecord(S + 50_000, S + 51_000) },
      now: S + 80_999,
      want: { due: [], started: true, startedPorts: [9000], nextDueAt: S + 81_000 },
    },
    {
      reason: 'the op starts with its first port that starts (§2.2: each port fires the dependents)',
      plan: TWO_PORTS,
      records: { '9000/0': passedRecord(S + 5_000, S + 6_000), '9001/0': record(S + 5_000) },
      now: S + 7_000,
      want: { started: true, startedPorts: [9000] },
    },
    {
      reason: "a probe port starts with the Pod's Ready; without it and with the runner's port still failing, nothing has",
      plan: PROBE_AND_RUNNER_PORTS,
      records: { '9000/0': record(S + 5_000) },
      podReady: false,
      now: S + 7_000,
      want: { started: false, startedPorts: [] },
    },
    {
      reason: '… with the Pod Ready the probe port has started, and with it the op',
      plan: PROBE_AND_RUNNER_PORTS,
      records: { '9000/0': record(S + 5_000) },
      podReady: true,
      now: S + 7_000,
      want: { started: true, startedPorts: [8000] },
    },
    {
      reason: 'a port with a probe and a runner check needs both: the runner check passed but the Pod is not Ready',
      plan: MIXED_PORT,
      records: { '8000/1': passedRecord(S + 5_000, S + 6_000) },
      podReady: false,
      now: S + 7_000,
      want: { started: false, startedPorts: [] },
    },
    {
      reason: '… and both done, the port has started',
      plan: MIXED_PORT,
      records: { '8000/1': passedRecord(S + 5_000, S + 6_000) },
      podReady: true,
      now: S + 7_000,
      want: { started: true, startedPorts: [8000] },
    },
    {
      reason:
        'a failed continuous attempt makes the check failing and the op unhealthy; it is tried again 30 s later; no restart without restart_on_failure',
      plan: ONE_CONTINUOUS,
      records: { '9000/0': failedContinuous(S + 36_000, S + 6_000) },
      now: S + 40_000,
      want: { due: [], started: true, failing: ['9000/0'], healthy: false, restart: { kind: 'none' }, nextDueAt: S + 66_000 },
    },
    {
      reason: 'a continuous check that passes again is no longer failing',
      plan: ONE_CONTINUOUS,
      records: {
        '9000/0': record(S + 66_000, {
          passedAt: S + 6_000,
          last: { ok: true, detail: 'answered 200', at: S + 66_500, phase: 'continuous' },
        }),
      },
      now: S + 67_000,
      want: { failing: [], healthy: true },
    },
    {
      reason: 'restart_on_failure with restarts left asks for a restart, counting this one',
      plan: restarting({ max_restarts: 2 }),
      records: { '9000/0': failedContinuous(S + 36_000, S + 6_000) },
      healthRestarts: 1,
      now: S + 40_000,
      want: {
        failing: ['9000/0'],
        restart: { kind: 'restart', key: '9000/0', restarts: 2, detail: 'POST /v1/chat/completions: answered 503, expected 200' },
      },
    },
    {
      reason: 'restart_on_failure with max_restarts reached leaves the container running, failing',
      plan: restarting({ max_restarts: 2 }),
      records: { '9000/0': failedContinuous(S + 36_000, S + 6_000) },
      healthRestarts: 2,
      now: S + 40_000,
      want: {
        failing: ['9000/0'],
        healthy: false,
        restart: { kind: 'exhausted', key: '9000/0', maxRestarts: 2, detail: 'POST /v1/chat/completions: answered 503, expected 200' },
      },
    },
    {
      reason: 'restart_on_failure without max_restarts restarts every time',
      plan: restarting({}),
      records: { '9000/0': failedContinuous(S + 36_000, S + 6_000) },
      healthRestarts: 50,
      now: S + 40_000,
      want: { restart: { kind: 'restart', key: '9000/0', restarts: 51, detail: 'POST /v1/chat/completions: answered 503, expected 200' } },
    },
    {
      reason: 'max_restarts 0 never restarts',
      plan: restarting({ max_restarts: 0 }),
      records: { '9000/0': failedContinuous(S + 36_000, S + 6_000) },
      now: S + 40_000,
      want: {
        restart: { kind: 'exhausted', key: '9000/0', maxRestarts: 0, detail: 'POST /v1/chat/completions: answered 503, expected 200' },
      },
    },
    {
      reason: 'a restart_on_failure check failing during startup restarts nothing: the node restarts only what had started',
      plan: restarting({ max_restarts: 2 }),
      records: { '9000/0': record(S + 5_000, { last: { ok: false, detail: 'connection refused', at: S + 5_010, phase: 'startup' } }) },
      now: S + 6_000,
      want: { failing: [], restart: { kind: 'none' } },
    },
    {
      reason: 'of two failing restart checks the first in order decides, as the node acts on its first failure',
      plan: TWO_RESTARTING,
      records: { '9000/0': failedContinuous(S + 36_000, S + 6_000), '9001/0': failedContinuous(S + 36_000, S + 6_000) },
      healthRestarts: 1,
      now: S + 40_000,
      want: {
        failing: ['9000/0', '9001/0'],
        restart: { kind: 'exhausted', key: '9000/0', maxRestarts: 1, detail: 'POST /v1/chat/completions: answered 503, expected 200' },
      },
    },
    {
      reason: 'an op with no checks has started with its container, and has nothing due',
      plan: { checks: [], probePorts: [] },
      now: S + 1,
      want: { due: [], started: true, startedPorts: [], healthy: true, nextDueAt: undefined },
    },
  ];
  for (const row of rows) {
    test(row.reason, () => {
      const verdict: CheckVerdict = decideChecks(world(row));
      const got: Row['want'] = {
        ...(row.want.due === undefined ? {} : { due: verdict.due.map(({ key, phase }) => [key, phase]) }),
        ...(row.want.started === undefined ? {} : { started: verdict.started }),
        ...(row.want.startedPorts === undefined ? {} : { startedPorts: verdict.startedPorts }),
        ...(row.want.failing === undefined ? {} : { failing: verdict.failing }),
        ...(row.want.healthy === undefined ? {} : { healthy: verdict.healthy }),
        ...(row.want.restart === undefined ? {} : { restart: verdict.restart }),
        ...('nextDueAt' in row.want ? { nextDueAt: verdict.nextDueAt } : {}),
      };
      assert.deepEqual(got, row.want);
    });
  }

  test("a startup attempt is bounded as the node's (2 s to connect, 60 s in all), a continuous one at 20 s", () => {
    const startup = decideChecks(world({ reason: '', plan: ONE_CONTINUOUS, now: S + 5_000, want: {} })).due[0];
    const continuous = decideChecks(
      world({ reason: '', plan: ONE_CONTINUOUS, records: { '9000/0': passedRecord(S + 5_000, S + 6_000) }, now: S + 36_000, want: {} }),
    ).due[0];
    assert.deepEqual(startup?.timeouts, { connectMs: 2_000, totalMs: 60_000 });
    assert.deepEqual(STARTUP_CHECK_TIMEOUTS, { connectMs: 2_000, totalMs: 60_000 });
    assert.deepEqual(continuous?.timeouts, { connectMs: 2_000, totalMs: 20_000 });
    assert.deepEqual(CONTINUOUS_CHECK_TIMEOUTS, { connectMs: 2_000, totalMs: 20_000 });
  });
});

// ---------------------------------------------------------------------------------------------
// A whole life

describe('a service healthy for its first 45 s of each container, with restart_on_failure and max_restarts 2', () => {
  test('passes startup at 5 s, fails its continuous check at 65 s, is restarted twice, then left running', () => {
    // The shape of the node's own restart example, with a check only the runner can make.
    const checks = restarting({ max_restarts: 2 });
    let containerStartedAt = S;
    let healthRestarts = 0;
    let records: Record<string, CheckRecord> = {};
    const restarts: number[] = [];
    const exhaustedAt: number[] = [];
    const startedAt: number[] = [];
    for (let now = S; now <= S + 200_000; now += 1_000) {
      const world = (): CheckWorld => ({ plan: checks, records, containerStartedAt, podReady: true, healthRestarts, now });
      for (const due of decideChecks(world()).due) {
        const begun = beginAttempt(records[due.key], { now, containerStartedAt });
        const healthy = now - containerStartedAt < 45_000;
        const outcome = { ok: healthy, detail: healthy ? 'answered 200' : 'answered 503, expected 200' };
        records = { ...records, [due.key]: recordOutcome(begun, outcome, { now, containerStartedAt }) };
      }
      // The runner looks again as soon as an outcome arrives (here: at once).
      const verdict = decideChecks(world());
      if (verdict.started && startedAt.length === restarts.length) startedAt.push(now - containerStartedAt);
      if (verdict.restart.kind === 'restart') {
        restarts.push(now - S);
        healthRestarts = verdict.restart.restarts;
        containerStartedAt = now + 1_000; // the replacement starts a second later
      }
      if (verdict.restart.kind === 'exhausted' && exhaustedAt.length === 0) exhaustedAt.push(now - S);
    }
    assert.deepEqual(startedAt, [5_000, 5_000, 5_000], 'each container passes startup at its first check');
    assert.deepEqual(restarts, [65_000, 131_000], 'the continuous checks at 35 s pass and at 65 s fail');
    assert.deepEqual(exhaustedAt, [197_000]);
    assert.equal(healthRestarts, 2);
  });
});
