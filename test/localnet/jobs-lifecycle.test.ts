// The jobs program's lifecycle on the localnet, driven over HTTP through the production adapter
// (SolanaJobsClient), with the ledger checked to the base unit after every step.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair, PublicKey, SystemProgram, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import type { Connection, TransactionError, TransactionInstruction } from '@solana/web3.js';
import { ACCOUNT_SIZE, createInitializeAccount3Instruction } from '@solana/spl-token';
import { getJobAccountDecoder, getMarketAccountDecoder, getRunAccountDecoder } from '@nosana/jobs-program';
import { OPEN_MARKET_ACCESS_KEY, SYSTEM_PROGRAM_ID, TOKEN_PROGRAM_ID, nosTokenAccount, stakeAccount } from '../../src/chain/addresses.ts';
import { jobsInstruction } from '../../src/chain/instructions.ts';
import {
  delistInstructions,
  endInstructions,
  extendInstructions,
  finishInstructions,
  leaveQueueInstructions,
  openMarketInstructions,
  postInstructions,
  quitInstructions,
} from '../../src/chain/operations.ts';
import { JOB_TYPE_DISABLED, MARKET_QUEUE_CAPACITY, QUEUE_TYPE, decodeAccount, encodeAccount } from '../../src/chain/accounts.ts';
import { jobCost, jobDeposit, LAMPORTS_PER_SOL } from '../../src/chain/money.ts';
import type { SolanaJobsClient } from '../../src/chain/solana-jobs-client.ts';
import { TransactionFailedError, TransactionSender } from '../../src/chain/transaction-sender.ts';
import { bytes32ToCid, cidToBytes32 } from '../../src/ipfs/cid.ts';
import { PinataClient } from '../../src/ipfs/pinata.ts';
import { LOCALNET } from '../../src/localnet/localnet.ts';
import type { Localnet } from '../../src/localnet/localnet.ts';
import { DEFINITION_CID_BYTES, landed, tokenBalance, totalNos, useLocalnet } from './support.ts';

const PRICE = 100n;
const TIMEOUT = 600n;
const getLocalnet = useLocalnet({ market: { price: PRICE, timeout: 3_600n, jobExpiration: 60n }, chain: { slotMs: 50 } });

interface Actors {
  localnet: Localnet;
  client: SolanaJobsClient;
  poster: Keypair;
  node: Keypair;
}

/** A fresh node key funded with SOL (and its stake), so tests do not share queue positions. */
async function freshNode(localnet: Localnet, client: SolanaJobsClient): Promise<Keypair> {
  const node = Keypair.generate();
  localnet.chain.ledger.airdrop(node.publicKey, 2n * LAMPORTS_PER_SOL);
  await client.ensureStake(node);
  return node;
}

async function actors(): Promise<Actors> {
  const localnet = getLocalnet();
  const client = localnet.jobsClient();
  return { localnet, client, poster: localnet.poster, node: await freshNode(localnet, client) };
}

async function post(client: SolanaJobsClient, poster: Keypair, market: PublicKey, timeout = TIMEOUT): Promise<PublicKey> {
  return land(client, await client.preparePost({ wallet: poster, market, ipfsJob: DEFINITION_CID_BYTES, timeoutSeconds: timeout }));
}

