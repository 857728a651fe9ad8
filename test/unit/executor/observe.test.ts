// How the runner reads an op from its Pod, as tables over Pods written the way the local cluster's
// simulated kubelet writes them (src/local-cluster/kwok-stages.ts) and the way a real kubelet,
// scheduler and node controller do (restarts, evictions, preemption, lost nodes, refusals). Pods
// are JSON as a watch delivers them: timestamps are RFC 3339 strings. Each case's reason is its
// specification; each `want` is the whole ObservedOp.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import type { ObservedOp } from '../../../src/executor/decide-run.ts';
import { POD_APPEARANCE_GRACE_MS, observePod, podPhaseForVolume } from '../../../src/executor/observe.ts';
import type { RunnerMarks } from '../../../src/executor/observe.ts';

const T0 = Date.UTC(2026, 0, 1, 12);
/** A moment `seconds` after the Pod was created. */
const at = (seconds: number): number => T0 + seconds * 1000;
const iso = (seconds: number): string => new Date(at(seconds)).toISOString();
const NOW = at(100);
const NODE = 'kwok-node-0';

type Json = Record<string, unknown>;

const condition = (type: string, status: 'True' | 'False', extra: Json = {}): Json => ({
  type,
  status,
  lastTransitionTime: iso(1),
  ...extra,
});
const SCHEDULED = [condition('PodScheduled', 'True'), condition('Initialized', 'True')];
const READY = [condition('Ready', 'True'), condition('ContainersReady', 'True')];
const NOT_READY = [condition('Ready', 'False', { reason: 'ContainersNotReady' }), condition('ContainersReady', 'False')];
const COMPLETED = [
  condition('Ready', 'False', { reason: 'PodCompleted' }),
  condition('ContainersReady', 'False', { reason: 'PodCompleted' }),
];

/** The op's Pod as a watch delivers it; `bound` places it on the node. */
function pod(status: Json, options: { bound?: boolean; restartPolicy?: string; metadata?: Json } = {}): V1Pod {
  const raw = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'job-0', namespace: 'nosana', creationTimestamp: iso(0), ...options.metadata },
    spec: {
      restartPolicy: options.restartPolicy ?? 'Never',
      containers: [{ name: 'op', image: 'ubuntu' }],
      ...(options.bound === false ? {} : { nodeName: NODE }),
    },
    status,
  };
  return JSON.parse(JSON.stringify(raw)) as V1Pod;
}

const opStatus = (state: Json, extra: Json = {}): Json => ({
  name: 'op',
  image: 'ubuntu',
  imageID: 'simulated://ubuntu',
  containerID: 'kwok://op',
  restartCount: 0,
  state,
  ...extra,
});

/** kwok-stages' pod-running (and pod-ready) stage: Running since `startedAt`, Ready or not. */
const kwokRunning = (ready: boolean, startedAt = 5): Json => ({
  phase: 'Running',
  startTime: iso(startedAt),
  conditions: [...SCHEDULED, ...(ready ? READY : NOT_READY)],
  containerStatuses: [opStatus({ running: { startedAt: iso(startedAt) } }, { ready, started: true })],
});

/** kwok-stages' pod-complete stage: run from 5 s to 30 s, then Succeeded for 0, Failed otherwise. */
const kwokComplete = (exitCode: number, reason: string): Json => ({
  phase: exitCode === 0 ? 'Succeeded' : 'Failed',
  startTime: iso(5),
  conditions: [...SCHEDULED, ...COMPLETED],
  containerStatuses: [
    opStatus({ terminated: { exitCode, reason, startedAt: iso(5), finishedAt: iso(30) } }, { ready: false, started: false }),
  ],
});

const PULL_MESSAGE = 'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nope:latest"';
/** kwok-stages' pod-pull-error stage. */
const kwokPullError: Json = {
  phase: 'Pending',
  startTime: iso(2),
  conditions: [...SCHEDULED, ...NOT_READY],
  containerStatuses: [
    opStatus({ waiting: { reason: 'ErrImagePull', message: PULL_MESSAGE } }, { imageID: '', ready: false, started: false }),
  ],
};

