// Nothing is left hanging, end to end: a job nobody takes is delisted after spec.queueTimeout, a
// job whose node quit is recovered and posted again, and a job whose node went silent is ended
// and fails for want of a result. The controller runs with short grace periods so the tests wait
// seconds, not minutes; the ledger shows who paid what.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PublicKey } from '@solana/web3.js';
import { jobCost, jobDeposit } from '../../src/chain/money.ts';
import { conditionOf, simpleDefinition } from '../harness/nosana-fixtures.ts';
import { jobAccountsOf, readLedger, TestNode } from '../harness/nosana-ledger.ts';
import { useNosanaScene } from '../harness/nosana-scene.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';

const PRICE = 10n;
const TIMEOUT = 600n;
const SETTINGS = { price: PRICE, timeout: TIMEOUT };

describe('NosanaJob recovery through the controller process', () => {
  const scene = useNosanaScene({ prefix: 'nj-recover', controller: { deadNodeGrace: '1s', resultWait: '2s' } });

  test('queueTimeout: a job no node takes is delisted and refunded; Stopped with QueueTimeout', async () => {
    const { ns, localnet } = scene();
    const { market, wallet, walletSecretRef, before } = await ns.stage('lonely', { settings: SETTINGS });
    await ns.createJob('lonely', { market: 'lonely', queueTimeout: '3s', walletSecretRef, definition: simpleDefinition() });
    const queued = await ns.waitForPhase('lonely', 'Queued');
    const job = new PublicKey(queued.status!.jobAddress!);

    const stopped = await ns.waitForPhase('lonely', 'Stopped', 'QueueTimeout');
    assert.equal(conditionOf(stopped, 'Completed')?.status, 'True');
    assert.equal(await localnet.jobsClient().getJob(job), undefined, 'the job was delisted');
    const after = await readLedger(localnet, { poster: wallet.publicKey, market });
    assert.equal(after.poster, before.poster, 'the whole deposit came back');
    assert.equal(after.vault, before.vault);
    assert.equal(after.total, before.total);
  });

  test('node quit → the deposit is recovered and the job posted again (spec.retries); the second node finishes it', async () => {
    const { ns, localnet } = scene();
    const { market, wallet, walletSecretRef, before } = await ns.stage('quitter', { settings: SETTINGS });
    await ns.createJob('quitter', { market: 'quitter', retries: 1, walletSecretRef, definition: simpleDefinition() });
    const first = new PublicKey((await ns.waitForPhase('quitter', 'Queued')).status!.jobAddress!);

    const quitter = await TestNode.join(localnet);
    await quitter.work(market);
    await ns.waitForPhase('quitter', 'Running');
    await quitter.quit(first);

    const reposted = await ns.waitForJob(
      'quitter',
      'to be posted again as a fresh job',
      (job) => job.status?.phase === 'Queued' && job.status.jobAddress !== undefined && job.status.jobAddress !== first.toBase58(),
    );
    const second = new PublicKey(reposted.status!.jobAddress!);
    assert.deepEqual(
      reposted.status?.attempts?.map((attempt) => attempt.jobAddress),
      [first.toBase58(), second.toBase58()],
      'both attempts are recorded, oldest first',
    );
    assert.equal(await localnet.jobsClient().getJob(first), undefined, 'the stopped job was recovered (its account closed)');
    assert.deepEqual(
      (await jobAccountsOf(localnet, wallet.publicKey)).map((entry) => entry.address),
      [second.toBase58()],
      'one live job on chain',
    );
    assert.equal(
      (await readLedger(localnet, { poster: wallet.publicKey, market })).poster,
      before.poster - jobDeposit(PRICE, TIMEOUT),
      'the first deposit came back before the second was paid',
    );

    const finisher = await TestNode.join(localnet);
    await finisher.work(market);
    await finisher.finish(second, [{ id: 'main', exitCode: 0, logs: ['hello'] }]);
    await ns.waitForPhase('quitter', 'Succeeded');
    const after = await readLedger(localnet, { poster: wallet.publicKey, market, node: finisher.address });
    assert.equal(await quitter.nos(), 0n, 'the node that quit earns nothing');
    assert.equal(after.poster, before.poster - after.node, 'the poster paid only the node that finished');
    assert.equal(after.total, before.total);
  });

  test('dead node: past run start + timeout + grace the job is ended (the node paid for the timeout); no result → Failed NoResult', async () => {
    const { ns, localnet } = scene();
    const timeout = 3n;
    const { market, wallet, walletSecretRef, before } = await ns.stage('silent', { settings: SETTINGS });
    await ns.createJob('silent', { market: 'silent', timeout: Number(timeout), walletSecretRef, definition: simpleDefinition() });
    const job = new PublicKey((await ns.waitForPhase('silent', 'Queued')).status!.jobAddress!);
    const node = await TestNode.join(localnet);
    await node.work(market);
    await ns.waitForPhase('silent', 'Running');

    // the node never finishes: the controller ends the job so the chain settles
    const ended = await waitFor(
      async () => {
        const view = await localnet.jobsClient().getJob(job);
        return view?.status === 'COMPLETED' ? view : undefined;
      },
      { what: 'the controller to end the job of the silent node', timeoutMs: 60_000, intervalMs: 250 },
    );
    const cost = jobCost(PRICE, ended.account.timeEnd - ended.account.timeStart, timeout);
    assert.equal(cost, PRICE * timeout, 'the node is paid for the whole timeout, no more');

    const failed = await ns.waitForPhase('silent', 'Failed', 'NoResult');
    assert.equal(conditionOf(failed, 'Failed')?.status, 'True');
    const after = await readLedger(localnet, { poster: wallet.publicKey, market, node: node.address });
    assert.equal(after.node, cost);
    assert.equal(after.poster, before.poster - cost);
    assert.equal(after.total, before.total);
  });
});
