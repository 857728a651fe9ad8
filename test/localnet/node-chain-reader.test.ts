// The node agent's chain round against the localnet, through the production adapter over HTTP:
// nodes in a market's queue, one holding a run, fresh wallets and a market that asks for an access
// key, each read into the snapshot the decision takes; and what a round costs, counted by the RPC
// transport's request observer: a fixed number of requests however many nodes are read.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair } from '@solana/web3.js';
import type { PublicKey } from '@solana/web3.js';
import { LAMPORTS_PER_SOL } from '../../src/chain/money.ts';
import { openMarketInstructions } from '../../src/chain/operations.ts';
import { createConnection } from '../../src/chain/rpc-transport.ts';
import { SolanaJobsClient } from '../../src/chain/solana-jobs-client.ts';
import { TransactionSender } from '../../src/chain/transaction-sender.ts';
import { readNodeChains } from '../../src/controllers/nosana-node/chain-reader.ts';
import type { NodeChainRead, NodeReadRequest } from '../../src/controllers/nosana-node/chain-reader.ts';
import type { ChainSnapshot } from '../../src/controllers/nosana-node/decision.ts';
import { LOCALNET } from '../../src/localnet/localnet.ts';
import type { Localnet } from '../../src/localnet/localnet.ts';
import { TestNode, fundedWallet, openTestMarket, postDirectly } from '../harness/nosana-ledger.ts';
import { useLocalnet } from './support.ts';

const getLocalnet = useLocalnet({ chain: { slotMs: 50 } });

const DEFINITION_CID = 'QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH';
// Up to 33 nodes and 100 markets: runs, markets, node accounts, then the jobs and their runs.
const REQUESTS_PER_ROUND = 5;

/** A client whose every HTTP request to the RPC is counted by method. */
function countingClient(url: string): { client: SolanaJobsClient; methods: string[] } {
  const methods: string[] = [];
  const connection = createConnection(url, { onRequest: (event) => methods.push(event.method) });
  return { client: new SolanaJobsClient({ connection, network: LOCALNET }), methods };
}

/** A market that admits only holders of an NFT of `collection`. */
async function openGatedMarket(localnet: Localnet, collection: PublicKey): Promise<PublicKey> {
  const market = Keypair.generate();
  const authority = localnet.marketAuthority;
  await new TransactionSender(localnet.connection()).execute(
    'open market',
    openMarketInstructions({
      network: LOCALNET,
      market: market.publicKey,
      authority: authority.publicKey,
      jobPrice: 10n,
      jobTimeout: 600n,
      jobExpiration: 86_400n,
      accessKey: collection,
    }),
    authority.publicKey,
    [authority, market],
  );
  return market.publicKey;
}

function snapshot(reads: Map<string, NodeChainRead>, node: PublicKey): ChainSnapshot {
  const read = reads.get(node.toBase58());
  assert.ok(read !== undefined, `node ${node.toBase58()} was read`);
  assert.ok(!('readError' in read), `node ${node.toBase58()}: ${'readError' in read ? read.readError : ''}`);
  return read;
}

function queuePosition(read: ChainSnapshot, node: PublicKey): number | undefined {
  if ('missing' in read.market) return undefined;
  const index = read.market.account.queue.findIndex((entry) => entry.equals(node));
  return index < 0 ? undefined : index;
}

/** Reads one round and counts its requests. */
async function round(localnet: Localnet, requests: NodeReadRequest[]): Promise<{ reads: Map<string, NodeChainRead>; methods: string[] }> {
  const counted = countingClient(localnet.chain.url);
  const reads = await readNodeChains(counted.client, requests);
  return { reads, methods: counted.methods };
}

