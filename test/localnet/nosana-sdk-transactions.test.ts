// Nosana's SDK (unmodified) sending its own transactions to the localnet: a poster lists, extends,
// delists and ends jobs, a node works, finishes, completes, quits and leaves the queue, and a market
// is opened and updated, each call sent and confirmed by the SDK itself (Anchor 0.28's
// sendAndConfirm, which waits on the localnet's websocket). The outcome of every call is checked
// through the project's own reads.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { BN } from '@coral-xyz/anchor';
import type { Client } from '@nosana/sdk';
import { Keypair, PublicKey } from '@solana/web3.js';
import { OPEN_MARKET_ACCESS_KEY } from '../../src/chain/addresses.ts';
import { QUEUE_TYPE } from '../../src/chain/accounts.ts';
import type { JobView } from '../../src/chain/jobs-client.ts';
import { LAMPORTS_PER_SOL } from '../../src/chain/money.ts';
import type { SolanaJobsClient } from '../../src/chain/solana-jobs-client.ts';
import { bytes32ToCid, cidToBytes32 } from '../../src/ipfs/cid.ts';
import { DEFINITION_CID_BYTES, useLocalnet } from './support.ts';
import { sdkClient } from './nosana-sdk-client.ts';

const TIMEOUT = 600;
const DEFINITION_CID = bytes32ToCid(DEFINITION_CID_BYTES);
const RESULT_BYTES = Array.from({ length: 32 }, (_, index) => 200 - index);

const getLocalnet = useLocalnet({ chain: { slotMs: 50 } });

/** The SDK declares these amounts as the BN class itself; it passes instances to Anchor. */
function amount(value: number): typeof BN {
  return new BN(value) as unknown as typeof BN;
}

describe("Nosana's SDK sends and confirms its own transactions on the localnet", () => {
  let client: SolanaJobsClient;
  let poster: Client;
  let node: Client;

  async function job(address: string | PublicKey): Promise<JobView> {
    const view = await client.getJob(new PublicKey(address));
    assert.ok(view, `job ${address.toString()} exists`);
    return view;
  }

  /** The poster lists a job on the localnet's market through the SDK. */
  async function list(): Promise<{ job: string; run: string }> {
    const listed = (await poster.jobs.list(DEFINITION_CID, TIMEOUT, getLocalnet().market)) as { tx: string; job: string; run: string };
    assert.match(listed.tx, /^[1-9A-HJ-NP-Za-km-z]{64,88}$/);
    return listed;
  }

  /** The node takes the first queued job; returns its run. */
  async function work(jobAddress: string): Promise<PublicKey> {
    await node.jobs.work(getLocalnet().market);
    const running = await job(jobAddress);
    assert.equal(running.status, 'RUNNING');
    assert.ok(running.run);
    return running.run.address;
  }

  before(async () => {
    const localnet = getLocalnet();
    client = localnet.jobsClient();
    poster = sdkClient(localnet, localnet.poster);
    node = sdkClient(localnet, localnet.node);
    // The SDK's stake call also enters the rewards program, which the localnet does not run.
    await client.ensureStake(localnet.node);
  });

  test('list posts a queued job with the definition, timeout and market price', async () => {
    const localnet = getLocalnet();
    const { job: address } = await list();
    const listed = await job(address);
    assert.equal(listed.status, 'QUEUED');
    assert.deepEqual([...listed.account.ipfsJob], [...cidToBytes32(DEFINITION_CID)]);
    assert.equal(listed.account.timeout, BigInt(TIMEOUT));
    assert.equal(listed.account.project.toBase58(), localnet.poster.publicKey.toBase58());
    const market = await client.getMarket(localnet.market);
    assert.equal(listed.account.price, market?.account.jobPrice);
    assert.equal(
      market?.account.queue.some((entry) => entry.toBase58() === address),
      true,
    );

    await poster.jobs.delist(address);
    assert.equal(await client.getJob(new PublicKey(address)), undefined);
  });

  test('extend raises a queued job timeout, delist takes the job off the market', async () => {
    const { job: address } = await list();
    await poster.jobs.extend(address, 120);
    assert.equal((await job(address)).account.timeout, BigInt(TIMEOUT + 120));
    await poster.jobs.delist(address);
    assert.equal(await client.getJob(new PublicKey(address)), undefined);
  });

  test('work takes the job, submitResult finishes it with the result', async () => {
    const localnet = getLocalnet();
    const { job: address } = await list();
    const run = await work(address);
    await node.jobs.submitResult(RESULT_BYTES, run, localnet.market);
    const finished = await job(address);
    assert.equal(finished.status, 'COMPLETED');
    assert.deepEqual([...finished.account.ipfsResult], RESULT_BYTES);
    assert.equal(finished.account.node.toBase58(), localnet.node.publicKey.toBase58());
    assert.equal(await client.getJob(new PublicKey(address)).then((view) => view?.run), undefined);
  });

  test('end stops a running job, complete then sets its result', async () => {
    const { job: address } = await list();
    await work(address);
    await poster.jobs.end(address);
    const ended = await job(address);
    assert.equal(ended.status, 'COMPLETED');
    assert.ok(ended.account.ipfsResult.every((byte) => byte === 0));
    await node.jobs.complete(RESULT_BYTES, address);
    assert.deepEqual([...(await job(address)).account.ipfsResult], RESULT_BYTES);
  });

  test('quit hands a running job back as stopped', async () => {
    const { job: address } = await list();
    const run = await work(address);
    await node.jobs.quit(run);
    assert.equal((await job(address)).status, 'STOPPED');
  });

  test('work on an empty market queues the node, stop takes it out', async () => {
    const localnet = getLocalnet();
    await node.jobs.work(localnet.market);
    const queued = await client.getMarket(localnet.market);
    assert.equal(queued?.account.queueType, QUEUE_TYPE.node);
    assert.deepEqual(
      queued.account.queue.map((entry) => entry.toBase58()),
      [localnet.node.publicKey.toBase58()],
    );
    await node.jobs.stop(localnet.market);
    assert.equal((await client.getMarket(localnet.market))?.account.queueType, QUEUE_TYPE.empty);
  });

  test('createMarket opens a market, updateMarket changes its settings', async () => {
    const localnet = getLocalnet();
    const owner = Keypair.generate();
    localnet.chain.ledger.airdrop(owner.publicKey, LAMPORTS_PER_SOL);
    const ownerSdk = sdkClient(localnet, owner);
    const { market } = await ownerSdk.jobs.createMarket({
      nodeAccessKey: OPEN_MARKET_ACCESS_KEY,
      jobExpiration: amount(3_600),
      jobPrice: amount(5),
      jobTimeout: amount(900),
      jobType: 0,
      nodeStakeMinimum: amount(0),
    });
    const opened = await client.getMarket(new PublicKey(market));
    assert.ok(opened);
    assert.equal(opened.account.authority.toBase58(), owner.publicKey.toBase58());
    assert.equal(opened.account.jobPrice, 5n);
    assert.equal(opened.account.jobTimeout, 900n);

    await ownerSdk.jobs.updateMarket(market, { jobPrice: amount(7) });
    const updated = await client.getMarket(new PublicKey(market));
    assert.equal(updated?.account.jobPrice, 7n);
    // The SDK's update always sets the timeout to 7200 s.
    assert.equal(updated?.account.jobTimeout, 7_200n);
  });
});
