// Known-answer vectors from the protocol spec (PROTOCOL.md §1, §3, §4): discriminators, field
// offsets read back from raw bytes, allocated sizes, raw enum values, program-derived addresses,
// plus round trips, malformed input and the instruction builders' guards.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import bs58 from 'bs58';
import fc from 'fast-check';
import { BorshCoder } from '@coral-xyz/anchor';
import { PublicKey } from '@solana/web3.js';
import {
  ACCOUNT_SIZES,
  AccountDecodeError,
  JOB_STATE,
  MARKET_QUEUE_CAPACITY,
  OFFSETS,
  QUEUE_TYPE,
  accountKindOf,
  decodeAccount,
  encodeAccount,
} from '../../../src/chain/accounts.ts';
import type { JobAccount, MarketAccount, RunAccount } from '../../../src/chain/accounts.ts';
import { ACCOUNT_DISCRIMINATORS, JOBS_INSTRUCTIONS, jobsIdl } from '../../../src/chain/idl.ts';
import type { JobsInstructionName } from '../../../src/chain/idl.ts';
import { decodeJobsInstruction, jobsInstruction } from '../../../src/chain/instructions.ts';
import { NETWORKS, marketVault, rewardsReflection, rewardsVault } from '../../../src/chain/addresses.ts';
import { comparable, jobAccount, marketAccount, runAccount } from './arbitraries.ts';

/** PROTOCOL.md §4: sha256("global:<snake_name>")[0..8] of every instruction the project builds. */
const INSTRUCTION_DISCRIMINATORS: Record<JobsInstructionName, string> = {
  list: '36aec14311298426',
  assign: '49427dcb51294087',
  delist: '3788cd6b6bad041f',
  extend: 'e47f0001e39a36a8',
  end: 'b4a0f9d9c2794610',
  recover: '6cd8263a6d927411',
  work: '0f432dc3d789e52f',
  stop: '2a85203cabfdb89b',
  claim: '3ec6d6c1d59f6cd2',
  finish: '434aaa847de9b625',
  complete: '004de0938819584c',
  quit: 'bf678df050816799',
  clean: 'fabf388096fb0167',
  open: 'e4dc9b47c7bd3c2d',
  update: 'dbc858b09e3ffd7f',
  close: '62a5c9b16c41ce60',
};

/** PROTOCOL.md §3: account discriminators in hex and in the base58 form memcmp filters use. */
const ACCOUNT_VECTORS = {
  MarketAccount: { hex: 'c94ebbe1f0c6c9fb', bs58: 'afwFqcydEve' },
  JobAccount: { hex: '5b10a2052dd27d41', bs58: 'GESmduEEyPE' },
  RunAccount: { hex: 'c2a96ee6eb0be116', bs58: 'ZZTu8o6YwNM' },
} as const;

const mainnet = NETWORKS.mainnet;

/** A key whose 32 bytes are all `fill`: easy to spot in a hex dump and distinct per slot. */
function key(fill: number): PublicKey {
  return new PublicKey(Buffer.alloc(32, fill));
}

function bytesFrom(start: number): Uint8Array {
  return Uint8Array.from({ length: 32 }, (_, index) => (start + index) % 256);
}

/** Every account of an instruction as a distinct key, every argument as a fixed sample value. */
function sampleInstruction(name: JobsInstructionName, overrides: Record<string, PublicKey> = {}) {
  const spec = JOBS_INSTRUCTIONS[name];
  const accounts = Object.fromEntries(spec.accounts.map((slot, index) => [slot.name, key(index + 1)]));
  const args = Object.fromEntries(
    spec.args.map((arg) => {
      if (arg.type === 'u8') return [arg.name, 4];
      if (typeof arg.type === 'object') return [arg.name, bytesFrom(1)];
      return [arg.name, 7_200n];
    }),
  );
  return jobsInstruction(mainnet, name, { ...accounts, ...overrides } as never, args as never);
}

function readU128(bytes: Buffer, offset: number): bigint {
  return bytes.readBigUInt64LE(offset) + (bytes.readBigUInt64LE(offset + 8) << 64n);
}

function readKey(bytes: Buffer, offset: number): string {
  return new PublicKey(bytes.subarray(offset, offset + 32)).toBase58();
}

const sampleJob: JobAccount = {
  ipfsJob: bytesFrom(1),
  ipfsResult: bytesFrom(101),
  market: key(0xa1),
  node: key(0xa2),
  payer: key(0xa3),
  price: 0x0102030405060708n,
  project: key(0xa4),
  state: JOB_STATE.stopped,
  timeEnd: -2n,
  timeStart: 1_700_000_000n,
  timeout: 7_200n,
};

