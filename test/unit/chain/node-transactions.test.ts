// Node transaction records offline: what may be signed, the record's JSON, the checks its bytes
// must pass before they are broadcast or resolved, and resolution against RPC answers the localnet
// does not produce on its own (a node without history, a backend behind the observed slot). The
// connection is a stand-in answering just the calls made.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair, PublicKey, SolanaJSONRPCError, SystemProgram, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import type { Connection, TransactionInstruction } from '@solana/web3.js';
import bs58 from 'bs58';
import { JOB_STATE, encodeAccount } from '../../../src/chain/accounts.ts';
import type { JobAccount, MarketAccount, RunAccount } from '../../../src/chain/accounts.ts';
import { ASSOCIATED_TOKEN_PROGRAM_ID, NETWORKS, TOKEN_PROGRAM_ID, nosTokenAccount } from '../../../src/chain/addresses.ts';
import type { JobView, NodeTransactionRequest } from '../../../src/chain/jobs-client.ts';
import { decodeNodeTransaction, parseNodeTransactionRecord, toNodeTransactionRecord } from '../../../src/chain/node-transaction-record.ts';
import type { NodeTransactionRecord, NodeTransactionSubject } from '../../../src/chain/node-transaction-record.ts';
import { payoutProblem, refusalToSign, resolveNodeTransaction } from '../../../src/chain/node-transactions.ts';
import { finishInstructions } from '../../../src/chain/operations.ts';
import { completeInstructions, leaveQueueInstructions, quitInstructions, workInstructions } from '../../../src/chain/operations.ts';
import { OPEN_MARKET_ACCESS_KEY } from '../../../src/chain/addresses.ts';
import { SolanaJobsClient } from '../../../src/chain/solana-jobs-client.ts';
import { base58Signature } from '../../../src/chain/transaction-sender.ts';
import { bytes32ToCid, cidToBytes32 } from '../../../src/ipfs/cid.ts';

const NETWORK = NETWORKS.localnet;
const GENESIS = 'LocalGenesis1111111111111111111111111111111';
const RESULT = 'QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH';
const OTHER_RESULT = bytes32ToCid(new Uint8Array(32).fill(9));
const key = (): PublicKey => Keypair.generate().publicKey;

/** A job running on `node` under `run`, as the program stores it. */
function runningJob(node: PublicKey) {
  const job: JobAccount = {
    ipfsJob: new Uint8Array(32).fill(1),
    ipfsResult: new Uint8Array(32),
    market: key(),
    node: SystemProgram.programId,
    payer: key(),
    price: 10n,
    project: key(),
    state: JOB_STATE.queued,
    timeEnd: 0n,
    timeStart: 0n,
    timeout: 600n,
  };
  const jobAddress = key();
  const run: RunAccount = { job: jobAddress, node, payer: key(), state: 0, time: 1_000n };
  return { jobAddress, job, runAddress: key(), run };
}

function sign(node: Keypair, instructions: TransactionInstruction[], others: Keypair[] = []) {
  const blockhash = key().toBase58();
  const transaction = new VersionedTransaction(
    new TransactionMessage({ payerKey: node.publicKey, recentBlockhash: blockhash, instructions }).compileToLegacyMessage(),
  );
  transaction.sign([node, ...others]);
  return { transaction, signature: base58Signature(transaction), lastValidBlockHeight: 100, slot: 50 };
}

