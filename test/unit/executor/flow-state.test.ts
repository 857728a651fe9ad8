// The result document's rules (NODE.md §2.5–2.6, §3.1–3.2, §3.4) as tables: each row's reason is
// the rule, its want is what the reference node would publish.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1ContainerStatus } from '@kubernetes/client-node';
import {
  DOCKER_ZERO_TIME,
  MAX_LOG_ENTRIES,
  abortDiagnosticsReason,
  abortedOpStatus,
  appendLogs,
  containerStateDiagnostics,
  finalFlowStatus,
  initialFlowState,
  opTimeoutReason,
  publicCopy,
  validationFailureState,
} from '../../../src/executor/flow-state.ts';
import type {
  ContainerStateDiagnostics,
  DiagnosticsReason,
  FlowState,
  LogEntry,
  OpIdentity,
  OpState,
  OpStatus,
  StopReason,
} from '../../../src/executor/flow-state.ts';

const NOW = Date.UTC(2026, 0, 1, 0, 0, 0);

describe('initialFlowState', () => {
  const rows: { reason: string; ops: OpIdentity[]; want: { operationId: string; group: string }[] }[] = [
    { reason: 'a definition without ops has no op states', ops: [], want: [] },
    {
      reason: 'an ungrouped op is a group of its own, named after the op',
      ops: [{ id: 'hello-world' }],
      want: [{ operationId: 'hello-world', group: 'hello-world' }],
    },
    {
      reason: 'execution.group names the group; op states keep the order of ops, not of groups',
      ops: [
        { id: 'b', execution: { group: 'main' } },
        { id: 'a', execution: { group: 'pre' } },
        { id: 'c', execution: {} },
      ],
      want: [
        { operationId: 'b', group: 'main' },
        { operationId: 'a', group: 'pre' },
        { operationId: 'c', group: 'c' },
      ],
    },
    {
      reason: 'an op without an id (allowed once) shows an empty name, and its own empty-named group',
      ops: [{ execution: { group: 'g' } }, {}],
      want: [
        { operationId: '', group: 'g' },
        { operationId: '', group: '' },
      ],
    },
  ];
  for (const row of rows) {
    test(row.reason, () => {
      const flow = initialFlowState(row.ops, NOW);
      assert.deepEqual(
        flow.opStates.map(({ operationId, group }) => ({ operationId, group })),
        row.want,
      );
    });
  }

  test('the flow starts in init at the given time, not ended, with nothing secret yet and no errors', () => {
    const flow = initialFlowState([{ id: 'one' }], NOW);
    assert.equal(flow.status, 'init');
    assert.equal(flow.startTime, NOW);
    assert.equal(flow.endTime, null);
    assert.deepEqual(flow.secrets, {});
    assert.equal('errors' in flow, false);
  });

  test('every op waits in init with nothing run: no times, exit code, provider, logs, errors or results', () => {
    const [opState] = initialFlowState([{ id: 'one' }], NOW).opStates;
    const want: OpState = {
      operationId: 'one',
      group: 'one',
      providerId: null,
      status: 'init',
      startTime: null,
      endTime: null,
      exitCode: null,
      logs: [],
      errors: [],
      diagnostics: { reason: { hostShutDown: false, jobStopped: false, jobExpired: false } },
    };
    assert.deepEqual(opState, want);
    assert.equal(opState !== undefined && 'results' in opState, false);
  });

  test('op states do not share their lists', () => {
    const flow = initialFlowState([{ id: 'a' }, { id: 'b' }], NOW);
    flow.opStates[0]?.logs.push({ type: 'stdout', log: 'x' });
    assert.deepEqual(flow.opStates[1]?.logs, []);
  });
});

describe('appendLogs keeps the newest 24,999 entries', () => {
  const entries = (from: number, count: number): LogEntry[] =>
    Array.from({ length: count }, (_, index) => ({ type: 'stdout', log: `line ${from + index}` }));

  test('the cap is the reference node’s 24,999', () => {
    assert.equal(MAX_LOG_ENTRIES, 24_999);
  });

  const rows: { reason: string; existing: number; added: number; want: { length: number; first: string; last: string } }[] = [
    { reason: 'below the cap everything is kept, in order', existing: 2, added: 3, want: { length: 5, first: 'line 0', last: 'line 4' } },
    {
      reason: 'reaching the cap exactly drops nothing',
      existing: MAX_LOG_ENTRIES - 1,
      added: 1,
      want: { length: MAX_LOG_ENTRIES, first: 'line 0', last: `line ${MAX_LOG_ENTRIES - 1}` },
    },
    {
      reason: 'one entry over the cap drops the oldest one',
      existing: MAX_LOG_ENTRIES,
      added: 1,
      want: { length: MAX_LOG_ENTRIES, first: 'line 1', last: `line ${MAX_LOG_ENTRIES}` },
    },
    {
      reason: 'a batch larger than the cap keeps only its own newest entries',
      existing: 10,
      added: MAX_LOG_ENTRIES + 5,
      want: { length: MAX_LOG_ENTRIES, first: 'line 15', last: `line ${MAX_LOG_ENTRIES + 14}` },
    },
  ];
  for (const row of rows) {
    test(row.reason, () => {
      const existing = entries(0, row.existing);
      const logs = appendLogs(existing, entries(row.existing, row.added));
      assert.equal(logs.length, row.want.length);
      assert.equal(logs[0]?.log, row.want.first);
      assert.equal(logs.at(-1)?.log, row.want.last);
      assert.equal(existing.length, row.existing, 'the list passed in is not changed');
    });
  }
});

