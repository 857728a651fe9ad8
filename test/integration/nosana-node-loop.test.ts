// The whole loop on one cluster: NosanaJobs posted by the controller process are claimed by
// NosanaNodes the node agent process serves, run as GPU Pods the real scheduler places on KWOK
// GPU nodes, and come back with the result the agent pinned and finished with. What each
// simulated container does is this file's rule table; the chain and IPFS are the localnet, reached
// over HTTP by both processes. Each test has a market, a wallet and a node key of its own.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PublicKey } from '@solana/web3.js';
import { jobCost } from '../../src/chain/money.ts';
import { JOB_LABEL } from '../../src/executor/labels.ts';
import { LOCAL_STORAGE_CLASS } from '../../src/local-cluster/storage.ts';
import type { SimulationRule } from '../../src/local-cluster/simulation.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';
import { auditEvents } from '../harness/audit-log.ts';
import { conditionOf, definitionFixture, type NosanaJobSpecInput } from '../harness/nosana-fixtures.ts';
import { readLedger } from '../harness/nosana-ledger.ts';
import { sumSamples } from '../harness/prometheus-text.ts';
import { useNodeScene, readyReason } from '../harness/node-scene.ts';
import { seedDefinitions } from '../unit/job-definition/reference-definitions.ts';

const PRICE = 10n;
const TIMEOUT = 600n;
const SETTINGS = { price: PRICE, timeout: TIMEOUT };
const STORY_LINES = ['Tony the tiny hawk lived on a windowsill.', 'He learned to fly in a storm.', 'The end.'];

const RULES: SimulationRule[] = [
  {
    name: 'story',
    match: { image: 'docker.io/jeisses/tinyllama:v4' },
    then: { exitCode: 0, runFor: '2s', logs: STORY_LINES.map((text) => ({ stream: 'stdout' as const, text })) },
  },
  { name: 'ubuntu', match: { image: 'ubuntu' }, then: { exitCode: 0, runFor: '500ms', logs: [{ stream: 'stdout', text: 'Hello World' }] } },
  // A server: runs until it is stopped.
  { name: 'forever', match: { image: 'forever' }, then: {} },
];

const FOREVER: NosanaJobSpecInput['definition'] = {
  version: '0.1',
  type: 'container',
  ops: [{ id: 'serve', type: 'container/run', args: { image: 'forever', gpu: true } }],
};