const sampleRun: RunAccount = { job: key(0xb1), node: key(0xb2), payer: key(0xb3), state: 0, time: 1_700_000_123n };

const sampleMarket: MarketAccount = {
  authority: key(0xc1),
  jobExpiration: 86_400n,
  jobPrice: 43n,
  jobTimeout: -7_200n,
  jobType: 4,
  vault: key(0xc2),
  vaultBump: 254,
  nodeAccessKey: key(0xc3),
  nodeXnosMinimum: (1n << 100n) + 5n,
  queueType: QUEUE_TYPE.job,
  queue: [key(0xd1), key(0xd2), key(0xd3)],
};

describe('instruction discriminators', () => {
  for (const [name, hex] of Object.entries(INSTRUCTION_DISCRIMINATORS) as [JobsInstructionName, string][]) {
    test(`${name} starts with ${hex}`, () => {
      assert.equal(sampleInstruction(name).data.subarray(0, 8).toString('hex'), hex);
      const idlEntry = jobsIdl(mainnet.jobsProgram.toBase58()).instructions.find((entry) => entry.name === name);
      assert.equal(Buffer.from(idlEntry?.discriminator ?? []).toString('hex'), hex);
    });
  }

  test('the IDL carries exactly the instructions of the vector table', () => {
    const names = jobsIdl(mainnet.jobsProgram.toBase58())
      .instructions.map((entry) => entry.name)
      .sort();
    assert.deepEqual(names, Object.keys(INSTRUCTION_DISCRIMINATORS).sort());
  });
});

describe('instruction data', () => {
  test('list is 48 bytes: discriminator, ipfs_job [u8;32], timeout i64 LE', () => {
    const ipfsJob = bytesFrom(200);
    const instruction = jobsInstruction(
      mainnet,
      'list',
      {
        job: key(1),
        market: key(2),
        run: key(3),
        user: key(4),
        vault: key(5),
        payer: key(6),
        rewardsReflection: key(7),
        rewardsVault: key(8),
        authority: key(9),
        rewardsProgram: key(10),
        tokenProgram: key(11),
        systemProgram: key(12),
      },
      { ipfsJob, timeout: -3n },
    );
    assert.equal(instruction.data.length, 48);
    assert.deepEqual(new Uint8Array(instruction.data.subarray(8, 40)), ipfsJob);
    assert.equal(instruction.data.readBigInt64LE(40), -3n);
    assert.ok(instruction.programId.equals(mainnet.jobsProgram));
  });

  test('argument-less instructions are just the discriminator; hash arguments add 32 bytes', () => {
    assert.equal(sampleInstruction('delist').data.length, 8);
    assert.equal(sampleInstruction('work').data.length, 8);
    assert.equal(sampleInstruction('finish').data.length, 40);
    assert.equal(sampleInstruction('complete').data.length, 40);
    assert.equal(sampleInstruction('extend').data.length, 16);
  });

  test('open and update lay out the same five arguments in different orders', () => {
    const args = { jobExpiration: 1n, jobPrice: 2n, jobTimeout: 3n, jobType: 4, nodeXnosMinimum: (1n << 127n) + 9n };
    const open = jobsInstruction(
      mainnet,
      'open',
      {
        mint: key(1),
        market: key(2),
        vault: key(3),
        authority: key(4),
        accessKey: key(5),
        rent: key(6),
        systemProgram: key(7),
        tokenProgram: key(8),
      },
      args,
    );
    assert.equal(open.data.length, 8 + 8 + 8 + 8 + 1 + 16);
    assert.equal(open.data.readBigInt64LE(8), 1n);
    assert.equal(open.data.readBigUInt64LE(16), 2n);
    assert.equal(open.data.readBigInt64LE(24), 3n);
    assert.equal(open.data.readUInt8(32), 4);
    assert.equal(readU128(open.data, 33), args.nodeXnosMinimum);

    const update = jobsInstruction(
      mainnet,
      'update',
      { market: key(1), accessKey: key(2), authority: key(3) },
      {
        jobExpiration: 1n,
        jobPrice: 2n,
        jobType: 4,
        nodeStakeMinimum: 5n,
        jobTimeout: 3n,
      },
    );
    assert.equal(update.data.length, 8 + 8 + 8 + 1 + 16 + 8);
    assert.equal(update.data.readUInt8(24), 4);
    assert.equal(readU128(update.data, 25), 5n);
    assert.equal(update.data.readBigInt64LE(41), 3n);
  });

  test('decodeJobsInstruction reads back the name and the arguments', () => {
    const decoded = decodeJobsInstruction(sampleInstruction('finish').data);
    assert.equal(decoded?.name, 'finish');
    assert.deepEqual(decoded?.args, { ipfsResult: bytesFrom(1) });
    assert.deepEqual(decodeJobsInstruction(sampleInstruction('extend').data), { name: 'extend', args: { timeout: 7_200n } });
    assert.equal(decodeJobsInstruction(Buffer.from('0000000000000000', 'hex')), undefined);
  });
});

