// The whole loop on one cluster: a NosanaJob posted by the controller process is claimed by a
// NosanaNode served by the node agent process, run as a GPU Pod the real scheduler places on a
// KWOK GPU node, and comes back Succeeded with the result the agent pinned and finished with.
// What each simulated container does is this file's rule table; the chain and IPFS are the
// localnet, reached over HTTP by both processes.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { PublicKey } from '@solana/web3.js';
import pino from 'pino';
import type { NosanaNodeObject } from '../../src/api/crds/nosana-node.ts';
import { jobCost } from '../../src/chain/money.ts';
import { JOB_NAMESPACE_ALLOWED, JOB_NAMESPACE_LABEL } from '../../src/controllers/nosana-node/containment.ts';
import { JOB_LABEL } from '../../src/executor/labels.ts';
import { SimulationWatcher } from '../../src/local-cluster/simulation.ts';
import type { SimulationRule } from '../../src/local-cluster/simulation.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';
import { KubeApi } from '../../src/runtime/kube-api.ts';
import { kubectl } from '../harness/kubectl.ts';
import { localnetDir } from '../harness/localnet-faults.ts';
import { NOSANA_API_VERSION, WALLET_KEY, conditionOf, definitionFixture } from '../harness/nosana-fixtures.ts';
import { readLedger } from '../harness/nosana-ledger.ts';
import { useNosanaScene } from '../harness/nosana-scene.ts';
import { startNodeAgent } from '../harness/node-agent-process.ts';
import type { OperatorProcess } from '../harness/operator-process.ts';

const PRICE = 10n;
const TIMEOUT = 600n;
const STORY_LINES = ['Tony the tiny hawk lived on a windowsill.', 'He learned to fly in a storm.', 'The end.'];

const RULES: SimulationRule[] = [
  {
    name: 'story',
    match: { image: 'docker.io/jeisses/tinyllama:v4' },
    then: { exitCode: 0, runFor: '2s', logs: STORY_LINES.map((text) => ({ stream: 'stdout' as const, text })) },
  },
];

