// An independent oracle: Nosana's own generated client, @nosana/jobs-program (codama, on
// @solana/kit), must build byte-identical instruction data and the same account metas as our
// Anchor-coder builders, and the two libraries' account codecs must agree both ways. Every
// address the operations derive is recomputed here with kit (not web3.js) from the protocol's rules.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as oracle from '@nosana/jobs-program';
import { PublicKey } from '@solana/web3.js';
import type { TransactionInstruction } from '@solana/web3.js';
import { decodeAccount, encodeAccount } from '../../../src/chain/accounts.ts';
import type { JobAccount, MarketAccount, RunAccount } from '../../../src/chain/accounts.ts';
import { JOBS_INSTRUCTIONS } from '../../../src/chain/idl.ts';
import type { JobsInstructionName } from '../../../src/chain/idl.ts';
import { jobsInstruction } from '../../../src/chain/instructions.ts';
import type { InstructionAccounts, InstructionArgs } from '../../../src/chain/instructions.ts';
import { NETWORKS } from '../../../src/chain/addresses.ts';
import type { NosanaNetwork } from '../../../src/chain/addresses.ts';
import {
  cleanInstructions,
  completeInstructions,
  delistInstructions,
  endInstructions,
  extendInstructions,
  finishInstructions,
  leaveQueueInstructions,
  openMarketInstructions,
  postInstructions,
  quitInstructions,
  recoverInstructions,
  workInstructions,
} from '../../../src/chain/operations.ts';
import { comparable, distinctKeys, hash32, i64, jobAccount, marketAccount, publicKey, runAccount, u128, u64, u8 } from './arbitraries.ts';
import { kitPda, oracleMetas, toAddress, toSigner, web3Metas } from './oracle-kit.ts';
import type { Address } from './oracle-kit.ts';

interface OracleInstruction {
  programAddress: string;
  accounts?: Parameters<typeof oracleMetas>[0];
  data?: ArrayLike<number>;
}

const a = toAddress;
const s = toSigner;

