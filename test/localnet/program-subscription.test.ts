// ProgramSubscriber against the localnet's real PubSub websocket: jobs and runs changed by real
// transactions are notified under the right names, and the subscriber survives what the localnet's
// websocket faults do to it (a cut connection, a refused subscription, nothing listening). One case
// uses a bare ws server instead, because the localnet always answers pings and so can never show
// a half-open connection.
import assert from 'node:assert/strict';
import { createServer as createTcpServer } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import { Keypair, PublicKey } from '@solana/web3.js';
import bs58 from 'bs58';
import { pino, type Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { JOB_STATE, OFFSETS } from '../../src/chain/accounts.ts';
import { ACCOUNT_DISCRIMINATORS } from '../../src/chain/idl.ts';
import { LAMPORTS_PER_SOL } from '../../src/chain/money.ts';
import { openMarketInstructions } from '../../src/chain/operations.ts';
import {
  ProgramSubscriber,
  websocketUrlOf,
  type ProgramAccountNotice,
  type ProgramFilter,
  type ProgramSubscriberOptions,
} from '../../src/chain/program-subscription.ts';
import type { SolanaJobsClient } from '../../src/chain/solana-jobs-client.ts';
import { TransactionSender } from '../../src/chain/transaction-sender.ts';
import { LOCALNET, type Localnet } from '../../src/localnet/localnet.ts';
import { DEFINITION_CID_BYTES, landed, useLocalnet } from './support.ts';

const TIMEOUT_SECONDS = 600n;
const RECONNECT = { baseDelayMs: 20, maxDelayMs: 200 };
const getLocalnet = useLocalnet({ chain: { slotMs: 50 } });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const memcmp = (offset: number, bytes: Uint8Array): ProgramFilter => ({ memcmp: { offset, bytes: bs58.encode(bytes) } });

/** The job accounts a wallet posted, as the operator's chain watcher asks for them. */
function jobsOf(wallet: PublicKey): ProgramFilter[] {
  return [memcmp(0, ACCOUNT_DISCRIMINATORS.JobAccount), memcmp(OFFSETS.job.project, wallet.toBytes())];
}

const RUNS: ProgramFilter[] = [memcmp(0, ACCOUNT_DISCRIMINATORS.RunAccount)];

/** The 32-byte public key stored at `offset` of an account's data. */
function keyAt(data: Buffer, offset: number): string {
  return new PublicKey(data.subarray(offset, offset + 32)).toBase58();
}

interface Watch {
  subscriber: ProgramSubscriber;
  notices: ProgramAccountNotice[];
  /** What activeSince said for each watched name at every onChange call. */
  changes: Record<string, number | undefined>[];
  /** The subscriber's log lines, parsed. */
  logs: { msg: string; subscription?: string }[];
}

const subscribers: ProgramSubscriber[] = [];

/** A subscriber on the localnet's jobs program, recording what it reports; closed after the test. */
function watch(names: string[], options: Partial<ProgramSubscriberOptions> = {}): Watch {
  const notices: ProgramAccountNotice[] = [];
  const changes: Watch['changes'] = [];
  const logs: Watch['logs'] = [];
  const log: Logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Watch['logs'][number]) });
  const subscriber: ProgramSubscriber = new ProgramSubscriber({
    url: websocketUrlOf(getLocalnet().info.rpcUrl),
    program: LOCALNET.jobsProgram,
    commitment: 'confirmed',
    reconnect: RECONNECT,
    log,
    onNotice: (notice) => notices.push(notice),
    onChange: () => changes.push(Object.fromEntries(names.map((name) => [name, subscriber.activeSince(name)]))),
    ...options,
  });
  subscribers.push(subscriber);
  return { subscriber, notices, changes, logs };
}

/** A wallet that can post: SOL for fees and NOS for deposits, put straight into the ledger. */
function fundedWallet(localnet: Localnet): Keypair {
  const wallet = Keypair.generate();
  localnet.chain.ledger.airdrop(wallet.publicKey, 2n * LAMPORTS_PER_SOL);
  localnet.chain.ledger.createTokenAccount({ mint: LOCALNET.nosMint, owner: wallet.publicKey, amount: 10_000_000_000n });
  return wallet;
}

