// Nosana's own SDK (@nosana/sdk, unmodified) and the NosanaJob controller looking at the same jobs
// on the localnet: a job the SDK lists is adopted and mirrored, and a job the controller posts
// reads back through the SDK as the controller reports it. The node is played through the SDK too
// (work, pin the result, submitResult); only its stake is made with the project's client.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Client, JobDefinition } from '@nosana/sdk';
import type { PublicKey } from '@solana/web3.js';
import { Keypair } from '@solana/web3.js';
import { jobDeposit, LAMPORTS_PER_SOL } from '../../src/chain/money.ts';
import type { Localnet } from '../../src/localnet/localnet.ts';
import { simpleDefinition } from '../harness/nosana-fixtures.ts';
import { jobAccountsOf, readLedger, resultDocument, type OpOutcome } from '../harness/nosana-ledger.ts';
import { useNosanaScene } from '../harness/nosana-scene.ts';
import { sdkClient } from '../localnet/nosana-sdk-client.ts';

const PRICE = 10n;
const TIMEOUT = 600n;
const SETTINGS = { price: PRICE, timeout: TIMEOUT };

interface SdkNode {
  address: PublicKey;
  sdk: Client;
}

/** A fresh node key with SOL and a stake (the SDK's own stake call needs a rewards program the localnet lacks). */
async function sdkNode(localnet: Localnet): Promise<SdkNode> {
  const key = Keypair.generate();
  localnet.chain.ledger.airdrop(key.publicKey, 2n * LAMPORTS_PER_SOL);
  await localnet.jobsClient().ensureStake(key);
  return { address: key.publicKey, sdk: sdkClient(localnet, key) };
}

/** What the reference node does at the end of a job: pin the result document, then `finish` with it. */
async function sdkFinish(node: SdkNode, job: string, market: PublicKey, ops: readonly OpOutcome[]): Promise<string> {
  const [run] = await node.sdk.jobs.getRuns(job);
  assert.ok(run, `the SDK finds the run of job ${job}`);
  const cid = await node.sdk.ipfs.pin(resultDocument(ops));
  await node.sdk.jobs.submitResult(node.sdk.ipfs.IpfsHashToByteArray(cid), run.publicKey, market);
  return cid;
}

/** Chain seconds as the SDK gives them, from a status timestamp. */
function unixSeconds(timestamp: string | undefined): number {
  assert.ok(timestamp !== undefined, 'the status records the time');
  return Date.parse(timestamp) / 1000;
}