/** The oracle's builder for each instruction, fed the same accounts and arguments as ours. */
const ORACLE: {
  [N in JobsInstructionName]: (k: InstructionAccounts<N>, x: InstructionArgs<N>, programAddress: Address) => OracleInstruction;
} = {
  list: (k, x, programAddress) =>
    oracle.getListInstruction(
      {
        job: s(k.job),
        market: a(k.market),
        run: s(k.run),
        user: a(k.user),
        vault: a(k.vault),
        payer: s(k.payer),
        rewardsReflection: a(k.rewardsReflection),
        rewardsVault: a(k.rewardsVault),
        authority: s(k.authority),
        rewardsProgram: a(k.rewardsProgram),
        tokenProgram: a(k.tokenProgram),
        systemProgram: a(k.systemProgram),
        ipfsJob: x.ipfsJob,
        timeout: x.timeout,
      },
      { programAddress },
    ),
  assign: (k, x, programAddress) =>
    oracle.getAssignInstruction(
      {
        job: s(k.job),
        market: a(k.market),
        run: s(k.run),
        node: a(k.node),
        user: a(k.user),
        vault: a(k.vault),
        payer: s(k.payer),
        rewardsReflection: a(k.rewardsReflection),
        rewardsVault: a(k.rewardsVault),
        authority: s(k.authority),
        rewardsProgram: a(k.rewardsProgram),
        tokenProgram: a(k.tokenProgram),
        systemProgram: a(k.systemProgram),
        ipfsJob: x.ipfsJob,
        timeout: x.timeout,
      },
      { programAddress },
    ),
  delist: (k, _x, programAddress) =>
    oracle.getDelistInstruction(
      {
        job: a(k.job),
        market: a(k.market),
        deposit: a(k.deposit),
        payer: a(k.payer),
        vault: a(k.vault),
        tokenProgram: a(k.tokenProgram),
        authority: s(k.authority),
      },
      { programAddress },
    ),
  extend: (k, x, programAddress) =>
    oracle.getExtendInstruction(
      {
        job: a(k.job),
        market: a(k.market),
        user: a(k.user),
        vault: a(k.vault),
        rewardsReflection: a(k.rewardsReflection),
        rewardsVault: a(k.rewardsVault),
        authority: s(k.authority),
        payer: s(k.payer),
        rewardsProgram: a(k.rewardsProgram),
        tokenProgram: a(k.tokenProgram),
        timeout: x.timeout,
      },
      { programAddress },
    ),
  end: (k, _x, programAddress) =>
    oracle.getEndInstruction(
      {
        job: a(k.job),
        market: a(k.market),
        run: a(k.run),
        deposit: a(k.deposit),
        user: a(k.user),
        vault: a(k.vault),
        payer: a(k.payer),
        authority: s(k.authority),
        tokenProgram: a(k.tokenProgram),
      },
      { programAddress },
    ),
  recover: (k, _x, programAddress) =>
    oracle.getRecoverInstruction(
      {
        job: a(k.job),
        market: a(k.market),
        vault: a(k.vault),
        user: a(k.user),
        payer: a(k.payer),
        authority: s(k.authority),
        tokenProgram: a(k.tokenProgram),
      },
      { programAddress },
    ),
  work: (k, _x, programAddress) =>
    oracle.getWorkInstruction(
      {
        run: s(k.run),
        market: a(k.market),
        payer: s(k.payer),
        stake: a(k.stake),
        nft: a(k.nft),
        metadata: a(k.metadata),
        authority: s(k.authority),
        systemProgram: a(k.systemProgram),
      },
      { programAddress },
    ),
  stop: (k, _x, programAddress) =>
    oracle.getStopInstruction(
      {
        market: a(k.market),
        node: a(k.node),
        authority: s(k.authority),
      },
      { programAddress },
    ),
  claim: (k, _x, programAddress) =>
    oracle.getClaimInstruction(
      {
        job: a(k.job),
        run: s(k.run),
        market: a(k.market),
        stake: a(k.stake),
        nft: a(k.nft),
        metadata: a(k.metadata),
        payer: s(k.payer),
        authority: s(k.authority),
        systemProgram: a(k.systemProgram),
      },
      { programAddress },
    ),
  finish: (k, x, programAddress) =>
    oracle.getFinishInstruction(
      {
        job: a(k.job),
        run: a(k.run),
        market: a(k.market),
        vault: a(k.vault),
        deposit: a(k.deposit),
        user: a(k.user),
        payerRun: a(k.payerRun),
        payerJob: a(k.payerJob),
        authority: s(k.authority),
        tokenProgram: a(k.tokenProgram),
        ipfsResult: x.ipfsResult,
      },
      { programAddress },
    ),
  complete: (k, x, programAddress) =>
    oracle.getCompleteInstruction(
      {
        job: a(k.job),
        authority: s(k.authority),
        ipfsResult: x.ipfsResult,
      },
      { programAddress },
    ),
  quit: (k, _x, programAddress) =>
    oracle.getQuitInstruction(
      {
        job: a(k.job),
        run: a(k.run),
        payer: a(k.payer),
        authority: s(k.authority),
      },
      { programAddress },
    ),
  clean: (k, _x, programAddress) =>
    oracle.getCleanInstruction(
      {
        job: a(k.job),
        market: a(k.market),
        payer: a(k.payer),
      },
      { programAddress },
    ),
  open: (k, x, programAddress) =>
    oracle.getOpenInstruction(
      {
        mint: a(k.mint),
        market: s(k.market),
        vault: a(k.vault),
        authority: s(k.authority),
        accessKey: a(k.accessKey),
        rent: a(k.rent),
        systemProgram: a(k.systemProgram),
        tokenProgram: a(k.tokenProgram),
        jobExpiration: x.jobExpiration,
        jobPrice: x.jobPrice,
        jobTimeout: x.jobTimeout,
        jobType: x.jobType,
        nodeXnosMinimum: x.nodeXnosMinimum,
      },
      { programAddress },
    ),
  update: (k, x, programAddress) =>
    oracle.getUpdateInstruction(
      {
        market: a(k.market),
        accessKey: a(k.accessKey),
        authority: s(k.authority),
        jobExpiration: x.jobExpiration,
        jobPrice: x.jobPrice,
        jobType: x.jobType,
        nodeStakeMinimum: x.nodeStakeMinimum,
        jobTimeout: x.jobTimeout,
      },
      { programAddress },
    ),
  close: (k, _x, programAddress) =>
    oracle.getCloseInstruction(
      {
        market: a(k.market),
        vault: a(k.vault),
        user: a(k.user),
        authority: s(k.authority),
        tokenProgram: a(k.tokenProgram),
      },
      { programAddress },
    ),
};

function oracleFor(name: JobsInstructionName): (k: unknown, x: unknown, programAddress: Address) => OracleInstruction {
  return ORACLE[name] as (k: unknown, x: unknown, programAddress: Address) => OracleInstruction;
}

function assertSameInstruction(ours: TransactionInstruction, theirs: OracleInstruction): void {
  assert.equal(ours.programId.toBase58(), theirs.programAddress, 'program');
  assert.equal(ours.data.toString('hex'), Buffer.from(Uint8Array.from(theirs.data ?? [])).toString('hex'), 'instruction data');
  assert.deepEqual(web3Metas(ours.keys), oracleMetas(theirs.accounts), 'account metas (address, writable, signer)');
}

const ARG_ARBITRARIES = { u8, i64, u64, u128 } as const;

function argsArbitrary(name: JobsInstructionName): fc.Arbitrary<Record<string, unknown>> {
  const spec: readonly { name: string; type: unknown }[] = JOBS_INSTRUCTIONS[name].args;
  return fc.record(
    Object.fromEntries(
      spec.map((arg) => [arg.name, typeof arg.type === 'string' ? ARG_ARBITRARIES[arg.type as keyof typeof ARG_ARBITRARIES] : hash32]),
    ),
  );
}