async function land(client: SolanaJobsClient, pending: Awaited<ReturnType<SolanaJobsClient['preparePost']>>): Promise<PublicKey> {
  await client.broadcast(pending);
  for (;;) {
    const resolution = await client.resolvePendingPost(pending);
    if (resolution.outcome === 'landed') return new PublicKey(pending.jobAddress);
    assert.equal(resolution.outcome, 'pending', `the post should land, got ${JSON.stringify(resolution)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Leaves the market's queue empty of nodes, so a post queues instead of matching at once. */
async function drainNodeQueue(localnet: Localnet, client: SolanaJobsClient): Promise<void> {
  const market = await client.getMarket(localnet.market);
  if (market?.account.queueType !== QUEUE_TYPE.node) return;
  // The market's authority may take any node out of the queue.
  const sender = new TransactionSender(localnet.connection());
  for (const node of market.account.queue) {
    await sender.execute(
      'stop',
      leaveQueueInstructions(LOCALNET, localnet.market, node, localnet.marketAuthority.publicKey),
      localnet.marketAuthority.publicKey,
      [localnet.marketAuthority],
    );
  }
}

/** Opens a market of its own for a test that changes the market's settings. */
async function openMarket(localnet: Localnet, jobType?: number): Promise<PublicKey> {
  const market = Keypair.generate();
  await new TransactionSender(localnet.connection()).execute(
    'open',
    openMarketInstructions({
      network: LOCALNET,
      market: market.publicKey,
      authority: localnet.marketAuthority.publicKey,
      jobPrice: PRICE,
      jobTimeout: 3_600n,
      jobExpiration: 60n,
      ...(jobType === undefined ? {} : { jobType }),
    }),
    localnet.marketAuthority.publicKey,
    [localnet.marketAuthority, market],
  );
  return market.publicKey;
}

/** The market authority's `update`, changing only the job type. */
async function setJobType(localnet: Localnet, market: PublicKey, jobType: number): Promise<void> {
  const authority = localnet.marketAuthority;
  await new TransactionSender(localnet.connection()).execute(
    'update',
    [
      jobsInstruction(
        LOCALNET,
        'update',
        { market, accessKey: OPEN_MARKET_ACCESS_KEY, authority: authority.publicKey },
        { jobExpiration: 60n, jobPrice: PRICE, jobType, nodeStakeMinimum: 0n, jobTimeout: 3_600n },
      ),
    ],
    authority.publicKey,
    [authority],
  );
}

/** Sends without preflight and waits for it to land, so a failing transaction is recorded (and pays its fee). */
async function sendLanded(
  connection: Connection,
  instructions: TransactionInstruction[],
  signers: [Keypair, ...Keypair[]],
): Promise<TransactionError | null> {
  const { blockhash } = await connection.getLatestBlockhash('confirmed');
  const message = new TransactionMessage({
    payerKey: signers[0].publicKey,
    recentBlockhash: blockhash,
    instructions,
  }).compileToLegacyMessage();
  const transaction = new VersionedTransaction(message);
  transaction.sign(signers);
  const signature = await connection.sendRawTransaction(transaction.serialize(), { skipPreflight: true });
  return (await landed(connection, signature)).err;
}

/** The last instruction (the program call) with one account swapped for another. */
function swapAccount(instructions: TransactionInstruction[], from: PublicKey, to: PublicKey): TransactionInstruction[] {
  const last = instructions.at(-1)!;
  assert.ok(
    last.keys.some((key) => key.pubkey.equals(from)),
    `the instruction has no account ${from.toBase58()}`,
  );
  last.keys = last.keys.map((key) => (key.pubkey.equals(from) ? { ...key, pubkey: to } : key));
  return instructions;
}

function failsWith(name: string): (error: unknown) => boolean {
  return (error: unknown) => error instanceof TransactionFailedError && error.programError?.name === name;
}

describe('jobs lifecycle on the localnet', () => {
  test('post → QUEUED with the deposit in the vault; work → RUNNING; finish → COMPLETED, node paid price × elapsed', async () => {
    const { localnet, client, poster, node } = await actors();
    const connection = localnet.connection();
    const market = (await client.getMarket(localnet.market))!;
    const totalBefore = await totalNos(connection);
    const posterBefore = await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey));
    const vaultBefore = await tokenBalance(connection, market.account.vault);

    const job = await post(client, poster, localnet.market);
    const queued = await client.getJob(job);
    assert.equal(queued?.status, 'QUEUED');
    assert.equal(queued.account.price, PRICE);
    assert.ok(queued.account.project.equals(poster.publicKey));
    assert.equal(await tokenBalance(connection, market.account.vault), vaultBefore + jobDeposit(PRICE, TIMEOUT));
    assert.equal(await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey)), posterBefore - jobDeposit(PRICE, TIMEOUT));
    const queue = (await client.getMarket(localnet.market))!.account;
    assert.equal(queue.queueType, QUEUE_TYPE.job);
    assert.ok(queue.queue.some((entry) => entry.equals(job)));

    const { run } = await client.work(node, localnet.market);
    const running = await client.getJob(job);
    assert.equal(running?.status, 'RUNNING');
    assert.ok(running.run?.address.equals(run));
    assert.ok(running.run?.account.node.equals(node.publicKey));

    localnet.chain.clock.advance(42);
    const result = await new PinataClient({ jwt: 'localnet', apiUrl: localnet.ipfs.apiUrl }).pinJson({ status: 'success', opStates: [] });
    await client.finish(node, job, cidToBytes32(result));

    const done = await client.getJob(job);
    assert.equal(done?.status, 'COMPLETED');
    assert.equal(bytes32ToCid(done.account.ipfsResult), result);
    assert.ok(done.account.node.equals(node.publicKey));
    const elapsed = done.account.timeEnd - done.account.timeStart;
    assert.ok(elapsed >= 42n, `elapsed ${elapsed}s should include the 42 s the clock moved`);
    const cost = jobCost(PRICE, elapsed, TIMEOUT);
    assert.equal(await tokenBalance(connection, nosTokenAccount(LOCALNET, node.publicKey)), cost);
    assert.equal(await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey)), posterBefore - cost);
    assert.equal(await tokenBalance(connection, market.account.vault), vaultBefore);
    assert.equal(await totalNos(connection), totalBefore, 'NOS is conserved to the base unit');
    assert.deepEqual(await client.getRunsByNode(node.publicKey), [], 'finish closes the run account');
  });

  test('a post while a node waits in the queue runs at once, in the same transaction', async () => {
    const { localnet, client, poster, node } = await actors();
    await client.work(node, localnet.market);
    const market = (await client.getMarket(localnet.market))!.account;
    assert.equal(market.queueType, QUEUE_TYPE.node);
    const job = await post(client, poster, localnet.market);
    const view = await client.getJob(job);
    assert.equal(view?.status, 'RUNNING');
    assert.ok(view.run?.account.node.equals(node.publicKey));
    assert.equal((await client.getMarket(localnet.market))!.account.queueType, QUEUE_TYPE.empty);
  });

  test('delist refunds the whole deposit and closes the job', async () => {
    const { localnet, client, poster } = await actors();
    await drainNodeQueue(localnet, client);
    const connection = localnet.connection();
    const before = await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey));
    const job = await post(client, poster, localnet.market);
    await client.delist(poster, job);
    assert.equal(await client.getJob(job), undefined);
    assert.equal(await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey)), before);
  });

  test('end pays the node for the elapsed time; complete then adds the result', async () => {
    const { localnet, client, poster, node } = await actors();
    await drainNodeQueue(localnet, client);
    const connection = localnet.connection();
    const totalBefore = await totalNos(connection);
    const before = await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey));
    const job = await post(client, poster, localnet.market);
    await client.work(node, localnet.market);
    localnet.chain.clock.advance(10);
    await client.end(poster, job);
    const ended = await client.getJob(job);
    assert.equal(ended?.status, 'COMPLETED');
    assert.ok(
      ended.account.ipfsResult.every((byte) => byte === 0),
      'no result until the node completes',
    );
    const cost = jobCost(PRICE, ended.account.timeEnd - ended.account.timeStart, TIMEOUT);
    assert.ok(cost >= PRICE * 10n);
    assert.equal(await tokenBalance(connection, nosTokenAccount(LOCALNET, node.publicKey)), cost);
    assert.equal(await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey)), before - cost);

    const result = cidToBytes32('QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH');
    await client.complete(node, job, result);
    assert.deepEqual((await client.getJob(job))?.account.ipfsResult, result);
    await assert.rejects(
      client.complete(node, job, result),
      (error: unknown) => error instanceof TransactionFailedError && error.programError?.name === 'JobResultsAlreadySet',
    );
    assert.equal(await totalNos(connection), totalBefore);
  });

  test('extend charges price × the added seconds, for a queued job', async () => {
    const { localnet, client, poster } = await actors();
    await drainNodeQueue(localnet, client);
    const connection = localnet.connection();
    const job = await post(client, poster, localnet.market);
    const before = await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey));
    await client.extend(poster, job, TIMEOUT + 300n);
    assert.equal((await client.getJob(job))?.account.timeout, TIMEOUT + 300n);
    assert.equal(await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey)), before - PRICE * 300n);
    await assert.rejects(
      client.extend(poster, job, TIMEOUT),
      (error: unknown) => error instanceof TransactionFailedError && error.programError?.name === 'JobTimeoutNotGreater',
    );
    await client.delist(poster, job);
    assert.equal(await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey)), before + jobDeposit(PRICE, TIMEOUT));
  });

  test('quit → STOPPED; recover refunds the whole deposit; the node gets nothing', async () => {
    const { localnet, client, poster, node } = await actors();
    await drainNodeQueue(localnet, client);
    const connection = localnet.connection();
    const before = await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey));
    const job = await post(client, poster, localnet.market);
    await client.work(node, localnet.market);
    localnet.chain.clock.advance(5);
    await client.quit(node, job);
    assert.equal((await client.getJob(job))?.status, 'STOPPED');
    await client.recover(poster, job);
    assert.equal(await client.getJob(job), undefined);
    assert.equal(await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey)), before);
    assert.equal(await tokenBalance(connection, nosTokenAccount(LOCALNET, node.publicKey)), 0n);
  });

  test('clean fails with JobNotExpired before the market expiration and succeeds after it', async () => {
    const { localnet, client, poster, node } = await actors();
    await drainNodeQueue(localnet, client);
    const job = await post(client, poster, localnet.market);
    await client.work(node, localnet.market);
    await client.finish(node, job, DEFINITION_CID_BYTES);
    await assert.rejects(
      client.clean(poster, job),
      (error: unknown) => error instanceof TransactionFailedError && error.programError?.name === 'JobNotExpired',
    );
    localnet.chain.clock.advance(61);
    await client.clean(poster, job);
    assert.equal(await client.getJob(job), undefined);
  });

  test("errors carry the program's names: delisting a running job, finishing someone else's run", async () => {
    const { localnet, client, poster, node } = await actors();
    await drainNodeQueue(localnet, client);
    const job = await post(client, poster, localnet.market);
    await client.work(node, localnet.market);
    // The job left the queue when the node took it, and the queue is now empty.
    await assert.rejects(
      client.delist(poster, job),
      (error: unknown) => error instanceof TransactionFailedError && error.programError?.name === 'MarketInWrongState',
    );
    const stranger = await freshNode(localnet, client);
    await assert.rejects(client.finish(stranger, job, DEFINITION_CID_BYTES), /has no run for node/);
    await client.end(poster, job);
  });

  test('a disabled market (job type 255) takes the deposit without queueing the job, and it cannot be delisted', async () => {
    const { localnet, client, poster } = await actors();
    const connection = localnet.connection();
    const market = await openMarket(localnet, JOB_TYPE_DISABLED);
    const before = await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey));
    const job = await post(client, poster, market);
    assert.equal(await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey)), before - jobDeposit(PRICE, TIMEOUT));
    const view = (await client.getMarket(market))!.account;
    assert.equal(view.queue.length, 0, 'the job is not in the queue');
    await assert.rejects(
      client.delist(poster, job),
      (error: unknown) => error instanceof TransactionFailedError && error.programError?.name === 'MarketInWrongState',
    );
  });

  test('a disabled market only stops appending: a waiting node still gets a post, a queued job still goes to work', async () => {
    const { localnet, client, poster, node } = await actors();
    const market = await openMarket(localnet);
    await client.work(node, market);
    await setJobType(localnet, market, JOB_TYPE_DISABLED);
    assert.equal((await client.getMarket(market))!.account.jobType, JOB_TYPE_DISABLED);

    const matched = await post(client, poster, market);
    const running = await client.getJob(matched);
    assert.equal(running?.status, 'RUNNING');
    assert.ok(running.run?.account.node.equals(node.publicKey));

    // An empty queue stays empty: the node is not appended, and no run is created for it.
    const idle = await freshNode(localnet, client);
    await client.work(idle, market);
    const empty = (await client.getMarket(market))!.account;
    assert.equal(empty.queueType, QUEUE_TYPE.empty);
    assert.deepEqual(empty.queue, []);
    assert.deepEqual(await client.getRunsByNode(idle.publicKey), []);

    // A job queued while the market was enabled is still handed out after it is disabled.
    await setJobType(localnet, market, 4);
    const queued = await post(client, poster, market);
    await setJobType(localnet, market, JOB_TYPE_DISABLED);
    await client.work(idle, market);
    const taken = await client.getJob(queued);
    assert.equal(taken?.status, 'RUNNING');
    assert.ok(taken.run?.account.node.equals(idle.publicKey));
    assert.deepEqual((await client.getMarket(market))!.account.queue, []);
    await client.end(poster, matched);
    await client.end(poster, queued);
  });

  test('a deposit past u64 or a negative timeout panics the post (ProgramFailedToComplete) and moves nothing', async () => {
    const { localnet, client, poster } = await actors();
    await drainNodeQueue(localnet, client);
    const connection = localnet.connection();
    const market = (await client.getMarket(localnet.market))!;
    const tooLong = (1n << 63n) - 1n;
    assert.ok(PRICE * tooLong >= 1n << 64n, 'the test timeout must overflow the deposit');
    for (const timeout of [tooLong, -1n]) {
      const before = await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey));
      const vaultBefore = await tokenBalance(connection, market.account.vault);
      const job = Keypair.generate();
      const run = Keypair.generate();
      const err = await sendLanded(
        connection,
        postInstructions({
          network: LOCALNET,
          market: localnet.market,
          marketAccount: market.account,
          job: job.publicKey,
          run: run.publicKey,
          payer: poster.publicKey,
          authority: poster.publicKey,
          ipfsJob: DEFINITION_CID_BYTES,
          timeout,
        }),
        [poster, job, run],
      );
      assert.deepEqual(err, { InstructionError: [0, 'ProgramFailedToComplete'] }, `timeout ${timeout}`);
      assert.equal(await connection.getAccountInfo(job.publicKey), null, `timeout ${timeout}: no job account`);
      assert.equal(
        await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey)),
        before,
        `timeout ${timeout}: no NOS left the poster`,
      );
      assert.equal(await tokenBalance(connection, market.account.vault), vaultBefore);
      assert.ok(!(await client.getMarket(localnet.market))!.account.queue.some((entry) => entry.equals(job.publicKey)));
    }
    // Extending to a total whose extra charge overflows fails the same way.
    const job = await post(client, poster, localnet.market);
    await assert.rejects(client.extend(poster, job, tooLong), /ProgramFailedToComplete/);
    assert.equal((await client.getJob(job))?.account.timeout, TIMEOUT);
    await client.delist(poster, job);
  });

  test("errors carry the upstream names: Unauthorized for a stranger or a borrowed stake, InvalidJobAccount for another job's run", async () => {
    const { localnet, client, poster, node } = await actors();
    await drainNodeQueue(localnet, client);
    const sender = new TransactionSender(localnet.connection());
    const stranger = await freshNode(localnet, client);
    const market = (await client.getMarket(localnet.market))!;
    const running = await post(client, poster, localnet.market);
    const { run } = await client.work(node, localnet.market);
    const queued = await post(client, poster, localnet.market);
    const queuedJob = (await client.getJob(queued))!.account;

    await assert.rejects(
      sender.execute(
        'delist',
        delistInstructions(LOCALNET, queued, { ...queuedJob, project: stranger.publicKey }, market.account.vault),
        stranger.publicKey,
        [stranger],
      ),
      failsWith('Unauthorized'),
    );
    const runAccount = (await client.getJob(running))!.run!.account;
    await assert.rejects(
      sender.execute('quit', quitInstructions(LOCALNET, queued, run, runAccount), node.publicKey, [node]),
      failsWith('InvalidJobAccount'),
    );
    const strangerRun = Keypair.generate();
    await assert.rejects(
      sender.execute(
        'work',
        [
          jobsInstruction(
            LOCALNET,
            'work',
            {
              run: strangerRun.publicKey,
              market: localnet.market,
              payer: stranger.publicKey,
              stake: stakeAccount(LOCALNET, node.publicKey)[0],
              nft: nosTokenAccount(LOCALNET, stranger.publicKey),
              metadata: OPEN_MARKET_ACCESS_KEY,
              authority: stranger.publicKey,
              systemProgram: SYSTEM_PROGRAM_ID,
            },
            {},
          ),
        ],
        stranger.publicKey,
        [stranger, strangerRun],
      ),
      failsWith('Unauthorized'),
    );
    await client.end(poster, running);
    await client.delist(poster, queued);
  });

  test("refunds and charges use exactly the payer's associated token account, any other NOS account is InvalidATA", async () => {
    const { localnet, client, poster, node } = await actors();
    await drainNodeQueue(localnet, client);
    const connection = localnet.connection();
    const sender = new TransactionSender(connection);
    const ata = nosTokenAccount(LOCALNET, poster.publicKey);
    // A second NOS account of the poster's, at an address that is not its associated one.
    const other = Keypair.generate();
    await sender.execute(
      'token account',
      [
        SystemProgram.createAccount({
          fromPubkey: poster.publicKey,
          newAccountPubkey: other.publicKey,
          space: ACCOUNT_SIZE,
          lamports: await connection.getMinimumBalanceForRentExemption(ACCOUNT_SIZE),
          programId: TOKEN_PROGRAM_ID,
        }),
        createInitializeAccount3Instruction(other.publicKey, LOCALNET.nosMint, poster.publicKey),
      ],
      poster.publicKey,
      [poster, other],
    );
    const vault = (await client.getMarket(localnet.market))!.account.vault;

    const queued = await post(client, poster, localnet.market);
    const queuedJob = (await client.getJob(queued))!.account;
    await assert.rejects(
      sender.execute(
        'delist',
        swapAccount(delistInstructions(LOCALNET, queued, queuedJob, vault), ata, other.publicKey),
        poster.publicKey,
        [poster],
      ),
      failsWith('InvalidATA'),
    );
    await assert.rejects(
      sender.execute(
        'extend',
        swapAccount(extendInstructions(LOCALNET, queued, queuedJob, vault, TIMEOUT + 1n), ata, other.publicKey),
        poster.publicKey,
        [poster],
      ),
      failsWith('InvalidATA'),
    );

    const { run } = await client.work(node, localnet.market);
    const running = (await client.getJob(queued))!;
    const runAccount = running.run!.account;
    await assert.rejects(
      sender.execute(
        'end',
        swapAccount(endInstructions(LOCALNET, queued, running.account, run, runAccount, vault), ata, other.publicKey),
        poster.publicKey,
        [poster],
      ),
      failsWith('InvalidATA'),
    );
    await assert.rejects(
      sender.execute(
        'finish',
        swapAccount(
          finishInstructions({
            network: LOCALNET,
            jobAddress: queued,
            job: running.account,
            runAddress: run,
            run: runAccount,
            vault,
            ipfsResult: DEFINITION_CID_BYTES,
          }),
          ata,
          other.publicKey,
        ),
        node.publicKey,
        [node],
      ),
      failsWith('InvalidATA'),
    );
    await client.finish(node, queued, DEFINITION_CID_BYTES);
    assert.equal(await tokenBalance(connection, other.publicKey), 0n, 'nothing ever reached the other account');
  });

  test('a post lands although someone sent lamports to the job address first (Anchor init tops up and allocates)', async () => {
    const { localnet, client, poster, node } = await actors();
    await drainNodeQueue(localnet, client);
    const connection = localnet.connection();
    const pending = await client.preparePost({
      wallet: poster,
      market: localnet.market,
      ipfsJob: DEFINITION_CID_BYTES,
      timeoutSeconds: TIMEOUT,
    });
    const jobAddress = new PublicKey(pending.jobAddress);
    // The smallest transfer the runtime lets a new account keep: an empty account's rent minimum.
    const prefund = await connection.getMinimumBalanceForRentExemption(0);
    assert.equal(
      await sendLanded(
        connection,
        [SystemProgram.transfer({ fromPubkey: node.publicKey, toPubkey: jobAddress, lamports: prefund })],
        [node],
      ),
      null,
    );
    assert.equal(await connection.getBalance(jobAddress), prefund);

    const job = await land(client, pending);
    assert.ok(job.equals(jobAddress));
    const view = await client.getJob(job);
    assert.equal(view?.status, 'QUEUED');
    const info = (await connection.getAccountInfo(job))!;
    assert.ok(info.owner.equals(LOCALNET.jobsProgram));
    assert.equal(info.data.length, 240);
    assert.equal(
      info.lamports,
      await connection.getMinimumBalanceForRentExemption(240),
      'the payer topped the balance up to the rent minimum',
    );
    await client.delist(poster, job);
  });

  test('a full market queue refuses another job with AccountDidNotSerialize', async () => {
    const { localnet, client, poster } = await actors();
    await drainNodeQueue(localnet, client);
    const market = (await client.getMarket(localnet.market))!;
    // Fill the queue to one short of its capacity directly in the ledger, instead of 313 posts.
    const fillers = Array.from({ length: MARKET_QUEUE_CAPACITY - 1 - market.account.queue.length }, () => Keypair.generate().publicKey);
    const full = { ...market.account, queueType: QUEUE_TYPE.job, queue: [...market.account.queue, ...fillers] };
    const stored = localnet.chain.ledger.get(localnet.market)!;
    localnet.chain.ledger.put(localnet.market, { ...stored, data: encodeAccount('MarketAccount', full) });
    try {
      const last = await post(client, poster, localnet.market);
      assert.equal((await client.getMarket(localnet.market))!.account.queue.length, MARKET_QUEUE_CAPACITY);
      await assert.rejects(
        client.preparePost({ wallet: poster, market: localnet.market, ipfsJob: DEFINITION_CID_BYTES, timeoutSeconds: TIMEOUT }),
        (error: unknown) => error instanceof TransactionFailedError && error.programError?.name === 'AccountDidNotSerialize',
      );
      await client.delist(poster, last);
    } finally {
      const current = (await client.getMarket(localnet.market))!.account;
      const remaining = current.queue.filter((entry) => !fillers.some((filler) => filler.equals(entry)));
      localnet.chain.ledger.put(localnet.market, {
        ...stored,
        data: encodeAccount('MarketAccount', {
          ...current,
          queue: remaining,
          queueType: remaining.length === 0 ? QUEUE_TYPE.empty : current.queueType,
        }),
      });
    }
  });

  test("Nosana's own generated client decodes the accounts the localnet writes", async () => {
    const { localnet, client, poster, node } = await actors();
    await drainNodeQueue(localnet, client);
    const connection = localnet.connection();
    const job = await post(client, poster, localnet.market);
    const { run } = await client.work(node, localnet.market);
    const [jobInfo, runInfo, marketInfo] = await connection.getMultipleAccountsInfo([job, run, localnet.market]);
    const theirsJob = getJobAccountDecoder().decode(jobInfo!.data);
    const oursJob = decodeAccount('JobAccount', jobInfo!.data);
    assert.equal(theirsJob.project, oursJob.project.toBase58());
    assert.equal(theirsJob.market, localnet.market.toBase58());
    assert.equal(theirsJob.price, oursJob.price);
    assert.equal(theirsJob.timeout, oursJob.timeout);
    assert.equal(theirsJob.state, 0);
    assert.deepEqual([...theirsJob.ipfsJob], [...DEFINITION_CID_BYTES]);
    const theirsRun = getRunAccountDecoder().decode(runInfo!.data);
    assert.equal(theirsRun.job, job.toBase58());
    assert.equal(theirsRun.node, node.publicKey.toBase58());
    const theirsMarket = getMarketAccountDecoder().decode(marketInfo!.data);
    assert.equal(theirsMarket.jobPrice, PRICE);
    assert.equal(theirsMarket.authority, localnet.marketAuthority.publicKey.toBase58());
    assert.equal(jobInfo!.data.length, 240);
    assert.equal(runInfo!.data.length, 120);
    await client.end(poster, job);
  });
});
