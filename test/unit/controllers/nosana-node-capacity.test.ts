// Whether one more job of a NosanaNode can start on the cluster now, as tables: Nodes, Pods, DRA
// objects and the other NosanaNodes' reservations → the node it would run on and the GPUs left
// there, or the reason a user reads for not joining the queue. Each row's reason is its
// specification. Then: the verdict does not depend on listing order, the scheduler's Pod request
// rule, and whether a claimed job's plan fits what its NosanaNode reserved.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ResourceV1ResourceClaim, V1Container, V1DeviceClass, V1Node, V1Pod, V1ResourceSlice, V1Taint } from '@kubernetes/client-node';
import {
  judgeCapacity,
  planFitsReservation,
  podRequest,
  tolerates,
  watchesCapacity,
} from '../../../src/controllers/nosana-node/capacity.ts';
import type { NosanaNodeObject } from '../../../src/api/crds/nosana-node.ts';
import type {
  CapacityCause,
  CapacityWorld,
  DraObjects,
  JobPlacement,
  JobToleration,
  Reservation,
} from '../../../src/controllers/nosana-node/capacity.ts';
import { NODE_LABEL } from '../../../src/executor/labels.ts';
import { isPlan, planJob } from '../../../src/executor/plan.ts';
import type { Plan } from '../../../src/executor/plan.ts';

const GPU = 'nvidia.com/gpu';
const DRIVER = 'gpu.nosana.local';
const CLASS = 'gpu.nosana.local';
const OTHER_ADDRESS = '9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin';
const THIRD_ADDRESS = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v';

// ---------------------------------------------------------------------------------------------
// Objects

interface NodeShape {
  gpus?: number;
  resource?: string;
  labels?: Record<string, string>;
  taints?: V1Taint[];
  unschedulable?: boolean;
  ready?: boolean | 'missing';
}

function node(name: string, shape: NodeShape = {}): V1Node {
  const ready = shape.ready ?? true;
  const allocatable: Record<string, string> = { cpu: '64', memory: '512Gi', pods: '110' };
  if (shape.gpus !== undefined) allocatable[shape.resource ?? GPU] = String(shape.gpus);
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...shape.labels } },
    spec: {
      ...(shape.taints === undefined ? {} : { taints: shape.taints }),
      ...(shape.unschedulable === true ? { unschedulable: true } : {}),
    },
    status: {
      allocatable,
      conditions: ready === 'missing' ? [] : [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  };
}

const gpuNode = (index: number, gpus: number, shape: Omit<NodeShape, 'gpus'> = {}): V1Node => node(`gpu-node-${index}`, { gpus, ...shape });

function container(name: string, gpus: number | string | undefined, how: 'requests' | 'limits' = 'requests'): V1Container {
  const quantities: Record<string, string> = gpus === undefined ? {} : { [GPU]: String(gpus) };
  return { name, image: 'ubuntu', resources: how === 'requests' ? { requests: quantities, limits: quantities } : { limits: quantities } };
}

interface PodShape {
  phase?: string;
  /** GPUs per container; one container unless given. */
  containers?: (number | string | undefined)[];
  init?: { gpus: number; sidecar?: boolean }[];
  owner?: string;
  limitsOnly?: boolean;
  overhead?: number;
}

function pod(name: string, nodeName: string | undefined, gpus: number | string, shape: PodShape = {}): V1Pod {
  const how = shape.limitsOnly === true ? 'limits' : 'requests';
  return {
    metadata: { name, namespace: 'jobs', ...(shape.owner === undefined ? {} : { labels: { [NODE_LABEL]: shape.owner } }) },
    spec: {
      ...(nodeName === undefined ? {} : { nodeName }),
      containers: (shape.containers ?? [gpus]).map((count, index) => container(`c${index}`, count, how)),
      ...(shape.init === undefined
        ? {}
        : {
            initContainers: shape.init.map(({ gpus: count, sidecar }, index) => ({
              ...container(`i${index}`, count),
              ...(sidecar === true ? { restartPolicy: 'Always' } : {}),
            })),
          }),
      ...(shape.overhead === undefined ? {} : { overhead: { [GPU]: String(shape.overhead) } }),
    },
    status: { phase: shape.phase ?? 'Running' },
  };
}

function deviceClass(name: string, expressions: string[]): V1DeviceClass {
  return { metadata: { name }, spec: { selectors: expressions.map((expression) => ({ cel: { expression } })) } };
}

const DRIVER_CLASS = deviceClass(CLASS, [`device.driver == "${DRIVER}"`]);

function slice(
  nodeName: string | undefined,
  devices: number,
  shape: { driver?: string; generation?: number; pool?: string } = {},
): V1ResourceSlice {
  const pool = shape.pool ?? nodeName ?? 'shared';
  return {
    metadata: { name: `${pool}-${shape.generation ?? 1}` },
    spec: {
      driver: shape.driver ?? DRIVER,
      ...(nodeName === undefined ? { allNodes: true } : { nodeName }),
      pool: { name: pool, generation: shape.generation ?? 1, resourceSliceCount: 1 },
      devices: Array.from({ length: devices }, (_, index) => ({ name: `gpu-${index}` })),
    },
  };
}