describe("Nosana's SDK and the NosanaJob controller agree on jobs", () => {
  const scene = useNosanaScene({ prefix: 'nj-sdk' });

  test("a job listed by Nosana's SDK is adopted and mirrored by a NosanaJob (spec.jobAddress)", async () => {
    const { ns, localnet, faults } = scene();
    const { market, wallet, walletSecretRef, before } = await ns.stage('sdk-listed', { settings: SETTINGS });
    const poster = sdkClient(localnet, wallet);
    // The SDK pins through its own IPFS client; the client's default market is not this test's.
    const definitionCid = await poster.jobs.pinJobDefinition(simpleDefinition('hello') as unknown as JobDefinition);
    const listed = (await poster.jobs.list(definitionCid, Number(TIMEOUT), market)) as { job: string };

    await ns.createJob('sdk-listed', { market: 'sdk-listed', jobAddress: listed.job, walletSecretRef });
    const queued = await ns.waitForPhase('sdk-listed', 'Queued');
    assert.equal(queued.status?.jobAddress, listed.job);
    assert.equal(queued.status?.ipfsJob, definitionCid);
    assert.equal(queued.status?.priceBaseUnits, String((await poster.jobs.get(listed.job)).price), "the SDK's price");
    assert.deepEqual(
      (await jobAccountsOf(localnet, wallet.publicKey)).map((entry) => entry.address),
      [listed.job],
      'adopting posts nothing',
    );
    const afterAdopt = await readLedger(localnet, { poster: wallet.publicKey, market });
    assert.equal(afterAdopt.poster, before.poster - jobDeposit(PRICE, TIMEOUT), "only the SDK's deposit was paid");
    assert.equal(afterAdopt.vault, before.vault + jobDeposit(PRICE, TIMEOUT));

    const node = await sdkNode(localnet);
    await node.sdk.jobs.work(market);
    const running = await ns.waitForPhase('sdk-listed', 'Running');
    assert.equal(running.status?.node, node.address.toBase58());
    faults.advanceClock(20);
    const resultCid = await sdkFinish(node, listed.job, market, [{ id: 'hello', exitCode: 0, logs: ['hello'] }]);

    const done = await ns.waitForPhase('sdk-listed', 'Succeeded');
    assert.equal(done.status?.ipfsResult, resultCid);
    assert.deepEqual(
      done.status?.ops?.map((op) => [op.id, op.exitCode, op.status]),
      [['hello', 0, 'success']],
    );
    const after = await readLedger(localnet, { poster: wallet.publicKey, market, node: node.address });
    assert.ok(after.node >= PRICE * 20n, 'the node is paid for the 20 s the clock moved');
    assert.equal(done.status?.costBaseUnits, after.node.toString(), 'the cost shown is what the node was paid');
    assert.equal(after.poster, before.poster - after.node, 'the poster paid the node, and nothing else');
    assert.equal(after.total, before.total, 'NOS is conserved');
    assert.equal((await jobAccountsOf(localnet, wallet.publicKey)).length, 1, "still only the SDK's job");
  });

  test('a job posted by the operator reads back through the SDK as the operator mirrors it', async () => {
    const { ns, localnet, faults } = scene();
    const { market, wallet, walletSecretRef } = await ns.stage('operator-posted', { settings: SETTINGS });
    const definition = simpleDefinition('greet', 'echo hi');
    // 15 minutes, not the market's 10: the SDK must see the timeout the resource asked for.
    await ns.createJob('operator-posted', { market: 'operator-posted', timeout: '15m', walletSecretRef, definition });
    const queued = await ns.waitForPhase('operator-posted', 'Queued');
    const address = queued.status?.jobAddress;
    assert.ok(address !== undefined);
    const sdk = sdkClient(localnet, wallet);

    const listed = await sdk.jobs.get(address);
    assert.equal(listed.state, 'QUEUED');
    assert.equal(String(listed.price), PRICE.toString(), 'the market price');
    assert.equal(String(listed.price), queued.status?.priceBaseUnits, 'the price the status shows');
    assert.equal(String(listed.timeout), '900');
    assert.equal(listed.ipfsJob, queued.status?.ipfsJob);
    assert.equal(String(listed.project), wallet.publicKey.toBase58());
    assert.equal(String(listed.payer), wallet.publicKey.toBase58());
    assert.equal(String(listed.market), market.toBase58());
    assert.equal(String(listed.market), queued.status?.marketAddress);
    // The operator may add its own meta to the pinned definition; the ops are the user's, unchanged.
    const pinned = (await sdk.ipfs.retrieve(listed.ipfsJob)) as { ops: unknown };
    assert.deepEqual(pinned.ops, definition.ops, 'the SDK reads the definition back from the gateway');
    // The market is this test's own, so its only job is this one (the SDK prints the filter it uses).
    const inMarket = await sdk.jobs.all({ market: market.toBase58() });
    assert.deepEqual(
      inMarket.map((entry) => [entry.pubkey.toBase58(), entry.state]),
      [[address, 0]],
      "the SDK's market listing holds the job, queued",
    );

    const node = await sdkNode(localnet);
    await node.sdk.jobs.work(market);
    const running = await ns.waitForPhase('operator-posted', 'Running');
    const taken = await sdk.jobs.get(address);
    assert.equal(taken.state, 'RUNNING');
    assert.equal(String(taken.node), running.status?.node);
    assert.equal(taken.timeStart, unixSeconds(running.status?.timeStart));
    faults.advanceClock(10);
    await sdkFinish(node, address, market, [{ id: 'greet', exitCode: 0, logs: ['hi'] }]);

    const done = await ns.waitForPhase('operator-posted', 'Succeeded');
    const [completed] = await sdk.jobs.getMultiple([address]);
    assert.ok(completed);
    assert.equal(completed.state, 'COMPLETED');
    assert.equal(completed.ipfsResult, done.status?.ipfsResult);
    assert.equal(String(completed.node), node.address.toBase58());
    assert.ok(completed.timeEnd > 0, 'the SDK sees an end time');
    assert.equal(completed.timeEnd, unixSeconds(done.status?.timeEnd));
    assert.equal(completed.timeStart, unixSeconds(done.status?.timeStart));
    assert.equal(done.status?.duration, completed.timeEnd - completed.timeStart);
  });
});
