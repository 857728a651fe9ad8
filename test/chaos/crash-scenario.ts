// Create-once under kill -9, shared by `npm test` (a run per kill point) and `npm run
// test:chaos` (NOSANA_CHAOS_RUNS per point, 20 by default there). For each labelled step of the
// post (POST_KILL_POINTS), a controller armed with NOSANA_KILL_AT=<label> takes a new NosanaJob
// and SIGKILLs itself at that step; a fresh controller without the variable must finish the post.
// The localnet meanwhile drops and delays transactions and expires blockhashes early, so the
// restarted controller meets every outcome of a post: landed, still pending, never landed.
// Every NosanaJob must end with exactly one on-chain job and NOS must be conserved.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PublicKey } from '@solana/web3.js';
import { JOB_ADDRESS_ANNOTATION } from '../../src/api/annotations.ts';
import { jobDeposit } from '../../src/chain/money.ts';
import { POST_KILL_POINTS } from '../../src/runtime/kill-points.ts';
import { describeExit } from '../harness/operator-process.ts';
import { simpleDefinition, WALLET_KEY } from '../harness/nosana-fixtures.ts';
import { jobAccountsOf, readLedger } from '../harness/nosana-ledger.ts';
import { useNosanaScene, type NosanaScene } from '../harness/nosana-scene.ts';

const PRICE = 10n;
const TIMEOUT = 600n;
const DEPOSIT = jobDeposit(PRICE, TIMEOUT);

/** A bad RPC day: a quarter of transactions vanish, the rest land late, blockhashes die young. */
export const CRASH_FAULTS = { dropRate: 0.25, landingDelaySlots: 3, expireBlockhashesEarly: 20 } as const;
const SLOT_MS = 100;
const BLOCKHASH_LIFETIME = 40;
// Every other run, every transaction vanishes while the restarted controller takes over, for longer
// than a blockhash lives: a post recorded before the kill can then never land, and the survivor
// must see that and post afresh (the create-once branch where a double post would happen).
const BLACKOUT_MS = BLOCKHASH_LIFETIME * SLOT_MS + 2_000;

/** Runs per kill point: NOSANA_CHAOS_RUNS, else `fallback`. */
export function chaosRuns(fallback: number): number {
  const text = process.env['NOSANA_CHAOS_RUNS'];
  if (text === undefined || text === '') return fallback;
  const runs = Number(text);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`NOSANA_CHAOS_RUNS must be a positive integer, got "${text}"`);
  return runs;
}

/** One run: kill at `label`, restart, and check the outcome. Says how long it took and the path the post took. */
async function crashRun(
  scene: NosanaScene,
  label: string,
  market: { name: string; address: PublicKey },
  run: string,
  blackout: boolean,
): Promise<string> {
  const started = Date.now();
  const { ns, localnet } = scene;
  const walletName = `wallet-${run}`;
  const wallet = await ns.wallet(walletName);
  const before = await readLedger(localnet, { poster: wallet.publicKey, market: market.address });

  const doomed = await scene.startController({ name: `doomed-${run}`, killAt: label });
  await doomed.waitReady();
  await ns.createJob(run, {
    market: market.name,
    walletSecretRef: { name: walletName, key: WALLET_KEY },
    definition: simpleDefinition(run),
  });
  const exit = await doomed.waitForExit(120_000);
  assert.ok(
    doomed.diedAtKillPoint(label),
    `the controller should die at ${label}, it ended with ${describeExit(exit)}\n${doomed.diagnostics()}`,
  );

  if (blackout) scene.faults.chain({ dropRate: 1 });
  const survivor = await scene.startController({ name: `survivor-${run}` });
  await survivor.waitReady();
  if (blackout) {
    await new Promise((resolve) => setTimeout(resolve, BLACKOUT_MS));
    scene.faults.chain({ dropRate: CRASH_FAULTS.dropRate });
  }
  const queued = await ns.waitForPhase(run, 'Queued', undefined, 180_000).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\n${survivor.diagnostics()}`);
  });
  const stopped = await survivor.sigterm();
  assert.deepEqual(
    { code: stopped.code, forced: stopped.forced },
    { code: 0, forced: false },
    `SIGTERM drains and exits 0\n${survivor.diagnostics()}`,
  );

  const onChain = await jobAccountsOf(localnet, wallet.publicKey, market.address);
  assert.equal(
    onChain.length,
    1,
    `exactly one on-chain job for NosanaJob ${run}, found ${onChain.map((entry) => entry.address).join(', ') || 'none'}`,
  );
  assert.equal(queued.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION], onChain[0]!.address, 'the annotation names that job');
  assert.equal(queued.status?.jobAddress, onChain[0]!.address, 'status.jobAddress names that job');
  const after = await readLedger(localnet, { poster: wallet.publicKey, market: market.address });
  assert.equal(after.poster, before.poster - DEPOSIT, 'one deposit was paid');
  assert.equal(after.vault, before.vault + DEPOSIT);
  assert.equal(after.total, before.total, 'NOS is conserved');
  const events = await ns.eventReasons(run);
  if (blackout && label === 'post:after-record') {
    // recorded, never sent by the doomed process, dropped when the survivor re-sent it: it expired
    assert.ok(events.includes('PostExpired'), `the recorded post expired and was replaced (events: ${events.join(', ')})`);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  return `${blackout ? 'blackout, ' : ''}${seconds} s; events ${events.join(', ')}`;
}

/** Registers the crash tests: one test per kill point, `runs` runs each. Call at the top of a test file. */
export function crashScenario(runs: number): void {
  describe(`create-once under kill -9 at every step of the post (${runs} run${runs === 1 ? '' : 's'} per point, faulty RPC)`, () => {
    const scene = useNosanaScene({
      prefix: 'nj-crash',
      startController: false,
      localnet: { chain: { slotMs: SLOT_MS, blockhashLifetime: BLOCKHASH_LIFETIME, finalizeAfterSlots: 4 } },
    });

    for (const [index, label] of POST_KILL_POINTS.entries()) {
      test(`killed at ${label}: each NosanaJob ends with exactly one on-chain job, NOS conserved`, async (t) => {
        const current = scene();
        const marketName = `crash-${index}`;
        const address = await current.ns.market(marketName, { settings: { price: PRICE, timeout: TIMEOUT }, waitReady: false });
        await current.faults.during({ chain: CRASH_FAULTS }, async () => {
          for (let run = 1; run <= runs; run += 1) {
            const summary = await crashRun(current, label, { name: marketName, address }, `p${index}-r${run}`, run % 2 === 1);
            t.diagnostic(`run ${run}/${runs} at ${label}: ${summary}`);
          }
        });
      });
    }
  });
}
