// The NosanaJob controller end to end: the real controller process against the test API server
// and the localnet over HTTP, with the test playing the node through the chain client. Each test
// has a market and a wallet of its own, and checks the ledger to the base unit.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PublicKey } from '@solana/web3.js';
import { JOB_ADDRESS_ANNOTATION } from '../../src/api/annotations.ts';
import { jobCost, jobDeposit, formatNos } from '../../src/chain/money.ts';
import { PinataClient } from '../../src/ipfs/pinata.ts';
import { auditEvents, countByRequest, WRITE_VERBS } from '../harness/audit-log.ts';
import { conditionOf, definitionFixture, simpleDefinition, type NosanaJobResource } from '../harness/nosana-fixtures.ts';
import { jobAccountsOf, postDirectly, readLedger, TestNode } from '../harness/nosana-ledger.ts';
import { useNosanaScene } from '../harness/nosana-scene.ts';
import { growth, sumByLabel } from '../harness/prometheus-text.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';

const PRICE = 10n;
const TIMEOUT = 600n;
const DEPOSIT = jobDeposit(PRICE, TIMEOUT);

const SETTINGS = { price: PRICE, timeout: TIMEOUT };

function jobAddressOf(job: NosanaJobResource): PublicKey {
  const address = job.status?.jobAddress;
  assert.ok(address !== undefined, 'status.jobAddress is set once the job is posted');
  assert.equal(
    job.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION],
    address,
    `the ${JOB_ADDRESS_ANNOTATION} annotation records the same job`,
  );
  return new PublicKey(address);
}

