// The node agent when the cluster, not the job, fails: paid only for work done. A job whose Pods
// cannot be scheduled past the bound is quit, its poster's controller recovers and reposts it, and
// another NosanaNode runs it; an evicted Pod is quit too; a job that reaches its deadline is
// finished with what ran (the job's own end). Two NosanaNodes run two jobs at once. Each test has
// a market, a wallet and node keys of its own.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PublicKey } from '@solana/web3.js';
import { waitFor } from '../../src/local-cluster/wait.ts';
import { KubeApi } from '../../src/runtime/kube-api.ts';
import type { SimulationRule } from '../../src/local-cluster/simulation.ts';
import { conditionOf, type NosanaJobSpecInput } from '../harness/nosana-fixtures.ts';
import { readLedger } from '../harness/nosana-ledger.ts';
import { useNodeScene } from '../harness/node-scene.ts';
import { simulationAnnotations } from '../harness/simulation.ts';

const PRICE = 10n;
const TIMEOUT = 600n;
const SETTINGS = { price: PRICE, timeout: TIMEOUT };

const RULES: SimulationRule[] = [
  { name: 'short', match: { image: 'short' }, then: { exitCode: 0, runFor: '3s', logs: [{ stream: 'stdout', text: 'done' }] } },
  // A server: runs until it is stopped.
  { name: 'forever', match: { image: 'forever' }, then: {} },
];

function oneOp(image: string): NonNullable<NosanaJobSpecInput['definition']> {
  return { version: '0.1', type: 'container', ops: [{ id: 'main', type: 'container/run', args: { image, gpu: true } }] };
}