/** A signed record of each kind, for a node running one job. */
function records() {
  const node = Keypair.generate();
  const world = runningJob(node.publicKey);
  const market = key();
  const workRun = Keypair.generate();
  const payout = nosTokenAccount(NETWORK, node.publicKey);
  const build = (subject: NodeTransactionSubject, instructions: TransactionInstruction[], others: Keypair[] = []) =>
    toNodeTransactionRecord(subject, node.publicKey, sign(node, instructions, others), GENESIS);
  return {
    node,
    world,
    finish: build(
      { kind: 'finish', job: world.jobAddress, run: world.runAddress, resultCid: RESULT, payout },
      finishInstructions({ network: NETWORK, ...world, vault: key(), ipfsResult: cidToBytes32(RESULT), payout }),
    ),
    complete: build(
      { kind: 'complete', job: world.jobAddress, resultCid: RESULT },
      completeInstructions(NETWORK, world.jobAddress, node.publicKey, cidToBytes32(RESULT)),
    ),
    quit: build(
      { kind: 'quit', job: world.jobAddress, run: world.runAddress },
      quitInstructions(NETWORK, world.jobAddress, world.runAddress, world.run),
    ),
    work: build(
      { kind: 'work', market, run: workRun.publicKey },
      workInstructions({
        network: NETWORK,
        market,
        marketAccount: { nodeAccessKey: OPEN_MARKET_ACCESS_KEY },
        node: node.publicKey,
        run: workRun.publicKey,
      }),
      [workRun],
    ),
    leaveQueue: build({ kind: 'leave-queue', market }, leaveQueueInstructions(NETWORK, market, node.publicKey)),
  };
}

describe('refusalToSign', () => {
  const node = key();
  const { jobAddress, job, runAddress, run } = runningJob(node);
  const running: JobView = { address: jobAddress, account: job, status: 'RUNNING', run: { address: runAddress, account: run } };
  const elsewhere: JobView = { ...running, run: { address: key(), account: { ...run, node: key() } } };
  const ended: JobView = { address: jobAddress, account: { ...job, state: JOB_STATE.done, node }, status: 'COMPLETED' };
  const finished: JobView = { ...ended, account: { ...ended.account, ipfsResult: cidToBytes32(RESULT) } };
  const finish: NodeTransactionRequest = { kind: 'finish', job: jobAddress, resultCid: RESULT };
  const complete: NodeTransactionRequest = { kind: 'complete', job: jobAddress, resultCid: RESULT };
  const quit: NodeTransactionRequest = { kind: 'quit', job: jobAddress };
  const cases: { reason: string; request: NodeTransactionRequest; job: JobView | undefined; want: RegExp | undefined }[] = [
    { reason: 'a finish of the node own open run may be signed', request: finish, job: running, want: undefined },
    { reason: 'a finish is never signed once the run is closed (the job completed)', request: finish, job: finished, want: /no open run/ },
    { reason: 'a finish is never signed once the poster ended the job', request: finish, job: ended, want: /no open run/ },
    { reason: "a finish is never signed for another node's run", request: finish, job: elsewhere, want: /no open run/ },
    { reason: 'nothing is signed for a job account that is gone', request: finish, job: undefined, want: /does not exist/ },
    { reason: 'a complete of a job the poster ended on this node may be signed', request: complete, job: ended, want: undefined },
    { reason: 'a complete of a job that already has a result is refused', request: complete, job: finished, want: /already has a result/ },
    {
      reason: 'a complete of a running job is refused: it must be finished',
      request: complete,
      job: running,
      want: /was not ended on node/,
    },
    { reason: 'a quit of the node own open run may be signed', request: quit, job: running, want: undefined },
    { reason: 'a quit without an open run of this node is refused', request: quit, job: ended, want: /no open run/ },
    { reason: 'work reads no job', request: { kind: 'work', market: key() }, job: undefined, want: undefined },
  ];
  for (const { reason, request, job: view, want } of cases) {
    test(reason, () => {
      const refusal = refusalToSign(request, node, view);
      if (want === undefined) assert.equal(refusal, undefined);
      else assert.match(refusal ?? '', want);
    });
  }
});

describe('payoutProblem', () => {
  const tokenAccount = (mint: PublicKey) => Buffer.concat([mint.toBuffer(), Buffer.alloc(165 - 32)]);
  test('a NOS token account can be paid into', () => {
    assert.equal(payoutProblem(NETWORK, TOKEN_PROGRAM_ID, tokenAccount(NETWORK.nosMint)), undefined);
  });
  test('a token account of another mint cannot', () => {
    assert.match(payoutProblem(NETWORK, TOKEN_PROGRAM_ID, tokenAccount(key())) ?? '', /does not hold NOS/);
  });
  test('a wallet (a system account) cannot', () => {
    assert.match(payoutProblem(NETWORK, SystemProgram.programId, Buffer.alloc(0)) ?? '', /not a token account/);
  });
});