describe('account discriminators', () => {
  for (const [kind, vector] of Object.entries(ACCOUNT_VECTORS) as [keyof typeof ACCOUNT_VECTORS, { hex: string; bs58: string }][]) {
    test(`${kind} is ${vector.hex} (${vector.bs58})`, () => {
      assert.equal(ACCOUNT_DISCRIMINATORS[kind].toString('hex'), vector.hex);
      const sample = { MarketAccount: sampleMarket, JobAccount: sampleJob, RunAccount: sampleRun }[kind];
      const head = encodeAccount(kind, sample as never).subarray(0, 8);
      assert.equal(head.toString('hex'), vector.hex);
      assert.equal(bs58.encode(head), vector.bs58);
    });
  }
});

describe('account layouts at the documented offsets', () => {
  test('JobAccount', () => {
    const bytes = encodeAccount('JobAccount', sampleJob);
    assert.deepEqual(new Uint8Array(bytes.subarray(8, 40)), sampleJob.ipfsJob);
    assert.deepEqual(new Uint8Array(bytes.subarray(40, 72)), sampleJob.ipfsResult);
    assert.equal(readKey(bytes, 72), sampleJob.market.toBase58());
    assert.equal(readKey(bytes, 104), sampleJob.node.toBase58());
    assert.equal(readKey(bytes, 136), sampleJob.payer.toBase58());
    assert.equal(bytes.readBigUInt64LE(168), sampleJob.price);
    assert.equal(readKey(bytes, 176), sampleJob.project.toBase58());
    assert.equal(bytes.readUInt8(208), 3);
    assert.equal(bytes.readBigInt64LE(209), -2n);
    assert.equal(bytes.readBigInt64LE(217), 1_700_000_000n);
    assert.equal(bytes.readBigInt64LE(225), 7_200n);
  });

  test('RunAccount', () => {
    const bytes = encodeAccount('RunAccount', sampleRun);
    assert.equal(readKey(bytes, 8), sampleRun.job.toBase58());
    assert.equal(readKey(bytes, 40), sampleRun.node.toBase58());
    assert.equal(readKey(bytes, 72), sampleRun.payer.toBase58());
    assert.equal(bytes.readUInt8(104), 0);
    assert.equal(bytes.readBigInt64LE(105), 1_700_000_123n);
  });

  test('MarketAccount', () => {
    const bytes = encodeAccount('MarketAccount', sampleMarket);
    assert.equal(readKey(bytes, 8), sampleMarket.authority.toBase58());
    assert.equal(bytes.readBigInt64LE(40), 86_400n);
    assert.equal(bytes.readBigUInt64LE(48), 43n);
    assert.equal(bytes.readBigInt64LE(56), -7_200n);
    assert.equal(bytes.readUInt8(64), 4);
    assert.equal(readKey(bytes, 65), sampleMarket.vault.toBase58());
    assert.equal(bytes.readUInt8(97), 254);
    assert.equal(readKey(bytes, 98), sampleMarket.nodeAccessKey.toBase58());
    assert.equal(readU128(bytes, 130), sampleMarket.nodeXnosMinimum);
    assert.equal(bytes.readUInt8(146), QUEUE_TYPE.job);
    assert.equal(bytes.readUInt32LE(147), 3);
    assert.deepEqual(
      [0, 1, 2].map((index) => readKey(bytes, 151 + 32 * index)),
      sampleMarket.queue.map((entry) => entry.toBase58()),
    );
  });

  test('the OFFSETS used by getProgramAccounts filters match the documented ones', () => {
    assert.deepEqual(OFFSETS.job, {
      ipfsJob: 8,
      ipfsResult: 40,
      market: 72,
      node: 104,
      payer: 136,
      price: 168,
      project: 176,
      state: 208,
      timeEnd: 209,
      timeStart: 217,
      timeout: 225,
    });
    assert.deepEqual(OFFSETS.run, { job: 8, node: 40, payer: 72, state: 104, time: 105 });
    assert.deepEqual(OFFSETS.market, { authority: 8, jobPrice: 48, jobType: 64, queueType: 146, queueLength: 147, queue: 151 });
  });
});

