// The decisions the job commands make from a NosanaJob as it is: whether `wait` is met, will never
// be met or goes on; what `extend` writes and says it costs; what `stop` says deleting it does; and
// which Pods `logs` reads live, in op order.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import type { NosanaJobObject, NosanaJobPhase } from '../../../src/api/crds/nosana-job.ts';
import { extensionLine, planExtension } from '../../../src/plugin/extend.ts';
import { jobPodSelector, jobPodsOf } from '../../../src/plugin/pod-logs.ts';
import { stopConsequence } from '../../../src/plugin/stop.ts';
import { judgeJob, parseWaitTarget } from '../../../src/plugin/wait-condition.ts';

const JOB_ADDRESS = '4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T';
const T = '2026-05-01T12:00:00Z';

type ConditionSpec = [type: string, status: 'True' | 'False', reason?: string];

function job(phase: NosanaJobPhase | undefined, conditions: ConditionSpec[] = [], extra: Partial<NosanaJobObject> = {}): NosanaJobObject {
  return {
    apiVersion: 'nosana.io/v1alpha1',
    kind: 'NosanaJob',
    metadata: { name: 'story', namespace: 'team', generation: 1 },
    spec: { market: 'gpu', deletionPolicy: 'Cancel', retries: 2, allowPublicCredentials: false, ...extra.spec },
    status: {
      observedGeneration: 1,
      ...(phase === undefined ? {} : { phase }),
      jobAddress: JOB_ADDRESS,
      conditions: conditions.map(([type, status, reason = type]) => ({
        type,
        status,
        reason,
        message: `${reason} here`,
        lastTransitionTime: T,
      })),
      ...extra.status,
    },
  };
}

const ENDED = { Posted: 'True', Completed: 'True', Reconciling: 'False' } as const;
const conditions = (table: Record<string, 'True' | 'False'>, readyReason: string): ConditionSpec[] =>
  Object.entries(table).map(([type, status]) => [type, status, type === 'Ready' ? readyReason : type]);

const RUNNING = job(
  'Running',
  conditions({ Ready: 'True', Posted: 'True', Completed: 'False', Reconciling: 'False', Stalled: 'False' }, 'Running'),
);
const SUCCEEDED = job('Succeeded', conditions({ Ready: 'True', ...ENDED, Failed: 'False', Stalled: 'False' }, 'Succeeded'));
const FAILED = job('Failed', conditions({ Ready: 'False', ...ENDED, Failed: 'True', Stalled: 'True' }, 'OpFailed'));
const STOPPED = job('Stopped', conditions({ Ready: 'False', ...ENDED, Failed: 'False', Stalled: 'True' }, 'NodeQuit'));
const INVALID = job(
  'Pending',
  conditions({ Ready: 'False', Posted: 'False', Completed: 'False', Reconciling: 'False', Stalled: 'True' }, 'InvalidDefinition'),
);
const QUEUED = job(
  'Queued',
  conditions({ Ready: 'False', Posted: 'True', Completed: 'False', Reconciling: 'True', Stalled: 'False' }, 'Queued'),
);