describe('the node transaction record', () => {
  test('each kind survives a JSON round trip unchanged and still decodes', () => {
    const all = records();
    for (const record of [all.finish, all.complete, all.quit, all.work, all.leaveQueue]) {
      const restored = parseNodeTransactionRecord(JSON.stringify(record));
      assert.deepEqual(restored, record);
      assert.equal(base58Signature(decodeNodeTransaction(NETWORK, restored)), record.signature);
    }
  });

  const malformed: { reason: string; edit: (record: Record<string, unknown>) => unknown; want: RegExp }[] = [
    { reason: 'a finish without its payout account is refused, naming the field', edit: ({ payout: _, ...rest }) => rest, want: /payout/ },
    {
      reason: 'a result that is not a CIDv0 is refused',
      edit: (record) => ({ ...record, resultCid: 'bafy-not-v0' }),
      want: /resultCid: not a CIDv0/,
    },
    { reason: 'an unknown kind is refused', edit: (record) => ({ ...record, kind: 'claim' }), want: /kind/ },
    { reason: 'a record without its genesis hash is refused', edit: ({ genesisHash: _, ...rest }) => rest, want: /genesisHash/ },
  ];
  for (const { reason, edit, want } of malformed) {
    test(reason, () => {
      const record = records().finish;
      const text = JSON.stringify(edit({ ...record }));
      assert.throws(
        () => parseNodeTransactionRecord(text),
        (error: Error) => want.test(error.message) && !error.message.includes(record.transaction),
      );
    });
  }

  test('text that is not JSON is refused as such', () => {
    assert.throws(() => parseNodeTransactionRecord('{"kind":'), /not JSON/);
  });
});

describe('decodeNodeTransaction refuses bytes that do not do what the record says', () => {
  const all = records();
  const cases: { reason: string; record: () => NodeTransactionRecord; want: RegExp }[] = [
    {
      reason: 'the signature must be the one the bytes carry',
      record: () => ({ ...all.finish, signature: all.quit.signature }),
      want: /recorded signature/,
    },
    {
      reason: 'the payout must be the account the finish pays',
      record: () => ({ ...all.finish, payout: key().toBase58() }),
      want: /user account is not the recorded one/,
    },
    {
      reason: 'the result must be the one the finish writes',
      record: () => ({ ...all.finish, resultCid: OTHER_RESULT }),
      want: /does not write the recorded result/,
    },
    {
      reason: 'the run must be the one the quit closes',
      record: () => ({ ...all.quit, run: key().toBase58() }),
      want: /run account is not the recorded one/,
    },
    {
      reason: 'the kind must be the instruction the bytes hold',
      record: () => ({ ...all.finish, kind: 'quit' }) as NodeTransactionRecord,
      want: /one localnet jobs-program quit/,
    },
    { reason: 'the node must pay for it', record: () => ({ ...all.leaveQueue, node: key().toBase58() }), want: /node does not pay/ },
    {
      reason: 'every signature must verify over the message',
      record: () => {
        const bytes = Buffer.from(all.complete.transaction, 'base64');
        bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
        return { ...all.complete, transaction: bytes.toString('base64') };
      },
      want: /does not verify/,
    },
  ];
  for (const { reason, record, want } of cases) {
    test(reason, () => {
      assert.throws(() => decodeNodeTransaction(NETWORK, record()), want);
    });
  }
});

// ---- resolution against a stand-in connection ----------------------------------------------

interface FakeAnswers {
  status?: unknown;
  historyRefused?: boolean;
  /** Accounts by base58 address (job and run), as the program stores them. */
  accounts?: Map<string, Buffer>;
  /** The finalized block height; the finalized slot it is read at is the same number. */
  height?: number;
  /** The slot the backend answering reads that take minContextSlot is at (default: height + 32). */
  readSlot?: number;
  /** The slot getSignatureStatuses answers at (default: readSlot); it takes no minContextSlot. */
  statusSlot?: number;
  history?: { signature: string; err: unknown; slot: number }[];
  firstAvailableBlock?: number;
  genesis?: string;
  calls?: string[];
}