describe('allocated sizes', () => {
  const borshSizes = new BorshCoder(jobsIdl(mainnet.jobsProgram.toBase58())).accounts;

  test('job and run accounts are allocated 240 and 120 bytes, more than their Borsh lengths 233 and 113', () => {
    assert.equal(ACCOUNT_SIZES.JobAccount, 240);
    assert.equal(ACCOUNT_SIZES.RunAccount, 120);
    assert.equal(borshSizes.size('JobAccount'), 233);
    assert.equal(borshSizes.size('RunAccount'), 113);

    const job = encodeAccount('JobAccount', sampleJob);
    assert.equal(job.length, 240);
    assert.ok(
      job.subarray(233).every((byte) => byte === 0),
      'bytes past the Borsh length are zero padding',
    );
    const run = encodeAccount('RunAccount', sampleRun);
    assert.equal(run.length, 120);
    assert.ok(
      run.subarray(113).every((byte) => byte === 0),
      'bytes past the Borsh length are zero padding',
    );
  });

  test('a market account is allocated 10 224 bytes whatever its queue length', () => {
    assert.equal(ACCOUNT_SIZES.MarketAccount, 10_224);
    assert.equal(encodeAccount('MarketAccount', { ...sampleMarket, queue: [] }).length, 10_224);
    assert.equal(encodeAccount('MarketAccount', sampleMarket).length, 10_224);
  });
});

describe('raw enum values', () => {
  test('QueueType Empty is stored as 255, not as its IDL ordinal 2', () => {
    assert.equal(QUEUE_TYPE.empty, 255);
    const bytes = encodeAccount('MarketAccount', { ...sampleMarket, queueType: QUEUE_TYPE.empty, queue: [] });
    assert.equal(bytes.readUInt8(146), 255);
    assert.equal(decodeAccount('MarketAccount', bytes).queueType, 255);
  });

  test('JobState Done and Stopped are stored as 2 and 3', () => {
    assert.deepEqual(JOB_STATE, { queued: 0, done: 2, stopped: 3 });
    assert.equal(encodeAccount('JobAccount', { ...sampleJob, state: JOB_STATE.done }).readUInt8(208), 2);
    assert.equal(encodeAccount('JobAccount', { ...sampleJob, state: JOB_STATE.stopped }).readUInt8(208), 3);
    assert.equal(QUEUE_TYPE.job, 0);
    assert.equal(QUEUE_TYPE.node, 1);
  });
});

describe('round trips', () => {
  test('JobAccount', () => {
    fc.assert(
      fc.property(jobAccount, (job) => {
        assert.deepEqual(comparable(decodeAccount('JobAccount', encodeAccount('JobAccount', job))), comparable(job));
      }),
      { numRuns: 100 },
    );
  });

  test('RunAccount', () => {
    fc.assert(
      fc.property(runAccount, (run) => {
        assert.deepEqual(comparable(decodeAccount('RunAccount', encodeAccount('RunAccount', run))), comparable(run));
      }),
      { numRuns: 100 },
    );
  });

  test('MarketAccount', () => {
    fc.assert(
      fc.property(marketAccount, (market) => {
        assert.deepEqual(comparable(decodeAccount('MarketAccount', encodeAccount('MarketAccount', market))), comparable(market));
      }),
      { numRuns: 60 },
    );
  });

  test('an empty market queue decodes as an empty array of keys', () => {
    const decoded = decodeAccount('MarketAccount', encodeAccount('MarketAccount', { ...sampleMarket, queue: [] }));
    assert.ok(Array.isArray(decoded.queue), `queue decoded as ${Object.prototype.toString.call(decoded.queue)}`);
    assert.equal(JSON.stringify(decoded.queue), '[]');
  });

  test(`a full market queue (${MARKET_QUEUE_CAPACITY} entries) fits the allocation and round-trips`, () => {
    assert.equal(MARKET_QUEUE_CAPACITY, 314);
    const queue = Array.from({ length: MARKET_QUEUE_CAPACITY }, (_, index) => key((index % 255) + 1));
    const market = { ...sampleMarket, queue };
    const bytes = encodeAccount('MarketAccount', market);
    assert.equal(bytes.length, 10_224);
    assert.equal(bytes.readUInt32LE(147), 314);
    assert.equal(readKey(bytes, 151 + 32 * 313), queue[313]?.toBase58());
    assert.deepEqual(comparable(decodeAccount('MarketAccount', bytes)), comparable(market));
  });

  test('a queue one entry over capacity is refused', () => {
    const queue = Array.from({ length: MARKET_QUEUE_CAPACITY + 1 }, () => key(7));
    assert.throws(
      () => encodeAccount('MarketAccount', { ...sampleMarket, queue }),
      (error: unknown) => {
        assert.ok(error instanceof AccountDecodeError);
        assert.match(error.message, /314/);
        return true;
      },
    );
  });
});