function claim(
  name: string,
  pool: string,
  devices: number[],
  shape: { owner?: string; adminAccess?: boolean } = {},
): ResourceV1ResourceClaim {
  return {
    metadata: { name, namespace: 'jobs', ...(shape.owner === undefined ? {} : { labels: { [NODE_LABEL]: shape.owner } }) },
    spec: { devices: { requests: [{ name: 'gpu', exactly: { deviceClassName: CLASS } }] } },
    status: {
      allocation: {
        devices: {
          results: devices.map((index) => ({
            request: 'gpu',
            driver: DRIVER,
            pool,
            device: `gpu-${index}`,
            ...(shape.adminAccess === true ? { adminAccess: true } : {}),
          })),
        },
      },
    },
  };
}

const dra = (shape: Partial<DraObjects> = {}): DraObjects => ({
  deviceClasses: shape.deviceClasses ?? [DRIVER_CLASS],
  resourceSlices: shape.resourceSlices ?? [],
  resourceClaims: shape.resourceClaims ?? [],
});

// ---------------------------------------------------------------------------------------------
// Placements

const plugin = (gpusPerJob: number, extra: Partial<JobPlacement> = {}): JobPlacement => ({ gpuResourceName: GPU, gpusPerJob, ...extra });
const draPlacement = (count: number, extra: Partial<JobPlacement> = {}, deviceClassName = CLASS): JobPlacement => ({
  gpuResourceName: GPU,
  gpusPerJob: 1,
  dra: { deviceClassName, count },
  ...extra,
});
const reservation = (name: string, placement: JobPlacement, nodeAddress?: string): Reservation => ({
  name,
  placement,
  ...(nodeAddress === undefined ? {} : { nodeAddress }),
});

const TAINT: V1Taint = { key: 'dedicated', value: 'ml', effect: 'NoSchedule' };

// ---------------------------------------------------------------------------------------------
// The table

type Want = { fits: true; node: string; freeAfter: number } | { fits: false; cause: CapacityCause; reason: string };

interface Row {
  reason: string;
  placement: JobPlacement;
  world: Partial<CapacityWorld>;
  want: Want;
}

const fits = (nodeName: string, freeAfter: number): Want => ({ fits: true, node: nodeName, freeAfter });
const refused = (cause: CapacityCause, reason: string): Want => ({ fits: false, cause, reason });