function fakeConnection(answers: FakeAnswers): Connection {
  const height = answers.height ?? 500;
  const readSlot = answers.readSlot ?? height + 32;
  const serve = (method: string, config?: { minContextSlot?: number }) => {
    answers.calls?.push(method);
    if (config?.minContextSlot !== undefined && config.minContextSlot > readSlot) {
      throw new SolanaJSONRPCError(
        { code: -32016, message: 'Minimum context slot has not been reached', data: { contextSlot: readSlot } },
        `failed to ${method}`,
      );
    }
  };
  return {
    getGenesisHash: async () => answers.genesis ?? GENESIS,
    getSignatureStatuses: async (_signatures: string[], config?: { searchTransactionHistory?: boolean }) => {
      serve('getSignatureStatuses');
      if (config?.searchTransactionHistory === true && answers.historyRefused === true) {
        throw new Error('failed to get signature status: Transaction history is not available from this node');
      }
      return { context: { slot: answers.statusSlot ?? readSlot }, value: [answers.status ?? null] };
    },
    getTransaction: async () => ({
      meta: { logMessages: ['Program log: AnchorError occurred. Error Code: InvalidPayer. Error Number: 6008.'] },
    }),
    getEpochInfo: async () => {
      serve('getEpochInfo');
      return { epoch: 0, slotIndex: height, slotsInEpoch: 432_000, absoluteSlot: height, blockHeight: height };
    },
    getMultipleAccountsInfoAndContext: async (keys: PublicKey[], config?: { minContextSlot?: number }) => {
      serve('getMultipleAccounts', config);
      const value = keys.map((address) => {
        const data = answers.accounts?.get(address.toBase58());
        return data === undefined ? null : { data, owner: NETWORK.jobsProgram, lamports: 1, executable: false };
      });
      return { context: { slot: readSlot }, value };
    },
    isBlockhashValid: async (_blockhash: string, config?: { minContextSlot?: number }) => {
      serve('isBlockhashValid', config);
      return { context: { slot: readSlot }, value: false };
    },
    getProgramAccounts: async (
      programId: PublicKey,
      config: { minContextSlot?: number; filters?: { memcmp: { offset: number; bytes: string } }[] },
    ) => {
      serve('getProgramAccounts', config);
      const matches = (data: Buffer) =>
        (config.filters ?? []).every(({ memcmp }) => {
          const bytes = Buffer.from(bs58.decode(memcmp.bytes));
          return data.subarray(memcmp.offset, memcmp.offset + bytes.length).equals(bytes);
        });
      return [...(answers.accounts ?? new Map<string, Buffer>()).entries()]
        .filter(([, data]) => programId.equals(NETWORK.jobsProgram) && matches(data))
        .map(([address, data]) => ({ pubkey: new PublicKey(address), account: { data, owner: NETWORK.jobsProgram, lamports: 1 } }));
    },
    getSignaturesForAddress: async (_address: unknown, options?: { minContextSlot?: number }) => {
      serve('getSignaturesForAddress', options);
      return answers.history ?? [];
    },
    getFirstAvailableBlock: async () => answers.firstAvailableBlock ?? 0,
  } as unknown as Connection;
}