/** Posts a job and waits for it to land; returns its address and the slot it landed in. */
async function postJob(localnet: Localnet, client: SolanaJobsClient, wallet: Keypair, market: PublicKey) {
  const pending = await client.preparePost({ wallet, market, ipfsJob: DEFINITION_CID_BYTES, timeoutSeconds: TIMEOUT_SECONDS });
  await client.broadcast(pending);
  const status = await landed(localnet.connection(), pending.signature);
  assert.equal(status.err, null, 'the post should succeed');
  return { job: pending.jobAddress, slot: status.slot };
}

/** A market of the test's own, so the job a node's work takes is the one the test posted. */
async function openMarket(localnet: Localnet): Promise<PublicKey> {
  const market = Keypair.generate();
  await new TransactionSender(localnet.connection()).execute(
    'open',
    openMarketInstructions({
      network: LOCALNET,
      market: market.publicKey,
      authority: localnet.marketAuthority.publicKey,
      jobPrice: 100n,
      jobTimeout: 3_600n,
      jobExpiration: 60n,
    }),
    localnet.marketAuthority.publicKey,
    [localnet.marketAuthority, market],
  );
  return market.publicKey;
}

const noticeOf = (watched: Watch, name: string, pubkey: string) =>
  watched.notices.find((notice) => notice.subscription === name && notice.pubkey === pubkey);

