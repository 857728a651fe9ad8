// What the demo prints as the objects change: one line per NosanaJob phase carrying what the status
// records at that phase, one per NosanaNode phase or Ready reason, one when a job Pod is placed and
// one when its container exits; nothing for changes that are not worth a line.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import type { NosanaJobObject, NosanaJobStatus } from '../../../src/api/crds/nosana-job.ts';
import type { NosanaNodeObject, NosanaNodeStatus } from '../../../src/api/crds/nosana-node.ts';
import { jobLine, jobPhase, jobSettled, nodeLine, podLine } from '../../../src/demo/phase-lines.ts';

const JOB_ADDRESS = 'EhVzmQSEu4qZuq4fAfb2TUQbk5WaD7DsvZkQd3S8P2tb';
const NODE_ADDRESS = 'B8sHxuf4JLjYciV9VNtMzRzsyynRQEeBATVkmnJaW3ts';
const SIGNATURE = 'hYkitLfWVK4F51XmZaiPydcZyjXUEXEkW1eM6JeVdR4JVnTm2L6Ns5eYr8svgYWp59Z3mFzpA2kWGYBzmC5kRQS';
const CID = 'QmaBwYWGcmC4D9VxAj1vmYgkEGQUb5AGTY3AkmNyEMTziy';

function ready(reason: string, message = `${reason} message`, status: 'True' | 'False' = 'False') {
  return [{ type: 'Ready', status, reason, message, lastTransitionTime: '2026-01-01T00:00:00Z' }];
}

function job(status?: NosanaJobStatus): NosanaJobObject {
  return {
    apiVersion: 'nosana.io/v1alpha1',
    kind: 'NosanaJob',
    metadata: { name: 'story', namespace: 'nosana-demo' },
    spec: { market: 'demo', deletionPolicy: 'Cancel', retries: 2, allowPublicCredentials: false },
    ...(status === undefined ? {} : { status }),
  };
}

function node(status?: NosanaNodeStatus): NosanaNodeObject {
  return {
    apiVersion: 'nosana.io/v1alpha1',
    kind: 'NosanaNode',
    metadata: { name: 'demo-node', namespace: 'nosana-demo' },
    spec: {} as NosanaNodeObject['spec'],
    ...(status === undefined ? {} : { status }),
  };
}

const PENDING_POST = {
  jobAddress: JOB_ADDRESS,
  runAddress: NODE_ADDRESS,
  signature: SIGNATURE,
  lastValidBlockHeight: 10,
  transaction: 'AAAA',
  preparedAt: '2026-01-01T00:00:00Z',
};

describe('NosanaJob lines', () => {
  const cases: { reason: string; object: NosanaJobObject; previous?: NosanaJobObject; want: RegExp | undefined }[] = [
    {
      reason: 'a job just applied, with no status yet, is Pending',
      object: job(),
      want: /^NosanaJob nosana-demo\/story: Pending — applied/,
    },
    {
      reason: 'the controller writing Pending over no status changes nothing a user sees',
      object: job({ phase: 'Pending', conditions: ready('Pending') }),
      previous: job(),
      want: undefined,
    },
    {
      reason: 'Posting names the pinned definition, the transaction signature and the job it creates',
      object: job({ phase: 'Posting', ipfsJob: CID, pendingPost: PENDING_POST }),
      previous: job(),
      want: new RegExp(`Posting — definition pinned to IPFS as ${CID}; transaction ${SIGNATURE} sent, creating job ${JOB_ADDRESS}$`),
    },
    {
      reason: 'Posting without a recorded post says what the Ready condition says',
      object: job({ phase: 'Posting', conditions: ready('Posting', 'waiting to land') }),
      previous: job(),
      want: /Posting — waiting to land$/,
    },
    {
      reason: 'Queued names the job and its place in the market queue',
      object: job({ phase: 'Queued', jobAddress: JOB_ADDRESS, queuePosition: 0 }),
      previous: job({ phase: 'Posting' }),
      want: new RegExp(`Queued — job ${JOB_ADDRESS} is on chain, waiting in market demo's queue at position 0 for a node$`),
    },
    {
      reason: 'Running names the node that took the job',
      object: job({ phase: 'Running', jobAddress: JOB_ADDRESS, node: NODE_ADDRESS }),
      previous: job({ phase: 'Queued' }),
      want: new RegExp(`Running — node ${NODE_ADDRESS} took job ${JOB_ADDRESS}$`),
    },
    {
      reason: 'another write while Running is no new line',
      object: job({ phase: 'Running', node: NODE_ADDRESS, runAddress: NODE_ADDRESS }),
      previous: job({ phase: 'Running', node: NODE_ADDRESS }),
      want: undefined,
    },
    {
      reason: 'Succeeded names the result',
      object: job({ phase: 'Succeeded', ipfsResult: CID }),
      previous: job({ phase: 'Running' }),
      want: new RegExp(`Succeeded — every op succeeded; result ${CID}$`),
    },
    {
      reason: 'a failure says its reason and message',
      object: job({ phase: 'Failed', conditions: ready('OpFailed', 'op tinyllama exited 1') }),
      previous: job({ phase: 'Running' }),
      want: /Failed — OpFailed: op tinyllama exited 1$/,
    },
  ];
  for (const { reason, object, previous, want } of cases) {
    test(reason, () => {
      const line = jobLine(object, previous);
      if (want === undefined) assert.equal(line, undefined);
      else assert.match(line ?? '(no line)', want);
    });
  }

  test('the phase a user reads: Pending until the controller writes one', () => {
    assert.equal(jobPhase(undefined), 'Pending');
    assert.equal(jobPhase(job()), 'Pending');
    assert.equal(jobPhase(job({ phase: 'Queued' })), 'Queued');
  });
});