describe('resolveNodeTransaction', () => {
  const all = records();
  const { world, node } = all;
  const openRun = new Map([
    [world.jobAddress.toBase58(), encodeAccount('JobAccount', world.job)],
    [world.runAddress.toBase58(), encodeAccount('RunAccount', world.run)],
  ]);
  const completedWith = (result: string | undefined) =>
    new Map([
      [
        world.jobAddress.toBase58(),
        encodeAccount('JobAccount', {
          ...world.job,
          state: JOB_STATE.done,
          node: node.publicKey,
          ipfsResult: result === undefined ? new Uint8Array(32) : cidToBytes32(result),
        }),
      ],
    ]);

  /** The job in `state`, its run closed; `otherRun`: the node holds another run of the same job. */
  const jobIn = (state: number, otherRun = false) =>
    new Map([
      [world.jobAddress.toBase58(), encodeAccount('JobAccount', { ...world.job, state })],
      ...(otherRun ? [[key().toBase58(), encodeAccount('RunAccount', world.run)] as [string, Buffer]] : []),
    ]);

  const cases: { reason: string; record: NodeTransactionRecord; answers: FakeAnswers; want: string }[] = [
    {
      reason:
        'a quit never seen, on an RPC without history, has landed by its effect: the job is stopped, its run closed, no other run of the node',
      record: all.quit,
      answers: { accounts: jobIn(JOB_STATE.stopped), height: 500, historyRefused: true },
      want: 'landed/effect',
    },
    {
      reason: 'a quit whose blockhash still lives has landed by its effect as soon as the effect shows',
      record: all.quit,
      answers: { accounts: jobIn(JOB_STATE.stopped), height: 90 },
      want: 'landed/effect',
    },
    {
      reason: 'a stopped job while the node holds another run of it does not show which run was quit: unknown without history',
      record: all.quit,
      answers: { accounts: jobIn(JOB_STATE.stopped, true), height: 500, historyRefused: true },
      want: 'unknown',
    },
    {
      reason: 'a job the poster ended (DONE) closed the run, not the quit: unknown without history',
      record: all.quit,
      answers: { accounts: jobIn(JOB_STATE.done), height: 500, historyRefused: true },
      want: 'unknown',
    },
    {
      reason: 'a queued job whose run is gone (an admin closed it) is no quit: unknown without history',
      record: all.quit,
      answers: { accounts: jobIn(JOB_STATE.queued), height: 500, historyRefused: true },
      want: 'unknown',
    },
    {
      reason: 'a job account that is gone (recovered after a quit, or never ours) proves nothing: unknown without history',
      record: all.quit,
      answers: { accounts: new Map(), height: 500, historyRefused: true },
      want: 'unknown',
    },
    {
      reason: 'a signature seen confirmed and successful has landed',
      record: all.finish,
      answers: { status: { slot: 60, confirmations: 3, err: null, confirmationStatus: 'confirmed' } },
      want: 'landed/signature',
    },
    {
      reason: 'a signature seen only at processed is pending: its fork may be dropped',
      record: all.finish,
      answers: { status: { slot: 60, confirmations: 0, err: null, confirmationStatus: 'processed' } },
      want: 'pending',
    },
    {
      reason: 'a failure seen at confirmed is pending: only a finalized failure is beyond rollback',
      record: all.finish,
      answers: {
        status: { slot: 60, confirmations: 3, err: { InstructionError: [2, { Custom: 6008 }] }, confirmationStatus: 'confirmed' },
      },
      want: 'pending',
    },
    {
      reason: 'a finalized failure is failed, with the program error named',
      record: all.finish,
      answers: {
        status: { slot: 60, confirmations: null, err: { InstructionError: [2, { Custom: 6008 }] }, confirmationStatus: 'finalized' },
      },
      want: 'failed/InvalidPayer',
    },
    {
      reason: 'a finish never seen whose result is on chain for this node, its run closed, has landed by its effect',
      record: all.finish,
      answers: { accounts: completedWith(RESULT), height: 90 },
      want: 'landed/effect',
    },
    {
      reason: 'a complete never seen whose result is on chain for this node has landed by its effect',
      record: all.complete,
      answers: { accounts: completedWith(RESULT), height: 500 },
      want: 'landed/effect',
    },
    {
      reason: 'a job completed with another result is not the effect of this finish',
      record: all.finish,
      answers: { accounts: completedWith(OTHER_RESULT), height: 90 },
      want: 'pending',
    },
    {
      reason: 'a finish whose blockhash has not expired is pending',
      record: all.finish,
      answers: { accounts: openRun, height: 90 },
      want: 'pending',
    },
    {
      reason: 'an expired finish whose run is still open did not land: expired, without needing any history',
      record: all.finish,
      answers: { accounts: openRun, height: 500, historyRefused: true },
      want: 'expired',
    },
    {
      reason: 'an expired quit whose run is still open did not land',
      record: all.quit,
      answers: { accounts: openRun, height: 500, historyRefused: true },
      want: 'expired',
    },
    {
      reason: 'an expired complete whose job still has no result did not land',
      record: all.complete,
      answers: { accounts: completedWith(undefined), height: 500, historyRefused: true },
      want: 'expired',
    },
    {
      reason: 'an expired finish whose run is gone without its effect needs history: none means unknown',
      record: all.finish,
      answers: { accounts: completedWith(undefined), height: 500, historyRefused: true },
      want: 'unknown',
    },
    {
      reason: 'an expired finish whose run is gone, absent from a history reaching back to its preparation, is expired',
      record: all.finish,
      answers: { accounts: completedWith(undefined), height: 500 },
      want: 'expired',
    },
    {
      reason: 'a history that lists the signature as failed says failed',
      record: all.finish,
      answers: {
        accounts: completedWith(undefined),
        height: 500,
        history: [{ signature: all.finish.signature, err: { InstructionError: [2, 'x'] }, slot: 70 }],
      },
      want: 'failed/InvalidPayer',
    },
    {
      reason: 'a history that starts after the preparation proves nothing: unknown',
      record: all.leaveQueue,
      answers: { height: 500, firstAvailableBlock: 60 },
      want: 'unknown',
    },
    {
      reason: 'a full history page that does not reach back to the preparation proves nothing: unknown',
      record: all.work,
      answers: { height: 500, history: Array.from({ length: 1_000 }, (_, index) => ({ signature: `s${index}`, err: null, slot: 400 })) },
      want: 'unknown',
    },
    {
      reason: 'an expired work absent from the history of its fresh run address is expired',
      record: all.work,
      answers: { height: 500 },
      want: 'expired',
    },
    {
      reason: 'a last status lookup answered from before the slot the height was read at proves nothing: pending',
      record: all.work,
      answers: { height: 500, statusSlot: 480 },
      want: 'pending',
    },
    {
      reason: 'a backend behind the slot the height was read at refuses: pending, never expired',
      record: all.finish,
      answers: { accounts: openRun, height: 500, readSlot: 480 },
      want: 'pending',
    },
  ];
  for (const { reason, record, answers, want } of cases) {
    test(reason, async () => {
      const resolution = await resolveNodeTransaction(fakeConnection(answers), NETWORK, record);
      const got =
        resolution.outcome === 'landed'
          ? `landed/${resolution.evidence}`
          : resolution.outcome === 'failed'
            ? `failed/${resolution.error?.name ?? '?'}`
            : resolution.outcome;
      assert.equal(got, want, JSON.stringify(resolution));
    });
  }

  test('every read behind "expired" is asked at the slot the finalized height was read at', async () => {
    const calls: string[] = [];
    const resolution = await resolveNodeTransaction(fakeConnection({ height: 500, readSlot: 500, calls }), NETWORK, all.work);
    assert.equal(resolution.outcome, 'expired');
    assert.deepEqual(calls, [
      'getSignatureStatuses',
      'getEpochInfo',
      'getMultipleAccounts',
      'isBlockhashValid',
      'getSignaturesForAddress',
      'getSignatureStatuses',
    ]);
    const late = await resolveNodeTransaction(fakeConnection({ height: 500, readSlot: 499 }), NETWORK, all.work);
    assert.equal(late.outcome, 'pending');
  });

  test('a record signed for another cluster is neither resolved nor re-sent there', async () => {
    await assert.rejects(
      resolveNodeTransaction(fakeConnection({ genesis: 'OtherGenesis' }), NETWORK, all.finish),
      /signed for the cluster/,
    );
  });
});