/** A real kubelet between restarts of a failing container (restartPolicy OnFailure). */
const BACK_OFF = 'back-off 40s restarting failed container=op pod=job-0_nosana(0c4f)';
const crashLooping: Json = {
  phase: 'Running',
  conditions: [...SCHEDULED, ...NOT_READY],
  containerStatuses: [
    opStatus(
      { waiting: { reason: 'CrashLoopBackOff', message: BACK_OFF } },
      { restartCount: 3, lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: iso(40), finishedAt: iso(45) } } },
    ),
  ],
};

const STOP: NonNullable<ObservedOp['stopRequested']> = { cause: { kind: 'job-expired' }, at: at(60) };
const DELETION = { deletionTimestamp: iso(70), deletionGracePeriodSeconds: 10 };
const EVICTION_MESSAGE = 'The node was low on resource: ephemeral-storage. Threshold quantity: 10Gi, available: 9Gi.';
const ADMISSION_MESSAGE = 'Allocate failed due to requested number of devices unavailable for nvidia.com/gpu. Requested: 1, Available: 0';

interface Case {
  reason: string;
  pod: V1Pod | undefined;
  marks?: RunnerMarks;
  now?: number;
  want: ObservedOp;
}

const RUNNING_READY: ObservedOp = { phase: 'ready', launchedAt: at(0), scheduled: true, startedAt: at(5), readyAt: NOW, restarts: 0 };