describe('when the demo stops waiting for the job', () => {
  const cases: { reason: string; object: NosanaJobObject; want: boolean }[] = [
    { reason: 'no status yet', object: job(), want: false },
    { reason: 'queued', object: job({ phase: 'Queued', conditions: ready('Queued') }), want: false },
    { reason: 'running', object: job({ phase: 'Running', conditions: ready('Running') }), want: false },
    { reason: 'succeeded', object: job({ phase: 'Succeeded', conditions: ready('Succeeded', '', 'True') }), want: true },
    { reason: 'an op failed', object: job({ phase: 'Failed', conditions: ready('OpFailed') }), want: true },
    { reason: 'the node quit for good', object: job({ phase: 'Stopped', conditions: ready('NodeQuit') }), want: true },
    {
      reason: 'stalled until a person acts',
      object: job({
        phase: 'Pending',
        conditions: [
          ...ready('InvalidDefinition'),
          { type: 'Stalled', status: 'True', reason: 'InvalidDefinition', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' },
        ],
      }),
      want: true,
    },
  ];
  for (const { reason, object, want } of cases) test(reason, () => assert.equal(jobSettled(object), want));
});

describe('NosanaNode lines', () => {
  test('no line before the agent wrote a phase', () => {
    assert.equal(nodeLine(node(), undefined), undefined);
  });
  test('a phase with its Ready reason, when the reason says more than the phase', () => {
    assert.equal(
      nodeLine(node({ phase: 'Idle', conditions: ready('Joining', 'joining the queue of market demo') }), node()),
      'NosanaNode nosana-demo/demo-node: Idle (Joining) — joining the queue of market demo',
    );
    assert.equal(
      nodeLine(node({ phase: 'Queued', conditions: ready('Queued', 'waiting for a job', 'True') }), undefined),
      'NosanaNode nosana-demo/demo-node: Queued — waiting for a job',
    );
  });
  test('a new Ready reason in the same phase is a line; the same phase and reason is not', () => {
    const joining = node({ phase: 'Idle', conditions: ready('Joining') });
    assert.match(nodeLine(node({ phase: 'Idle', conditions: ready('NoCapacity') }), joining) ?? '', /Idle \(NoCapacity\)/);
    assert.equal(nodeLine(node({ phase: 'Idle', conditions: ready('Joining', 'another message') }), joining), undefined);
  });
});

describe('job Pod lines', () => {
  function pod(nodeName?: string, exitCode?: number): V1Pod {
    return {
      metadata: { name: 'nos-abc-0', namespace: 'nosana-demo-jobs' },
      spec: {
        containers: [{ name: 'op', resources: { limits: { cpu: '8', 'nvidia.com/gpu': '1' } } }],
        ...(nodeName === undefined ? {} : { nodeName }),
      },
      ...(exitCode === undefined
        ? {}
        : {
            status: {
              containerStatuses: [
                { name: 'op', image: 'x', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode } } },
              ],
            },
          }),
    };
  }
  test('placed: the Kubernetes node and the GPUs it asked for', () => {
    assert.equal(
      podLine(pod('gpu-node-1'), pod()),
      'Pod nosana-demo-jobs/nos-abc-0: placed on Kubernetes node gpu-node-1 by the scheduler, with 1 nvidia.com/gpu',
    );
    assert.match(podLine(pod('gpu-node-1'), undefined) ?? '', /placed on Kubernetes node gpu-node-1/);
  });
  test('exited: its exit code, once', () => {
    assert.equal(podLine(pod('gpu-node-1', 0), pod('gpu-node-1')), 'Pod nosana-demo-jobs/nos-abc-0: its container exited with code 0');
    assert.equal(podLine(pod('gpu-node-1', 0), pod('gpu-node-1', 0)), undefined);
  });
  test('nothing for a Pod not yet placed, or already placed and still running', () => {
    assert.equal(podLine(pod(), undefined), undefined);
    assert.equal(podLine(pod('gpu-node-1'), pod('gpu-node-1')), undefined);
  });
});