const network = fc.constantFrom(NETWORKS.mainnet, NETWORKS.devnet);

describe('every instruction matches the oracle byte for byte', () => {
  test('the oracle targets the mainnet jobs program by default', () => {
    assert.equal(oracle.NOSANA_JOBS_PROGRAM_ADDRESS, NETWORKS.mainnet.jobsProgram.toBase58());
  });

  for (const name of Object.keys(JOBS_INSTRUCTIONS) as JobsInstructionName[]) {
    test(name, () => {
      const slots = JOBS_INSTRUCTIONS[name].accounts.map((slot) => slot.name);
      fc.assert(
        fc.property(network, distinctKeys(slots.length), argsArbitrary(name), (net, keys, args) => {
          const accounts = Object.fromEntries(slots.map((slot, index) => [slot, keys[index]]));
          const ours = jobsInstruction(net, name, accounts as never, args as never);
          assertSameInstruction(ours, oracleFor(name)(accounts, args, a(net.jobsProgram)));
        }),
        { numRuns: 25 },
      );
    });
  }
});

function oracleJob(job: JobAccount) {
  return {
    ipfsJob: job.ipfsJob,
    ipfsResult: job.ipfsResult,
    market: a(job.market),
    node: a(job.node),
    payer: a(job.payer),
    price: job.price,
    project: a(job.project),
    state: job.state,
    timeEnd: job.timeEnd,
    timeStart: job.timeStart,
    timeout: job.timeout,
  };
}

function oracleRun(run: RunAccount) {
  return { job: a(run.job), node: a(run.node), payer: a(run.payer), state: run.state, time: run.time };
}

function oracleMarket(market: MarketAccount) {
  return {
    authority: a(market.authority),
    jobExpiration: market.jobExpiration,
    jobPrice: market.jobPrice,
    jobTimeout: market.jobTimeout,
    jobType: market.jobType,
    vault: a(market.vault),
    vaultBump: market.vaultBump,
    nodeAccessKey: a(market.nodeAccessKey),
    nodeXnosMinimum: market.nodeXnosMinimum,
    queueType: market.queueType,
    queue: market.queue.map((entry) => a(entry)),
  };
}

/** The oracle's decoded fields in `comparable` form, after checking the discriminator it read. */
function decodedFields(decoded: { discriminator: ArrayLike<number> } & Record<string, unknown>, expected: Uint8Array): unknown {
  const { discriminator, ...fields } = decoded;
  assert.deepEqual(Uint8Array.from(discriminator), Uint8Array.from(expected), 'discriminator');
  return comparable(
    Object.fromEntries(
      Object.entries(fields).map(([field, value]) => [field, ArrayBuffer.isView(value) ? Uint8Array.from(value as Uint8Array) : value]),
    ),
  );
}

/**
 * Our encoding is the oracle's Borsh bytes followed by zero padding up to the allocation, and our
 * decoder reads the oracle's unpadded bytes.
 */
function assertPaddedEncoding(ours: Buffer, theirs: ArrayLike<number>): void {
  const borsh = Buffer.from(Uint8Array.from(theirs));
  assert.ok(ours.length >= borsh.length, `our ${ours.length} bytes are shorter than the Borsh length ${borsh.length}`);
  assert.equal(ours.subarray(0, borsh.length).toString('hex'), borsh.toString('hex'));
  assert.ok(
    ours.subarray(borsh.length).every((byte) => byte === 0),
    'the padding is zeros',
  );
}

describe('account codecs agree with the oracle', () => {
  test('JobAccount: ours → oracle decoder, oracle encoder → ours', () => {
    fc.assert(
      fc.property(jobAccount, (job) => {
        const ours = encodeAccount('JobAccount', job);
        assert.deepEqual(decodedFields(oracle.getJobAccountDecoder().decode(ours), oracle.JOB_ACCOUNT_DISCRIMINATOR), comparable(job));
        const theirs = oracle.getJobAccountEncoder().encode(oracleJob(job));
        assert.equal(theirs.length, oracle.getJobAccountSize());
        assert.deepEqual(comparable(decodeAccount('JobAccount', Uint8Array.from(theirs))), comparable(job));
        assertPaddedEncoding(ours, theirs);
      }),
      { numRuns: 60 },
    );
  });

  test('RunAccount: ours → oracle decoder, oracle encoder → ours', () => {
    fc.assert(
      fc.property(runAccount, (run) => {
        const ours = encodeAccount('RunAccount', run);
        assert.deepEqual(decodedFields(oracle.getRunAccountDecoder().decode(ours), oracle.RUN_ACCOUNT_DISCRIMINATOR), comparable(run));
        const theirs = oracle.getRunAccountEncoder().encode(oracleRun(run));
        assert.equal(theirs.length, oracle.getRunAccountSize());
        assert.deepEqual(comparable(decodeAccount('RunAccount', Uint8Array.from(theirs))), comparable(run));
        assertPaddedEncoding(ours, theirs);
      }),
      { numRuns: 60 },
    );
  });

  test('MarketAccount: ours → oracle decoder, oracle encoder → ours', () => {
    fc.assert(
      fc.property(marketAccount, (market) => {
        const ours = encodeAccount('MarketAccount', market);
        assert.deepEqual(
          decodedFields(oracle.getMarketAccountDecoder().decode(ours), oracle.MARKET_ACCOUNT_DISCRIMINATOR),
          comparable(market),
        );
        const theirs = oracle.getMarketAccountEncoder().encode(oracleMarket(market));
        assert.deepEqual(comparable(decodeAccount('MarketAccount', Uint8Array.from(theirs))), comparable(market));
        assertPaddedEncoding(ours, theirs);
      }),
      { numRuns: 40 },
    );
  });
});