describe('an aborted op', () => {
  const rows: { reason: string; stop: StopReason; want: { status: OpStatus; diagnostics: Partial<DiagnosticsReason> } }[] = [
    {
      reason: 'the job completed: the op did its work',
      stop: 'completed',
      want: { status: 'success', diagnostics: {} },
    },
    {
      reason: 'the job expired: paid work, success, marked as expired',
      stop: 'expired',
      want: { status: 'success', diagnostics: { jobExpired: true, reason: 'Operation stopped due to flow expired' } },
    },
    {
      reason: 'the owner stopped the job: stopped, marked as stopped',
      stop: 'stopped',
      want: { status: 'stopped', diagnostics: { jobStopped: true, reason: 'Operation stopped due to flow stopped' } },
    },
    {
      reason: 'a restart stops the op without marking the job',
      stop: 'restart',
      want: { status: 'stopped', diagnostics: {} },
    },
    {
      reason: 'the node shut down: failed, marked as a host shutdown',
      stop: 'quit',
      want: { status: 'failed', diagnostics: { hostShutDown: true, reason: 'Operation stopped due to flow quit' } },
    },
    {
      reason: 'an unknown cause is a failure, with nothing to mark',
      stop: 'unknown',
      want: { status: 'failed', diagnostics: {} },
    },
  ];
  for (const row of rows) {
    test(row.reason, () => {
      assert.equal(abortedOpStatus(row.stop), row.want.status);
      assert.deepEqual(abortDiagnosticsReason(row.stop), row.want.diagnostics);
    });
  }

  test('an op cut off by its own execution.timeout says so in its diagnostics', () => {
    assert.deepEqual(opTimeoutReason(90), { reason: 'Operation killed after exceeding its timeout of 90s' });
  });
});

describe('finalFlowStatus: failed when any op failed, else success (the newest node’s rule)', () => {
  const rows: { reason: string; statuses: OpStatus[]; want: 'success' | 'failed' }[] = [
    { reason: 'a flow without ops succeeded', statuses: [], want: 'success' },
    { reason: 'all ops succeeded', statuses: ['success', 'success'], want: 'success' },
    { reason: 'one failed op fails the flow, whatever the others did', statuses: ['success', 'failed', 'stopped'], want: 'failed' },
    { reason: 'stopped ops do not fail the flow (a stopped job is a success)', statuses: ['stopped', 'stopped'], want: 'success' },
    { reason: 'ops that never left init (a later group never started) do not fail it', statuses: ['success', 'init'], want: 'success' },
  ];
  for (const row of rows) {
    test(row.reason, () => {
      assert.equal(finalFlowStatus(row.statuses.map((status) => ({ status }))), row.want);
    });
  }
});

describe('validationFailureState', () => {
  test('an invalid definition is a validation-error result that ran nothing, each problem an error', () => {
    const problems = [{ path: 'ops[0].args.image', message: 'required' }, 'a message'];
    const flow = validationFailureState(problems, NOW);
    const want: FlowState = {
      status: 'validation-error',
      startTime: NOW,
      endTime: NOW,
      errors: [{ path: 'ops[0].args.image', message: 'required' }, 'a message'],
      secrets: {},
      opStates: [],
    };
    assert.deepEqual(flow, want);
    assert.notEqual(flow.errors, problems, 'the list is copied');
  });
});

describe('publicCopy: what IPFS gets when results are delivered elsewhere', () => {
  const full: FlowState = {
    status: 'failed',
    startTime: NOW,
    endTime: NOW + 5_000,
    errors: ['first'],
    secrets: { job: { url: 'https://private.example' } },
    opStates: initialFlowState([{ id: 'secret-op' }], NOW).opStates,
  };

  const rows: { reason: string; flow: FlowState; deliveryErrors?: string[]; want: object }[] = [
    {
      reason: 'only status, times and errors: no op states, logs, results or secrets',
      flow: full,
      want: { status: 'failed', startTime: NOW, endTime: NOW + 5_000, opStates: [], errors: ['first'] },
    },
    {
      reason: 'a flow without errors publishes an empty error list',
      flow: { status: 'success', startTime: NOW, endTime: NOW + 1, opStates: [] },
      want: { status: 'success', startTime: NOW, endTime: NOW + 1, opStates: [], errors: [] },
    },
    {
      reason: 'a failed hand-over adds its error after the flow’s own',
      flow: full,
      deliveryErrors: ['delivery failed'],
      want: { status: 'failed', startTime: NOW, endTime: NOW + 5_000, opStates: [], errors: ['first', 'delivery failed'] },
    },
  ];
  for (const row of rows) {
    test(row.reason, () => {
      assert.deepEqual(publicCopy(row.flow, row.deliveryErrors), row.want);
    });
  }

  test('the full flow is not changed', () => {
    publicCopy(full, ['x']);
    assert.deepEqual(full.errors, ['first']);
    assert.equal(full.opStates.length, 1);
  });
});

