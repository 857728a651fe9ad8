// The executor's Dynamic Resource Allocation mode on the local cluster: the job's one ResourceClaim
// is allocated by the real scheduler from the ResourceSlices the simulated GPU nodes publish, and
// every GPU op of the job — also two running at once — shares those devices, as ops share a
// Nosana node's GPUs.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import pino from 'pino';
import { main } from '../../src/cli/main.ts';
import type { FlowState } from '../../src/executor/flow-state.ts';
import { JOB_ID_ANNOTATION, OP_ID_ANNOTATION } from '../../src/executor/labels.ts';
import { resourceClaimName } from '../../src/executor/names.ts';
import { LOCAL_DEVICE_CLASS, LOCAL_DRA_DRIVER } from '../../src/local-cluster/dra.ts';
import { SimulationWatcher } from '../../src/local-cluster/simulation.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';
import { KubeApi, hasStatus } from '../../src/runtime/kube-api.ts';
import { SupervisedInformer } from '../../src/runtime/informer.ts';
import { useCluster } from '../harness/fixture.ts';
import type { ClusterContext } from '../harness/fixture.ts';

interface AllocatedClaim {
  status?: {
    allocation?: { devices: { results: { driver: string; pool: string; device: string }[] } };
    reservedFor?: { name: string }[];
  };
}

describe('DRA mode: one ResourceClaim per job, shared by its Pods', () => {
  let ctx: ClusterContext;
  let api: KubeApi;
  let namespace: string;
  let watcher: SimulationWatcher;
  let pods: SupervisedInformer<V1Pod>;
  const seenPods = new Map<string, V1Pod>();

  before(async () => {
    ctx = await useCluster();
    api = new KubeApi(ctx.kubeConfig);
    namespace = await ctx.freshNamespace('dra');
    watcher = new SimulationWatcher({
      kubeConfig: ctx.kubeConfig,
      logsDir: ctx.handle.kwokLogsDir,
      // Both ops run long enough to overlap.
      rules: [{ name: 'trainer', match: { image: 'trainer' }, then: { exitCode: 0, runFor: '2s' } }],
      namespaces: [namespace],
      log: pino({ level: 'silent' }),
    });
    pods = new SupervisedInformer<V1Pod>(ctx.kubeConfig, '/api/v1/pods', pino({ level: 'silent' }), { namespaces: [namespace] });
    pods.on((event) => {
      if (event.type !== 'deleted') seenPods.set(event.object.metadata?.name ?? '', event.object);
    });
    await Promise.all([watcher.start(), pods.start()]);
  });

  after(async () => {
    await Promise.all([watcher.stop(), pods.stop()]);
  });

  test('two GPU ops running at once share the claim the scheduler allocated on their node; the claim goes with the run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nosana-dra-'));
    const file = join(dir, 'job.json');
    await writeFile(
      file,
      JSON.stringify({
        version: '0.1',
        type: 'container',
        ops: ['left', 'right'].map((id) => ({
          type: 'container/run',
          id,
          args: { image: 'trainer', gpu: true },
          execution: { group: 'train' },
        })),
      }),
    );
    let stdout = '';
    let stderr = '';
    const ran = main(
      [
        'run',
        '--kubeconfig',
        ctx.handle.kubeconfigPath,
        '--namespace',
        namespace,
        '--dra-device-class',
        LOCAL_DEVICE_CLASS,
        '--gpus-per-job',
        '2',
        '--output',
        'json',
        file,
      ],
      { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } },
    );

    // While the ops run: the claim is allocated, two devices of one node, reserved for both Pods.
    const running = await waitFor(
      () => {
        const both = [...seenPods.values()].filter((pod) => pod.status?.phase === 'Running');
        return both.length === 2 ? both : undefined;
      },
      { what: 'both ops running', timeoutMs: 60_000 },
    );
    const jobId = running[0]?.metadata?.annotations?.[JOB_ID_ANNOTATION] ?? '';
    const claimPath = `/apis/resource.k8s.io/v1/namespaces/${namespace}/resourceclaims/${resourceClaimName(jobId)}`;
    const claim = await api.request<AllocatedClaim>('GET', claimPath);
    const devices = claim.status?.allocation?.devices.results ?? [];
    assert.equal(devices.length, 2, 'the claim holds --gpus-per-job devices');
    assert.ok(devices.every((device) => device.driver === LOCAL_DRA_DRIVER));
    const nodes = new Set(running.map((pod) => pod.spec?.nodeName));
    assert.equal(nodes.size, 1, 'both Pods run on one node');
    assert.deepEqual(new Set(devices.map((device) => device.pool)), nodes, 'the devices are that node’s');
    assert.deepEqual(
      (claim.status?.reservedFor ?? []).map((consumer) => consumer.name).sort(),
      running.map((pod) => pod.metadata?.name).sort(),
      'the claim is reserved for both Pods at once',
    );
    for (const pod of running) {
      const container = pod.spec?.containers[0];
      assert.equal(
        container?.resources?.limits?.['nvidia.com/gpu'],
        undefined,
        `${pod.metadata?.annotations?.[OP_ID_ANNOTATION]}: no device-plugin GPUs`,
      );
      assert.deepEqual(pod.spec?.resourceClaims, [{ name: 'gpu', resourceClaimName: resourceClaimName(jobId) }]);
    }

    const code = await ran;
    const flow = JSON.parse(stdout) as FlowState;
    assert.equal(code, 0, stderr);
    assert.deepEqual(
      flow.opStates.map((op) => [op.operationId, op.status]),
      [
        ['left', 'success'],
        ['right', 'success'],
      ],
    );
    // Owned by the run's ConfigMap: the garbage collector removes it once the Pods are gone.
    await waitFor(
      () =>
        api.request('GET', claimPath).then(
          () => false,
          (error: unknown) => hasStatus(error, 404),
        ),
      { what: 'the claim deleted with the run', timeoutMs: 30_000 },
    );
  });
});