describe('malformed account data', () => {
  const isDecodeErrorNaming =
    (kind: string) =>
    (error: unknown): boolean => {
      assert.ok(error instanceof AccountDecodeError, `expected AccountDecodeError, got ${String(error)}`);
      assert.match(error.message, new RegExp(kind));
      return true;
    };

  test('a job account truncated to 100 bytes', () => {
    const truncated = encodeAccount('JobAccount', sampleJob).subarray(0, 100);
    assert.throws(() => decodeAccount('JobAccount', truncated), isDecodeErrorNaming('JobAccount'));
  });

  test('a run account handed to the job decoder (wrong discriminator)', () => {
    assert.throws(() => decodeAccount('JobAccount', encodeAccount('RunAccount', sampleRun)), isDecodeErrorNaming('JobAccount'));
  });

  test('an empty buffer', () => {
    assert.throws(() => decodeAccount('MarketAccount', new Uint8Array()), isDecodeErrorNaming('MarketAccount'));
  });

  // Borsh reads of keys past the end yield short slices that become 1111… keys instead of failing.
  test('a market whose queue length runs past the data', () => {
    const bytes = encodeAccount('MarketAccount', sampleMarket);
    bytes.writeUInt32LE(1_000, 147);
    assert.throws(() => decodeAccount('MarketAccount', bytes), isDecodeErrorNaming('MarketAccount'));
  });

  test('a market cut off inside its queue', () => {
    const cut = encodeAccount('MarketAccount', sampleMarket).subarray(0, 151 + 32 + 10);
    assert.throws(() => decodeAccount('MarketAccount', cut), isDecodeErrorNaming('MarketAccount'));
  });

  test('decoding a view into a larger buffer reads only the view', () => {
    const job = encodeAccount('JobAccount', sampleJob);
    const backing = Buffer.concat([Buffer.from(encodeAccount('RunAccount', sampleRun)), job]);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 120, 240);
    assert.deepEqual(comparable(decodeAccount('JobAccount', view)), comparable(sampleJob));
  });
});

describe('accountKindOf', () => {
  test('names each kind by its discriminator', () => {
    assert.equal(accountKindOf(encodeAccount('JobAccount', sampleJob)), 'JobAccount');
    assert.equal(accountKindOf(encodeAccount('RunAccount', sampleRun)), 'RunAccount');
    assert.equal(accountKindOf(encodeAccount('MarketAccount', sampleMarket)), 'MarketAccount');
  });

  test('unknown or too-short data is undefined', () => {
    assert.equal(accountKindOf(Buffer.alloc(240)), undefined);
    assert.equal(accountKindOf(ACCOUNT_DISCRIMINATORS.JobAccount.subarray(0, 7)), undefined);
    assert.equal(accountKindOf(new Uint8Array()), undefined);
  });

  test('reads the discriminator of a view at a non-zero offset', () => {
    const backing = Buffer.concat([Buffer.alloc(5), encodeAccount('RunAccount', sampleRun)]);
    assert.equal(accountKindOf(backing.subarray(5)), 'RunAccount');
  });
});