describe("the node agent's chain round", () => {
  test('nodes queued, holding a run, fresh or on a gated market: their snapshots, for a fixed number of requests', async (t) => {
    const localnet = getLocalnet();
    const connection = localnet.connection();
    const market = await openTestMarket(localnet);
    const collection = Keypair.generate().publicKey;
    const gated = await openGatedMarket(localnet, collection);

    // A joins first and takes the job posted next; B joins after and waits in the queue.
    const running = await TestNode.join(localnet);
    await running.work(market);
    const job = await postDirectly(localnet, localnet.poster, market, DEFINITION_CID, 600n);
    const queued = await TestNode.join(localnet);
    await queued.work(market);
    const on = (node: PublicKey, served: PublicKey = market): NodeReadRequest => ({ address: node.toBase58(), market: served.toBase58() });

    const first = await round(localnet, [on(running.address), on(queued.address)]);
    const held = snapshot(first.reads, running.address);
    assert.ok(held.run !== undefined, 'the running node holds a run');
    assert.ok(held.run.account.job.equals(job), 'the run is of the posted job');
    assert.ok(held.job !== undefined && held.job.address.equals(job), "the held run's job is read");
    assert.equal(held.job.status, 'RUNNING');
    assert.ok(held.job.run?.address.equals(held.run.address), 'the job is read with its open run, the held one');
    assert.equal(queuePosition(held, running.address), undefined, 'a node holding a run is out of the queue');
    assert.equal(held.accessKey, 'open');
    assert.equal(held.accounts.nosAccount, true);
    assert.ok(held.accounts.stake?.authority.equals(running.address), "the node's own stake account is read");
    assert.deepEqual(held.balances, { lamports: BigInt(await connection.getBalance(running.address)), nos: 0n });

    const waiting = snapshot(first.reads, queued.address);
    assert.equal(queuePosition(waiting, queued.address), 0);
    assert.equal(waiting.run, undefined);
    assert.equal(waiting.job, undefined);
    assert.equal(waiting.accounts.nosAccount, true);
    assert.equal(waiting.accounts.stake?.xnos, 0n);

    // Three more: one queued behind B, a wallet with SOL only on the gated market, one whose market does not exist.
    const second = await TestNode.join(localnet);
    await second.work(market);
    const fresh = fundedWallet(localnet, { sol: 1n }).publicKey;
    const nowhere = Keypair.generate().publicKey;
    const lost = fundedWallet(localnet, { sol: 1n, nos: 5n }).publicKey;
    const more = await round(localnet, [on(running.address), on(queued.address), on(second.address), on(fresh, gated), on(lost, nowhere)]);

    assert.equal(queuePosition(snapshot(more.reads, queued.address), queued.address), 0);
    assert.equal(queuePosition(snapshot(more.reads, second.address), second.address), 1);
    assert.ok(snapshot(more.reads, running.address).run?.account.job.equals(job));
    const unstaked = snapshot(more.reads, fresh);
    assert.deepEqual(
      { accounts: unstaked.accounts, balances: unstaked.balances, accessKey: unstaked.accessKey },
      { accounts: { nosAccount: false }, balances: { lamports: LAMPORTS_PER_SOL, nos: 0n }, accessKey: 'missing' },
      'SOL only: no NOS account, no stake, and no access key for a gated market',
    );
    assert.ok(!('missing' in unstaked.market) && unstaked.market.account.nodeAccessKey.equals(collection));
    const stray = snapshot(more.reads, lost);
    assert.deepEqual(stray.market, { missing: `market ${nowhere.toBase58()} does not exist on localnet` });
    assert.deepEqual({ nosAccount: stray.accounts.nosAccount, nos: stray.balances.nos }, { nosAccount: true, nos: 5n });

    t.diagnostic(`2 nodes: ${first.methods.length} requests ${JSON.stringify(first.methods)}`);
    t.diagnostic(`5 nodes, 3 markets: ${more.methods.length} requests ${JSON.stringify(more.methods)}`);
    assert.ok(first.methods.length <= REQUESTS_PER_ROUND, `2 nodes took ${first.methods.length} requests`);
    assert.equal(more.methods.length, first.methods.length, 'more nodes and markets cost no more requests');
    assert.deepEqual(
      new Set(more.methods),
      new Set(['getProgramAccounts', 'getMultipleAccounts']),
      'only batched reads, never a transaction',
    );
  });

  test('a run the status names that no read finds is reported gone after one more request, for all such nodes at once', async () => {
    const localnet = getLocalnet();
    const market = await openTestMarket(localnet);
    const running = await TestNode.join(localnet);
    await running.work(market);
    const job = await postDirectly(localnet, localnet.poster, market, DEFINITION_CID, 600n);
    const idle = await TestNode.join(localnet);
    const other = await TestNode.join(localnet);
    const heldRun = (await localnet.jobsClient().getRunsByNodes([running.address])).get(running.address.toBase58())?.[0];
    assert.ok(heldRun !== undefined);

    const plain = await round(
      localnet,
      [running, idle, other].map((node) => ({ address: node.address.toBase58(), market: market.toBase58() })),
    );
    const gone = Keypair.generate().publicKey.toBase58();
    const named = await round(localnet, [
      {
        address: running.address.toBase58(),
        market: market.toBase58(),
        recordRun: { runAddress: heldRun.address.toBase58(), jobAddress: job.toBase58() },
      },
      { address: idle.address.toBase58(), market: market.toBase58(), statusRun: { runAddress: gone } },
      { address: other.address.toBase58(), market: market.toBase58(), statusRun: { runAddress: Keypair.generate().publicKey.toBase58() } },
    ]);

    assert.equal(named.methods.length, plain.methods.length + 1, 'one finalized run query for both nodes whose named run is gone');
    assert.ok(
      snapshot(named.reads, running.address).run?.address.equals(heldRun.address),
      'a named run found at once needs no second read',
    );
    assert.equal(snapshot(named.reads, idle.address).run, undefined, 'both reads agree: the named run is gone');
    assert.equal(snapshot(named.reads, other.address).run, undefined);
  });
});
