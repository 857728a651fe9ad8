// The whole loop on a bad network day, shared by `npm run test:chaos` (NOSANA_CHAOS_JOBS jobs) and,
// later, a reduced run in `npm test`. The controller process posts a batch of NosanaJobs and two
// NosanaNodes served by the node agent process claim, run and finish them, while the localnet
// misbehaves on both wires: the RPC drops a fifth of the transactions, lands the rest late,
// answers 429 and 503, holds some answers past the client's 30 s timeout, serves reads from a
// backend that lags behind the last write and drops websocket connections; the IPFS gateway fails,
// answers slowly and serves corrupted bytes, and pins fail. Then, with the faults off: every
// NosanaJob reached a terminal phase, each paid for exactly one on-chain job, no run was finished
// twice (no transaction about a job failed, no run record is left, each node counted and was paid
// for each of its jobs once), NOS is conserved to the base unit, corrupted bytes were served and
// refused, and what the NosanaJobs show is what is really pinned.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ChainFaults } from '../../src/localnet/chain/faults.ts';
import type { GatewayFaults } from '../../src/localnet/ipfs/index.ts';
import { useNodeScene } from '../harness/node-scene.ts';
import type { OperatorProcess } from '../harness/operator-process.ts';
import { applyBatch, batchRules, checkBatchOutcome, describeOutcomes, prepareBatch, waitBatchTerminal } from './loop-batch.ts';

const MARKET = 'chain-faults';
const NODES = ['cf-node-a', 'cf-node-b'] as const;
const BATCH = 'cf';

/** The RPC's bad day: every knob of src/localnet/chain/faults.ts that a client must ride out. */
export const CHAIN_FAULTS = {
  dropRate: 0.2,
  landingDelaySlots: 3,
  rateLimitRate: 0.05,
  serverErrorRate: 0.05,
  // past the RPC transport's 30 s per-attempt timeout: the client gives up on a request that took effect
  hangRate: 0.005,
  hangMs: 31_000,
  // 2 s behind at 100 ms slots: a read after a write often does not see it
  lagSlots: 20,
  lagRate: 0.3,
  wsDropRate: 0.1,
} as const satisfies Partial<ChainFaults>;

/** The IPFS service's bad day. Corruption is frequent enough that a small batch meets it for sure. */
export const IPFS_FAULTS = {
  gatewayErrorRate: 0.1,
  gatewayDelayMs: 100,
  corruptRate: 0.3,
  pinErrorRate: 0.1,
} as const satisfies Partial<GatewayFaults>;

/** What ContentIntegrityError (src/ipfs/errors.ts) says when a gateway's bytes do not hash to the CID asked for. */
const CORRUPTION_REFUSED = 'served corrupt content for';

/** Log lines of `processes` that say a gateway's corrupted bytes were refused. */
function corruptionRefusals(processes: readonly OperatorProcess[]): number {
  let count = 0;
  for (const component of processes) {
    for (const line of component.logs()) if (JSON.stringify(line).includes(CORRUPTION_REFUSED)) count += 1;
  }
  return count;
}

/** Registers the test: `count` NosanaJobs through the loop on a faulty chain and IPFS. Call at the top of a test file. */
export function chainFaultsScenario(count: number): void {
  describe(`chain and IPFS faults: ${count} NosanaJob${count === 1 ? '' : 's'} through post, claim, run and finish`, () => {
    const scene = useNodeScene({ prefix: 'nn-chainfault', rules: batchRules(BATCH, count) });

    test('every job reaches a terminal phase, posted once, finished once, corruption refused, NOS conserved', async (t) => {
      const current = scene();
      const { ns } = current.jobs;
      try {
        const { marketAddress, batch, before } = await prepareBatch(current, { market: MARKET, nodeNames: NODES, prefix: BATCH, count });

        // a correctness bound, not a speed goal: a job stuck for good never gets there
        const deadlineMs = 300_000 + count * 30_000;
        const started = Date.now();
        await current.jobs.faults.during({ chain: CHAIN_FAULTS, ipfs: IPFS_FAULTS }, async () => {
          await applyBatch(ns, batch, MARKET);
          return waitBatchTerminal(ns, batch, deadlineMs);
        });
        const stormSeconds = ((Date.now() - started) / 1000).toFixed(1);
        current.jobs.controller.assertRunning();
        current.agent.assertRunning();

        // settled: each node has no job in hand and has counted everything it finished
        for (const name of NODES) {
          await current.waitForNode(name, 'to have no job in hand', (node) => node.status?.currentJob === undefined, 120_000);
        }
        const refusals = corruptionRefusals([current.jobs.controller, current.agent]);
        assert.ok(refusals > 0, `corrupted gateway reads were served and refused (log lines saying "${CORRUPTION_REFUSED}": ${refusals})`);
        const outcomes = describeOutcomes(await checkBatchOutcome(current, NODES, batch, marketAddress, before));
        t.diagnostic(`${count} jobs terminal after ${stormSeconds} s under faults: ${outcomes}; ${refusals} corrupted reads refused`);
      } catch (error) {
        t.diagnostic(current.jobs.controller.diagnostics(40));
        t.diagnostic(current.agent.diagnostics(40));
        throw error;
      }
    });
  });
}