// ---- preparing a finish through the adapter -------------------------------------------------

describe("a prepared finish creates the poster's NOS account only when it is missing", () => {
  const node = Keypair.generate();
  const world = runningJob(node.publicKey);
  const deposit = nosTokenAccount(NETWORK, world.job.payer);
  const market: MarketAccount = {
    authority: key(),
    jobExpiration: 86_400n,
    jobPrice: 10n,
    jobTimeout: 600n,
    jobType: 4,
    vault: key(),
    vaultBump: 255,
    nodeAccessKey: OPEN_MARKET_ACCESS_KEY,
    nodeXnosMinimum: 0n,
    queueType: 255,
    queue: [],
  };
  const info = (owner: PublicKey, data: Buffer) => ({ data, owner, lamports: 2_039_280, executable: false });

  /** The connection a prepare reads from: the job, its run, the market, and `depositInfo` at the deposit address. */
  function preparingConnection(depositInfo: ReturnType<typeof info> | null): Connection {
    const accounts = new Map([
      [world.jobAddress.toBase58(), info(NETWORK.jobsProgram, encodeAccount('JobAccount', world.job))],
      [world.job.market.toBase58(), info(NETWORK.jobsProgram, encodeAccount('MarketAccount', market))],
      [deposit.toBase58(), depositInfo],
    ]);
    return {
      getGenesisHash: async () => GENESIS,
      getMultipleAccountsInfo: async (keys: PublicKey[]) => keys.map((address) => accounts.get(address.toBase58()) ?? null),
      getAccountInfo: async (address: PublicKey) => accounts.get(address.toBase58()) ?? null,
      getProgramAccounts: async () => [
        { pubkey: world.runAddress, account: info(NETWORK.jobsProgram, encodeAccount('RunAccount', world.run)) },
      ],
      getLatestBlockhashAndContext: async () => ({
        context: { slot: 50 },
        value: { blockhash: key().toBase58(), lastValidBlockHeight: 200 },
      }),
      simulateTransaction: async () => ({ context: { slot: 50 }, value: { err: null, logs: [], unitsConsumed: 30_000 } }),
      getRecentPrioritizationFees: async () => [],
    } as unknown as Connection;
  }

  /** The owners of the NOS accounts the prepared finish creates, in order. */
  async function createdAccounts(depositInfo: ReturnType<typeof info> | null): Promise<string[]> {
    const client = new SolanaJobsClient({ connection: preparingConnection(depositInfo), network: NETWORK });
    const record = await client.prepareNodeTransaction(node, { kind: 'finish', job: world.jobAddress, resultCid: RESULT });
    const message = decodeNodeTransaction(NETWORK, record).message;
    const keys = message.staticAccountKeys;
    return message.compiledInstructions
      .filter((instruction) => keys[instruction.programIdIndex]?.equals(ASSOCIATED_TOKEN_PROGRAM_ID))
      .map((instruction) => keys[instruction.accountKeyIndexes[2] ?? -1]?.toBase58() ?? '?');
  }

  const tokenAccountOfSomeoneElse = Buffer.concat([NETWORK.nosMint.toBuffer(), key().toBuffer(), Buffer.alloc(165 - 64)]);
  const cases: { reason: string; depositInfo: ReturnType<typeof info> | null; want: string[] }[] = [
    {
      reason: 'a poster without a NOS account gets one, paid by the node: finish needs it for the refund',
      depositInfo: null,
      want: [node.publicKey.toBase58(), world.job.payer.toBase58()],
    },
    {
      reason: 'a poster whose NOS account exists is not "created" again, even when its token owner was changed (the create would fail)',
      depositInfo: info(TOKEN_PROGRAM_ID, tokenAccountOfSomeoneElse),
      want: [node.publicKey.toBase58()],
    },
    {
      reason: 'lamports sent to the address before the account exists do not make it a token account: it is created',
      depositInfo: info(SystemProgram.programId, Buffer.alloc(0)),
      want: [node.publicKey.toBase58(), world.job.payer.toBase58()],
    },
  ];
  for (const { reason, depositInfo, want } of cases) {
    test(reason, async () => {
      assert.deepEqual(await createdAccounts(depositInfo), want);
    });
  }
});