describe('the node agent serves a market: the whole loop', () => {
  const scene = useNodeScene({ prefix: 'nn-loop', rules: RULES });

  test("the seeds' story.json: posted, claimed by a NosanaNode, run as a GPU Pod, finished; Succeeded with the pinned result, and the node paid price × elapsed", async (t) => {
    const node = scene();
    const { ns, localnet, ctx } = node.jobs;
    const timeline: [string, number][] = [];
    const mark = (what: string) => timeline.push([what, Date.now()]);
    try {
      const { market, wallet, walletSecretRef } = await ns.stage('story', { settings: SETTINGS });
      const nodeKey = await ns.wallet('story-node-key', { sol: 1n });
      const before = await readLedger(localnet, { poster: wallet.publicKey, market, node: nodeKey.publicKey });
      await node.createNode('story-node', { market: 'story', keySecret: 'story-node-key' });
      const queued = await node.waitForNodePhase('story-node', 'Queued', undefined, 90_000);
      assert.equal(queued.status?.nodeAddress, nodeKey.publicKey.toBase58(), 'the status shows the address of the key');
      assert.equal(queued.status?.queuePosition, 0);

      mark('apply');
      await ns.createJob('story', {
        market: 'story',
        timeout: Number(TIMEOUT),
        walletSecretRef,
        definition: await definitionFixture('story.json'),
      });
      const running = await ns.waitForPhase('story', 'Running');
      mark('claimed (NosanaJob Running)');
      const jobAddress = running.status?.jobAddress ?? '';
      assert.equal(running.status?.node, nodeKey.publicKey.toBase58(), 'the job runs on the NosanaNode');

      const pod = await waitFor(
        async () => {
          const found = (await node.jobPods()).find((candidate) => candidate.status?.phase === 'Running');
          if (found !== undefined) return found;
          throw new Error('no job Pod runs yet');
        },
        { what: 'the job Pod to run', timeoutMs: 60_000, intervalMs: 100 },
      );
      mark('first Pod Running');
      assert.ok(pod.spec?.nodeName, 'the scheduler placed the Pod on a node');
      assert.equal(pod.spec?.containers[0]?.resources?.limits?.['nvidia.com/gpu'], '1', 'the Pod requests a GPU');
      assert.ok((pod.metadata?.labels?.[JOB_LABEL] ?? '') !== '', 'the Pod carries the job label');

      const done = await ns.waitForPhase('story', 'Succeeded', undefined, 90_000);
      mark('Succeeded');
      const op = done.status?.ops?.[0];
      assert.equal(op?.id, 'tinyllama');
      assert.equal(op?.exitCode, 0);
      assert.match(op?.logTail ?? '', /The end\./, 'the log tail holds the simulated story');
      const logs = await ctx.core.readNamespacedConfigMap({ namespace: ns.name, name: done.status?.logsConfigMap ?? '' });
      const logText = Object.values(logs.data ?? {}).join('\n');
      for (const line of STORY_LINES) assert.ok(logText.includes(line), `the logs ConfigMap holds "${line}"`);

      const chainJob = await localnet.jobsClient().getJob(new PublicKey(jobAddress));
      assert.equal(chainJob?.status, 'COMPLETED', 'the job is completed on chain');
      const cost = jobCost(PRICE, chainJob.account.timeEnd - chainJob.account.timeStart, TIMEOUT);
      const after = await readLedger(localnet, { poster: wallet.publicKey, market, node: nodeKey.publicKey });
      assert.equal(after.node - before.node, cost, 'the node earned exactly price × elapsed');
      assert.equal(after.total, before.total, 'NOS is conserved on the whole ledger');

      const back = await node.waitForNode(
        'story-node',
        'to count the job and queue again',
        (n) => n.status?.jobsCompleted === 1 && n.status.phase === 'Queued',
      );
      assert.equal(back.status?.earningsBaseUnits, cost.toString(), 'the status shows what the chain paid');
      assert.equal(back.status?.currentJob, undefined, 'no job is named once it is counted');
      assert.equal(conditionOf(back as never, 'Ready')?.status, 'True');
      assert.deepEqual(await node.jobPods(), [], 'no job Pod is left');
      const samples = await node.agent.scrape();
      assert.equal(sumSamples(samples, 'nosana_node_jobs', { name: 'story-node', outcome: 'completed' }), 1, 'the metrics show the job');
      assert.equal(sumSamples(samples, 'nosana_node_earned_base_units', { name: 'story-node' }), Number(cost));
      assert.ok(
        sumSamples(samples, 'controller_runtime_reconcile_total', { controller: 'nosananode' }) > 0,
        "controller-runtime's series are served",
      );

      const start = timeline[0]?.[1] ?? 0;
      t.diagnostic(`timeline: ${timeline.map(([what, at]) => `${what} +${((at - start) / 1000).toFixed(1)}s`).join(' → ')}`);
    } catch (error) {
      t.diagnostic(node.agent.diagnostics(60));
      throw error;
    } finally {
      await ns.deleteJob('story').catch(() => undefined);
    }
  });

  test("the seeds' multi_job.json through the chain: a volume, then two ops in order; Succeeded with each op's exit code", async (t) => {
    const node = scene();
    const { ns } = node.jobs;
    try {
      const { walletSecretRef } = await ns.stage('multi', { settings: SETTINGS });
      await ns.wallet('multi-node-key', { sol: 1n });
      await node.createNode('multi-node', {
        market: 'multi',
        keySecret: 'multi-node-key',
        pods: { namespace: node.jobNamespace, storageClassName: LOCAL_STORAGE_CLASS },
      });
      await node.waitForNodePhase('multi-node', 'Queued', undefined, 90_000);
      const multiJob = seedDefinitions().find((seed) => seed.opIds.join(',') === 'create-volume,run-from-cli,run-from-cli-2');
      assert.ok(multiJob, 'multi_job.json is among the seeds');
      await ns.createJob('multi', { market: 'multi', timeout: Number(TIMEOUT), walletSecretRef, definition: multiJob.definition as never });
      const done = await ns.waitForPhase('multi', 'Succeeded', undefined, 90_000);
      assert.deepEqual(
        done.status?.ops?.map((op) => [op.id, op.status]),
        [
          ['create-volume', 'success'],
          ['run-from-cli', 'success'],
          ['run-from-cli-2', 'success'],
        ],
      );
      assert.match(done.status?.ops?.[2]?.logTail ?? '', /Hello World/);
      await node.waitForNode('multi-node', 'to count the job', (n) => n.status?.jobsCompleted === 1);
    } catch (error) {
      t.diagnostic(node.agent.diagnostics(60));
      throw error;
    } finally {
      await ns.deleteJob('multi').catch(() => undefined);
    }
  });

  test('the poster deletes a running job: its Pods stop, the node delivers what ran with complete and is paid for the time it ran', async (t) => {
    const node = scene();
    const { ns, localnet } = node.jobs;
    try {
      const { market, wallet, walletSecretRef } = await ns.stage('ended', { settings: SETTINGS });
      const nodeKey = await ns.wallet('ended-node-key', { sol: 1n });
      await node.createNode('ended-node', { market: 'ended', keySecret: 'ended-node-key' });
      await node.waitForNodePhase('ended-node', 'Queued', undefined, 90_000);
      const before = await readLedger(localnet, { poster: wallet.publicKey, market, node: nodeKey.publicKey });
      await ns.createJob('ended', { market: 'ended', timeout: Number(TIMEOUT), walletSecretRef, definition: FOREVER });
      const running = await ns.waitForPhase('ended', 'Running');
      const jobAddress = new PublicKey(running.status?.jobAddress ?? '');
      await waitFor(
        async () => (await node.jobPods()).some((pod) => pod.status?.phase === 'Running') || Promise.reject(new Error('no Pod runs')),
        {
          what: 'the job Pod to run',
          timeoutMs: 60_000,
          intervalMs: 100,
        },
      );

      await ns.deleteJob('ended');
      await ns.waitForJobGone('ended', 90_000);
      const counted = await node.waitForNode(
        'ended-node',
        'to count the ended job',
        (n) => (n.status?.jobsCompleted ?? 0) + (n.status?.jobsFailed ?? 0) === 1 && n.status?.currentJob === undefined,
        90_000,
      );
      assert.equal(counted.status?.jobsQuit, undefined, 'an ended job is not a quit');
      const chainJob = await localnet.jobsClient().getJob(jobAddress);
      assert.equal(chainJob?.status, 'COMPLETED');
      assert.ok(
        chainJob.account.ipfsResult.some((byte) => byte !== 0),
        'the node delivered a result with complete',
      );
      assert.equal(chainJob.account.node.toBase58(), nodeKey.publicKey.toBase58());
      assert.deepEqual(await node.jobPods(), [], "the job's Pods are gone");
      const after = await readLedger(localnet, { poster: wallet.publicKey, market, node: nodeKey.publicKey });
      const cost = jobCost(PRICE, chainJob.account.timeEnd - chainJob.account.timeStart, TIMEOUT);
      assert.equal(after.node - before.node, cost, 'the node is paid for the time it ran, once');
      assert.equal(after.total, before.total, 'NOS is conserved');
    } catch (error) {
      t.diagnostic(node.agent.diagnostics(60));
      throw error;
    }
  });

  test('a NosanaNode whose jobs need more GPUs than any node has never joins: NoCapacity naming the cause', async () => {
    const node = scene();
    const { ns, localnet } = node.jobs;
    const market = await ns.market('big', { settings: SETTINGS });
    const nodeKey = await ns.wallet('big-node-key', { sol: 1n });
    await node.createNode('big-node', { market: 'big', keySecret: 'big-node-key', gpusPerJob: 64 });
    const stuck = await node.waitForNodePhase('big-node', 'Idle', 'NoCapacity', 60_000);
    const capacity = conditionOf(stuck as never, 'NoCapacity');
    assert.equal(capacity?.status, 'True');
    assert.equal(capacity?.reason, 'NoSuitableNode');
    assert.match(capacity?.message ?? '', /64/, 'the message says how many GPUs a job needs');
    const marketAccount = await localnet.jobsClient().getMarket(market);
    assert.ok(!(marketAccount?.account.queue ?? []).some((entry) => entry.equals(nodeKey.publicKey)), 'the node is not in the queue');
  });

  test("a NosanaNode naming a key Secret that exists only in another namespace: KeyUnavailable, and the other team's Secret is never read", async () => {
    const node = scene();
    const { ns, ctx } = node.jobs;
    const victim = await ctx.freshNamespace('nn-victim');
    const since = new Date(Date.now() - 1_000);
    await ctx.core.createNamespacedSecret({
      namespace: victim,
      body: { metadata: { name: 'victim-key' }, stringData: { keypair: '[1,2,3]' } },
    });
    await ns.market('thief', { settings: SETTINGS });
    await node.createNode('thief-node', { market: 'thief', keySecret: 'victim-key' });
    const stalled = await node.waitForNodePhase('thief-node', 'Error', 'KeyUnavailable');
    const key = conditionOf(stalled as never, 'KeyUnavailable');
    assert.match(
      key?.message ?? '',
      new RegExp(`Secret ${ns.name}/victim-key key "keypair"`),
      'the message names the Secret the node may use: in its own namespace',
    );
    assert.doesNotMatch(JSON.stringify(stalled.status), /\[1,2,3\]/, 'nothing read from any Secret is shown');
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // the audit log is written in batches
    const reads = await auditEvents(ctx.handle.auditLogPath, { username: node.agentIdentity.username, since, namespace: victim });
    assert.deepEqual(
      reads.map((event) => `${event.verb} ${event.objectRef?.resource ?? ''}`),
      [],
      "the agent made no request in the other team's namespace",
    );
  });

  test('job Pods beside the key, or in a namespace no administrator marked for jobs: PlacementRefused, and the node never joins', async () => {
    const node = scene();
    const { ns, ctx } = node.jobs;
    await ns.market('refused', { settings: SETTINGS });
    await ns.wallet('refused-node-key', { sol: 1n });
    await ns.wallet('unmarked-node-key', { sol: 1n });
    const unmarked = await ctx.freshNamespace('nn-unmarked');
    await node.createNode('beside-key', { market: 'refused', keySecret: 'refused-node-key', pods: { namespace: ns.name } });
    await node.createNode('unmarked', { market: 'refused', keySecret: 'unmarked-node-key', pods: { namespace: unmarked } });
    const beside = await node.waitForNodePhase('beside-key', 'Error', 'PlacementRefused');
    assert.match(conditionOf(beside as never, 'PlacementRefused')?.message ?? '', /holds a NosanaNode/);
    const elsewhere = await node.waitForNodePhase('unmarked', 'Error', 'PlacementRefused');
    assert.match(conditionOf(elsewhere as never, 'PlacementRefused')?.message ?? '', /nosana\.io\/jobs=allowed/);
    assert.equal(elsewhere.status?.queuePosition, undefined);
  });

  test('deleting a NosanaNode: it leaves the queue and goes, and its key Secret stays', async () => {
    const node = scene();
    const { ns, localnet, ctx } = node.jobs;
    const market = await ns.market('gone', { settings: SETTINGS });
    const nodeKey = await ns.wallet('gone-node-key', { sol: 1n });
    await node.createNode('gone-node', { market: 'gone', keySecret: 'gone-node-key' });
    await node.waitForNodePhase('gone-node', 'Queued', undefined, 90_000);
    await ctx.objects.delete({ apiVersion: 'nosana.io/v1alpha1', kind: 'NosanaNode', metadata: { name: 'gone-node', namespace: ns.name } });
    await waitFor(async () => (await node.node('gone-node')) === undefined || Promise.reject(new Error('still there')), {
      what: 'the NosanaNode to go',
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    const marketAccount = await localnet.jobsClient().getMarket(market);
    assert.ok(
      !(marketAccount?.account.queue ?? []).some((entry) => entry.equals(nodeKey.publicKey)),
      'the node left the queue before it went',
    );
    const secret = await ctx.core.readNamespacedSecret({ namespace: ns.name, name: 'gone-node-key' });
    assert.ok(secret.data?.['keypair'], 'the key Secret (stake and earnings) is still there');
    assert.equal(secret.metadata?.ownerReferences, undefined, 'nothing owns the key Secret');
  });

  test('paused while running: Draining until the job is finished, then out of the queue', async (t) => {
    const node = scene();
    const { ns, localnet } = node.jobs;
    try {
      const { market, walletSecretRef } = await ns.stage('pause', { settings: SETTINGS });
      const nodeKey = await ns.wallet('pause-node-key', { sol: 1n });
      await node.createNode('pause-node', { market: 'pause', keySecret: 'pause-node-key' });
      await node.waitForNodePhase('pause-node', 'Queued', undefined, 90_000);
      await ns.createJob('pause', {
        market: 'pause',
        timeout: Number(TIMEOUT),
        walletSecretRef,
        definition: await definitionFixture('story.json'),
      });
      await ns.waitForPhase('pause', 'Running');
      await ns.ctx.objects.patch(
        {
          apiVersion: 'nosana.io/v1alpha1',
          kind: 'NosanaNode',
          metadata: { name: 'pause-node', namespace: ns.name },
          spec: { paused: true },
        } as never,
        undefined,
        undefined,
        undefined,
        undefined,
        (await import('@kubernetes/client-node')).PatchStrategy.MergePatch,
      );
      await node.waitForNodePhase('pause-node', 'Draining');
      await ns.waitForPhase('pause', 'Succeeded', undefined, 90_000);
      const paused = await node.waitForNodePhase('pause-node', 'Idle', 'Paused', 60_000);
      assert.equal(paused.status?.jobsCompleted, 1, 'the running job was finished, not dropped');
      const marketAccount = await localnet.jobsClient().getMarket(market);
      assert.ok(
        !(marketAccount?.account.queue ?? []).some((entry) => entry.equals(nodeKey.publicKey)),
        'a paused node is out of the queue',
      );
      assert.equal(readyReason(paused), 'Paused');
    } catch (error) {
      t.diagnostic(node.agent.diagnostics(60));
      throw error;
    }
  });
});
