// Exactly one ending under kill -9, shared by `npm test` (a run per kill point) and `npm run
// test:chaos` (NOSANA_CHAOS_RUNS per point). For each labelled step of a run's ending
// (NODE_KILL_POINTS: after the result is pinned, after it is recorded, after the signed ending is
// recorded, after it is broadcast), an agent armed with NOSANA_KILL_AT=<label> claims a job and
// SIGKILLs itself at that step; a fresh agent must finish what it left. The localnet meanwhile
// drops a share of transactions and lands the rest late, so the survivor meets an ending that
// landed, one still pending and one never sent. Every job must be finished exactly once: no
// transaction about it fails (a second finish would), the node is paid price × elapsed once, and
// the NosanaNode counts it once.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PublicKey } from '@solana/web3.js';
import { jobCost } from '../../src/chain/money.ts';
import { NODE_KILL_POINTS } from '../../src/controllers/nosana-node/act.ts';
import type { SimulationRule } from '../../src/local-cluster/simulation.ts';
import { describeExit } from '../harness/operator-process.ts';
import { definitionFixture } from '../harness/nosana-fixtures.ts';
import { readLedger } from '../harness/nosana-ledger.ts';
import { useNodeScene, type NodeScene } from '../harness/node-scene.ts';
import { chaosRuns } from './crash-scenario.ts';

export { chaosRuns };

const PRICE = 10n;
const TIMEOUT = 600n;
/** A bad RPC day for the node: some transactions vanish, the rest land late. */
const NODE_CRASH_FAULTS = { dropRate: 0.2, landingDelaySlots: 3 } as const;

const RULES: SimulationRule[] = [
  {
    name: 'story',
    match: { image: 'docker.io/jeisses/tinyllama:v4' },
    then: { exitCode: 0, runFor: '1s', logs: [{ stream: 'stdout', text: 'Tony the tiny hawk.' }] },
  },
];

async function crashRun(scene: NodeScene, label: string, run: string, counted: number): Promise<string> {
  const started = Date.now();
  const { ns, localnet } = scene.jobs;
  const nodeKeyAddress = (await scene.node('crash-node'))?.status?.nodeAddress;
  assert.ok(nodeKeyAddress !== undefined, 'the NosanaNode shows its address');
  const nodeAddress = new PublicKey(nodeKeyAddress);
  const walletName = `wallet-${run}`;
  const wallet = await ns.wallet(walletName);
  const market = new PublicKey(
    (
      (await scene.jobs.ctx.objects.read({
        apiVersion: 'nosana.io/v1alpha1',
        kind: 'NosanaMarket',
        metadata: { name: 'crash', namespace: ns.name },
      } as never)) as { status?: { address?: string } }
    ).status?.address ?? '',
  );
  const before = await readLedger(localnet, { poster: wallet.publicKey, market, node: nodeAddress });

  const doomed = await scene.startAgent({ name: `doomed-${run}`, killAt: label });
  await doomed.waitReady();
  await ns.createJob(run, {
    market: 'crash',
    timeout: Number(TIMEOUT),
    walletSecretRef: { name: walletName, key: 'keypair' },
    definition: await definitionFixture('story.json'),
  });
  const exit = await doomed.waitForExit(180_000);
  assert.ok(
    doomed.diedAtKillPoint(label),
    `the agent should die at ${label}, it ended with ${describeExit(exit)}\n${doomed.diagnostics()}`,
  );

  const survivor = await scene.startAgent({ name: `survivor-${run}` });
  await survivor.waitReady();
  const done = await ns.waitForPhase(run, 'Succeeded', undefined, 180_000).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\n${survivor.diagnostics(60)}`);
  });
  const node = await scene.waitForNode(
    'crash-node',
    `to count job ${run} once`,
    (candidate) => candidate.status?.currentJob === undefined && (candidate.status?.jobsCompleted ?? 0) >= counted,
    120_000,
  );
  assert.equal(node.status?.jobsCompleted, counted, 'each job is counted exactly once');
  const stopped = await survivor.sigterm();
  assert.equal(stopped.code, 0, `SIGTERM drains and exits 0\n${survivor.diagnostics()}`);

  const jobAddress = new PublicKey(done.status?.jobAddress ?? '');
  const signatures = await localnet.connection().getSignaturesForAddress(jobAddress);
  const failed = signatures.filter((entry) => entry.err !== null);
  assert.deepEqual(
    failed.map((entry) => entry.signature),
    [],
    'no transaction about the job failed: no second ending was sent',
  );
  const chainJob = await localnet.jobsClient().getJob(jobAddress);
  assert.equal(chainJob?.status, 'COMPLETED');
  const cost = jobCost(PRICE, chainJob.account.timeEnd - chainJob.account.timeStart, TIMEOUT);
  const after = await readLedger(localnet, { poster: wallet.publicKey, market, node: nodeAddress });
  assert.equal(after.node - before.node, cost, 'the node is paid price × elapsed, once');
  assert.equal(after.total, before.total, 'NOS is conserved');
  await ns.deleteJob(run);
  return `${((Date.now() - started) / 1000).toFixed(1)} s`;
}

/** Registers the crash tests: one test per kill point, `runs` runs each. Call at the top of a test file. */
export function nodeCrashScenario(runs: number): void {
  describe(`exactly one ending under kill -9 at every step of a run's end (${runs} run${runs === 1 ? '' : 's'} per point, faulty RPC)`, () => {
    const scene = useNodeScene({ prefix: 'nn-crash', rules: RULES, startAgent: false });
    let counted = 0;

    for (const label of NODE_KILL_POINTS) {
      test(`killed at ${label}: each job is finished once, paid once and counted once`, async (t) => {
        const current = scene();
        if (counted === 0 && (await current.node('crash-node')) === undefined) {
          await current.jobs.ns.market('crash', { settings: { price: PRICE, timeout: TIMEOUT } });
          await current.jobs.ns.wallet('crash-node-key', { sol: 2n });
          await current.createNode('crash-node', { market: 'crash', keySecret: 'crash-node-key' });
          const first = await current.startAgent({ name: 'first' });
          await first.waitReady();
          await current.waitForNodePhase('crash-node', 'Queued', undefined, 90_000);
          await first.stop();
        }
        await current.jobs.faults.during({ chain: NODE_CRASH_FAULTS }, async () => {
          for (let run = 1; run <= runs; run += 1) {
            counted += 1;
            const summary = await crashRun(current, label, `${label.replace(/[^a-z]+/g, '-')}-r${run}`, counted);
            t.diagnostic(`run ${run}/${runs} at ${label}: ${summary}`);
          }
        });
      });
    }
  });
}