describe('the node agent when the cluster fails the job', () => {
  const scene = useNodeScene({ prefix: 'nn-fail', rules: RULES, agent: { unschedulableTimeout: '4s' } });

  test('GPUs taken under a claimed job: quit after the bound (unpaid), the poster reposts, and a second NosanaNode runs it', async (t) => {
    const node = scene();
    const { ns, ctx, localnet } = node.jobs;
    try {
      const { market, wallet, walletSecretRef } = await ns.stage('taken', { settings: SETTINGS });
      const firstKey = await ns.wallet('taken-first-key', { sol: 1n });
      const secondKey = await ns.wallet('taken-second-key', { sol: 1n });
      const before = await readLedger(localnet, { poster: wallet.publicKey, market });
      const onNode0 = { 'kubernetes.io/hostname': 'gpu-node-0' };
      await node.createNode('taken-first', {
        market: 'taken',
        keySecret: 'taken-first-key',
        pods: { namespace: node.jobNamespace, nodeSelector: onNode0 },
      });
      await node.waitForNodePhase('taken-first', 'Queued', undefined, 90_000);

      // The agent is frozen while the GPUs go and the job is claimed: it meets a held run it cannot schedule.
      const pid = node.agent.pid ?? 0;
      process.kill(pid, 'SIGSTOP');
      const hogNamespace = await ctx.freshNamespace('nn-hog');
      try {
        await ctx.core.createNamespacedPod({
          namespace: hogNamespace,
          body: {
            metadata: { name: 'hog', annotations: simulationAnnotations() },
            spec: {
              nodeSelector: onNode0,
              containers: [{ name: 'hog', image: 'hog', resources: { limits: { 'nvidia.com/gpu': '8' } } }],
            },
          },
        });
        await waitFor(
          async () =>
            (await ctx.core.readNamespacedPod({ namespace: hogNamespace, name: 'hog' })).status?.phase === 'Running' ||
            Promise.reject(new Error('the hog does not run yet')),
          { what: 'the hog to hold every GPU of gpu-node-0', timeoutMs: 30_000, intervalMs: 100 },
        );
        await ns.createJob('taken', { market: 'taken', timeout: Number(TIMEOUT), walletSecretRef, definition: oneOp('short') });
        await ns.waitForJob('taken', 'to be claimed by the first node', (job) => job.status?.node === firstKey.publicKey.toBase58());
      } finally {
        process.kill(pid, 'SIGCONT');
      }

      const quit = await node.waitForNode(
        'taken-first',
        'to quit the job',
        (n) => n.status?.jobsQuit === 1 && n.status.currentJob === undefined,
        60_000,
      );
      assert.match(quit.status?.lastError ?? '', /unschedulable/, 'the last error says the cluster could not schedule the job');
      assert.equal(quit.status?.jobsCompleted, undefined, 'nothing was finished for it');
      const out = await node.waitForNode(
        'taken-first',
        'to stay out of the queue',
        (n) => conditionOf(n as never, 'NoCapacity')?.status === 'True',
      );
      assert.equal(conditionOf(out as never, 'NoCapacity')?.reason, 'GpusInUse', 'with its GPUs taken, the node does not join again');

      await node.createNode('taken-second', { market: 'taken', keySecret: 'taken-second-key' });
      const done = await ns.waitForPhase('taken', 'Succeeded', undefined, 120_000);
      assert.equal(done.status?.node, secondKey.publicKey.toBase58(), 'the second NosanaNode ran the reposted job');
      assert.deepEqual(
        done.status?.attempts?.map((attempt) => attempt.outcome),
        ['NodeQuit', 'Succeeded'],
        'the first attempt was quit by the node, the repost succeeded',
      );
      const after = await readLedger(localnet, { poster: wallet.publicKey, market, node: firstKey.publicKey });
      assert.equal(after.node, 0n, 'the node that quit earned nothing');
      assert.equal(after.total, before.total, 'NOS is conserved');
      await ctx.core.deleteNamespacedPod({ namespace: hogNamespace, name: 'hog', gracePeriodSeconds: 0 });
    } catch (error) {
      t.diagnostic(node.agent.diagnostics(60));
      throw error;
    } finally {
      await ns.deleteJob('taken').catch(() => undefined);
    }
  });

  test('an evicted job Pod: the node quits the job, unpaid, with an Event saying why', async (t) => {
    const node = scene();
    const { ns, ctx } = node.jobs;
    try {
      const { walletSecretRef } = await ns.stage('evict', { settings: SETTINGS });
      await ns.wallet('evict-node-key', { sol: 1n });
      await node.createNode('evict-node', { market: 'evict', keySecret: 'evict-node-key' });
      await node.waitForNodePhase('evict-node', 'Queued', undefined, 90_000);
      await ns.createJob('evict', { market: 'evict', timeout: Number(TIMEOUT), walletSecretRef, definition: oneOp('forever'), retries: 0 });
      await ns.waitForPhase('evict', 'Running');
      const pod = await waitFor(
        async () =>
          (await node.jobPods()).find((candidate) => candidate.status?.phase === 'Running') ?? Promise.reject(new Error('no Pod runs')),
        { what: 'the job Pod to run', timeoutMs: 60_000, intervalMs: 100 },
      );
      await new KubeApi(ctx.kubeConfig).request(
        'POST',
        `/api/v1/namespaces/${node.jobNamespace}/pods/${pod.metadata?.name ?? ''}/eviction`,
        {
          body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.metadata?.name, namespace: node.jobNamespace } },
        },
      );
      const quit = await node.waitForNode(
        'evict-node',
        'to quit the job',
        (n) => n.status?.jobsQuit === 1 && n.status.currentJob === undefined,
        60_000,
      );
      assert.match(quit.status?.lastError ?? '', /evicted/);
      const stopped = await ns.waitForPhase('evict', 'Stopped', 'NodeQuit', 60_000);
      assert.equal(stopped.status?.attempts?.[0]?.outcome, 'NodeQuit');
      const reasons = await eventReasons(node, 'evict-node');
      assert.ok(reasons.includes('Quit'), `a Quit Event is recorded (events: ${reasons.join(', ')})`);
    } catch (error) {
      t.diagnostic(node.agent.diagnostics(60));
      throw error;
    } finally {
      await ns.deleteJob('evict').catch(() => undefined);
    }
  });

  test("a job that reaches its deadline: its ops stop, the node finishes it with what ran, and is paid the job's timeout", async (t) => {
    const node = scene();
    const { ns, localnet } = node.jobs;
    try {
      const { market, wallet, walletSecretRef } = await ns.stage('deadline', { settings: SETTINGS });
      const nodeKey = await ns.wallet('deadline-node-key', { sol: 1n });
      await node.createNode('deadline-node', { market: 'deadline', keySecret: 'deadline-node-key' });
      await node.waitForNodePhase('deadline-node', 'Queued', undefined, 90_000);
      const before = await readLedger(localnet, { poster: wallet.publicKey, market, node: nodeKey.publicKey });
      await ns.createJob('deadline', { market: 'deadline', timeout: 8, walletSecretRef, definition: oneOp('forever') });
      const ended = await ns.waitForJob('deadline', 'to complete', (job) => conditionOf(job, 'Completed')?.status === 'True', 90_000);
      assert.notEqual(ended.status?.ops?.[0]?.status, 'running');
      assert.notEqual(ended.status?.ipfsResult, undefined, 'the node finished with a result');
      const chainJob = await localnet.jobsClient().getJob(new PublicKey(ended.status?.jobAddress ?? ''));
      assert.equal(chainJob?.account.node.toBase58(), nodeKey.publicKey.toBase58());
      const counted = await node.waitForNode(
        'deadline-node',
        'to count the job',
        (n) => (n.status?.jobsFailed ?? 0) + (n.status?.jobsCompleted ?? 0) === 1,
        60_000,
      );
      assert.equal(counted.status?.jobsQuit, undefined, 'the deadline is the job ending, not a quit');
      const after = await readLedger(localnet, { poster: wallet.publicKey, market, node: nodeKey.publicKey });
      assert.equal(after.node - before.node, PRICE * 8n, "the node is paid for the job's whole timeout");
      assert.equal(after.total, before.total, 'NOS is conserved');
    } catch (error) {
      t.diagnostic(node.agent.diagnostics(60));
      throw error;
    } finally {
      await ns.deleteJob('deadline').catch(() => undefined);
    }
  });

  test('two NosanaNodes run two jobs at the same time', async (t) => {
    const node = scene();
    const { ns } = node.jobs;
    try {
      const { walletSecretRef } = await ns.stage('pair', { settings: SETTINGS });
      const keys = [await ns.wallet('pair-a-key', { sol: 1n }), await ns.wallet('pair-b-key', { sol: 1n })];
      await node.createNode('pair-a', { market: 'pair', keySecret: 'pair-a-key' });
      await node.createNode('pair-b', { market: 'pair', keySecret: 'pair-b-key' });
      await node.waitForNodePhase('pair-a', 'Queued', undefined, 90_000);
      await node.waitForNodePhase('pair-b', 'Queued', undefined, 90_000);
      await ns.createJob('pair-1', { market: 'pair', timeout: Number(TIMEOUT), walletSecretRef, definition: oneOp('short') });
      await ns.createJob('pair-2', { market: 'pair', timeout: Number(TIMEOUT), walletSecretRef, definition: oneOp('short') });
      const [first, second] = await Promise.all([ns.waitForPhase('pair-1', 'Running'), ns.waitForPhase('pair-2', 'Running')]);
      assert.deepEqual(
        new Set([first.status?.node, second.status?.node]),
        new Set(keys.map((key) => key.publicKey.toBase58())),
        'each NosanaNode runs one of the jobs',
      );
      await waitFor(
        async () =>
          (await node.jobPods()).filter((pod) => pod.status?.phase === 'Running').length === 2 ||
          Promise.reject(new Error('not both running')),
        { what: 'both jobs to have a running Pod at once', timeoutMs: 30_000, intervalMs: 100 },
      );
      await Promise.all([
        ns.waitForPhase('pair-1', 'Succeeded', undefined, 90_000),
        ns.waitForPhase('pair-2', 'Succeeded', undefined, 90_000),
      ]);
      for (const name of ['pair-a', 'pair-b']) await node.waitForNode(name, 'to count its job', (n) => n.status?.jobsCompleted === 1);
    } catch (error) {
      t.diagnostic(node.agent.diagnostics(60));
      throw error;
    } finally {
      await ns.deleteJob('pair-1').catch(() => undefined);
      await ns.deleteJob('pair-2').catch(() => undefined);
    }
  });
});

async function eventReasons(node: ReturnType<ReturnType<typeof useNodeScene>>, name: string): Promise<string[]> {
  const { ctx, ns } = node.jobs;
  const events = await ctx.kubeConfig.makeApiClient((await import('@kubernetes/client-node')).EventsV1Api).listNamespacedEvent({
    namespace: ns.name,
    fieldSelector: `regarding.kind=NosanaNode,regarding.name=${name}`,
  });
  return events.items.map((event) => event.reason ?? '?');
}