describe('NosanaJob lifecycle through the controller process', () => {
  const scene = useNosanaScene({ prefix: 'nj-life' });

  test("the seeds' story.json: Queued, a node runs it, Succeeded with result, cost, op exit code, log tail and logs ConfigMap", async (t) => {
    const { ns, localnet, controller, ctx, identity, faults } = scene();
    const { market, wallet, walletSecretRef, before } = await ns.stage('story', { settings: SETTINGS });
    const story = await definitionFixture('story.json');
    const rpcBefore = sumByLabel(await controller.scrape(), 'nosana_rpc_requests_total', 'method');
    const applied = new Date(Date.now() - 1_000); // audit timestamps have microseconds; a second of slack

    await ns.createJob('story', { market: 'story', timeout: Number(TIMEOUT), walletSecretRef, definition: story });
    const queued = await ns.waitForPhase('story', 'Queued');
    const job = jobAddressOf(queued);
    assert.equal(conditionOf(queued, 'Posted')?.status, 'True');
    assert.equal(queued.status?.marketAddress, market.toBase58());
    assert.deepEqual(
      (await jobAccountsOf(localnet, wallet.publicKey)).map((entry) => entry.address),
      [job.toBase58()],
      'exactly one job on chain',
    );
    const afterPost = await readLedger(localnet, { poster: wallet.publicKey, market });
    assert.equal(afterPost.poster, before.poster - DEPOSIT, 'the deposit is price × timeout');
    assert.equal(afterPost.vault, before.vault + DEPOSIT);

    const node = await TestNode.join(localnet);
    await node.work(market);
    const running = await ns.waitForPhase('story', 'Running');
    assert.equal(running.status?.node, node.address.toBase58());
    faults.advanceClock(30);
    const lines = ['Tony the tiny hawk. He was a graceful bird.', 'achieved tok/s: 116.402116', 'The end.'];
    const resultCid = await node.finish(job, [{ id: 'tinyllama', exitCode: 0, logs: lines }]);

    const waited = await ns.kubectlWait('story', 'Completed', 60);
    assert.equal(waited.code, 0, `kubectl wait --for=condition=Completed: ${waited.stderr}`);
    const done = await ns.waitForPhase('story', 'Succeeded');
    assert.equal(done.status?.ipfsResult, resultCid);
    const chainJob = (await localnet.jobsClient().getJob(job))!;
    const cost = jobCost(PRICE, chainJob.account.timeEnd - chainJob.account.timeStart, TIMEOUT);
    assert.ok(cost >= PRICE * 30n, 'the 30 s the clock moved are paid');
    assert.equal(done.status?.costBaseUnits, cost.toString());
    assert.equal(done.status?.cost, formatNos(cost));
    assert.equal(done.status?.ops?.length, 1);
    const op = done.status!.ops![0]!;
    assert.equal(op.id, 'tinyllama');
    assert.equal(op.exitCode, 0);
    assert.equal(op.status, 'success');
    assert.match(op.logTail ?? '', /The end\./, 'the log tail ends with the last line');
    assert.equal(conditionOf(done, 'Ready')?.status, 'True');
    assert.equal(conditionOf(done, 'Failed')?.status, 'False');

    const logsName = done.status?.logsConfigMap;
    assert.equal(logsName, 'story-logs');
    const logs = await ctx.core.readNamespacedConfigMap({ namespace: ns.name, name: logsName });
    assert.ok(
      logs.metadata?.ownerReferences?.some((owner) => owner.kind === 'NosanaJob' && owner.uid === done.metadata?.uid),
      'the logs ConfigMap is owned by the NosanaJob',
    );
    const logText = Object.values(logs.data ?? {}).join('\n');
    for (const line of lines) assert.ok(logText.includes(line), `the logs ConfigMap holds "${line}"`);

    const after = await readLedger(localnet, { poster: wallet.publicKey, market, node: node.address });
    assert.equal(after.node, cost, 'the node is paid price × elapsed');
    assert.equal(after.poster, before.poster - cost, 'the poster pays only the cost: the rest of the deposit came back');
    assert.equal(after.vault, before.vault);
    assert.equal(after.total, before.total, 'NOS is conserved');

    // What one job lifecycle costs, from apply to Succeeded.
    const rpc = growth(rpcBefore, sumByLabel(await controller.scrape(), 'nosana_rpc_requests_total', 'method'));
    const rpcTotal = Object.values(rpc).reduce((sum, count) => sum + count, 0);
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // the audit log is written in batches of up to 1 s
    const written = await auditEvents(ctx.handle.auditLogPath, {
      username: identity.username,
      since: applied,
      namespace: ns.name,
      verbs: WRITE_VERBS,
      objectName: (name) => name.startsWith('story'),
    });
    // the NosanaMarket (also named "story") counts its jobs per phase: its writes are reported apart
    const writes = written.filter((event) => event.objectRef?.resource !== 'nosanamarkets');
    const marketWrites = written.length - writes.length;
    t.diagnostic(`RPC requests for one job lifecycle: ${rpcTotal} ${JSON.stringify(rpc)}`);
    t.diagnostic(
      `API writes for one job lifecycle: ${writes.length} ${JSON.stringify(countByRequest(writes))}; its NosanaMarket's status: ${marketWrites}`,
    );
    assert.ok(rpcTotal > 0, 'the RPC requests are counted');
    assert.ok(rpcTotal < 200, `no RPC storm: ${rpcTotal} requests`);
    assert.ok(writes.length >= 3, 'the controller wrote the post record, the status and the logs ConfigMap');
    assert.ok(writes.length < 40, `no write storm: ${writes.length} writes`);
    assert.ok(marketWrites < 20, `no write storm on the market: ${marketWrites} status writes`);
  });

  test('a failing op: Failed, the reason names the op and its exit code; the node is still paid', async () => {
    const { ns, localnet, faults } = scene();
    const { market, wallet, walletSecretRef, before } = await ns.stage('failing', { settings: SETTINGS });
    await ns.createJob('failing', {
      market: 'failing',
      walletSecretRef,
      definition: {
        version: '0.1',
        type: 'container',
        ops: [
          { id: 'prepare', type: 'container/run', args: { image: 'ubuntu:24.04', cmd: 'true' } },
          { id: 'train', type: 'container/run', args: { image: 'ubuntu:24.04', cmd: 'exit 3' } },
        ],
      },
    });
    const job = jobAddressOf(await ns.waitForPhase('failing', 'Queued'));
    const node = await TestNode.join(localnet);
    await node.work(market);
    faults.advanceClock(10);
    await node.finish(job, [
      { id: 'prepare', exitCode: 0, logs: ['ok'] },
      { id: 'train', exitCode: 3, logs: ['out of memory'] },
    ]);

    const failed = await ns.waitForPhase('failing', 'Failed', 'OpFailed');
    const ready = conditionOf(failed, 'Ready');
    assert.match(ready?.message ?? '', /train/, 'the message names the failed op');
    assert.match(ready?.message ?? '', /\b3\b/, 'the message gives the exit code');
    assert.equal(conditionOf(failed, 'Failed')?.status, 'True');
    assert.equal(conditionOf(failed, 'Completed')?.status, 'True');
    assert.deepEqual(
      failed.status?.ops?.map((op) => [op.id, op.exitCode]),
      [
        ['prepare', 0],
        ['train', 3],
      ],
    );
    const after = await readLedger(localnet, { poster: wallet.publicKey, market, node: node.address });
    assert.ok(after.node > 0n, 'a failed op does not make the job free: the node is paid');
    assert.equal(after.poster, before.poster - after.node);
    assert.equal(after.total, before.total);
  });

  test('deleting a queued NosanaJob delists the job and refunds the whole deposit', async () => {
    const { ns, localnet } = scene();
    const { market, wallet, walletSecretRef, before } = await ns.stage('delete-queued', { settings: SETTINGS });
    await ns.createJob('delete-queued', { market: 'delete-queued', walletSecretRef, definition: simpleDefinition() });
    const job = jobAddressOf(await ns.waitForPhase('delete-queued', 'Queued'));
    assert.equal((await readLedger(localnet, { poster: wallet.publicKey, market })).poster, before.poster - DEPOSIT);

    await ns.deleteJob('delete-queued');
    await ns.waitForJobGone('delete-queued');
    assert.equal(await localnet.jobsClient().getJob(job), undefined, 'delist closes the job account');
    const after = await readLedger(localnet, { poster: wallet.publicKey, market });
    assert.equal(after.poster, before.poster, 'the deposit came back in full');
    assert.equal(after.vault, before.vault);
    assert.equal(after.total, before.total);
  });

  test('deleting a running NosanaJob ends the job: the node is paid for the time it ran, the rest comes back', async () => {
    const { ns, localnet, faults } = scene();
    const { market, wallet, walletSecretRef, before } = await ns.stage('delete-running', { settings: SETTINGS });
    await ns.createJob('delete-running', { market: 'delete-running', walletSecretRef, definition: simpleDefinition() });
    const job = jobAddressOf(await ns.waitForPhase('delete-running', 'Queued'));
    const node = await TestNode.join(localnet);
    await node.work(market);
    await ns.waitForPhase('delete-running', 'Running');
    faults.advanceClock(20);

    await ns.deleteJob('delete-running');
    await ns.waitForJobGone('delete-running');
    const ended = await localnet.jobsClient().getJob(job);
    assert.equal(ended?.status, 'COMPLETED', 'end settles the job');
    const cost = jobCost(PRICE, ended.account.timeEnd - ended.account.timeStart, TIMEOUT);
    assert.ok(cost >= PRICE * 20n);
    const after = await readLedger(localnet, { poster: wallet.publicKey, market, node: node.address });
    assert.equal(after.node, cost, 'the node is paid the elapsed part');
    assert.equal(after.poster, before.poster - cost);
    assert.equal(after.total, before.total);
  });

  test('deletionPolicy Orphan: the NosanaJob goes, the queued job stays on chain with its deposit', async () => {
    const { ns, localnet } = scene();
    const { market, wallet, walletSecretRef, before } = await ns.stage('orphan', { settings: SETTINGS });
    await ns.createJob('orphan', { market: 'orphan', deletionPolicy: 'Orphan', walletSecretRef, definition: simpleDefinition() });
    const job = jobAddressOf(await ns.waitForPhase('orphan', 'Queued'));
    await ns.deleteJob('orphan');
    await ns.waitForJobGone('orphan');
    assert.equal((await localnet.jobsClient().getJob(job))?.status, 'QUEUED', 'the chain job is left alone');
    const after = await readLedger(localnet, { poster: wallet.publicKey, market });
    assert.equal(after.poster, before.poster - DEPOSIT, 'nothing was refunded');
    assert.equal(after.vault, before.vault + DEPOSIT);
  });

  test('raising spec.timeout of a queued job extends it on chain, charged the difference once', async () => {
    const { ns, localnet } = scene();
    const { market, wallet, walletSecretRef, before } = await ns.stage('extend', { settings: SETTINGS });
    await ns.createJob('extend', { market: 'extend', timeout: 600, walletSecretRef, definition: simpleDefinition() });
    const job = jobAddressOf(await ns.waitForPhase('extend', 'Queued'));

    await ns.patchJob('extend', { spec: { timeout: '15m' } });
    const client = localnet.jobsClient();
    await waitFor(
      async () => {
        const timeout = (await client.getJob(job))?.account.timeout;
        if (timeout === 900n) return true;
        throw new Error(`the chain job's timeout is ${timeout}`);
      },
      { what: 'the job to be extended to 900 s on chain', timeoutMs: 60_000, intervalMs: 200 },
    );
    const after = await readLedger(localnet, { poster: wallet.publicKey, market });
    assert.equal(after.poster, before.poster - jobDeposit(PRICE, 900n), 'the deposit plus price × the 300 added seconds, charged once');
    assert.equal((await jobAccountsOf(localnet, wallet.publicKey)).length, 1, 'an extension is not a new job');
    const current = await ns.waitForPhase('extend', 'Queued');
    assert.equal(current.status?.jobAddress, job.toBase58());
  });

  test('adoption: spec.jobAddress mirrors a job posted through the client, without posting or paying', async () => {
    const { ns, localnet } = scene();
    const { market, wallet, walletSecretRef, before } = await ns.stage('adopt', { settings: SETTINGS });
    const definitionCid = await new PinataClient({ jwt: 'localnet', apiUrl: localnet.ipfs.apiUrl }).pinJson(simpleDefinition('hello'));
    const job = await postDirectly(localnet, wallet, market, definitionCid, TIMEOUT);

    await ns.createJob('adopt', { market: 'adopt', jobAddress: job.toBase58(), walletSecretRef });
    const queued = await ns.waitForPhase('adopt', 'Queued');
    assert.equal(queued.status?.jobAddress, job.toBase58());
    assert.equal(queued.status?.ipfsJob, definitionCid);
    assert.equal(
      (await readLedger(localnet, { poster: wallet.publicKey, market })).poster,
      before.poster - DEPOSIT,
      'only the direct post was paid',
    );
    const node = await TestNode.join(localnet);
    await node.work(market);
    const resultCid = await node.finish(job, [{ id: 'hello', exitCode: 0, logs: ['hello'] }]);
    const done = await ns.waitForPhase('adopt', 'Succeeded');
    assert.equal(done.status?.ipfsResult, resultCid);

    assert.deepEqual(
      (await jobAccountsOf(localnet, wallet.publicKey)).map((entry) => entry.address),
      [job.toBase58()],
      'nothing was posted',
    );
    const after = await readLedger(localnet, { poster: wallet.publicKey, market, node: node.address });
    assert.equal(after.poster, before.poster - after.node, 'in the end the poster paid the node, and nothing else');
    assert.equal(after.total, before.total);
  });
});
