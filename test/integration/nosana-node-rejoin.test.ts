// A node takes its next job as soon as it is free: once its `work` is confirmed, the agent reads
// the chain as of that landing slot, so the join shows in the read and the next one needs no wait
// on the clock. The settle time (--join-settle) still holds back the first join of a fresh agent,
// whose predecessor's `work` could still land. Here it is long next to a job's whole round trip,
// so a node that waited it out between jobs would start each later job a settle time after the
// previous one; the chain's own start times tell.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PublicKey } from '@solana/web3.js';
import type { SimulationRule } from '../../src/local-cluster/simulation.ts';
import { useNodeScene } from '../harness/node-scene.ts';

const JOIN_SETTLE_SECONDS = 40;
const TIMEOUT = 600;
const JOBS = ['first', 'second', 'third'];

const RULES: SimulationRule[] = [
  { name: 'ubuntu', match: { image: 'ubuntu' }, then: { exitCode: 0, runFor: '500ms', logs: [{ stream: 'stdout', text: 'done' }] } },
];

describe('a node serving a queue of jobs', () => {
  const scene = useNodeScene({ prefix: 'nn-rejoin', rules: RULES, agent: { joinSettle: `${JOIN_SETTLE_SECONDS}s` } });

  test(`takes one job after another without waiting out --join-settle (${JOIN_SETTLE_SECONDS}s) between them`, async (t) => {
    const node = scene();
    const { ns, localnet } = node.jobs;
    try {
      const { walletSecretRef } = await ns.stage('rejoin', { settings: { price: 10n, timeout: BigInt(TIMEOUT) } });
      await ns.wallet('rejoin-node-key', { sol: 1n });
      await node.createNode('rejoin-node', { market: 'rejoin', keySecret: 'rejoin-node-key' });
      // the first join of a fresh agent waits out the settle time
      await node.waitForNodePhase('rejoin-node', 'Queued', undefined, (JOIN_SETTLE_SECONDS + 60) * 1_000);

      // one taken at once by the queued node, two waiting in the market for its next `work`s
      for (const name of JOBS) {
        await ns.createJob(name, {
          market: 'rejoin',
          timeout: TIMEOUT,
          walletSecretRef,
          definition: {
            version: '0.1',
            type: 'container',
            ops: [{ id: 'run', type: 'container/run', args: { image: 'ubuntu', cmd: 'true', gpu: true } }],
          },
        });
      }
      const starts: number[] = [];
      for (const name of JOBS) {
        const done = await ns.waitForPhase(name, 'Succeeded', undefined, 120_000);
        const onChain = await localnet.jobsClient().getJob(new PublicKey(done.status?.jobAddress ?? ''));
        assert.equal(onChain?.status, 'COMPLETED');
        assert.equal(onChain.account.node.toBase58(), (await node.node('rejoin-node'))?.status?.nodeAddress, `${name} ran on the node`);
        starts.push(Number(onChain.account.timeStart));
      }
      // Posted together, they may be listed in any order; the node takes them one at a time.
      starts.sort((a, b) => a - b);
      const span = starts.at(-1)! - starts[0]!;
      t.diagnostic(`chain start times, seconds after the first: ${starts.map((start) => start - starts[0]!).join(', ')}`);
      // Waiting out the settle time before each later `work` would put the last start at least two
      // settle times after the first join, and the first job started within one of it.
      assert.ok(span < JOIN_SETTLE_SECONDS, `the three jobs started over ${span} s: the node waited out the settle time between them`);
    } catch (error) {
      t.diagnostic(node.agent.diagnostics(60));
      throw error;
    } finally {
      for (const name of JOBS) await ns.deleteJob(name).catch(() => undefined);
    }
  });
});