describe('the node agent serves a market: the whole loop', () => {
  let agent: OperatorProcess | undefined;
  let watcher: SimulationWatcher | undefined;
  let jobNamespace = '';
  // Registered before the scene's hooks, so it runs first: the NosanaNodes drain and go while the
  // agent and the localnet still run, then the agent stops.
  after(async () => {
    if (agent?.running === true) {
      const { ctx, ns } = scene();
      await kubectl(ctx, ['delete', 'nosananodes', '--all', '-n', ns.name, '--timeout=60s']);
      await agent.stop();
    }
    await watcher?.stop();
  });
  const scene = useNosanaScene({ prefix: 'nn-loop' });

  async function setUp(): Promise<OperatorProcess> {
    if (agent !== undefined) return agent;
    const { ctx, ns, identity, localnet } = scene();
    jobNamespace = await ctx.freshNamespace('nn-jobs');
    await new KubeApi(ctx.kubeConfig).request('PATCH', `/api/v1/namespaces/${jobNamespace}`, {
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { [JOB_NAMESPACE_LABEL]: JOB_NAMESPACE_ALLOWED } } },
    });
    watcher = new SimulationWatcher({
      kubeConfig: ctx.kubeConfig,
      logsDir: ctx.handle.kwokLogsDir,
      rules: RULES,
      namespaces: [jobNamespace],
      log: pino({ level: 'silent' }),
    });
    await watcher.start();
    agent = await startNodeAgent({ kubeconfigPath: identity.kubeconfigPath, localnetDir: localnetDir(localnet), namespaces: [ns.name] });
    await agent.waitReady();
    return agent;
  }

  async function createNode(name: string, market: string, keySecret: string, spec: Record<string, unknown> = {}): Promise<void> {
    const { ctx, ns } = scene();
    await ctx.objects.create({
      apiVersion: NOSANA_API_VERSION,
      kind: 'NosanaNode',
      metadata: { name, namespace: ns.name },
      spec: { market, keySecretRef: { name: keySecret, key: WALLET_KEY }, pods: { namespace: jobNamespace }, ...spec },
    } as KubernetesObject);
  }

  async function nodeObject(name: string): Promise<NosanaNodeObject> {
    const { ctx, ns } = scene();
    return ctx.objects.read({
      apiVersion: NOSANA_API_VERSION,
      kind: 'NosanaNode',
      metadata: { name, namespace: ns.name },
    }) as Promise<NosanaNodeObject>;
  }

  test("the seeds' story.json: posted, claimed by a NosanaNode, run as a GPU Pod, finished; Succeeded with the pinned result, and the node paid price × elapsed", async (t) => {
    const agentProcess = await setUp();
    const { ns, localnet, ctx } = scene();
    const timeline: [string, number][] = [];
    const mark = (what: string) => timeline.push([what, Date.now()]);
    try {
      const { market, wallet, walletSecretRef } = await ns.stage('story', { settings: { price: PRICE, timeout: TIMEOUT } });
      const nodeKey = await ns.wallet('story-node-key', { sol: 1n });
      const before = await readLedger(localnet, { poster: wallet.publicKey, market, node: nodeKey.publicKey });
      await createNode('story-node', 'story', 'story-node-key');
      const queued = await waitForNode(() => nodeObject('story-node'), 'Queued', 90_000);
      assert.equal(queued.status?.nodeAddress, nodeKey.publicKey.toBase58(), 'the status shows the node address of the key');
      assert.equal(queued.status?.queuePosition, 0);

      mark('apply');
      await ns.createJob('story', {
        market: 'story',
        timeout: Number(TIMEOUT),
        walletSecretRef,
        definition: await definitionFixture('story.json'),
      });
      const posted = await ns.waitForPhase('story', 'Running', undefined, 60_000);
      mark('claimed (NosanaJob Running)');
      const jobAddress = posted.status?.jobAddress ?? '';
      assert.equal(posted.status?.node, nodeKey.publicKey.toBase58(), 'the job runs on the NosanaNode');

      const pod = await waitFor(
        async () => {
          const pods = await ctx.core.listNamespacedPod({ namespace: jobNamespace });
          const running = pods.items.find((candidate: V1Pod) => candidate.status?.phase === 'Running');
          if (running !== undefined) return running;
          throw new Error(`pods: ${pods.items.map((candidate) => `${candidate.metadata?.name}=${candidate.status?.phase}`).join(', ')}`);
        },
        { what: 'the job Pod to run', timeoutMs: 60_000, intervalMs: 200 },
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
      assert.ok(chainJob !== undefined);
      assert.equal(
        done.status?.ipfsResult,
        chainJob.status === 'COMPLETED' ? (done.status?.ipfsResult ?? '') : '',
        'the job is completed on chain',
      );
      const cost = jobCost(PRICE, chainJob.account.timeEnd - chainJob.account.timeStart, TIMEOUT);
      const after = await readLedger(localnet, { poster: wallet.publicKey, market, node: nodeKey.publicKey });
      assert.equal(after.node - before.node, cost, 'the node earned exactly price × elapsed');
      assert.equal(after.total, before.total, 'NOS is conserved on the whole ledger');

      const idle = await waitForNode(() => nodeObject('story-node'), 'Queued', 60_000);
      assert.equal(idle.status?.jobsCompleted, 1, 'the job counts once as completed');
      assert.equal(idle.status?.earningsBaseUnits, cost.toString(), 'the status shows what the chain paid');
      assert.equal(conditionOf(idle as never, 'Ready')?.status, 'True');
      const leftovers = await ctx.core.listNamespacedPod({ namespace: jobNamespace });
      assert.equal(
        leftovers.items.filter((candidate) => candidate.metadata?.deletionTimestamp === undefined).length,
        0,
        'no job Pod is left',
      );

      const start = timeline[0]?.[1] ?? 0;
      t.diagnostic(`timeline: ${timeline.map(([what, at]) => `${what} +${((at - start) / 1000).toFixed(1)}s`).join(' → ')}`);
    } catch (error) {
      t.diagnostic(agentProcess.diagnostics(60));
      throw error;
    }
  });
});

async function waitForNode(read: () => Promise<NosanaNodeObject>, phase: string, timeoutMs: number): Promise<NosanaNodeObject> {
  return waitFor(
    async () => {
      const node = await read();
      if (node.status?.phase === phase) return node;
      const ready = node.status?.conditions?.find((condition) => condition.type === 'Ready');
      throw new Error(`phase ${node.status?.phase ?? '-'} ${ready?.reason ?? ''}: ${ready?.message ?? ''} ${node.status?.lastError ?? ''}`);
    },
    { what: `the NosanaNode to be ${phase}`, timeoutMs, intervalMs: 250 },
  );
}