describe('wait: the verdict on a job as it is now', () => {
  const cases: { reason: string; job: NosanaJobObject | undefined; target: string; want: [number, RegExp] | undefined }[] = [
    { reason: 'Completed and Succeeded: met, exit 0', job: SUCCEEDED, target: 'Completed', want: [0, /^Succeeded$/] },
    {
      reason: 'Completed but Failed: exit 1 with the reason',
      job: FAILED,
      target: 'Completed',
      want: [1, /^Failed \(OpFailed: OpFailed here\)$/],
    },
    { reason: 'Completed but Stopped: exit 1', job: STOPPED, target: 'Completed', want: [1, /^Stopped \(NodeQuit/] },
    { reason: 'still running: wait on', job: RUNNING, target: 'Completed', want: undefined },
    { reason: 'queued and reconciling: wait on', job: QUEUED, target: 'Completed', want: undefined },
    {
      reason: 'stalled on an invalid definition: exit 1 at once, not a ten-minute timeout',
      job: INVALID,
      target: 'Completed',
      want: [1, /^stalled in Pending \(InvalidDefinition: .*\) before condition Completed$/],
    },
    { reason: 'a condition that is True: met', job: QUEUED, target: 'Posted', want: [0, /^condition Posted met$/] },
    { reason: 'condition Failed on a Failed job: met', job: FAILED, target: 'condition=Failed', want: [0, /condition Failed met/] },
    { reason: 'a phase reached: met', job: RUNNING, target: 'phase=Running', want: [0, /^Running$/] },
    {
      reason: 'a phase the job went past by ending: exit 1',
      job: SUCCEEDED,
      target: 'phase=Running',
      want: [1, /^ended Succeeded .* without phase Running$/],
    },
    {
      reason: 'the job deleted while waiting for a condition: exit 1',
      job: undefined,
      target: 'Ready',
      want: [1, /^deleted before condition Ready$/],
    },
    { reason: 'delete: gone is met', job: undefined, target: 'delete', want: [0, /^gone$/] },
    { reason: 'delete: still there, even ended, waits', job: SUCCEEDED, target: 'delete', want: undefined },
  ];
  for (const { reason, job: subject, target, want } of cases) {
    test(reason, () => {
      const verdict = judgeJob(subject, parseWaitTarget(target));
      if (want === undefined) {
        assert.equal(verdict, undefined);
        return;
      }
      assert.equal(verdict?.exitCode, want[0]);
      assert.match(verdict.message, want[1]);
    });
  }

  test('a status of an older generation is not taken as stalled', () => {
    const edited = { ...INVALID, metadata: { ...INVALID.metadata, generation: 2 } };
    assert.equal(judgeJob(edited, parseWaitTarget('Completed')), undefined);
  });
});

describe('extend: the timeout written and what is said about it', () => {
  test('spec.timeout (a duration or seconds) plus --by, and the price × the added time', () => {
    const running = job('Running', [], {
      spec: { timeout: '10m' } as NosanaJobObject['spec'],
      status: { priceBaseUnits: '10', jobAddress: JOB_ADDRESS },
    });
    const plan = planExtension(running, undefined, 600n);
    assert.deepEqual(plan, { fromSeconds: 600n, toSeconds: 1200n, costBaseUnits: 6000n });
    assert.equal(
      extensionLine('story', running, plan),
      `nosanajob.nosana.io/story extended: timeout 10m → 20m (spec.timeout 1200); the controller extends job ${JOB_ADDRESS} on chain, paying 0.006 NOS (the price × 10m) from the job's wallet\n`,
    );
    assert.equal(planExtension(job('Queued', [], { spec: { timeout: 90 } as NosanaJobObject['spec'] }), undefined, 30n).toSeconds, 120n);
  });

  test("no spec.timeout: the market's job timeout is what was posted; neither known: refused", () => {
    assert.equal(planExtension(job('Running'), 3600, 60n).toSeconds, 3660n);
    assert.throws(
      () => planExtension(job('Running'), undefined, 60n),
      /spec\.timeout is unset and the job timeout of market "gpu" is not known/,
    );
  });

  test('an ended job is not extended (exit 1)', () => {
    assert.throws(
      () => planExtension(SUCCEEDED, 600, 60n),
      (error: Error & { exitCode?: number }) => error.exitCode === 1 && /has ended \(Succeeded\)/.test(error.message),
    );
  });
});

describe('stop: what deleting the NosanaJob does on chain', () => {
  const cases: { reason: string; job: NosanaJobObject; want: RegExp }[] = [
    {
      reason: 'running: ended, the node paid for its time',
      job: RUNNING,
      want: new RegExp(`ends job ${JOB_ADDRESS} on chain \\(its node is paid for the time it ran`),
    },
    { reason: 'queued: delisted, deposit refunded', job: QUEUED, want: /delists job .* \(the deposit is refunded\)/ },
    { reason: 'ended: nothing to cancel', job: SUCCEEDED, want: /had ended \(Succeeded\): there is nothing to cancel/ },
    { reason: 'never posted: nothing on chain', job: INVALID, want: /nothing was posted/ },
    {
      reason: 'Orphan: left alone',
      job: { ...RUNNING, spec: { ...RUNNING.spec, deletionPolicy: 'Orphan' } },
      want: /deletionPolicy is Orphan: its job on chain is left alone/,
    },
  ];
  for (const { reason, job: subject, want } of cases) test(reason, () => assert.match(stopConsequence(subject), want));
});

describe("logs: the job's op Pods", () => {
  const pod = (
    name: string,
    opIndex: number,
    options: { op?: string; state?: 'running' | 'waiting'; created?: string; job?: string; deleting?: boolean } = {},
  ): V1Pod => ({
    metadata: {
      name,
      namespace: 'jobs',
      uid: `uid-${name}`,
      creationTimestamp: (options.created ?? T) as unknown as Date,
      labels: {
        'nosana.io/job': JOB_ADDRESS,
        'nosana.io/op-index': String(opIndex),
        ...(options.op === undefined ? {} : { 'nosana.io/op': options.op }),
      },
      annotations: {
        'nosana.io/job-id': options.job ?? JOB_ADDRESS,
        ...(options.op === undefined ? {} : { 'nosana.io/op-id': options.op }),
      },
      ...(options.deleting === true ? { deletionTimestamp: T as unknown as Date } : {}),
    },
    status: {
      containerStatuses: [
        {
          name: 'op',
          image: 'x',
          imageID: '',
          ready: false,
          restartCount: 0,
          state:
            options.state === 'waiting' ? { waiting: { reason: 'ContainerCreating' } } : { running: { startedAt: T as unknown as Date } },
        },
      ],
    },
  });

  test('in op order, a replacement after the Pod it replaced; Pods being deleted or of another job left out', () => {
    const pods = jobPodsOf(
      [
        pod('second', 1, { op: 'run' }),
        pod('first-again', 0, { op: 'prepare', created: '2026-05-01T12:05:00Z' }),
        pod('first', 0, { op: 'prepare', state: 'waiting' }),
        pod('going', 2, { op: 'x', deleting: true }),
        pod('other', 0, { op: 'prepare', job: 'another-job' }),
      ],
      JOB_ADDRESS,
    );
    assert.deepEqual(
      pods.map((found) => [found.name, found.op, found.started, found.waitingReason]),
      [
        ['first', 'prepare', false, 'ContainerCreating'],
        ['first-again', 'prepare', true, undefined],
        ['second', 'run', true, undefined],
      ],
    );
  });

  test("the selector: the executor's job label (and op label with --op)", () => {
    assert.equal(jobPodSelector(JOB_ADDRESS), `app.kubernetes.io/managed-by=nosana-operator,nosana.io/job=${JOB_ADDRESS}`);
    assert.match(jobPodSelector(JOB_ADDRESS, 'run one'), /,nosana\.io\/op=sha256-[0-9a-f]{48}$/);
  });
});