// Addresses as the protocol defines them (PROTOCOL.md §1), derived below with kit.
const PROTOCOL = {
  mainnet: {
    jobsProgram: 'nosJhNRqr2bc9g1nfGDcXXTXvYUmxD4cVwy2pMWhrYM',
    nosMint: 'nosXBVoaCTtYdLvKY6Csb4AC8JCdQKKAaWYtx2ZMoo7',
    rewardsVault: '37xZ4jY3bSMBgxwekwdALRZK1kAUCh7YkkPabA4P2tq8',
  },
  devnet: {
    jobsProgram: 'nosJTmGQxvwXy23vng5UjkTbfv91Bzf9jEuro78dAGR',
    nosMint: 'devr1BGQndEW5k5zfvG5FsLyZv1Ap73vNgAHcQ9sUVP',
    rewardsVault: '4wk8dRGWQSCdRzvVJxu1jawHkV9pfzrEfUxYwYfwbXuk',
  },
} as const;
const REWARDS_PROGRAM = 'nosRB8DUV67oLNrL45bo2pFLrmsWPiewe2Lk2DRNYCp';
const REWARDS_REFLECTION = '6tjbAfNHnUusWLZqFznMKyBrjs1ZX92eyKwiUi2Bsg3x';
const STAKING_PROGRAM = 'nosScmHY2uR24Zh751PmGj9ww9QRNHewh9H59AfrTJE';
const METAPLEX_PROGRAM = 'metaqbxxUerdq28cj1RbAWkYQm3ybzjb6a8bt518x1s';
const TOKEN_PROGRAM = 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA';
const ASSOCIATED_TOKEN_PROGRAM = 'ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL';
const SYSTEM_PROGRAM = '11111111111111111111111111111111';
const RENT_SYSVAR = 'SysvarRent111111111111111111111111111111111';

function protocolOf(net: NosanaNetwork) {
  return PROTOCOL[net.name === 'mainnet' ? 'mainnet' : 'devnet'];
}

function ata(owner: PublicKey | string, mint: string): Promise<string> {
  return kitPda(ASSOCIATED_TOKEN_PROGRAM, [typeof owner === 'string' ? owner : owner.toBase58(), TOKEN_PROGRAM, mint]);
}

function nosAta(net: NosanaNetwork, owner: PublicKey): Promise<string> {
  return ata(owner, protocolOf(net).nosMint);
}

/** The one instruction of an operation that targets the jobs program, after its set-up instructions. */
function splitJobs(
  net: NosanaNetwork,
  instructions: TransactionInstruction[],
): { jobs: TransactionInstruction; setup: TransactionInstruction[] } {
  const jobs = instructions.filter((instruction) => instruction.programId.equals(net.jobsProgram));
  assert.equal(jobs.length, 1, 'exactly one jobs-program instruction');
  assert.equal(instructions.at(-1), jobs[0], 'the jobs instruction comes last');
  return { jobs: jobs[0] as TransactionInstruction, setup: instructions.slice(0, -1) };
}

/** Set-up instructions must be idempotent creations of these owners' NOS accounts, funded by `funder`. */
async function assertCreatesNosAccounts(
  net: NosanaNetwork,
  setup: TransactionInstruction[],
  funder: PublicKey,
  owners: PublicKey[],
): Promise<void> {
  assert.equal(setup.length, owners.length, 'number of set-up instructions');
  for (const [index, owner] of owners.entries()) {
    const instruction = setup[index] as TransactionInstruction;
    assert.equal(instruction.programId.toBase58(), ASSOCIATED_TOKEN_PROGRAM);
    assert.deepEqual([...instruction.data], [1], 'CreateIdempotent');
    assert.deepEqual(
      instruction.keys.slice(0, 4).map((meta) => meta.pubkey.toBase58()),
      [funder.toBase58(), await nosAta(net, owner), owner.toBase58(), protocolOf(net).nosMint],
    );
  }
}

