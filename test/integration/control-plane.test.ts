// The test control plane behaves like a cluster with GPU nodes: the real scheduler places
// GPU Pods, KWOK runs them to the simulated outcome, logs are served, claims bind.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { useCluster, type ClusterContext } from '../harness/fixture.ts';
import { simulateLogs, simulationAnnotations } from '../harness/simulation.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';
import { GPU_RESOURCE } from '../../src/local-cluster/gpu-nodes.ts';

function gpuPod(name: string, gpus: number, extra: Partial<k8s.V1Pod> = {}): k8s.V1Pod {
  return {
    // Decided by the test: a service (runs until deleted) unless the caller says otherwise.
    metadata: { name, annotations: simulationAnnotations(), ...extra.metadata },
    spec: {
      automountServiceAccountToken: false,
      restartPolicy: 'Never',
      containers: [{ name: 'main', image: 'docker.io/library/ubuntu:24.04', resources: { limits: { [GPU_RESOURCE]: String(gpus) } } }],
      ...extra.spec,
    },
  };
}

async function waitForPhase(ctx: ClusterContext, namespace: string, name: string, phase: string): Promise<k8s.V1Pod> {
  return waitFor(
    async () => {
      const pod = await ctx.core.readNamespacedPod({ name, namespace });
      return pod.status?.phase === phase ? pod : undefined;
    },
    { what: `pod ${namespace}/${name} to reach ${phase}`, timeoutMs: 30_000 },
  );
}