describe('ProgramSubscriber on the localnet', () => {
  afterEach(() => {
    for (const subscriber of subscribers.splice(0)) subscriber.close();
    getLocalnet().chain.faults.clear();
  });

  test('websocketUrlOf: ws for http and wss for https, the next port only when one is given, path and query kept', () => {
    const cases = [
      { reason: 'the default local RPC', rpc: 'http://127.0.0.1:8899', want: 'ws://127.0.0.1:8900/' },
      {
        reason: 'a hosted RPC with its key in the query',
        rpc: 'https://rpc.example.com/?api-key=x',
        want: 'wss://rpc.example.com/?api-key=x',
      },
      { reason: 'https on an explicit port', rpc: 'https://rpc.example.com:8443/v1', want: 'wss://rpc.example.com:8444/v1' },
      { reason: 'a fragment, which a websocket URL may not have', rpc: 'https://rpc.example.com/v1#x', want: 'wss://rpc.example.com/v1' },
    ];
    for (const { reason, rpc, want } of cases) assert.equal(websocketUrlOf(rpc), want, reason);
    assert.throws(() => websocketUrlOf('ws://127.0.0.1:8900'), /http or https/);
    // The localnet serves its websocket where this derivation looks.
    const localnet = getLocalnet();
    assert.equal(websocketUrlOf(localnet.info.rpcUrl), new URL(localnet.info.wsUrl).toString());
  });

  test("a wallet's job is notified on its subscription with the account's data and a slot at or after landing; another wallet's is not", async () => {
    const localnet = getLocalnet();
    const client = localnet.jobsClient();
    const wallet = fundedWallet(localnet);
    const other = localnet.poster;
    // A short ping interval: the test lasts many intervals, so a pong that is not taken for one would end the connection.
    const watched = watch(['mine', 'others'], { pingIntervalMs: 30 });
    // 'mine' first: the localnet sends a tick's notifications subscription by subscription, so
    // anything 'mine' got for the other wallet's job would arrive before that job's notice on 'others'.
    watched.subscriber.add('mine', jobsOf(wallet.publicKey));
    watched.subscriber.add('others', jobsOf(other.publicKey));
    await waitFor('onChange to report both subscriptions in place', () =>
      watched.changes.some((change) => change['mine'] !== undefined && change['others'] !== undefined),
    );
    const mineSince = watched.subscriber.activeSince('mine');
    assert.equal(typeof mineSince, 'number');

    const otherPost = await postJob(localnet, client, other, localnet.market);
    await waitFor("the other wallet's job on 'others'", () => noticeOf(watched, 'others', otherPost.job) !== undefined);
    assert.equal(noticeOf(watched, 'mine', otherPost.job), undefined, "another wallet's job is not notified on 'mine'");

    const minePost = await postJob(localnet, client, wallet, localnet.market);
    await waitFor("the wallet's job on 'mine'", () => noticeOf(watched, 'mine', minePost.job) !== undefined);
    const slotAfter = await localnet.connection().getSlot('processed');
    const notice = noticeOf(watched, 'mine', minePost.job);
    assert.ok(notice);
    assert.deepEqual(notice.data.subarray(0, 8), ACCOUNT_DISCRIMINATORS.JobAccount);
    assert.equal(keyAt(notice.data, OFFSETS.job.project), wallet.publicKey.toBase58());
    assert.deepEqual(notice.data.subarray(OFFSETS.job.ipfsJob, OFFSETS.job.ipfsJob + 32), Buffer.from(DEFINITION_CID_BYTES));
    assert.ok(notice.slot >= minePost.slot, `notified at slot ${notice.slot}, the post landed at ${minePost.slot}`);
    assert.ok(notice.slot <= slotAfter, `notified at slot ${notice.slot}, the chain was at ${slotAfter} afterwards`);
    assert.deepEqual(
      watched.notices.filter((each) => each.subscription === 'mine').map((each) => each.pubkey),
      [minePost.job],
    );
    // Still the first connection: every ping of the whole test was answered in time.
    assert.equal(watched.subscriber.activeSince('mine'), mineSince);
  });

  test("a node's work is notified on the runs subscription with the job it runs, and finishing it on the job's", async () => {
    const localnet = getLocalnet();
    const client = localnet.jobsClient();
    const wallet = fundedWallet(localnet);
    const node = Keypair.generate();
    localnet.chain.ledger.airdrop(node.publicKey, 2n * LAMPORTS_PER_SOL);
    await client.ensureStake(node);
    const market = await openMarket(localnet);
    const watched = watch(['runs', 'mine']);
    watched.subscriber.add('runs', RUNS);
    watched.subscriber.add('mine', jobsOf(wallet.publicKey));
    await waitFor(
      'both subscriptions',
      () => watched.subscriber.activeSince('runs') !== undefined && watched.subscriber.activeSince('mine') !== undefined,
    );

    const { job } = await postJob(localnet, client, wallet, market);
    const { run } = await client.work(node, market);
    await waitFor('the run on the runs subscription', () => noticeOf(watched, 'runs', run.toBase58()) !== undefined);
    const runNotice = noticeOf(watched, 'runs', run.toBase58());
    assert.ok(runNotice);
    assert.deepEqual(runNotice.data.subarray(0, 8), ACCOUNT_DISCRIMINATORS.RunAccount);
    assert.equal(keyAt(runNotice.data, OFFSETS.run.job), job);
    assert.equal(keyAt(runNotice.data, OFFSETS.run.node), node.publicKey.toBase58());

    await client.finish(node, new PublicKey(job), DEFINITION_CID_BYTES);
    const finished = () =>
      watched.notices.find(
        (notice) => notice.subscription === 'mine' && notice.pubkey === job && notice.data[OFFSETS.job.state] === JOB_STATE.done,
      );
    await waitFor('the finished job on the jobs subscription', () => finished() !== undefined);
    assert.equal(keyAt(finished()?.data ?? Buffer.alloc(0), OFFSETS.job.node), node.publicKey.toBase58());
  });

  test('after the localnet cuts the connection, every name goes out of place, comes back later by itself, and is notified again', async () => {
    const localnet = getLocalnet();
    const { faults, pubsub } = localnet.chain;
    const wallet = fundedWallet(localnet);
    const watched = watch(['mine', 'runs']);
    watched.subscriber.add('mine', jobsOf(wallet.publicKey));
    watched.subscriber.add('runs', RUNS);
    await waitFor(
      'both subscriptions',
      () => watched.subscriber.activeSince('mine') !== undefined && watched.subscriber.activeSince('runs') !== undefined,
    );
    const mineBefore = watched.subscriber.activeSince('mine') ?? NaN;
    const runsBefore = watched.subscriber.activeSince('runs') ?? NaN;
    const changesBefore = watched.changes.length;

    const droppedBefore = pubsub.droppedConnections;
    faults.wsDropRate = 1;
    try {
      await waitFor('the localnet to drop the connection', () => pubsub.droppedConnections > droppedBefore);
    } finally {
      faults.wsDropRate = 0;
    }
    await waitFor(
      'both subscriptions again, on a newer connection',
      () => (watched.subscriber.activeSince('mine') ?? 0) > mineBefore && (watched.subscriber.activeSince('runs') ?? 0) > runsBefore,
    );
    // onChange heard the loss: some call after the drop saw neither name in place.
    assert.ok(
      watched.changes.slice(changesBefore).some((change) => change['mine'] === undefined && change['runs'] === undefined),
      `changes after the drop: ${JSON.stringify(watched.changes.slice(changesBefore))}`,
    );
    await waitFor('the old connection to be gone from the localnet', () => pubsub.openConnections === 1);

    const { job } = await postJob(localnet, localnet.jobsClient(), wallet, localnet.market);
    await waitFor('a job posted after reconnecting', () => noticeOf(watched, 'mine', job) !== undefined);
  });

  test('close() ends the connection for good: no reconnect and no notice afterwards', async () => {
    const localnet = getLocalnet();
    const { pubsub } = localnet.chain;
    const wallet = fundedWallet(localnet);
    // A second subscriber on the same accounts shows the notice the closed one would have had.
    const control = watch(['mine']);
    control.subscriber.add('mine', jobsOf(wallet.publicKey));
    await waitFor('the control subscription', () => control.subscriber.activeSince('mine') !== undefined);
    await waitFor('only the control connection on the localnet', () => pubsub.openConnections === 1);
    const connectionsBefore = pubsub.openConnections;

    const closing = watch(['mine']);
    closing.subscriber.add('mine', jobsOf(wallet.publicKey));
    await waitFor('the subscription that will be closed', () => closing.subscriber.activeSince('mine') !== undefined);
    closing.subscriber.close();
    const closedAt = Date.now();
    assert.equal(closing.subscriber.activeSince('mine'), undefined);
    await waitFor('the connection to end on the localnet', () => pubsub.openConnections === connectionsBefore);

    let mostConnections = pubsub.openConnections;
    const sampler = setInterval(() => (mostConnections = Math.max(mostConnections, pubsub.openConnections)), 5);
    try {
      const { job } = await postJob(localnet, localnet.jobsClient(), wallet, localnet.market);
      await waitFor('the control notice', () => noticeOf(control, 'mine', job) !== undefined);
      // Several of the longest reconnect waits: a reconnect that close() failed to stop would have happened.
      await sleep(Math.max(0, closedAt + 3 * RECONNECT.maxDelayMs - Date.now()));
    } finally {
      clearInterval(sampler);
    }
    assert.equal(mostConnections, connectionsBefore, 'no connection was opened again after close()');
    assert.deepEqual(closing.notices, []);
    assert.equal(closing.subscriber.activeSince('mine'), undefined);
  });

  test('a subscription the RPC refuses stays out of place while the others work on the same connection', async () => {
    const localnet = getLocalnet();
    const { pubsub } = localnet.chain;
    const wallet = fundedWallet(localnet);
    const watched = watch(['refused', 'mine']);
    // '0', 'O', 'I' and 'l' are not in the base58 alphabet, so the localnet refuses the filter.
    watched.subscriber.add('refused', [{ memcmp: { offset: 0, bytes: '0OIl' } }]);
    watched.subscriber.add('mine', jobsOf(wallet.publicKey));
    await waitFor('the refusal to be logged', () =>
      watched.logs.some((line) => line.subscription === 'refused' && line.msg.includes('refused')),
    );
    await waitFor('the other subscription', () => watched.subscriber.activeSince('mine') !== undefined);
    const mineSince = watched.subscriber.activeSince('mine');
    const droppedBefore = pubsub.droppedConnections;
    assert.equal(watched.subscriber.activeSince('refused'), undefined);
    // Waited for, not read once: the previous test's connection may still be closing on the localnet.
    await waitFor('the localnet to hold only the accepted subscription', () => pubsub.subscriptions === 1);

    const { job } = await postJob(localnet, localnet.jobsClient(), wallet, localnet.market);
    await waitFor('a job on the accepted subscription', () => noticeOf(watched, 'mine', job) !== undefined);
    assert.equal(watched.subscriber.activeSince('mine'), mineSince, 'still the same connection');
    assert.equal(watched.subscriber.activeSince('refused'), undefined);
    assert.equal(pubsub.droppedConnections, droppedBefore);
    assert.equal(watched.logs.filter((line) => line.msg === 'chain subscription connected').length, 1);
  });

  test('with nothing listening, add() does not throw, it keeps retrying, and close() stops the retries', async () => {
    const free = createTcpServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const { port } = free.address() as { port: number };
    await new Promise((resolve) => free.close(resolve));

    const watched = watch(['mine'], { url: `ws://127.0.0.1:${port}/` });
    assert.doesNotThrow(() => watched.subscriber.add('mine', jobsOf(Keypair.generate().publicKey)));
    const retries = () => watched.logs.filter((line) => line.msg === 'chain subscription disconnected').length;
    await waitFor('three failed connections', () => retries() >= 3);
    assert.equal(watched.subscriber.activeSince('mine'), undefined);
    assert.deepEqual(watched.changes, [], 'nothing came into place, so nothing changed');

    watched.subscriber.close();
    const retriesAtClose = retries();
    await sleep(3 * RECONNECT.maxDelayMs);
    assert.equal(retries(), retriesAtClose);
  });

  test('a connection whose pings go unanswered is ended and made again (a bare ws server: the localnet always answers)', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: false });
    await new Promise((resolve) => server.once('listening', resolve));
    const connections: WebSocket[] = [];
    let pings = 0;
    server.on('connection', (socket) => {
      connections.push(socket);
      socket.on('ping', () => pings++);
      // Accepts every subscription, so the subscriber has something in place to lose.
      socket.on('message', (data) => {
        const { id } = JSON.parse(String(data)) as { id: number };
        socket.send(JSON.stringify({ jsonrpc: '2.0', id, result: id }));
      });
    });
    try {
      const { port } = server.address() as { port: number };
      const watched = watch(['mine'], { url: `ws://127.0.0.1:${port}/`, pingIntervalMs: 30 });
      watched.subscriber.add('mine', jobsOf(Keypair.generate().publicKey));
      await waitFor('the subscription', () => watched.subscriber.activeSince('mine') !== undefined);
      await waitFor('a second connection', () => connections.length >= 2);
      assert.ok(pings >= 1, 'the first connection was pinged');
      assert.ok(
        watched.changes.some((change) => change['mine'] === undefined),
        `onChange reported the loss: ${JSON.stringify(watched.changes)}`,
      );
      await waitFor('the subscription again', () => watched.subscriber.activeSince('mine') !== undefined);
    } finally {
      for (const subscriber of subscribers.splice(0)) subscriber.close();
      for (const socket of connections) socket.terminate();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('an RPC flooding the connection is cut off and backed off from; junk is logged once per connection', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    const connections: WebSocket[] = [];
    server.on('connection', (socket) => {
      connections.push(socket);
      socket.on('message', (data) => {
        const { id } = JSON.parse(String(data)) as { id: number };
        socket.send(JSON.stringify({ jsonrpc: '2.0', id, result: id }));
        // Then far more than the budget of junk, as fast as the socket takes it.
        for (let index = 0; index < 2_000 && socket.readyState === socket.OPEN; index++) socket.send('not json');
      });
    });
    try {
      const { port } = server.address() as { port: number };
      const watched = watch(['mine'], { url: `ws://127.0.0.1:${port}/` });
      watched.subscriber.add('mine', jobsOf(Keypair.generate().publicKey));
      await waitFor('the flood to be cut off', () => watched.logs.some((line) => String(line.msg).includes('more messages than allowed')));
      await waitFor('a new connection after the backoff', () => connections.length >= 2);
      const junk = watched.logs.filter((line) => String(line.msg).includes('not JSON')).length;
      assert.ok(
        junk >= 1 && junk <= connections.length,
        `junk logged once per connection (${junk} lines, ${connections.length} connections)`,
      );
    } finally {
      for (const subscriber of subscribers.splice(0)) subscriber.close();
      for (const socket of connections) socket.terminate();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('remove() ends a subscription on the localnet; removing the last one closes the connection', async () => {
    const localnet = getLocalnet();
    const { pubsub } = localnet.chain;
    const before = pubsub.openConnections;
    const watched = watch(['mine', 'runs']);
    watched.subscriber.add('mine', jobsOf(Keypair.generate().publicKey));
    watched.subscriber.add('runs', RUNS);
    await waitFor(
      'both subscriptions',
      () => watched.subscriber.activeSince('mine') !== undefined && watched.subscriber.activeSince('runs') !== undefined,
    );
    const subscriptions = pubsub.subscriptions;
    watched.subscriber.remove('mine');
    assert.equal(watched.subscriber.activeSince('mine'), undefined);
    await waitFor('the localnet to drop the subscription', () => pubsub.subscriptions === subscriptions - 1);
    watched.subscriber.remove('runs');
    await waitFor('the connection to close', () => pubsub.openConnections === before);
  });
});