function rewards(net: NosanaNetwork) {
  return {
    rewardsReflection: a(REWARDS_REFLECTION),
    rewardsVault: a(protocolOf(net).rewardsVault),
    rewardsProgram: a(REWARDS_PROGRAM),
    tokenProgram: a(TOKEN_PROGRAM),
  };
}

const config = (net: NosanaNetwork) => ({ programAddress: a(protocolOf(net).jobsProgram) });
const RUNS = { numRuns: 15 };

describe("operations build what the oracle builds from the protocol's derivations", () => {
  test("postInstructions: list (free markets first create the payer's NOS account)", async () => {
    await fc.assert(
      fc.asyncProperty(
        network,
        distinctKeys(6),
        hash32,
        fc.bigInt({ min: 0n, max: 86_400n }),
        fc.oneof(fc.constant(0n), u64),
        fc.boolean(),
        async (net, keys, ipfsJob, timeout, jobPrice, payerIsAuthority) => {
          const [job, run, payer, owner, market, vault] = keys as [PublicKey, PublicKey, PublicKey, PublicKey, PublicKey, PublicKey];
          const authority = payerIsAuthority ? payer : owner;
          const { jobs, setup } = splitJobs(
            net,
            postInstructions({
              network: net,
              market,
              marketAccount: { vault, jobPrice },
              job,
              run,
              payer,
              authority,
              ipfsJob,
              timeout,
            }),
          );
          await assertCreatesNosAccounts(net, setup, payer, jobPrice === 0n ? [payer] : []);
          assertSameInstruction(
            jobs,
            oracle.getListInstruction(
              {
                job: s(job),
                market: a(market),
                run: s(run),
                user: a(await nosAta(net, payer)),
                vault: a(vault),
                payer: s(payer),
                authority: s(authority),
                systemProgram: a(SYSTEM_PROGRAM),
                ...rewards(net),
                ipfsJob,
                timeout,
              },
              config(net),
            ),
          );
        },
      ),
      RUNS,
    );
  });

  test('postInstructions with a node: assign', async () => {
    await fc.assert(
      fc.asyncProperty(
        network,
        distinctKeys(7),
        hash32,
        fc.bigInt({ min: 0n, max: 86_400n }),
        u64,
        async (net, keys, ipfsJob, timeout, jobPrice) => {
          const [job, run, payer, authority, market, vault, node] = keys as [
            PublicKey,
            PublicKey,
            PublicKey,
            PublicKey,
            PublicKey,
            PublicKey,
            PublicKey,
          ];
          const { jobs } = splitJobs(
            net,
            postInstructions({
              network: net,
              market,
              marketAccount: { vault, jobPrice },
              job,
              run,
              payer,
              authority,
              ipfsJob,
              timeout,
              node,
            }),
          );
          assertSameInstruction(
            jobs,
            oracle.getAssignInstruction(
              {
                job: s(job),
                market: a(market),
                run: s(run),
                node: a(node),
                user: a(await nosAta(net, payer)),
                vault: a(vault),
                payer: s(payer),
                authority: s(authority),
                systemProgram: a(SYSTEM_PROGRAM),
                ...rewards(net),
                ipfsJob,
                timeout,
              },
              config(net),
            ),
          );
        },
      ),
      RUNS,
    );
  });

  test('delistInstructions', async () => {
    await fc.assert(
      fc.asyncProperty(network, jobAccount, distinctKeys(2), async (net, job, [jobAddress, vault]) => {
        const { jobs, setup } = splitJobs(net, delistInstructions(net, jobAddress as PublicKey, job, vault as PublicKey));
        await assertCreatesNosAccounts(net, setup, job.project, [job.payer]);
        assertSameInstruction(
          jobs,
          oracle.getDelistInstruction(
            {
              job: a(jobAddress as PublicKey),
              market: a(job.market),
              deposit: a(await nosAta(net, job.payer)),
              payer: a(job.payer),
              vault: a(vault as PublicKey),
              tokenProgram: a(TOKEN_PROGRAM),
              authority: s(job.project),
            },
            config(net),
          ),
        );
      }),
      RUNS,
    );
  });

  test('extendInstructions', async () => {
    await fc.assert(
      fc.asyncProperty(network, jobAccount, distinctKeys(2), i64, async (net, job, [jobAddress, vault], newTimeout) => {
        const { jobs, setup } = splitJobs(net, extendInstructions(net, jobAddress as PublicKey, job, vault as PublicKey, newTimeout));
        assert.equal(setup.length, 0);
        assertSameInstruction(
          jobs,
          oracle.getExtendInstruction(
            {
              job: a(jobAddress as PublicKey),
              market: a(job.market),
              user: a(await nosAta(net, job.payer)),
              vault: a(vault as PublicKey),
              authority: s(job.project),
              payer: s(job.payer),
              ...rewards(net),
              timeout: newTimeout,
            },
            config(net),
          ),
        );
      }),
      RUNS,
    );
  });

  test("endInstructions: the node's and the payer's NOS accounts are created first", async () => {
    await fc.assert(
      fc.asyncProperty(network, jobAccount, runAccount, distinctKeys(3), async (net, job, run, [jobAddress, runAddress, vault]) => {
        const { jobs, setup } = splitJobs(
          net,
          endInstructions(net, jobAddress as PublicKey, job, runAddress as PublicKey, run, vault as PublicKey),
        );
        await assertCreatesNosAccounts(net, setup, job.project, [run.node, job.payer]);
        assertSameInstruction(
          jobs,
          oracle.getEndInstruction(
            {
              job: a(jobAddress as PublicKey),
              market: a(job.market),
              run: a(runAddress as PublicKey),
              deposit: a(await nosAta(net, job.payer)),
              user: a(await nosAta(net, run.node)),
              vault: a(vault as PublicKey),
              payer: a(run.payer),
              authority: s(job.project),
              tokenProgram: a(TOKEN_PROGRAM),
            },
            config(net),
          ),
        );
      }),
      RUNS,
    );
  });

  test('recoverInstructions', async () => {
    await fc.assert(
      fc.asyncProperty(network, jobAccount, distinctKeys(2), async (net, job, [jobAddress, vault]) => {
        const { jobs, setup } = splitJobs(net, recoverInstructions(net, jobAddress as PublicKey, job, vault as PublicKey));
        await assertCreatesNosAccounts(net, setup, job.project, [job.payer]);
        assertSameInstruction(
          jobs,
          oracle.getRecoverInstruction(
            {
              job: a(jobAddress as PublicKey),
              market: a(job.market),
              vault: a(vault as PublicKey),
              user: a(await nosAta(net, job.payer)),
              payer: a(job.payer),
              authority: s(job.project),
              tokenProgram: a(TOKEN_PROGRAM),
            },
            config(net),
          ),
        );
      }),
      RUNS,
    );
  });

  test('cleanInstructions', () => {
    fc.assert(
      fc.property(network, jobAccount, publicKey, (net, job, jobAddress) => {
        const { jobs, setup } = splitJobs(net, cleanInstructions(net, jobAddress, job));
        assert.equal(setup.length, 0);
        assertSameInstruction(
          jobs,
          oracle.getCleanInstruction({ job: a(jobAddress), market: a(job.market), payer: a(job.payer) }, config(net)),
        );
      }),
      RUNS,
    );
  });

  test("workInstructions on an open market: the node's NOS account as nft, no metadata", async () => {
    await fc.assert(
      fc.asyncProperty(network, distinctKeys(3), async (net, keys) => {
        const [market, node, run] = keys as [PublicKey, PublicKey, PublicKey];
        const { jobs, setup } = splitJobs(
          net,
          workInstructions({
            network: net,
            market,
            marketAccount: { nodeAccessKey: new PublicKey(SYSTEM_PROGRAM) },
            node,
            run,
          }),
        );
        await assertCreatesNosAccounts(net, setup, node, [node]);
        assertSameInstruction(
          jobs,
          oracle.getWorkInstruction(
            {
              run: s(run),
              market: a(market),
              payer: s(node),
              stake: a(await kitPda(STAKING_PROGRAM, [{ utf8: 'stake' }, protocolOf(net).nosMint, node.toBase58()])),
              nft: a(await nosAta(net, node)),
              metadata: a(SYSTEM_PROGRAM),
              authority: s(node),
              systemProgram: a(SYSTEM_PROGRAM),
            },
            config(net),
          ),
        );
      }),
      RUNS,
    );
  });

  test("workInstructions on an NFT-gated market: the node's NFT account and the NFT's metadata", async () => {
    await fc.assert(
      fc.asyncProperty(network, distinctKeys(5), async (net, keys) => {
        const [market, node, run, collection, nftMint] = keys as [PublicKey, PublicKey, PublicKey, PublicKey, PublicKey];
        const { jobs } = splitJobs(
          net,
          workInstructions({ network: net, market, marketAccount: { nodeAccessKey: collection }, node, run, nftMint }),
        );
        assertSameInstruction(
          jobs,
          oracle.getWorkInstruction(
            {
              run: s(run),
              market: a(market),
              payer: s(node),
              stake: a(await kitPda(STAKING_PROGRAM, [{ utf8: 'stake' }, protocolOf(net).nosMint, node.toBase58()])),
              nft: a(await ata(node, nftMint.toBase58())),
              metadata: a(await kitPda(METAPLEX_PROGRAM, [{ utf8: 'metadata' }, METAPLEX_PROGRAM, nftMint.toBase58()])),
              authority: s(node),
              systemProgram: a(SYSTEM_PROGRAM),
            },
            config(net),
          ),
        );
      }),
      RUNS,
    );
  });

  test('workInstructions on an NFT-gated market without the NFT mint is refused', () => {
    assert.throws(
      () =>
        workInstructions({
          network: NETWORKS.mainnet,
          market: key(1),
          marketAccount: { nodeAccessKey: key(2) },
          node: key(3),
          run: key(4),
        }),
      /access-key NFT/,
    );
  });

  test('leaveQueueInstructions: stop, signed by the node or by the market authority', () => {
    fc.assert(
      fc.property(network, distinctKeys(3), fc.boolean(), (net, keys, byMarketAuthority) => {
        const [market, node, marketAuthority] = keys as [PublicKey, PublicKey, PublicKey];
        const instructions = byMarketAuthority
          ? leaveQueueInstructions(net, market, node, marketAuthority)
          : leaveQueueInstructions(net, market, node);
        const { jobs } = splitJobs(net, instructions);
        const signer = byMarketAuthority ? marketAuthority : node;
        assertSameInstruction(jobs, oracle.getStopInstruction({ market: a(market), node: a(node), authority: s(signer) }, config(net)));
      }),
      RUNS,
    );
  });

  test("finishInstructions: deposit to the job payer's NOS account, created only when asked; payment to the node's", async () => {
    await fc.assert(
      fc.asyncProperty(
        network,
        jobAccount,
        runAccount,
        distinctKeys(3),
        hash32,
        fc.option(fc.boolean(), { nil: undefined }),
        async (net, job, run, keys, ipfsResult, createDeposit) => {
          const [jobAddress, runAddress, vault] = keys as [PublicKey, PublicKey, PublicKey];
          const { jobs, setup } = splitJobs(
            net,
            finishInstructions({
              network: net,
              jobAddress,
              job,
              runAddress,
              run,
              vault,
              ipfsResult,
              ...(createDeposit === undefined ? {} : { createDeposit }),
            }),
          );
          await assertCreatesNosAccounts(net, setup, run.node, createDeposit === true ? [run.node, job.payer] : [run.node]);
          assertSameInstruction(
            jobs,
            oracle.getFinishInstruction(
              {
                job: a(jobAddress),
                run: a(runAddress),
                market: a(job.market),
                vault: a(vault),
                deposit: a(await nosAta(net, job.payer)),
                user: a(await nosAta(net, run.node)),
                payerRun: a(run.payer),
                payerJob: a(job.payer),
                authority: s(run.node),
                tokenProgram: a(TOKEN_PROGRAM),
                ipfsResult,
              },
              config(net),
            ),
          );
        },
      ),
      RUNS,
    );
  });

  test('completeInstructions', () => {
    fc.assert(
      fc.property(network, distinctKeys(2), hash32, (net, [jobAddress, node], ipfsResult) => {
        const { jobs } = splitJobs(net, completeInstructions(net, jobAddress as PublicKey, node as PublicKey, ipfsResult));
        assertSameInstruction(
          jobs,
          oracle.getCompleteInstruction({ job: a(jobAddress as PublicKey), authority: s(node as PublicKey), ipfsResult }, config(net)),
        );
      }),
      RUNS,
    );
  });

  test('quitInstructions', () => {
    fc.assert(
      fc.property(network, runAccount, distinctKeys(2), (net, run, [jobAddress, runAddress]) => {
        const { jobs } = splitJobs(net, quitInstructions(net, jobAddress as PublicKey, runAddress as PublicKey, run));
        assertSameInstruction(
          jobs,
          oracle.getQuitInstruction(
            {
              job: a(jobAddress as PublicKey),
              run: a(runAddress as PublicKey),
              payer: a(run.payer),
              authority: s(run.node),
            },
            config(net),
          ),
        );
      }),
      RUNS,
    );
  });

  test('openMarketInstructions: the vault is PDA([market, NOS mint]) of the jobs program', async () => {
    await fc.assert(
      fc.asyncProperty(
        network,
        distinctKeys(2),
        i64,
        u64,
        i64,
        fc.option(u8, { nil: undefined }),
        fc.option(u128, { nil: undefined }),
        fc.option(publicKey, { nil: undefined }),
        async (net, [market, authority], jobExpiration, jobPrice, jobTimeout, jobType, nodeXnosMinimum, accessKey) => {
          const { jobs } = splitJobs(
            net,
            openMarketInstructions({
              network: net,
              market: market as PublicKey,
              authority: authority as PublicKey,
              jobPrice,
              jobTimeout,
              jobExpiration,
              ...(jobType === undefined ? {} : { jobType }),
              ...(nodeXnosMinimum === undefined ? {} : { nodeXnosMinimum }),
              ...(accessKey === undefined ? {} : { accessKey }),
            }),
          );
          const { jobsProgram, nosMint } = protocolOf(net);
          assertSameInstruction(
            jobs,
            oracle.getOpenInstruction(
              {
                mint: a(nosMint),
                market: s(market as PublicKey),
                vault: a(await kitPda(jobsProgram, [(market as PublicKey).toBase58(), nosMint])),
                authority: s(authority as PublicKey),
                accessKey: a(accessKey ?? SYSTEM_PROGRAM),
                rent: a(RENT_SYSVAR),
                systemProgram: a(SYSTEM_PROGRAM),
                tokenProgram: a(TOKEN_PROGRAM),
                // Defaults: a GPU market (job type 4) with no stake minimum.
                jobExpiration,
                jobPrice,
                jobTimeout,
                jobType: jobType ?? 4,
                nodeXnosMinimum: nodeXnosMinimum ?? 0n,
              },
              config(net),
            ),
          );
        },
      ),
      RUNS,
    );
  });
});