async function emptiestGpuNode(ctx: ClusterContext): Promise<string> {
  const pods = await ctx.core.listPodForAllNamespaces();
  const used = new Map<string, number>(ctx.handle.gpuNodes.map((n) => [n, 0]));
  for (const pod of pods.items) {
    const node = pod.spec?.nodeName;
    if (!node || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
    const gpus = pod.spec?.containers.reduce((sum, c) => sum + Number(c.resources?.limits?.[GPU_RESOURCE] ?? 0), 0) ?? 0;
    used.set(node, (used.get(node) ?? 0) + gpus);
  }
  const [node, gpus] = [...used].sort((a, b) => a[1] - b[1])[0]!;
  assert.equal(gpus, 0, 'every GPU node is partly used by other tests');
  return node;
}

describe('test control plane', () => {
  test('serves the Kubernetes version it was built as, with GPU nodes Ready', async () => {
    const ctx = await useCluster();
    assert.match(ctx.handle.version, /^v1\.36\.\d+$/);
    const nodes = await ctx.core.listNode();
    const gpuNodes = nodes.items.filter((n) => n.metadata?.labels?.['nvidia.com/gpu.present'] === 'true');
    assert.equal(gpuNodes.length, 4);
    for (const node of gpuNodes) {
      assert.equal(node.status?.allocatable?.[GPU_RESOURCE], '8');
      assert.ok(node.metadata?.labels?.['nvidia.com/gpu.product']);
      assert.ok(node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    }
  });

  test('a Pod requesting one GPU is scheduled onto a GPU node and succeeds with its logs', async () => {
    const ctx = await useCluster();
    const namespace = await ctx.freshNamespace();
    await simulateLogs(ctx, namespace, 'one-gpu', 'main', [
      { stream: 'stdout', text: 'GPU 0: NVIDIA A100-SXM4-80GB' },
      { stream: 'stderr', text: 'done' },
    ]);
    await ctx.core.createNamespacedPod({
      namespace,
      body: gpuPod('one-gpu', 1, { metadata: { name: 'one-gpu', annotations: simulationAnnotations({ exitCode: 0, runFor: '1s' }) } }),
    });
    const pod = await waitForPhase(ctx, namespace, 'one-gpu', 'Succeeded');
    assert.ok(ctx.handle.gpuNodes.includes(pod.spec?.nodeName ?? ''), `scheduled onto ${pod.spec?.nodeName}`);
    assert.equal(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 0);
    const logs = await ctx.core.readNamespacedPodLog({ name: 'one-gpu', namespace, container: 'main' });
    assert.equal(logs, 'GPU 0: NVIDIA A100-SXM4-80GB\ndone\n');
  });

  test('a failing container ends the Pod Failed with its exit code', async () => {
    const ctx = await useCluster();
    const namespace = await ctx.freshNamespace();
    await ctx.core.createNamespacedPod({
      namespace,
      body: gpuPod('fails', 2, { metadata: { name: 'fails', annotations: simulationAnnotations({ exitCode: 3 }) } }),
    });
    const pod = await waitForPhase(ctx, namespace, 'fails', 'Failed');
    assert.equal(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 3);
  });

  test('a Pod decided as a service (no exit code) keeps running', async () => {
    const ctx = await useCluster();
    const namespace = await ctx.freshNamespace();
    await ctx.core.createNamespacedPod({ namespace, body: gpuPod('service', 1) });
    await waitForPhase(ctx, namespace, 'service', 'Running');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const pod = await ctx.core.readNamespacedPod({ name: 'service', namespace });
    assert.equal(pod.status?.phase, 'Running');
  });

  test('a Pod requesting 9 GPUs stays Pending as Unschedulable', async () => {
    const ctx = await useCluster();
    const namespace = await ctx.freshNamespace();
    await ctx.core.createNamespacedPod({ namespace, body: gpuPod('too-big', 9) });
    const pod = await waitFor(
      async () => {
        const p = await ctx.core.readNamespacedPod({ name: 'too-big', namespace });
        return p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable') ? p : undefined;
      },
      { what: 'the scheduler to mark too-big Unschedulable' },
    );
    assert.equal(pod.status?.phase, 'Pending');
    assert.equal(pod.spec?.nodeName, undefined);
    const condition = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    assert.match(condition?.message ?? '', /Insufficient nvidia\.com\/gpu/);
  });

  test('GPU bin-packing: a full node takes no more GPU Pods', async () => {
    const ctx = await useCluster();
    const namespace = await ctx.freshNamespace();
    // other tests' Pods may hold GPUs: use a node nothing else uses
    const node = await emptiestGpuNode(ctx);
    const pinned = (name: string, gpus: number) =>
      gpuPod(name, gpus, { metadata: { name }, spec: { nodeSelector: { 'kubernetes.io/hostname': node } } as unknown as k8s.V1PodSpec });
    await ctx.core.createNamespacedPod({ namespace, body: pinned('fills-node', 8) });
    await waitForPhase(ctx, namespace, 'fills-node', 'Running');
    await ctx.core.createNamespacedPod({ namespace, body: pinned('no-room', 1) });
    await waitFor(
      async () => {
        const p = await ctx.core.readNamespacedPod({ name: 'no-room', namespace });
        return p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable');
      },
      { what: 'no-room to be Unschedulable on the full node' },
    );
    await ctx.core.deleteNamespacedPod({ name: 'fills-node', namespace });
    await waitForPhase(ctx, namespace, 'no-room', 'Running');
  });

  test("a Pod with a claim on the local cluster's StorageClass binds it and runs on the volume's node", async () => {
    const ctx = await useCluster();
    const namespace = await ctx.freshNamespace();
    await ctx.core.createNamespacedPersistentVolumeClaim({
      namespace,
      body: {
        metadata: { name: 'job-volume' },
        spec: { accessModes: ['ReadWriteOnce'], storageClassName: ctx.handle.storageClass, resources: { requests: { storage: '10Gi' } } },
      },
    });
    const withVolume = (name: string) =>
      gpuPod(name, 1, {
        metadata: { name },
        spec: {
          containers: [{ name: 'main', image: 'ubuntu', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'job-volume' } }],
        } as k8s.V1PodSpec,
      });
    await ctx.core.createNamespacedPod({ namespace, body: withVolume('writer') });
    const writer = await waitForPhase(ctx, namespace, 'writer', 'Running');
    const claim = await ctx.core.readNamespacedPersistentVolumeClaim({ name: 'job-volume', namespace });
    assert.equal(claim.status?.phase, 'Bound');
    const volume = await ctx.core.readPersistentVolume({ name: claim.spec!.volumeName! });
    const pinnedTo = volume.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.[0]?.values;
    assert.deepEqual(pinnedTo, [writer.spec?.nodeName]);
    // a second consumer of the claim lands on the same node
    await ctx.core.createNamespacedPod({ namespace, body: withVolume('reader') });
    const reader = await waitForPhase(ctx, namespace, 'reader', 'Running');
    assert.equal(reader.spec?.nodeName, writer.spec?.nodeName);
  });

  test('the API server writes an audit log that names who did what', async () => {
    const ctx = await useCluster();
    const namespace = await ctx.freshNamespace('audit');
    await ctx.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'audited' }, data: { a: 'b' } } });
    const event = await waitFor(
      async () => {
        const lines = (await readFile(ctx.handle.auditLogPath, 'utf8')).trim().split('\n');
        return lines
          .map(
            (l) =>
              JSON.parse(l) as {
                verb: string;
                objectRef?: { resource?: string; namespace?: string; name?: string };
                user: { username: string };
                requestObject?: unknown;
              },
          )
          .find(
            (e) =>
              e.verb === 'create' &&
              e.objectRef?.resource === 'configmaps' &&
              e.objectRef.namespace === namespace &&
              e.objectRef.name === 'audited',
          );
      },
      { what: 'the audit event for the ConfigMap', timeoutMs: 10_000, intervalMs: 250 },
    );
    assert.equal(event.user.username, 'admin');
    assert.equal(event.objectRef?.name, 'audited');
    assert.equal(event.requestObject, undefined, 'metadata level: no request bodies (they may hold Secrets)');
  });
});