describe('program-derived addresses (PROTOCOL.md §1)', () => {
  test('the rewards reflection account is the same on both networks', () => {
    assert.equal(rewardsReflection(NETWORKS.mainnet).toBase58(), '6tjbAfNHnUusWLZqFznMKyBrjs1ZX92eyKwiUi2Bsg3x');
    assert.equal(rewardsReflection(NETWORKS.devnet).toBase58(), '6tjbAfNHnUusWLZqFznMKyBrjs1ZX92eyKwiUi2Bsg3x');
  });

  test("the rewards vault depends on the network's NOS mint", () => {
    assert.equal(rewardsVault(NETWORKS.mainnet).toBase58(), '37xZ4jY3bSMBgxwekwdALRZK1kAUCh7YkkPabA4P2tq8');
    assert.equal(rewardsVault(NETWORKS.devnet).toBase58(), '4wk8dRGWQSCdRzvVJxu1jawHkV9pfzrEfUxYwYfwbXuk');
  });

  test("the SDK default market's vault is the mainnet derivation (mainnet jobs program and mainnet NOS mint)", () => {
    const market = new PublicKey('7nxXoihx65yRGZiGzWZsFMz8D7qwxFePNKvDBWZnxc41');
    assert.equal(marketVault(NETWORKS.mainnet, market)[0].toBase58(), '6xXAonT5D14tkF6RPUfhgvEioTCHy4YKsLZ2xKDumpwU');
    // The SDK reuses the address on devnet, but there the vault derives differently.
    assert.notEqual(marketVault(NETWORKS.devnet, market)[0].toBase58(), '6xXAonT5D14tkF6RPUfhgvEioTCHy4YKsLZ2xKDumpwU');
  });

  test('the localnet uses the devnet ids', () => {
    assert.equal(NETWORKS.localnet.jobsProgram.toBase58(), 'nosJTmGQxvwXy23vng5UjkTbfv91Bzf9jEuro78dAGR');
    assert.equal(NETWORKS.localnet.nosMint.toBase58(), 'devr1BGQndEW5k5zfvG5FsLyZv1Ap73vNgAHcQ9sUVP');
    assert.equal(NETWORKS.mainnet.jobsProgram.toBase58(), 'nosJhNRqr2bc9g1nfGDcXXTXvYUmxD4cVwy2pMWhrYM');
    assert.equal(NETWORKS.mainnet.nosMint.toBase58(), 'nosXBVoaCTtYdLvKY6Csb4AC8JCdQKKAaWYtx2ZMoo7');
  });
});

describe('instruction builder guards', () => {
  test('a missing account is named', () => {
    const accounts = {
      job: key(1),
      run: key(2),
      market: key(3),
      vault: key(4),
      deposit: key(5),
      user: key(6),
      payerRun: key(7),
      payerJob: key(8),
      tokenProgram: key(10),
    };
    assert.throws(
      () => jobsInstruction(mainnet, 'finish', accounts as never, { ipfsResult: bytesFrom(1) }),
      /finish: account "authority" is required/,
    );
  });

  test('one key in two writable slots is refused, naming both slots', () => {
    // The CLI's free-market trick (user = vault) fails on the Anchor-1.0 program.
    assert.throws(() => sampleInstruction('list', { user: key(50), vault: key(50) }), /list: "user" and "vault" are the same account/);
    // The SDK's free-job delist (deposit = vault) fails too.
    assert.throws(() => sampleInstruction('delist', { deposit: key(50), vault: key(50) }), /delist: "deposit" and "vault"/);
    assert.throws(() => sampleInstruction('extend', { vault: key(50), rewardsVault: key(50) }), /extend: "vault" and "rewardsVault"/);
    assert.throws(() => sampleInstruction('finish', { vault: key(50), user: key(50) }), /finish: "vault" and "user"/);
  });

  test('finish and end accept deposit repeating another writable account (the program marks it dup)', () => {
    const finish = sampleInstruction('finish', { deposit: key(50), vault: key(50) });
    assert.equal(finish.keys.filter((meta) => meta.pubkey.equals(key(50))).length, 2);
    const end = sampleInstruction('end', { deposit: key(50), user: key(50) });
    assert.equal(end.keys.filter((meta) => meta.pubkey.equals(key(50))).length, 2);
  });

  // Anchor 1.0 checks only mutable slots of types that serialize on exit (Account<…>); the payer
  // slots are UncheckedAccount and authority is a Signer, so one wallet may fill them together.
  test('payer slots and the authority may share a key even when writable', () => {
    assert.doesNotThrow(() => sampleInstruction('delist', { payer: key(50), authority: key(50) }));
    assert.doesNotThrow(() => sampleInstruction('end', { payer: key(50), authority: key(50) }));
    assert.doesNotThrow(() => sampleInstruction('finish', { payerRun: key(50), payerJob: key(50) }));
  });

  test('a key repeated in a read-only slot is fine (payer and authority may be one wallet)', () => {
    const list = sampleInstruction('list', { payer: key(60), authority: key(60) });
    assert.deepEqual(
      list.keys.filter((meta) => meta.pubkey.equals(key(60))).map((meta) => [meta.isWritable, meta.isSigner]),
      [
        [true, true],
        [false, true],
      ],
    );
  });
});