// One wallet commonly fills several roles. The program only refuses one key in two mutable
// slots of types that serialize on exit (Account<…>); payer slots (UncheckedAccount) and
// authority (Signer) may repeat a key, and the oracle builds such instructions.
describe('operations where one wallet fills several roles', () => {
  const net = NETWORKS.mainnet;

  test("delist when the poster's wallet both paid for and owns the job", async () => {
    const wallet = key(10);
    const job: JobAccount = { ...sampleJob(), payer: wallet, project: wallet };
    const { jobs } = splitJobs(net, delistInstructions(net, key(1), job, key(2)));
    assertSameInstruction(
      jobs,
      oracle.getDelistInstruction(
        {
          job: a(key(1)),
          market: a(job.market),
          deposit: a(await nosAta(net, wallet)),
          payer: a(wallet),
          vault: a(key(2)),
          tokenProgram: a(TOKEN_PROGRAM),
          authority: s(wallet),
        },
        config(net),
      ),
    );
  });

  test("end when the poster's wallet also paid the run's rent (a job listed into a queue of nodes)", async () => {
    const wallet = key(10);
    const job: JobAccount = { ...sampleJob(), payer: wallet, project: wallet };
    const run: RunAccount = { job: key(1), node: key(20), payer: wallet, state: 0, time: 1n };
    const { jobs } = splitJobs(net, endInstructions(net, key(1), job, key(3), run, key(2)));
    assertSameInstruction(
      jobs,
      oracle.getEndInstruction(
        {
          job: a(key(1)),
          market: a(job.market),
          run: a(key(3)),
          deposit: a(await nosAta(net, wallet)),
          user: a(await nosAta(net, key(20))),
          vault: a(key(2)),
          payer: a(wallet),
          authority: s(wallet),
          tokenProgram: a(TOKEN_PROGRAM),
        },
        config(net),
      ),
    );
  });

  test("finish when the job payer also paid the run's rent (payerRun = payerJob)", async () => {
    const wallet = key(10);
    const job: JobAccount = { ...sampleJob(), payer: wallet, project: wallet };
    const run: RunAccount = { job: key(1), node: key(20), payer: wallet, state: 0, time: 1n };
    const ipfsResult = new Uint8Array(32).fill(9);
    const { jobs } = splitJobs(
      net,
      finishInstructions({ network: net, jobAddress: key(1), job, runAddress: key(3), run, vault: key(2), ipfsResult }),
    );
    assertSameInstruction(
      jobs,
      oracle.getFinishInstruction(
        {
          job: a(key(1)),
          run: a(key(3)),
          market: a(job.market),
          vault: a(key(2)),
          deposit: a(await nosAta(net, wallet)),
          user: a(await nosAta(net, key(20))),
          payerRun: a(wallet),
          payerJob: a(wallet),
          authority: s(key(20)),
          tokenProgram: a(TOKEN_PROGRAM),
          ipfsResult,
        },
        config(net),
      ),
    );
  });

  test('extend and list when payer and authority are one wallet', async () => {
    const wallet = key(10);
    const job: JobAccount = { ...sampleJob(), payer: wallet, project: wallet };
    const { jobs } = splitJobs(net, extendInstructions(net, key(1), job, key(2), 9_000n));
    assertSameInstruction(
      jobs,
      oracle.getExtendInstruction(
        {
          job: a(key(1)),
          market: a(job.market),
          user: a(await nosAta(net, wallet)),
          vault: a(key(2)),
          authority: s(wallet),
          payer: s(wallet),
          ...rewards(net),
          timeout: 9_000n,
        },
        config(net),
      ),
    );
  });
});

function key(fill: number): PublicKey {
  return new PublicKey(Buffer.alloc(32, fill));
}

function sampleJob(): JobAccount {
  return {
    ipfsJob: new Uint8Array(32).fill(1),
    ipfsResult: new Uint8Array(32),
    market: key(30),
    node: key(0),
    payer: key(31),
    price: 43n,
    project: key(32),
    state: 0,
    timeEnd: 0n,
    timeStart: 0n,
    timeout: 7_200n,
  };
}