describe('containerStateDiagnostics: a Pod container status under Docker State names', () => {
  const started = new Date('2026-01-01T00:00:01.000Z');
  const finished = new Date('2026-01-01T00:00:09.000Z');
  const status = (change: Partial<V1ContainerStatus>): V1ContainerStatus => ({
    name: 'op',
    image: 'ubuntu',
    imageID: '',
    ready: false,
    restartCount: 0,
    ...change,
  });

  const rows: { reason: string; status: V1ContainerStatus; want: ContainerStateDiagnostics }[] = [
    {
      reason: 'a container that exited: exited, its exit code and times',
      status: status({ state: { terminated: { exitCode: 3, reason: 'Error', startedAt: started, finishedAt: finished } } }),
      want: {
        Status: 'exited',
        Running: false,
        ExitCode: 3,
        OOMKilled: false,
        Error: '',
        StartedAt: '2026-01-01T00:00:01.000Z',
        FinishedAt: '2026-01-01T00:00:09.000Z',
        RestartCount: 0,
      },
    },
    {
      reason: 'a container killed for memory is OOMKilled, with the kill signal’s exit code',
      status: status({ state: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: started, finishedAt: finished } } }),
      want: {
        Status: 'exited',
        Running: false,
        ExitCode: 137,
        OOMKilled: true,
        Error: '',
        StartedAt: '2026-01-01T00:00:01.000Z',
        FinishedAt: '2026-01-01T00:00:09.000Z',
        RestartCount: 0,
      },
    },
    {
      reason: 'a container the runtime could not start carries the runtime’s message as Error',
      status: status({ state: { terminated: { exitCode: 128, reason: 'StartError', message: 'exec: "nope": not found' } } }),
      want: {
        Status: 'exited',
        Running: false,
        ExitCode: 128,
        OOMKilled: false,
        Error: 'exec: "nope": not found',
        StartedAt: DOCKER_ZERO_TIME,
        FinishedAt: DOCKER_ZERO_TIME,
        RestartCount: 0,
      },
    },
    {
      reason: 'a container that exited by itself keeps its termination message out of Error (the workload wrote it)',
      status: status({ state: { terminated: { exitCode: 1, reason: 'Error', message: 'written by the job' } } }),
      want: {
        Status: 'exited',
        Running: false,
        ExitCode: 1,
        OOMKilled: false,
        Error: '',
        StartedAt: DOCKER_ZERO_TIME,
        FinishedAt: DOCKER_ZERO_TIME,
        RestartCount: 0,
      },
    },
    {
      reason: 'a running container: running, exit code 0, Docker’s zero finish time',
      status: status({ restartCount: 2, state: { running: { startedAt: started } } }),
      want: {
        Status: 'running',
        Running: true,
        ExitCode: 0,
        OOMKilled: false,
        Error: '',
        StartedAt: '2026-01-01T00:00:01.000Z',
        FinishedAt: DOCKER_ZERO_TIME,
        RestartCount: 2,
      },
    },
    {
      reason: 'waiting to be restarted after a crash: restarting, with the run that ended',
      status: status({
        restartCount: 4,
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } },
        lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: started, finishedAt: finished } },
      }),
      want: {
        Status: 'restarting',
        Running: false,
        ExitCode: 137,
        OOMKilled: true,
        Error: '',
        StartedAt: '2026-01-01T00:00:01.000Z',
        FinishedAt: '2026-01-01T00:00:09.000Z',
        RestartCount: 4,
      },
    },
    {
      reason: 'never started (the image cannot be pulled): created, and why it waits',
      status: status({ state: { waiting: { reason: 'ErrImagePull', message: 'pull access denied' } } }),
      want: {
        Status: 'created',
        Running: false,
        ExitCode: 0,
        OOMKilled: false,
        Error: 'pull access denied',
        StartedAt: DOCKER_ZERO_TIME,
        FinishedAt: DOCKER_ZERO_TIME,
        RestartCount: 0,
      },
    },
    {
      reason: 'timestamps that arrive as JSON strings (from an informer) are kept as they are',
      status: status({
        state: {
          terminated: {
            exitCode: 0,
            reason: 'Completed',
            startedAt: '2026-01-01T00:00:01Z' as unknown as Date,
            finishedAt: '2026-01-01T00:00:02Z' as unknown as Date,
          },
        },
      }),
      want: {
        Status: 'exited',
        Running: false,
        ExitCode: 0,
        OOMKilled: false,
        Error: '',
        StartedAt: '2026-01-01T00:00:01Z',
        FinishedAt: '2026-01-01T00:00:02Z',
        RestartCount: 0,
      },
    },
  ];
  for (const row of rows) {
    test(row.reason, () => {
      assert.deepEqual(containerStateDiagnostics(row.status), row.want);
    });
  }
});