const podCases: Case[] = [
  {
    reason: 'a Pod the scheduler has not looked at yet is launched, not scheduled (it has no node)',
    pod: pod({ phase: 'Pending' }, { bound: false }),
    want: { phase: 'launched', launchedAt: at(0), scheduled: false, restarts: 0 },
  },
  {
    reason: "an unschedulable Pod is not scheduled and carries the scheduler's message",
    pod: pod(
      {
        phase: 'Pending',
        conditions: [
          condition('PodScheduled', 'False', {
            reason: 'Unschedulable',
            message: '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.',
          }),
        ],
      },
      { bound: false },
    ),
    want: {
      phase: 'launched',
      launchedAt: at(0),
      scheduled: false,
      unschedulableMessage: '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.',
      restarts: 0,
    },
  },
  {
    reason: 'a bound Pod whose container is being created waits with that reason, seen first now',
    pod: pod({
      phase: 'Pending',
      conditions: [condition('PodScheduled', 'True')],
      containerStatuses: [opStatus({ waiting: { reason: 'ContainerCreating' } })],
    }),
    want: { phase: 'launched', launchedAt: at(0), scheduled: true, waiting: { reason: 'ContainerCreating', since: NOW }, restarts: 0 },
  },
  {
    reason: 'a failing pull (KWOK pull-error stage) waits with ErrImagePull and its message',
    pod: pod(kwokPullError),
    want: {
      phase: 'launched',
      launchedAt: at(0),
      scheduled: true,
      waiting: { reason: 'ErrImagePull', message: PULL_MESSAGE, since: NOW },
      restarts: 0,
    },
  },
  {
    reason: 'a waiting reason seen before keeps the time it was first seen',
    pod: pod(kwokPullError),
    marks: { launchedAt: at(0), waitingSince: { ErrImagePull: at(10) } },
    want: {
      phase: 'launched',
      launchedAt: at(0),
      scheduled: true,
      waiting: { reason: 'ErrImagePull', message: PULL_MESSAGE, since: at(10) },
      restarts: 0,
    },
  },
  {
    reason: 'a running Pod that is Ready at once (KWOK pod-running) is ready, started when its container started, Ready from now',
    pod: pod(kwokRunning(true)),
    want: RUNNING_READY,
  },
  {
    reason: 'the same Pod with the Date timestamps of the client deserializer reads the same',
    pod: {
      ...pod(kwokRunning(true)),
      metadata: { name: 'job-0', creationTimestamp: new Date(at(0)) },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [
          { name: 'op', image: 'ubuntu', imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: new Date(at(5)) } } },
        ],
      },
    },
    want: RUNNING_READY,
  },
  {
    reason: 'a running Pod not Ready yet (KWOK ready-after) is running, without readyAt',
    pod: pod(kwokRunning(false)),
    want: { phase: 'running', launchedAt: at(0), scheduled: true, startedAt: at(5), restarts: 0 },
  },
  {
    reason: 'a Pod once Ready whose check fails again is running, and keeps when it was first Ready',
    pod: pod(kwokRunning(false)),
    marks: { launchedAt: at(0), readyAt: at(20) },
    want: { phase: 'running', launchedAt: at(0), scheduled: true, startedAt: at(5), readyAt: at(20), restarts: 0 },
  },
  {
    reason: 'a Pod that completed (KWOK pod-complete, exit 0) ended at its container finish with exit 0',
    pod: pod(kwokComplete(0, 'Completed')),
    want: {
      phase: 'ended',
      launchedAt: at(0),
      scheduled: true,
      startedAt: at(5),
      restarts: 0,
      endedAt: at(30),
      exitCode: 0,
      terminatedReason: 'Completed',
    },
  },
  {
    reason: 'an OOM-killed container (KWOK pod-complete, oom-killed) ended Failed and names OOMKilled',
    pod: pod(kwokComplete(137, 'OOMKilled')),
    want: {
      phase: 'ended',
      launchedAt: at(0),
      scheduled: true,
      startedAt: at(5),
      restarts: 0,
      endedAt: at(30),
      exitCode: 137,
      terminatedReason: 'OOMKilled',
    },
  },
  {
    reason: 'a container that exited 3 ended Failed with exit 3',
    pod: pod(kwokComplete(3, 'Error')),
    want: {
      phase: 'ended',
      launchedAt: at(0),
      scheduled: true,
      startedAt: at(5),
      restarts: 0,
      endedAt: at(30),
      exitCode: 3,
      terminatedReason: 'Error',
    },
  },
  {
    reason: 'under restartPolicy Never a terminated container has ended even before the Pod phase says so',
    pod: pod({
      phase: 'Running',
      conditions: [...SCHEDULED, ...NOT_READY],
      containerStatuses: [opStatus({ terminated: { exitCode: 0, reason: 'Completed', startedAt: iso(5), finishedAt: iso(30) } })],
    }),
    want: {
      phase: 'ended',
      launchedAt: at(0),
      scheduled: true,
      startedAt: at(5),
      restarts: 0,
      endedAt: at(30),
      exitCode: 0,
      terminatedReason: 'Completed',
    },
  },
  {
    reason:
      'a container in CrashLoopBackOff is running between restarts: it waits, counts its restarts and shows the exit of the run before',
    pod: pod(crashLooping, { restartPolicy: 'OnFailure' }),
    want: {
      phase: 'running',
      launchedAt: at(0),
      scheduled: true,
      waiting: { reason: 'CrashLoopBackOff', message: BACK_OFF, since: NOW },
      startedAt: at(40),
      restarts: 3,
      exitCode: 1,
      terminatedReason: 'Error',
    },
  },
  {
    reason: 'a restarted container running again and Ready is ready, with the previous exit kept',
    pod: pod(
      {
        phase: 'Running',
        conditions: [...SCHEDULED, ...READY],
        containerStatuses: [
          opStatus(
            { running: { startedAt: iso(50) } },
            { restartCount: 1, lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: iso(5), finishedAt: iso(45) } } },
          ),
        ],
      },
      { restartPolicy: 'OnFailure' },
    ),
    want: {
      phase: 'ready',
      launchedAt: at(0),
      scheduled: true,
      startedAt: at(50),
      readyAt: NOW,
      restarts: 1,
      exitCode: 1,
      terminatedReason: 'Error',
    },
  },
  {
    reason: "a container the runtime could not start (StartError, Docker's zero start time) ended and never started",
    pod: pod({
      phase: 'Failed',
      conditions: [...SCHEDULED, ...NOT_READY],
      containerStatuses: [
        opStatus({
          terminated: {
            exitCode: 128,
            reason: 'StartError',
            message: 'exec: "nope": executable file not found in $PATH',
            startedAt: '1970-01-01T00:00:00Z',
            finishedAt: iso(6),
          },
        }),
      ],
    }),
    want: {
      phase: 'ended',
      launchedAt: at(0),
      scheduled: true,
      restarts: 0,
      endedAt: at(6),
      exitCode: 128,
      terminatedReason: 'StartError',
    },
  },
  {
    reason: 'an op container found by its name, not by its position',
    pod: pod({
      phase: 'Pending',
      conditions: SCHEDULED,
      containerStatuses: [
        { name: 'sidecar', restartCount: 2, state: { running: { startedAt: iso(3) } } },
        opStatus({ waiting: { reason: 'ContainerCreating' } }),
      ],
    }),
    want: { phase: 'launched', launchedAt: at(0), scheduled: true, waiting: { reason: 'ContainerCreating', since: NOW }, restarts: 0 },
  },
  {
    reason: 'a resource download whose image cannot be pulled is what the op waits for, named by its init container',
    pod: pod({
      phase: 'Pending',
      conditions: [...SCHEDULED.slice(0, 1), condition('Initialized', 'False'), ...NOT_READY],
      initContainerStatuses: [
        {
          name: 'resource-0',
          restartCount: 0,
          state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "operator:1"' } },
        },
      ],
      containerStatuses: [opStatus({ waiting: { reason: 'PodInitializing' } })],
    }),
    want: {
      phase: 'launched',
      launchedAt: at(0),
      scheduled: true,
      waiting: { reason: 'ImagePullBackOff', message: 'resource-0: Back-off pulling image "operator:1"', since: NOW },
      restarts: 0,
    },
  },
  {
    reason: 'a failed resource download ends the Pod (Never) with the download exit code',
    pod: pod({
      phase: 'Failed',
      conditions: [...SCHEDULED.slice(0, 1), condition('Initialized', 'False'), ...NOT_READY],
      initContainerStatuses: [
        {
          name: 'resource-0',
          restartCount: 0,
          state: { terminated: { exitCode: 1, reason: 'Error', startedAt: iso(3), finishedAt: iso(20) } },
        },
      ],
      containerStatuses: [opStatus({ waiting: { reason: 'PodInitializing' } })],
    }),
    want: {
      phase: 'ended',
      launchedAt: at(0),
      scheduled: true,
      restarts: 0,
      endedAt: at(20),
      exitCode: 1,
      terminatedReason: 'Error',
      downloadFailure: 'resource-0 exited with code 1: Error',
    },
  },
  {
    reason: 'a download the kubelet retries (OnFailure) failed in its last run: the failure is seen while it backs off',
    pod: pod({
      phase: 'Pending',
      conditions: [...SCHEDULED.slice(0, 1), condition('Initialized', 'False'), ...NOT_READY],
      initContainerStatuses: [
        {
          name: 'resource-1',
          restartCount: 1,
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container' } },
          lastState: {
            terminated: { exitCode: 3, reason: 'Error', message: 'HF acme/model: 401 Unauthorized', startedAt: iso(3), finishedAt: iso(9) },
          },
        },
      ],
      containerStatuses: [opStatus({ waiting: { reason: 'PodInitializing' } })],
    }),
    want: {
      phase: 'launched',
      launchedAt: at(0),
      scheduled: true,
      waiting: { reason: 'CrashLoopBackOff', message: 'resource-1: back-off 10s restarting failed container', since: NOW },
      restarts: 0,
      downloadFailure: 'resource-1 exited with code 3: HF acme/model: 401 Unauthorized',
    },
  },
  {
    reason: "an evicted Pod (node pressure) ended and is a cluster loss with the kubelet's message",
    pod: pod({
      phase: 'Failed',
      reason: 'Evicted',
      message: EVICTION_MESSAGE,
      conditions: [
        condition('DisruptionTarget', 'True', { reason: 'TerminationByKubelet', message: EVICTION_MESSAGE }),
        ...SCHEDULED,
        ...NOT_READY,
      ],
      containerStatuses: [opStatus({ terminated: { exitCode: 137, reason: 'Error', startedAt: iso(5), finishedAt: iso(60) } })],
    }),
    want: {
      phase: 'ended',
      launchedAt: at(0),
      scheduled: true,
      startedAt: at(5),
      restarts: 0,
      endedAt: at(60),
      exitCode: 137,
      terminatedReason: 'Error',
      clusterLoss: { cause: 'evicted', message: EVICTION_MESSAGE },
    },
  },
  {
    reason: 'a Pod preempted by the scheduler is a cluster loss "preempted", not a plain deletion',
    pod: pod(
      {
        ...kwokRunning(true),
        conditions: [
          condition('DisruptionTarget', 'True', {
            reason: 'PreemptionByScheduler',
            message: 'default-scheduler: preempting to accommodate a higher priority pod',
          }),
          ...SCHEDULED,
          ...READY,
        ],
      },
      { metadata: DELETION },
    ),
    want: {
      ...RUNNING_READY,
      clusterLoss: { cause: 'preempted', message: 'default-scheduler: preempting to accommodate a higher priority pod' },
    },
  },
  {
    reason: 'a Pod the taint manager deletes (its node went NotReady/unreachable) lost its node',
    pod: pod(
      {
        ...kwokRunning(true),
        conditions: [
          condition('DisruptionTarget', 'True', {
            reason: 'DeletionByTaintManager',
            message: 'Taint manager: deleting due to NoExecute taint',
          }),
          ...SCHEDULED,
          ...READY,
        ],
      },
      { metadata: DELETION },
    ),
    want: { ...RUNNING_READY, clusterLoss: { cause: 'node-lost', message: 'Taint manager: deleting due to NoExecute taint' } },
  },
  {
    reason: 'a Pod the garbage collector deletes because its node object is gone lost its node',
    pod: pod(
      {
        ...kwokRunning(true),
        conditions: [
          condition('DisruptionTarget', 'True', { reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' }),
          ...SCHEDULED,
          ...READY,
        ],
      },
      { metadata: DELETION },
    ),
    want: { ...RUNNING_READY, clusterLoss: { cause: 'node-lost', message: 'PodGC: node no longer exists' } },
  },
  {
    reason: 'a Pod evicted through the Eviction API (a node drain) is evicted',
    pod: pod(
      {
        ...kwokRunning(true),
        conditions: [
          condition('DisruptionTarget', 'True', { reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' }),
          ...SCHEDULED,
          ...READY,
        ],
      },
      { metadata: DELETION },
    ),
    want: { ...RUNNING_READY, clusterLoss: { cause: 'evicted', message: 'Eviction API: evicting' } },
  },
  {
    reason: 'a Pod whose status reason is NodeLost (the node controller gave up on its node) lost its node',
    pod: pod({
      ...kwokRunning(true),
      phase: 'Unknown',
      reason: 'NodeLost',
      message: `Node ${NODE} which was running pod job-0 is unresponsive`,
    }),
    want: { ...RUNNING_READY, clusterLoss: { cause: 'node-lost', message: `Node ${NODE} which was running pod job-0 is unresponsive` } },
  },
  {
    reason: 'a DisruptionTarget condition that is False takes nothing away',
    pod: pod({
      ...kwokRunning(true),
      conditions: [condition('DisruptionTarget', 'False', { reason: 'PreemptionByScheduler' }), ...SCHEDULED, ...READY],
    }),
    want: RUNNING_READY,
  },
  {
    reason: 'a Pod being deleted that the runner did not ask to stop was deleted by someone else',
    pod: pod(kwokRunning(true), { metadata: DELETION }),
    want: { ...RUNNING_READY, clusterLoss: { cause: 'deleted', message: 'the Pod was deleted by someone other than the runner' } },
  },
  {
    reason: "a Pod being deleted because the runner stopped it is no loss; the runner's marks come through",
    pod: pod(kwokRunning(true), { metadata: DELETION }),
    marks: { launchedAt: at(0), stopRequested: STOP },
    want: { ...RUNNING_READY, stopRequested: STOP },
  },
  {
    reason: 'a Pod deleted by someone after its container had already ended by itself is no loss',
    pod: pod(kwokComplete(0, 'Completed'), { metadata: DELETION }),
    want: {
      phase: 'ended',
      launchedAt: at(0),
      scheduled: true,
      startedAt: at(5),
      restarts: 0,
      endedAt: at(30),
      exitCode: 0,
      terminatedReason: 'Completed',
    },
  },
  {
    reason: 'a Pod whose container was killed by a deletion someone else asked for (before it ended) was deleted, though it ended',
    pod: pod(
      {
        ...kwokComplete(143, 'Error'),
        containerStatuses: [opStatus({ terminated: { exitCode: 143, reason: 'Error', startedAt: iso(5), finishedAt: iso(62) } })],
      },
      { metadata: DELETION },
    ),
    want: {
      phase: 'ended',
      launchedAt: at(0),
      scheduled: true,
      startedAt: at(5),
      restarts: 0,
      endedAt: at(62),
      exitCode: 143,
      terminatedReason: 'Error',
      clusterLoss: { cause: 'deleted', message: 'the Pod was deleted by someone other than the runner' },
    },
  },
  {
    reason: 'a Pod the kubelet refused to admit (a GPU it could not allocate) never ran: a cluster loss, ended now',
    pod: pod({ phase: 'Failed', reason: 'UnexpectedAdmissionError', message: ADMISSION_MESSAGE }),
    want: {
      phase: 'ended',
      launchedAt: at(0),
      scheduled: true,
      restarts: 0,
      endedAt: NOW,
      clusterLoss: { cause: 'evicted', message: `the node refused the Pod (UnexpectedAdmissionError): ${ADMISSION_MESSAGE}` },
    },
  },
  {
    reason: "the runner's finished mark comes through unchanged",
    pod: pod(kwokComplete(0, 'Completed')),
    marks: { launchedAt: at(0), finished: 'success' },
    want: {
      phase: 'ended',
      launchedAt: at(0),
      scheduled: true,
      startedAt: at(5),
      restarts: 0,
      endedAt: at(30),
      exitCode: 0,
      terminatedReason: 'Completed',
      finished: 'success',
    },
  },
  {
    reason: 'a launch failure wins over anything else: the op failed to launch',
    pod: undefined,
    marks: { launchFailure: { cause: 'unresolved-literal', message: 'no value for %%ops.a.results.x%%' } },
    want: {
      phase: 'failed-to-launch',
      restarts: 0,
      launchFailure: { cause: 'unresolved-literal', message: 'no value for %%ops.a.results.x%%' },
    },
  },
];

const seenRunning: ObservedOp = { phase: 'ready', launchedAt: at(0), scheduled: true, startedAt: at(5), readyAt: at(6), restarts: 0 };
const seenEnded: ObservedOp = {
  phase: 'ended',
  launchedAt: at(0),
  scheduled: true,
  startedAt: at(5),
  restarts: 0,
  endedAt: at(30),
  exitCode: 0,
  terminatedReason: 'Completed',
};

const absentCases: Case[] = [
  { reason: 'an op never launched is waiting', pod: undefined, want: { phase: 'waiting', restarts: 0 } },
  {
    reason: 'a Pod just created but not yet in the informer is launched, not lost',
    pod: undefined,
    marks: { launchedAt: NOW - POD_APPEARANCE_GRACE_MS + 1 },
    want: { phase: 'launched', launchedAt: NOW - POD_APPEARANCE_GRACE_MS + 1, restarts: 0 },
  },
  {
    reason: 'a Pod never seen long after its creation was deleted by someone else',
    pod: undefined,
    marks: { launchedAt: NOW - POD_APPEARANCE_GRACE_MS },
    want: {
      phase: 'ended',
      launchedAt: NOW - POD_APPEARANCE_GRACE_MS,
      restarts: 0,
      endedAt: NOW,
      clusterLoss: { cause: 'deleted', message: 'the Pod disappeared' },
    },
  },
  {
    reason: 'a Pod gone after the runner asked it to stop has ended now, and what was seen of it stays known',
    pod: undefined,
    marks: { launchedAt: at(0), readyAt: at(6), stopRequested: STOP, lastSeen: { ...seenRunning, waiting: { reason: 'X', since: at(4) } } },
    want: {
      phase: 'ended',
      launchedAt: at(0),
      scheduled: true,
      startedAt: at(5),
      readyAt: at(6),
      restarts: 0,
      endedAt: NOW,
      stopRequested: STOP,
    },
  },
  {
    reason: 'a Pod gone after a stop keeps the time it was first found gone',
    pod: undefined,
    marks: { launchedAt: at(0), stopRequested: STOP, lastSeen: seenRunning, goneAt: at(90) },
    want: { ...seenRunning, phase: 'ended', endedAt: at(90), stopRequested: STOP },
  },
  {
    reason: 'a Pod still running when last seen, gone without a stop, was deleted by someone else',
    pod: undefined,
    marks: { launchedAt: at(0), lastSeen: seenRunning },
    want: { ...seenRunning, phase: 'ended', endedAt: NOW, clusterLoss: { cause: 'deleted', message: 'the Pod disappeared' } },
  },
  {
    reason: 'a Pod that had ended by itself and is gone keeps its end and exit, no loss',
    pod: undefined,
    marks: { launchedAt: at(0), lastSeen: seenEnded },
    want: seenEnded,
  },
  {
    reason: 'a Pod evicted and then gone keeps the eviction as its loss',
    pod: undefined,
    marks: { launchedAt: at(0), lastSeen: { ...seenEnded, exitCode: 137, clusterLoss: { cause: 'evicted', message: EVICTION_MESSAGE } } },
    want: { ...seenEnded, exitCode: 137, clusterLoss: { cause: 'evicted', message: EVICTION_MESSAGE } },
  },
];

describe('observePod', () => {
  for (const { reason, pod: observedPod, marks, now, want } of [...podCases, ...absentCases]) {
    test(reason, () => {
      const input = structuredClone(marks ?? {});
      const { observed } = observePod(observedPod, input, now ?? NOW);
      assert.deepEqual(observed, want);
      assert.deepEqual(input, marks ?? {}, 'the marks given are not changed');
    });
  }
});

describe('observePod across calls', () => {
  /** Observes the Pods in turn, each at its time, carrying the marks as the runner does. */
  function replay(
    steps: { pod: V1Pod | undefined; now: number }[],
    marks: RunnerMarks = { launchedAt: at(0) },
  ): { observed: ObservedOp[]; marks: RunnerMarks } {
    const observed: ObservedOp[] = [];
    for (const step of steps) {
      const next = observePod(step.pod, marks, step.now);
      observed.push(next.observed);
      marks = next.marks;
    }
    return { observed, marks };
  }

  test('a Pod the runner replaces for a failed check: the op runs on between the Pods (no loss), and the new Pod keeps the first start', () => {
    const replacing = { uid: 'old-uid', at: at(40) };
    const old = pod(kwokRunning(true), { metadata: { uid: 'old-uid', deletionTimestamp: iso(40) } });
    const fresh = pod({ ...kwokRunning(true), startTime: iso(50) }, { metadata: { uid: 'new-uid', creationTimestamp: iso(48) } });
    const first = replay([{ pod: pod(kwokRunning(true), { metadata: { uid: 'old-uid' } }), now: at(30) }]);
    const { observed, marks } = replay(
      [
        { pod: old, now: at(41) },
        { pod: undefined, now: at(45) },
        { pod: fresh, now: at(50) },
      ],
      { ...first.marks, replacing },
    );
    assert.deepEqual(
      observed.map(({ phase, clusterLoss, startedAt }) => ({ phase, clusterLoss, startedAt })),
      [
        { phase: 'running', clusterLoss: undefined, startedAt: first.observed[0]?.startedAt },
        { phase: 'running', clusterLoss: undefined, startedAt: first.observed[0]?.startedAt },
        { phase: 'ready', clusterLoss: undefined, startedAt: first.observed[0]?.startedAt },
      ],
    );
    assert.equal(marks.replacing, undefined, 'the mark is dropped once the new Pod is seen');
  });

  test('a stop asked for while a Pod is being replaced ends the op once the Pod is gone', () => {
    const first = replay([{ pod: pod(kwokRunning(true), { metadata: { uid: 'old-uid' } }), now: at(30) }]);
    const { observed } = replay([{ pod: undefined, now: at(45) }], {
      ...first.marks,
      replacing: { uid: 'old-uid', at: at(40) },
      stopRequested: STOP,
    });
    assert.equal(observed[0]?.phase, 'ended');
    assert.equal(observed[0]?.clusterLoss, undefined);
  });

  test('readyAt is the first time the Pod was seen Ready, kept when the condition flips back', () => {
    const { observed, marks } = replay([
      { pod: pod(kwokRunning(false)), now: at(10) },
      { pod: pod(kwokRunning(true)), now: at(20) },
      { pod: pod(kwokRunning(false)), now: at(30) },
    ]);
    assert.deepEqual(
      observed.map(({ phase, readyAt }) => ({ phase, readyAt })),
      [
        { phase: 'running', readyAt: undefined },
        { phase: 'ready', readyAt: at(20) },
        { phase: 'running', readyAt: at(20) },
      ],
    );
    assert.equal(marks.readyAt, at(20));
  });

  test('each waiting reason counts from the first time it was seen, through alternations', () => {
    const backOff = pod({
      ...kwokPullError,
      containerStatuses: [opStatus({ waiting: { reason: 'ImagePullBackOff', message: 'Back-off' } })],
    });
    const { observed, marks } = replay([
      { pod: pod(kwokPullError), now: at(10) },
      { pod: backOff, now: at(20) },
      { pod: pod(kwokPullError), now: at(50) },
    ]);
    assert.deepEqual(
      observed.map(({ waiting }) => [waiting?.reason, waiting?.since]),
      [
        ['ErrImagePull', at(10)],
        ['ImagePullBackOff', at(20)],
        ['ErrImagePull', at(10)],
      ],
    );
    assert.deepEqual(marks.waitingSince, { ErrImagePull: at(10), ImagePullBackOff: at(20) });
  });

  test('startedAt stays the first start of the container across restarts (execution.timeout counts from it)', () => {
    const { observed } = replay([
      { pod: pod(kwokRunning(true), { restartPolicy: 'OnFailure' }), now: at(10) },
      { pod: pod(crashLooping, { restartPolicy: 'OnFailure' }), now: at(46) },
    ]);
    assert.deepEqual(
      observed.map(({ startedAt, restarts }) => ({ startedAt, restarts })),
      [
        { startedAt: at(5), restarts: 0 },
        { startedAt: at(5), restarts: 3 },
      ],
    );
  });

  test('a Pod stopped by the runner and then gone ends once, at the time it was first found gone', () => {
    const { observed, marks } = replay(
      [
        { pod: pod(kwokRunning(true)), now: at(50) },
        { pod: undefined, now: at(62) },
        { pod: undefined, now: at(80) },
      ],
      { launchedAt: at(0), stopRequested: STOP },
    );
    assert.deepEqual(observed[1], { ...RUNNING_READY, readyAt: at(50), phase: 'ended', endedAt: at(62), stopRequested: STOP });
    assert.deepEqual(observed[2], observed[1]);
    assert.equal(marks.goneAt, at(62));
  });

  test("a Pod seen without the runner's launch mark records its creation, so it is not launched twice", () => {
    const { marks } = replay([{ pod: pod(kwokRunning(true)), now: at(10) }], {});
    assert.equal(marks.launchedAt, at(0));
  });

  test('a Pod that disappears within the grace of its creation was still seen: it is lost at once', () => {
    const { observed } = replay([
      { pod: pod(kwokRunning(true)), now: at(6) },
      { pod: undefined, now: at(7) },
    ]);
    assert.deepEqual(observed[1]?.clusterLoss, { cause: 'deleted', message: 'the Pod disappeared' });
  });
});

describe('podPhaseForVolume', () => {
  test('a volume op whose claim exists ended with exit 0, started and ended at its creation', () => {
    assert.deepEqual(podPhaseForVolume(true, at(3)), {
      phase: 'ended',
      launchedAt: at(3),
      startedAt: at(3),
      endedAt: at(3),
      restarts: 0,
      exitCode: 0,
    });
  });
  test('a volume op without a claim is waiting', () => {
    assert.deepEqual(podPhaseForVolume(false), { phase: 'waiting', restarts: 0 });
  });
});
