// The local cluster's simulation: a Pod created with nothing but what a real cluster would need
// is given its behaviour by the watcher, from the rules the caller supplies, and KWOK plays it out
// (the Pod's phase, container states, Ready condition, and the logs the API serves).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import pino from 'pino';
import { GPU_RESOURCE } from '../../src/local-cluster/gpu-nodes.ts';
import { SIMULATION_ANNOTATIONS } from '../../src/local-cluster/kwok-stages.ts';
import { SimulationWatcher } from '../../src/local-cluster/simulation.ts';
import type { SimulationRule } from '../../src/local-cluster/simulation.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';
import { useCluster } from '../harness/fixture.ts';
import type { ClusterContext } from '../harness/fixture.ts';

const RULES: SimulationRule[] = [
  {
    name: 'story',
    match: { image: 'docker.io/hoomanhq/oneclickllm:ollama01', commandLine: /tiny hawk/ },
    then: { exitCode: 0, runFor: '300ms', logs: [{ stream: 'stdout', text: 'Tony the tiny hawk flew.' }] },
  },
  { name: 'fails', match: { image: 'busybox', commandLine: /exit 3/ }, then: { exitCode: 3, runFor: '200ms' } },
  { name: 'oom', match: { image: 'memory-hog' }, then: { oomKilled: true, runFor: '200ms' } },
  { name: 'pull', match: { image: /^private\.registry\// }, then: { pullError: 'unauthorized: authentication required' } },
  { name: 'slow-service', match: { image: 'nginx' }, then: { readyAfter: '1s' } },
  { name: 'unhealthy', match: { image: 'broken-service' }, then: { readyAfter: 'never' } },
];

function pod(name: string, image: string, args?: string[]): k8s.V1Pod {
  return {
    metadata: { name },
    spec: {
      automountServiceAccountToken: false,
      restartPolicy: 'Never',
      containers: [{ name: 'main', image, ...(args === undefined ? {} : { args }), resources: { limits: { [GPU_RESOURCE]: '1' } } }],
    },
  };
}

describe('simulated containers decided from what the Pod is', () => {
  let ctx: ClusterContext;
  let namespace: string;
  let watcher: SimulationWatcher;

  before(async () => {
    ctx = await useCluster();
    namespace = await ctx.freshNamespace('sim');
    watcher = new SimulationWatcher({
      kubeConfig: ctx.kubeConfig,
      logsDir: ctx.handle.kwokLogsDir,
      rules: RULES,
      namespaces: [namespace],
      log: pino({ level: 'silent' }),
    });
    await watcher.start();
  });

  after(async () => {
    await watcher.stop();
  });

  async function until(name: string, what: string, check: (pod: k8s.V1Pod) => boolean): Promise<k8s.V1Pod> {
    return waitFor(
      async () => {
        const current = await ctx.core.readNamespacedPod({ name, namespace });
        return check(current) ? current : undefined;
      },
      { what: `${name} ${what}`, timeoutMs: 30_000 },
    );
  }

  const ready = (current: k8s.V1Pod): string | undefined => current.status?.conditions?.find((c) => c.type === 'Ready')?.status;

  test('a matching rule runs the container to its exit code and serves its log lines through the API', async () => {
    await ctx.core.createNamespacedPod({
      namespace,
      body: pod('story', 'docker.io/hoomanhq/oneclickllm:ollama01', ['/bin/sh', '-c', 'tell me about a tiny hawk']),
    });
    const done = await until('story', 'succeeds', (current) => current.status?.phase === 'Succeeded');
    assert.equal(done.metadata?.annotations?.[SIMULATION_ANNOTATIONS.decided], 'story');
    assert.equal(done.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 0);
    const logs = await ctx.core.readNamespacedPodLog({ name: 'story', namespace, container: 'main', timestamps: true });
    assert.match(logs, /^\S+Z Tony the tiny hawk flew\.\n$/);
  });

  test('an exit code other than 0 fails the Pod; an OOM kill says OOMKilled with code 137', async () => {
    await ctx.core.createNamespacedPod({ namespace, body: pod('fails', 'busybox', ['sh', '-c', 'exit 3']) });
    await ctx.core.createNamespacedPod({ namespace, body: pod('oom', 'memory-hog') });
    const failed = await until('fails', 'fails', (current) => current.status?.phase === 'Failed');
    assert.equal(failed.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 3);
    assert.equal(failed.status?.containerStatuses?.[0]?.state?.terminated?.reason, 'Error');
    const killed = await until('oom', 'is killed', (current) => current.status?.phase === 'Failed');
    assert.deepEqual(
      [
        killed.status?.containerStatuses?.[0]?.state?.terminated?.exitCode,
        killed.status?.containerStatuses?.[0]?.state?.terminated?.reason,
      ],
      [137, 'OOMKilled'],
    );
  });

  test('a pull error keeps the Pod Pending with ErrImagePull and the registry message', async () => {
    await ctx.core.createNamespacedPod({ namespace, body: pod('pull', 'private.registry/team/model:1') });
    const waiting = await until(
      'pull',
      'waits on its image',
      (current) => current.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImagePull',
    );
    assert.equal(waiting.status?.phase, 'Pending');
    assert.equal(waiting.status?.containerStatuses?.[0]?.state?.waiting?.message, 'unauthorized: authentication required');
  });

  test('a service turns Ready when its rule says; an unhealthy one runs and never does', async () => {
    await ctx.core.createNamespacedPod({ namespace, body: pod('web', 'nginx') });
    await ctx.core.createNamespacedPod({ namespace, body: pod('broken', 'broken-service') });
    const running = await until('web', 'runs', (current) => current.status?.phase === 'Running');
    assert.equal(ready(running), 'False', 'running, not ready yet');
    const served = await until('web', 'turns Ready', (current) => ready(current) === 'True');
    assert.ok(served.status?.containerStatuses?.[0]?.ready, 'its container is ready too');
    const broken = await until('broken', 'runs', (current) => current.status?.phase === 'Running');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const still = await ctx.core.readNamespacedPod({ name: 'broken', namespace });
    assert.deepEqual([broken.status?.phase, ready(still)], ['Running', 'False']);
  });

  test('a Pod no rule matches is never started: it stays Pending, scheduled but undecided', async () => {
    await ctx.core.createNamespacedPod({ namespace, body: pod('unknown', 'nobody/knows') });
    const scheduled = await until('unknown', 'is scheduled', (current) => current.spec?.nodeName !== undefined);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const later = await ctx.core.readNamespacedPod({ name: 'unknown', namespace });
    assert.equal(later.status?.phase, 'Pending');
    assert.equal(later.metadata?.annotations?.[SIMULATION_ANNOTATIONS.decided], undefined);
    assert.ok(scheduled.spec?.nodeName, 'the scheduler did place it');
  });
});
