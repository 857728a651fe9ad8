// Cancelling and extending under kill -9, shared by `npm test` (a run per kill point) and `npm run
// test:chaos` (NOSANA_CHAOS_RUNS per point). A controller armed with NOSANA_KILL_AT=<label> posts a
// NosanaJob, then dies at the labelled step of the deletion's delist (CANCEL_KILL_POINTS) or of
// paying for a raised spec.timeout (EXTEND_KILL_POINTS); a fresh controller must finish the work
// on a faulty RPC. Afterwards a cancelled job is gone with its whole deposit back, an extension is
// paid and counted in the spend ledger exactly once, and NOS is conserved to the base unit.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PublicKey } from '@solana/web3.js';
import { jobDeposit } from '../../src/chain/money.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';
import { SPEND_LEDGER_DATA_KEY } from '../../src/controllers/nosana-job/spend-ledger.ts';
import { CANCEL_KILL_POINTS, EXTEND_KILL_POINTS } from '../../src/runtime/kill-points.ts';
import { describeExit } from '../harness/operator-process.ts';
import { simpleDefinition, WALLET_KEY } from '../harness/nosana-fixtures.ts';
import { jobAccountsOf, readLedger } from '../harness/nosana-ledger.ts';
import { useNosanaScene, type NosanaScene } from '../harness/nosana-scene.ts';
import { CRASH_FAULTS } from './crash-scenario.ts';

const PRICE = 10n;
const TIMEOUT = 600;
const RAISED_TIMEOUT = 1_200;
const SLOT_MS = 100;
const BLOCKHASH_LIFETIME = 40;
/** Generous: the faulty RPC drops a quarter of transactions and lands the rest late. */
const STEP_MS = 180_000;

type Label = (typeof CANCEL_KILL_POINTS)[number] | (typeof EXTEND_KILL_POINTS)[number];

/** One run: post, act until the kill, restart, check. Says how long it took. */
async function lifecycleCrashRun(
  scene: NosanaScene,
  label: Label,
  market: { name: string; address: PublicKey },
  run: string,
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
    timeout: TIMEOUT,
    walletSecretRef: { name: walletName, key: WALLET_KEY },
    definition: simpleDefinition(run),
  });
  await ns.waitForPhase(run, 'Queued', undefined, STEP_MS);
  const cancelling = label.startsWith('cancel:');
  if (cancelling) await ns.deleteJob(run);
  else await ns.patchJob(run, { spec: { timeout: RAISED_TIMEOUT } });
  const exit = await doomed.waitForExit(STEP_MS);
  assert.ok(
    doomed.diedAtKillPoint(label),
    `the controller should die at ${label}, it ended with ${describeExit(exit)}\n${doomed.diagnostics()}`,
  );

  const survivor = await scene.startController({ name: `survivor-${run}` });
  await survivor.waitReady();
  try {
    if (cancelling) {
      await ns.waitForJobGone(run, STEP_MS);
      assert.deepEqual(await jobAccountsOf(localnet, wallet.publicKey, market.address), [], 'the job was delisted, its account closed');
      const after = await readLedger(localnet, { poster: wallet.publicKey, market: market.address });
      assert.equal(after.poster, before.poster, 'the whole deposit came back');
      assert.equal(after.vault, before.vault);
      assert.equal(after.total, before.total, 'NOS is conserved');
    } else {
      const onChain = await waitFor(
        async () => {
          const jobs = await jobAccountsOf(localnet, wallet.publicKey, market.address);
          if (jobs.length === 1 && jobs[0]!.account.timeout === BigInt(RAISED_TIMEOUT)) return jobs;
          throw new Error(`jobs on chain: ${jobs.map((job) => `${job.address} timeout ${job.account.timeout}s`).join(', ') || 'none'}`);
        },
        { what: `the job's timeout to be raised to ${RAISED_TIMEOUT}s on chain`, timeoutMs: STEP_MS, intervalMs: 250 },
      );
      // the survivor has decided on the edited spec since (a second payment would be made by now)
      const raised = await ns.waitForJob(
        run,
        'to have its edited spec reconciled',
        (job) => job.status?.observedGeneration === job.metadata?.generation && job.status?.phase === 'Queued',
        STEP_MS,
      );
      assert.equal(raised.status?.jobAddress, onChain[0]!.address);
      const after = await readLedger(localnet, { poster: wallet.publicKey, market: market.address });
      const paid = jobDeposit(PRICE, BigInt(RAISED_TIMEOUT));
      assert.equal(after.poster, before.poster - paid, 'the deposit and the extension, each paid once');
      assert.equal(after.vault, before.vault + paid);
      assert.equal(after.total, before.total, 'NOS is conserved');
      const ledgers = await scene.ctx.core.listNamespacedConfigMap({ namespace: ns.name });
      const extensions = ledgers.items
        .flatMap((configMap) => JSON.parse(configMap.data?.[SPEND_LEDGER_DATA_KEY] ?? '[]') as { key: string; job: string }[])
        .filter((entry) => entry.job === onChain[0]!.address && entry.key.endsWith(`@extend:${RAISED_TIMEOUT}`));
      assert.equal(extensions.length, 1, 'the extension is counted once in the spend ledger');
    }
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${survivor.diagnostics()}`, { cause: error });
  }
  const stopped = await survivor.sigterm();
  assert.deepEqual(
    { code: stopped.code, forced: stopped.forced },
    { code: 0, forced: false },
    `SIGTERM drains and exits 0\n${survivor.diagnostics()}`,
  );
  const events = await ns.eventReasons(run).catch(() => []);
  return `${((Date.now() - started) / 1000).toFixed(1)} s${events.length === 0 ? '' : `; events ${events.join(', ')}`}`;
}

/** Registers one test per cancel and extend kill point, `runs` runs each. Call at the top of a test file. */
export function lifecycleCrashScenario(runs: number): void {
  describe(`cancelling and extending under kill -9 (${runs} run${runs === 1 ? '' : 's'} per point, faulty RPC)`, () => {
    const scene = useNosanaScene({
      prefix: 'nj-lifecycle-crash',
      startController: false,
      localnet: { chain: { slotMs: SLOT_MS, blockhashLifetime: BLOCKHASH_LIFETIME, finalizeAfterSlots: 4 } },
    });

    for (const [index, label] of [...CANCEL_KILL_POINTS, ...EXTEND_KILL_POINTS].entries()) {
      const what = label.startsWith('cancel:')
        ? 'the deleted NosanaJob goes once its job is delisted, the whole deposit back'
        : 'the raised timeout is paid and counted once';
      test(`killed at ${label}: ${what}, NOS conserved`, async (t) => {
        const current = scene();
        const marketName = `lifecycle-${index}`;
        const address = await current.ns.market(marketName, {
          settings: { price: PRICE, timeout: BigInt(TIMEOUT) },
          // a limit, so extensions go through the spend ledger
          spec: { dailySpendLimit: '1000' },
          waitReady: false,
        });
        await current.faults.during({ chain: CRASH_FAULTS }, async () => {
          for (let run = 1; run <= runs; run += 1) {
            const summary = await lifecycleCrashRun(current, label, { name: marketName, address }, `l${index}-r${run}`);
            t.diagnostic(`run ${run}/${runs} at ${label}: ${summary}`);
          }
        });
      });
    }
  });
}