const rows: Row[] = [
  // Nodes
  {
    reason: 'a Ready node with free GPUs: the job fits there, and the rest stays free',
    placement: plugin(1),
    world: { nodes: [gpuNode(0, 4)] },
    want: fits('gpu-node-0', 3),
  },
  {
    reason: 'a cluster without nodes has nowhere to run a job',
    placement: plugin(1),
    world: { nodes: [] },
    want: refused('NoSuitableNode', 'the cluster has no nodes'),
  },
  {
    reason: 'no node advertises the GPU resource: the device plugin is the likely culprit',
    placement: plugin(1),
    world: { nodes: [node('cpu-node')] },
    want: refused('NoSuitableNode', 'no node advertises nvidia.com/gpu (is its device plugin running?)'),
  },
  {
    reason: 'GPUs under another resource name are not the ones job Pods request',
    placement: plugin(1, { gpuResourceName: 'amd.com/gpu' }),
    world: { nodes: [gpuNode(0, 4)] },
    want: refused('NoSuitableNode', 'no node advertises amd.com/gpu (is its device plugin running?)'),
  },
  {
    reason: 'a NotReady node takes no job Pods, however many GPUs it has',
    placement: plugin(1),
    world: { nodes: [gpuNode(0, 4, { ready: false })] },
    want: refused('NoSuitableNode', 'no Ready node has nvidia.com/gpu: gpu-node-0 is not Ready'),
  },
  {
    reason: 'a node that reports no Ready condition is not Ready',
    placement: plugin(1),
    world: { nodes: [gpuNode(0, 4, { ready: 'missing' })] },
    want: refused('NoSuitableNode', 'no Ready node has nvidia.com/gpu: gpu-node-0 is not Ready'),
  },
  {
    reason: 'no GPU node matches the nodeSelector: the selector is named',
    placement: plugin(1, { nodeSelector: { gpu: 'a100' } }),
    world: { nodes: [gpuNode(0, 4, { labels: { gpu: 'h100' } })] },
    want: refused(
      'NoSuitableNode',
      'no Ready node matching nodeSelector gpu=a100 has nvidia.com/gpu: gpu-node-0 does not match nodeSelector gpu=a100',
    ),
  },
  {
    reason: 'the nodeSelector picks the matching node even when another has more free',
    placement: plugin(1, { nodeSelector: { gpu: 'a100' } }),
    world: { nodes: [gpuNode(0, 8, { labels: { gpu: 'h100' } }), gpuNode(1, 2, { labels: { gpu: 'a100' } })] },
    want: fits('gpu-node-1', 1),
  },
  {
    reason: 'every label of the nodeSelector must match',
    placement: plugin(1, { nodeSelector: { gpu: 'a100', zone: 'eu' } }),
    world: { nodes: [gpuNode(0, 4, { labels: { gpu: 'a100', zone: 'us' } }), gpuNode(1, 4, { labels: { gpu: 'a100', zone: 'eu' } })] },
    want: fits('gpu-node-1', 3),
  },
  {
    reason: 'a cordoned node takes no new Pods',
    placement: plugin(1),
    world: { nodes: [gpuNode(0, 4, { unschedulable: true })] },
    want: refused('NoSuitableNode', 'no node with nvidia.com/gpu takes job Pods: gpu-node-0 is cordoned'),
  },
  {
    reason: 'a cordoned node takes Pods that tolerate its unschedulable taint',
    placement: plugin(1, { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] }),
    world: { nodes: [gpuNode(0, 4, { unschedulable: true })] },
    want: fits('gpu-node-0', 3),
  },
  {
    reason: 'a NoSchedule taint the Pods do not tolerate keeps them off the node',
    placement: plugin(1),
    world: { nodes: [gpuNode(0, 4, { taints: [TAINT] })] },
    want: refused(
      'NoSuitableNode',
      'no node with nvidia.com/gpu takes job Pods: gpu-node-0 has taint dedicated=ml:NoSchedule, not tolerated',
    ),
  },
  {
    reason: 'a NoSchedule taint tolerated by key and value lets the Pods on',
    placement: plugin(1, { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ml', effect: 'NoSchedule' }] }),
    world: { nodes: [gpuNode(0, 4, { taints: [TAINT] })] },
    want: fits('gpu-node-0', 3),
  },
  {
    reason: 'an Equal toleration with another value does not tolerate the taint',
    placement: plugin(1, { tolerations: [{ key: 'dedicated', value: 'web' }] }),
    world: { nodes: [gpuNode(0, 4, { taints: [TAINT] })] },
    want: refused(
      'NoSuitableNode',
      'no node with nvidia.com/gpu takes job Pods: gpu-node-0 has taint dedicated=ml:NoSchedule, not tolerated',
    ),
  },
  {
    reason: 'an Exists toleration without an effect tolerates a NoExecute taint of its key',
    placement: plugin(1, { tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }] }),
    world: { nodes: [gpuNode(0, 4, { taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoExecute' }] })] },
    want: fits('gpu-node-0', 3),
  },
  {
    reason: 'a toleration for NoSchedule does not tolerate the same taint as NoExecute',
    placement: plugin(1, { tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] }),
    world: { nodes: [gpuNode(0, 4, { taints: [{ key: 'nvidia.com/gpu', effect: 'NoExecute' }] })] },
    want: refused(
      'NoSuitableNode',
      'no node with nvidia.com/gpu takes job Pods: gpu-node-0 has taint nvidia.com/gpu:NoExecute, not tolerated',
    ),
  },
  {
    reason: 'a PreferNoSchedule taint only lowers a score: the node still takes the Pods',
    placement: plugin(1),
    world: { nodes: [gpuNode(0, 4, { taints: [{ ...TAINT, effect: 'PreferNoSchedule' }] })] },
    want: fits('gpu-node-0', 3),
  },
  {
    reason: 'an Exists toleration without a key tolerates every taint',
    placement: plugin(1, { tolerations: [{ operator: 'Exists' }] }),
    world: { nodes: [gpuNode(0, 4, { taints: [TAINT, { key: 'other', effect: 'NoExecute' }] })] },
    want: fits('gpu-node-0', 3),
  },
  {
    reason: 'a Ready node whose not-ready taint has not been lifted yet takes Pods: every Pod tolerates it for a while',
    placement: plugin(1),
    world: { nodes: [gpuNode(0, 4, { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] })] },
    want: fits('gpu-node-0', 3),
  },
  {
    reason: 'excluded nodes are grouped by cause, at most three named per cause',
    placement: plugin(1),
    world: { nodes: [0, 1, 2, 3, 4].map((index) => gpuNode(index, 4, { ready: false })).concat(gpuNode(5, 4, { taints: [TAINT] })) },
    want: refused(
      'NoSuitableNode',
      'no node with nvidia.com/gpu takes job Pods: gpu-node-0, gpu-node-1, gpu-node-2 and 2 more are not Ready; gpu-node-5 has taint dedicated=ml:NoSchedule, not tolerated',
    ),
  },
  {
    reason: 'nodes without the GPU resource are left out of the explanation',
    placement: plugin(1),
    world: { nodes: [node('cpu-node', { ready: false }), gpuNode(0, 4, { ready: false })] },
    want: refused('NoSuitableNode', 'no Ready node has nvidia.com/gpu: gpu-node-0 is not Ready'),
  },
  {
    reason: 'no node that takes job Pods has as many GPUs as one job gets: waiting will not help',
    placement: plugin(4),
    world: { nodes: [gpuNode(0, 2), gpuNode(1, 3), gpuNode(2, 8, { ready: false })] },
    want: refused(
      'NoSuitableNode',
      'no node that takes job Pods has 4 of nvidia.com/gpu: the largest, gpu-node-1, has 3 of nvidia.com/gpu',
    ),
  },
  {
    reason: 'the node with the most free GPUs is named, as the scheduler spreads',
    placement: plugin(1),
    world: { nodes: [gpuNode(0, 2), gpuNode(1, 4)] },
    want: fits('gpu-node-1', 3),
  },
  {
    reason: 'between equally free nodes, the first by name',
    placement: plugin(2),
    world: { nodes: [gpuNode(1, 4), gpuNode(0, 4)] },
    want: fits('gpu-node-0', 2),
  },

  // Pods
  {
    reason: 'running Pods hold their GPUs: the largest free share is reported against the need',
    placement: plugin(2),
    world: { nodes: [gpuNode(0, 4), gpuNode(1, 4)], pods: [pod('a', 'gpu-node-0', 3), pod('b', 'gpu-node-1', 3)] },
    want: refused('GpusInUse', 'largest free: 1 of nvidia.com/gpu on gpu-node-0; needs 2'),
  },
  {
    reason: 'Succeeded and Failed Pods hold nothing',
    placement: plugin(4),
    world: {
      nodes: [gpuNode(0, 4)],
      pods: [pod('done', 'gpu-node-0', 2, { phase: 'Succeeded' }), pod('crashed', 'gpu-node-0', 2, { phase: 'Failed' })],
    },
    want: fits('gpu-node-0', 0),
  },
  {
    reason: 'a Pending Pod bound to a node (pulling its image) already holds its GPUs',
    placement: plugin(1),
    world: { nodes: [gpuNode(0, 4)], pods: [pod('pulling', 'gpu-node-0', 4, { phase: 'Pending' })] },
    want: refused('GpusInUse', 'largest free: 0 of nvidia.com/gpu on gpu-node-0; needs 1'),
  },
  {
    reason: 'a Pod not yet bound to a node holds nothing on any node',
    placement: plugin(4),
    world: { nodes: [gpuNode(0, 4)], pods: [pod('unbound', undefined, 4, { phase: 'Pending' })] },
    want: fits('gpu-node-0', 0),
  },
  {
    reason: 'Pods on other nodes do not touch this one',
    placement: plugin(4),
    world: { nodes: [gpuNode(0, 4)], pods: [pod('elsewhere', 'gpu-node-9', 4)] },
    want: fits('gpu-node-0', 0),
  },
  {
    reason: 'an init container asking for more than the containers sets the Pod’s request',
    placement: plugin(1),
    world: { nodes: [gpuNode(0, 4)], pods: [pod('init', 'gpu-node-0', 1, { init: [{ gpus: 4 }] })] },
    want: refused('GpusInUse', 'largest free: 0 of nvidia.com/gpu on gpu-node-0; needs 1'),
  },
  {
    reason: 'init containers run one at a time: the containers’ sum wins over a smaller init container',
    placement: plugin(1),
    world: { nodes: [gpuNode(0, 4)], pods: [pod('sum', 'gpu-node-0', 0, { containers: [1, 2], init: [{ gpus: 2 }, { gpus: 1 }] })] },
    want: fits('gpu-node-0', 0),
  },
  {
    reason: 'a Pod with only limits requests what it limits',
    placement: plugin(2),
    world: { nodes: [gpuNode(0, 4)], pods: [pod('limits', 'gpu-node-0', 3, { limitsOnly: true })] },
    want: refused('GpusInUse', 'largest free: 1 of nvidia.com/gpu on gpu-node-0; needs 2'),
  },
  {
    reason: 'a request that is not a whole number cannot be counted: its node counts as full',
    placement: plugin(1),
    world: { nodes: [gpuNode(0, 4)], pods: [pod('odd', 'gpu-node-0', '1.5')] },
    want: refused('GpusInUse', 'largest free: 0 of nvidia.com/gpu on gpu-node-0; needs 1'),
  },

  // Reservations of other NosanaNodes
  {
    reason: 'another NosanaNode in the queue holds its GPUs though it has no Pods yet',
    placement: plugin(3),
    world: { nodes: [gpuNode(0, 4)], reservations: [reservation('nnode-b', plugin(2))] },
    want: refused('GpusInUse', 'largest free: 2 of nvidia.com/gpu on gpu-node-0 (after 2 reserved for nnode-b); needs 3'),
  },
  {
    reason: 'the GPUs a reservation leaves are free for this one',
    placement: plugin(2),
    world: { nodes: [gpuNode(0, 4)], reservations: [reservation('nnode-b', plugin(2))] },
    want: fits('gpu-node-0', 0),
  },
  {
    reason: 'two reservations on the last two GPUs: this NosanaNode must not join on them too',
    placement: plugin(1),
    world: {
      nodes: [gpuNode(0, 4)],
      pods: [pod('busy', 'gpu-node-0', 2)],
      reservations: [reservation('nnode-b', plugin(1)), reservation('nnode-c', plugin(1))],
    },
    want: refused(
      'GpusInUse',
      'largest free: 0 of nvidia.com/gpu on gpu-node-0 (after 1 reserved for nnode-b, 1 reserved for nnode-c); needs 1',
    ),
  },
  {
    reason: 'a running reservation’s own Pods are its share: counted once, not again as a reservation',
    placement: plugin(2),
    world: {
      nodes: [gpuNode(0, 4)],
      pods: [pod('its-op', 'gpu-node-0', 2, { owner: OTHER_ADDRESS })],
      reservations: [reservation('nnode-b', plugin(2), OTHER_ADDRESS)],
    },
    want: fits('gpu-node-0', 0),
  },
  {
    reason: 'a reservation whose first Pod is bound holds the rest of its share on that node',
    placement: plugin(2),
    world: {
      nodes: [gpuNode(0, 2), gpuNode(1, 3)],
      pods: [pod('its-op', 'gpu-node-1', 1, { owner: OTHER_ADDRESS })],
      reservations: [reservation('nnode-b', plugin(2), OTHER_ADDRESS)],
    },
    want: fits('gpu-node-0', 0),
  },
  {
    reason: 'a finished Pod of a reservation no longer holds GPUs: its share is reserved again',
    placement: plugin(3),
    world: {
      nodes: [gpuNode(0, 4)],
      pods: [pod('its-op', 'gpu-node-0', 2, { owner: OTHER_ADDRESS, phase: 'Succeeded' })],
      reservations: [reservation('nnode-b', plugin(2), OTHER_ADDRESS)],
    },
    want: refused('GpusInUse', 'largest free: 2 of nvidia.com/gpu on gpu-node-0 (after 2 reserved for nnode-b); needs 3'),
  },
  {
    reason: 'a reservation of another GPU resource draws on other GPUs',
    placement: plugin(4),
    world: { nodes: [gpuNode(0, 4)], reservations: [reservation('nnode-amd', plugin(4, { gpuResourceName: 'amd.com/gpu' }))] },
    want: fits('gpu-node-0', 0),
  },
  {
    reason: 'a reservation goes where its own nodeSelector allows, not where this job would',
    placement: plugin(4),
    world: {
      nodes: [gpuNode(0, 4), gpuNode(1, 8, { labels: { gpu: 'h100' } })],
      reservations: [reservation('nnode-h100', plugin(4, { nodeSelector: { gpu: 'h100' } }))],
    },
    want: fits('gpu-node-0', 0),
  },
  {
    reason: 'a reservation with nothing bound goes to the node with the most free GPUs',
    placement: plugin(3),
    world: { nodes: [gpuNode(0, 4), gpuNode(1, 3)], reservations: [reservation('nnode-b', plugin(2))] },
    want: fits('gpu-node-1', 0),
  },
  {
    reason: 'reservations are placed largest first, so a small one does not strand a large one',
    placement: plugin(1),
    world: { nodes: [gpuNode(0, 3), gpuNode(1, 2)], reservations: [reservation('nnode-a', plugin(1)), reservation('nnode-b', plugin(3))] },
    want: fits('gpu-node-1', 0),
  },
  {
    reason: 'a reservation that fits nowhere waits for GPUs: the nodes it could use are left to it',
    placement: plugin(1),
    world: { nodes: [gpuNode(0, 4)], pods: [pod('busy', 'gpu-node-0', 2)], reservations: [reservation('nnode-b', plugin(4))] },
    want: refused('GpusInUse', 'gpu-node-0 is left to nnode-b (4 of nvidia.com/gpu), waiting for GPUs no node has free'),
  },
  {
    reason: 'a waiting reservation is mentioned beside the largest free share of the nodes left open',
    placement: plugin(2),
    world: {
      nodes: [gpuNode(0, 4), gpuNode(1, 2)],
      pods: [pod('busy', 'gpu-node-0', 2), pod('small', 'gpu-node-1', 1)],
      reservations: [reservation('nnode-b', plugin(4))],
    },
    want: refused(
      'GpusInUse',
      'largest free: 1 of nvidia.com/gpu on gpu-node-1; needs 2; gpu-node-0 is left to nnode-b (4 of nvidia.com/gpu), waiting for GPUs no node has free',
    ),
  },
  {
    reason: 'a reservation no node could ever hold does not keep this one out',
    placement: plugin(1),
    world: { nodes: [gpuNode(0, 4)], reservations: [reservation('nnode-huge', plugin(8))] },
    want: fits('gpu-node-0', 3),
  },
  {
    reason: 'a DRA reservation does not draw on device-plugin GPUs',
    placement: plugin(4),
    world: {
      nodes: [gpuNode(0, 4)],
      reservations: [reservation('nnode-dra', draPlacement(4))],
      dra: dra({ resourceSlices: [slice('gpu-node-0', 4)] }),
    },
    want: fits('gpu-node-0', 0),
  },

  // DRA
  {
    reason: 'DRA: the devices a node-local ResourceSlice lists for the class’s driver are its GPUs',
    placement: draPlacement(1),
    world: { nodes: [gpuNode(0, 0)], dra: dra({ resourceSlices: [slice('gpu-node-0', 4)] }) },
    want: fits('gpu-node-0', 3),
  },
  {
    reason: 'DRA: devices named in a claim’s allocation are taken',
    placement: draPlacement(2),
    world: {
      nodes: [gpuNode(0, 0)],
      dra: dra({ resourceSlices: [slice('gpu-node-0', 4)], resourceClaims: [claim('busy', 'gpu-node-0', [0, 1, 2])] }),
    },
    want: refused('GpusInUse', 'largest free: 1 device of DeviceClass gpu.nosana.local on gpu-node-0; needs 2'),
  },
  {
    reason: 'DRA: a claim with admin access looks at a device without taking it',
    placement: draPlacement(4),
    world: {
      nodes: [gpuNode(0, 0)],
      dra: dra({
        resourceSlices: [slice('gpu-node-0', 4)],
        resourceClaims: [claim('monitor', 'gpu-node-0', [0, 1], { adminAccess: true })],
      }),
    },
    want: fits('gpu-node-0', 0),
  },
  {
    reason: 'DRA: devices of another driver are not the class’s',
    placement: draPlacement(1),
    world: { nodes: [gpuNode(0, 4)], dra: dra({ resourceSlices: [slice('gpu-node-0', 4, { driver: 'gpu.nvidia.com' })] }) },
    want: refused('NoSuitableNode', 'no ResourceSlice lists devices of driver gpu.nosana.local (DeviceClass gpu.nosana.local) on a node'),
  },
  {
    reason: 'DRA: only the newest generation of a pool counts',
    placement: draPlacement(3),
    world: {
      nodes: [gpuNode(0, 0)],
      dra: dra({ resourceSlices: [slice('gpu-node-0', 4, { generation: 1 }), slice('gpu-node-0', 2, { generation: 2 })] }),
    },
    want: refused(
      'NoSuitableNode',
      'no node that takes job Pods has 3 devices of DeviceClass gpu.nosana.local: the largest, gpu-node-0, has 2 devices of DeviceClass gpu.nosana.local',
    ),
  },
  {
    reason: 'DRA: devices shared by several nodes (a slice without a node name) are not judged',
    placement: draPlacement(1),
    world: { nodes: [gpuNode(0, 0)], dra: dra({ resourceSlices: [slice(undefined, 4)] }) },
    want: refused('NoSuitableNode', 'no ResourceSlice lists devices of driver gpu.nosana.local (DeviceClass gpu.nosana.local) on a node'),
  },
  {
    reason: 'DRA: node rules hold as in device-plugin mode (a tainted node is out)',
    placement: draPlacement(1),
    world: {
      nodes: [gpuNode(0, 0, { taints: [TAINT] }), gpuNode(1, 0)],
      dra: dra({ resourceSlices: [slice('gpu-node-0', 8), slice('gpu-node-1', 1)] }),
    },
    want: fits('gpu-node-1', 0),
  },
  {
    reason: 'DRA: a driver selector in single quotes is the same selector',
    placement: draPlacement(1),
    world: {
      nodes: [gpuNode(0, 0)],
      dra: dra({ deviceClasses: [deviceClass(CLASS, [`device.driver=='${DRIVER}'`])], resourceSlices: [slice('gpu-node-0', 2)] }),
    },
    want: fits('gpu-node-0', 1),
  },
  {
    reason: 'DRA: another NosanaNode’s allocated claim is its share, counted once',
    placement: draPlacement(2),
    world: {
      nodes: [gpuNode(0, 0)],
      reservations: [reservation('nnode-b', draPlacement(2), OTHER_ADDRESS)],
      dra: dra({
        resourceSlices: [slice('gpu-node-0', 4)],
        resourceClaims: [claim('its-claim', 'gpu-node-0', [0, 1], { owner: OTHER_ADDRESS })],
      }),
    },
    want: fits('gpu-node-0', 0),
  },
  {
    reason: 'DRA: a queued NosanaNode without a claim yet reserves its count of devices',
    placement: draPlacement(3),
    world: {
      nodes: [gpuNode(0, 0)],
      reservations: [reservation('nnode-b', draPlacement(2), OTHER_ADDRESS)],
      dra: dra({ resourceSlices: [slice('gpu-node-0', 4)] }),
    },
    want: refused(
      'GpusInUse',
      'largest free: 2 devices of DeviceClass gpu.nosana.local on gpu-node-0 (after 2 reserved for nnode-b); needs 3',
    ),
  },
  {
    reason: 'DRA: a reservation whose DeviceClass cannot be read is counted against these devices',
    placement: draPlacement(3),
    world: {
      nodes: [gpuNode(0, 0)],
      reservations: [reservation('nnode-odd', draPlacement(2, {}, 'missing-class'), THIRD_ADDRESS)],
      dra: dra({ resourceSlices: [slice('gpu-node-0', 4)] }),
    },
    want: refused(
      'GpusInUse',
      'largest free: 2 devices of DeviceClass gpu.nosana.local on gpu-node-0 (after 2 reserved for nnode-odd); needs 3',
    ),
  },
  {
    reason: 'DRA: a DeviceClass that does not exist leaves capacity unknown',
    placement: draPlacement(1),
    world: { nodes: [gpuNode(0, 0)], dra: dra({ deviceClasses: [], resourceSlices: [slice('gpu-node-0', 4)] }) },
    want: refused('CapacityUnknown', 'DeviceClass gpu.nosana.local does not exist'),
  },
  {
    reason: 'DRA: a selector other than device.driver == "name" cannot be judged, so the agent does not join',
    placement: draPlacement(1),
    world: {
      nodes: [gpuNode(0, 0)],
      dra: dra({
        deviceClasses: [deviceClass(CLASS, [`device.driver == "${DRIVER}"`, `device.attributes["${DRIVER}"].productName == "A100"`])],
        resourceSlices: [slice('gpu-node-0', 4)],
      }),
    },
    want: refused(
      'CapacityUnknown',
      'DeviceClass gpu.nosana.local selects devices by "device.attributes[\\"gpu.nosana.local\\"].productName == \\"A100\\""; capacity cannot be judged (only selectors of the form device.driver == "name" are understood)',
    ),
  },
  {
    reason: 'DRA: a DeviceClass without selectors takes devices of any driver: not judged',
    placement: draPlacement(1),
    world: { nodes: [gpuNode(0, 0)], dra: dra({ deviceClasses: [deviceClass(CLASS, [])], resourceSlices: [slice('gpu-node-0', 4)] }) },
    want: refused(
      'CapacityUnknown',
      'DeviceClass gpu.nosana.local selects devices of any driver; capacity cannot be judged (only selectors of the form device.driver == "name" are understood)',
    ),
  },
  {
    reason: 'DRA: a cluster that serves no resource.k8s.io objects leaves capacity unknown',
    placement: draPlacement(1),
    world: { nodes: [gpuNode(0, 4)] },
    want: refused('CapacityUnknown', 'the cluster serves no resource.k8s.io/v1 objects, so DeviceClass gpu.nosana.local cannot be counted'),
  },

  // Jobs without GPUs
  {
    reason: 'a NosanaNode whose jobs get no GPUs needs only a node that takes its Pods',
    placement: plugin(0),
    world: { nodes: [node('cpu-node')] },
    want: fits('cpu-node', 0),
  },
  {
    reason: 'a NosanaNode whose jobs get no GPUs still needs a Ready node',
    placement: plugin(0),
    world: { nodes: [node('cpu-node', { ready: false })] },
    want: refused('NoSuitableNode', 'no node takes job Pods: cpu-node is not Ready'),
  },
];

function worldOf(partial: Partial<CapacityWorld>): CapacityWorld {
  return {
    nodes: partial.nodes ?? [],
    pods: partial.pods ?? [],
    reservations: partial.reservations ?? [],
    ...(partial.dra === undefined ? {} : { dra: partial.dra }),
  };
}

describe('judgeCapacity: can one more job of this NosanaNode start now', () => {
  for (const row of rows) {
    test(row.reason, () => {
      assert.deepEqual(judgeCapacity(row.placement, worldOf(row.world)), row.want);
    });
  }

  test('the verdict does not depend on the order Nodes, Pods and reservations are listed in', () => {
    const world = worldOf({
      nodes: [gpuNode(0, 4), gpuNode(1, 4), gpuNode(2, 2, { taints: [TAINT] })],
      pods: [pod('a', 'gpu-node-0', 1), pod('b', 'gpu-node-1', 1), pod('c', 'gpu-node-2', 1)],
      reservations: [reservation('nnode-a', plugin(2)), reservation('nnode-b', plugin(2)), reservation('nnode-c', plugin(1))],
    });
    const expected = judgeCapacity(plugin(2), world);
    // nnode-a takes 2 on gpu-node-0, nnode-b 2 on gpu-node-1, nnode-c the last spare of gpu-node-0.
    assert.deepEqual(expected, {
      fits: false,
      cause: 'GpusInUse',
      reason: 'largest free: 1 of nvidia.com/gpu on gpu-node-1 (after 2 reserved for nnode-b); needs 2',
    });
    const rotations = (list: readonly unknown[]) => list.map((_, shift) => [...list.slice(shift), ...list.slice(0, shift)]);
    for (const nodes of rotations(world.nodes) as V1Node[][])
      for (const reservations of rotations(world.reservations) as Reservation[][])
        for (const pods of [world.pods, [...world.pods].reverse()])
          assert.deepEqual(judgeCapacity(plugin(2), { nodes, pods, reservations }), expected);
  });
});

describe('the scheduler’s rules, one by one', () => {
  const podRows: { reason: string; pod: V1Pod; want: number }[] = [
    { reason: 'containers add up', pod: pod('p', 'n', 0, { containers: [1, 2, undefined] }), want: 3 },
    {
      reason: 'the largest init container wins over smaller containers',
      pod: pod('p', 'n', 1, { init: [{ gpus: 2 }, { gpus: 4 }] }),
      want: 4,
    },
    { reason: 'containers win over smaller init containers', pod: pod('p', 'n', 0, { containers: [2, 2], init: [{ gpus: 3 }] }), want: 4 },
    {
      reason: 'a sidecar runs beside the containers and beside every init container after it',
      pod: pod('p', 'n', 1, { init: [{ gpus: 1, sidecar: true }, { gpus: 2 }] }),
      want: 3,
    },
    { reason: 'the Pod’s overhead is added', pod: pod('p', 'n', 1, { overhead: 1 }), want: 2 },
    { reason: 'a Pod without GPUs requests none', pod: pod('p', 'n', 0, { containers: [undefined] }), want: 0 },
  ];
  for (const row of podRows) test(`Pod request: ${row.reason}`, () => assert.equal(podRequest(row.pod, GPU), row.want));

  const tolerationRows: { reason: string; toleration: JobToleration; taint: V1Taint; want: boolean }[] = [
    {
      reason: 'Equal is the default operator and compares values',
      toleration: { key: 'k', value: 'v' },
      taint: { key: 'k', value: 'v', effect: 'NoSchedule' },
      want: true,
    },
    {
      reason: 'a taint without a value matches an Equal toleration without one',
      toleration: { key: 'k', operator: 'Equal' },
      taint: { key: 'k', effect: 'NoSchedule' },
      want: true,
    },
    {
      reason: 'another key never matches',
      toleration: { key: 'j', operator: 'Exists' },
      taint: { key: 'k', effect: 'NoSchedule' },
      want: false,
    },
    {
      reason: 'an operator Kubernetes does not know tolerates nothing',
      toleration: { key: 'k', operator: 'Gt', value: '1' },
      taint: { key: 'k', value: '2', effect: 'NoSchedule' },
      want: false,
    },
  ];
  for (const row of tolerationRows) test(`toleration: ${row.reason}`, () => assert.equal(tolerates(row.toleration, row.taint), row.want));
});

// ---------------------------------------------------------------------------------------------
// A claimed job against what its NosanaNode reserved

function plan(ops: unknown[]): Plan {
  const outcome = planJob({ version: '0.1', type: 'container', ops }, 'job');
  assert.ok(isPlan(outcome), JSON.stringify(outcome));
  return outcome;
}

const gpuOp = (id: string, group?: string) => ({
  type: 'container/run',
  id,
  args: { image: 'ubuntu', gpu: true },
  ...(group === undefined ? {} : { execution: { group } }),
});
const cpuOp = (id: string) => ({ type: 'container/run', id, args: { image: 'ubuntu' } });

describe('planFitsReservation: a claimed job needs no more GPUs than were reserved', () => {
  const planRows: { reason: string; plan: Plan; placement: JobPlacement; want: ReturnType<typeof planFitsReservation> }[] = [
    {
      reason: 'a job without GPU ops needs nothing',
      plan: plan([cpuOp('a')]),
      placement: plugin(1),
      want: { fits: true, needed: 0, reserved: 1 },
    },
    {
      reason: 'GPU ops one after another need one op’s GPUs',
      plan: plan([gpuOp('a'), gpuOp('b')]),
      placement: plugin(2),
      want: { fits: true, needed: 2, reserved: 2 },
    },
    {
      reason: 'GPU ops of one group run at once: each needs its own GPUs, more than were reserved',
      plan: plan([gpuOp('train', 'g'), gpuOp('serve', 'g')]),
      placement: plugin(1),
      want: {
        fits: false,
        needed: 2,
        reserved: 1,
        reason: 'group "g" may run 2 GPU ops at once (train, serve), 1 each: the job needs 2 of nvidia.com/gpu, this NosanaNode reserves 1',
      },
    },
    {
      reason: 'DRA: all GPU ops share the one claim, whatever their number',
      plan: plan([gpuOp('train', 'g'), gpuOp('serve', 'g')]),
      placement: draPlacement(2),
      want: { fits: true, needed: 2, reserved: 2 },
    },
    {
      reason: 'a NosanaNode that gives jobs no GPUs runs GPU ops without them: nothing reserved, nothing needed',
      plan: plan([gpuOp('a')]),
      placement: plugin(0),
      want: { fits: true, needed: 0, reserved: 0 },
    },
    {
      reason: 'the widest group decides, however many GPUs each op gets',
      plan: plan([gpuOp('a', 'one'), gpuOp('b', 'three'), gpuOp('c', 'three'), gpuOp('d', 'three')]),
      placement: plugin(2, { gpuResourceName: 'amd.com/gpu' }),
      want: {
        fits: false,
        needed: 6,
        reserved: 2,
        reason: 'group "three" may run 3 GPU ops at once (b, c, d), 2 each: the job needs 6 of amd.com/gpu, this NosanaNode reserves 2',
      },
    },
  ];
  for (const row of planRows) test(row.reason, () => assert.deepEqual(planFitsReservation(row.plan, row.placement), row.want));
});

describe('watchesCapacity: whose next step a change in free GPUs can decide (the nodes woken by one)', () => {
  const cases: { reason: string; status: NosanaNodeObject['status']; want: boolean }[] = [
    { reason: 'a new node, no status yet: it joins only with room', status: undefined, want: true },
    { reason: 'queued: it leaves the queue when the room goes', status: { phase: 'Queued', queuePosition: 3 }, want: true },
    { reason: 'kept out for lack of room: it joins when GPUs free up', status: { phase: 'Idle' }, want: true },
    { reason: 'running a job: the run is its own business', status: { phase: 'Running', currentRun: 'run1' }, want: false },
    { reason: 'a run adopted, its phase not written yet', status: { phase: 'Queued', currentRun: 'run1' }, want: false },
    { reason: 'draining with its run still going', status: { phase: 'Draining', currentRun: 'run1' }, want: false },
  ];
  for (const { reason, status, want } of cases) {
    test(reason, () => assert.equal(watchesCapacity(status === undefined ? {} : { status }), want));
  }
});
