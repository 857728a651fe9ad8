// The localnet's Anchor IDL accounts, read over HTTP by the clients that load IDLs from the chain:
// Anchor 0.28 (the copy Nosana's SDK bundles) fetches both legacy IDLs, decodes the localnet's
// accounts with them exactly as the project's decoder does, and encodes every instruction exactly
// as the project's builders do; Anchor 0.32 (the project's own) reads and inflates the same accounts.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';
import { describe, test } from 'node:test';
import type { BN } from '@coral-xyz/anchor';
import { AnchorProvider, Program, Wallet } from '@coral-xyz/anchor';
import { Keypair, PublicKey } from '@solana/web3.js';
import type { Connection, TransactionInstruction } from '@solana/web3.js';
import { stakeAccount } from '../../src/chain/addresses.ts';
import { jobsInstruction, stakeInstruction } from '../../src/chain/instructions.ts';
import { JOBS_INSTRUCTIONS, STAKE_INSTRUCTIONS } from '../../src/chain/idl.ts';
import type { SolanaJobsClient } from '../../src/chain/solana-jobs-client.ts';
import { idlAccountAddress } from '../../src/localnet/idl/idl-account.ts';
import type { LegacyIdl } from '../../src/localnet/idl/legacy-idl.ts';
import { LOCALNET_IDL_AUTHORITY, localnetIdls } from '../../src/localnet/idl/program-idls.ts';
import { LOCALNET, startLocalnet } from '../../src/localnet/localnet.ts';
import { comparable } from './comparable.ts';
import { DEFINITION_CID_BYTES, useLocalnet } from './support.ts';

// ---- Anchor 0.28, loaded from where Nosana's SDK loads it ------------------------------------

interface MethodBuilder028 {
  accountsStrict(accounts: Record<string, string>): { instruction(): Promise<TransactionInstruction> };
}

interface Program028 {
  account: Record<string, { fetch(address: string): Promise<Record<string, unknown>> }>;
  coder: { instruction: { encode(name: string, args: Record<string, unknown>): Buffer } };
  methods: Record<string, (...args: unknown[]) => MethodBuilder028>;
}

interface Anchor028 {
  AnchorProvider: new (connection: Connection, wallet: unknown, options: object) => unknown;
  Wallet: new (payer: Keypair) => unknown;
  BN: typeof BN;
  Program: {
    new (idl: LegacyIdl, programId: string, provider: unknown): Program028;
    fetchIdl(programId: string, provider: unknown): Promise<LegacyIdl | null>;
  };
}

interface AnchorIdlModule028 {
  idlAddress(programId: PublicKey): Promise<PublicKey>;
  decodeIdlAccount(data: Buffer): { authority: PublicKey; data: Buffer };
}

const sdkRequire = createRequire(fileURLToPath(import.meta.resolve('@nosana/sdk')));
const anchor028 = sdkRequire('@coral-xyz/anchor') as Anchor028;
const anchorIdl028 = sdkRequire('@coral-xyz/anchor/dist/cjs/idl.js') as AnchorIdlModule028;

test("the Anchor 0.28 loaded is the copy bundled with Nosana's SDK", () => {
  const resolved = sdkRequire.resolve('@coral-xyz/anchor');
  assert.match(resolved, /@nosana\/sdk\/node_modules\/@coral-xyz\/anchor\//);
  const version = (sdkRequire('@coral-xyz/anchor/package.json') as { version: string }).version;
  assert.match(version, /^0\.28\./);
});

// ---- values compared across the two decoders -------------------------------------------------

const getLocalnet = useLocalnet({ chain: { slotMs: 50 } });

function provider028(): unknown {
  const localnet = getLocalnet();
  return new anchor028.AnchorProvider(localnet.connection(), new anchor028.Wallet(localnet.poster), {});
}

async function fetchIdl028(programId: PublicKey): Promise<LegacyIdl> {
  const idl = await anchor028.Program.fetchIdl(programId.toBase58(), provider028());
  assert.ok(idl, `Anchor 0.28 found no IDL for ${programId.toBase58()}`);
  return idl;
}

async function program028(programId: PublicKey): Promise<Program028> {
  return new anchor028.Program(await fetchIdl028(programId), programId.toBase58(), provider028());
}

async function postJob(client: SolanaJobsClient, poster: Keypair, market: PublicKey): Promise<PublicKey> {
  const pending = await client.preparePost({ wallet: poster, market, ipfsJob: DEFINITION_CID_BYTES, timeoutSeconds: 600n });
  await client.broadcast(pending);
  for (;;) {
    const resolution = await client.resolvePendingPost(pending);
    if (resolution.outcome === 'landed') return new PublicKey(pending.jobAddress);
    assert.equal(resolution.outcome, 'pending', `the post should land, got ${JSON.stringify(resolution)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the IDL accounts', () => {
  const programs = [
    { name: 'jobs', programId: LOCALNET.jobsProgram },
    { name: 'staking', programId: LOCALNET.stakingProgram },
  ];

  for (const { name, programId } of programs) {
    test(`Anchor 0.28 fetches the ${name} program's legacy IDL from the account at Anchor's address`, async () => {
      const published = localnetIdls(LOCALNET).find((entry) => entry.programId.equals(programId));
      assert.ok(published);
      assert.deepEqual(await fetchIdl028(programId), published.idl);

      const address = await anchorIdl028.idlAddress(programId);
      assert.equal(address.toBase58(), (await idlAccountAddress(programId)).toBase58());
      const account = await getLocalnet().connection().getAccountInfo(address);
      assert.ok(account);
      assert.equal(account.owner.toBase58(), programId.toBase58(), 'the IDL account is owned by its program');
      const decoded = anchorIdl028.decodeIdlAccount(account.data.subarray(8));
      assert.equal(decoded.authority.toBase58(), LOCALNET_IDL_AUTHORITY.toBase58());
      // zlib's format (what Anchor's CLI writes), which zlib's own inflate accepts and gzip is not.
      assert.deepEqual(JSON.parse(inflateSync(decoded.data).toString('utf8')), published.idl);
      assert.deepEqual([...account.data.subarray(0, 8)], [140, 36, 166, 2, 103, 197, 33, 164], 'the IdlAccount discriminator');
    });

    test(`Anchor 0.32 reads and inflates the ${name} program's IDL account`, async () => {
      const localnet = getLocalnet();
      const provider = new AnchorProvider(localnet.connection(), new Wallet(localnet.poster), {});
      const published = localnetIdls(LOCALNET).find((entry) => entry.programId.equals(programId));
      assert.deepEqual(await Program.fetchIdl(programId, provider), published?.idl);
    });
  }

  test('the jobs IDL lists every instruction the localnet jobs program runs, and no other', async () => {
    const idl = await fetchIdl028(LOCALNET.jobsProgram);
    assert.deepEqual(idl.instructions.map((instruction) => instruction.name).sort(), Object.keys(JOBS_INSTRUCTIONS).sort());
    assert.deepEqual(idl.accounts.map((account) => account.name).sort(), ['JobAccount', 'MarketAccount', 'RunAccount']);
    assert.equal(idl.metadata.address, LOCALNET.jobsProgram.toBase58());
  });
});

describe('a localnet resumed from its state file', () => {
  test('holds the IDL accounts even when the saved ledger lacks them', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'nosana-localnet-idl-'));
    try {
      const first = await startLocalnet({ stateDir, persist: true });
      // A ledger saved before the localnet published IDLs: the accounts are gone from it.
      for (const { programId } of localnetIdls(LOCALNET)) first.chain.ledger.put(await idlAccountAddress(programId), undefined);
      await first.close();

      const resumed = await startLocalnet({ stateDir, persist: true });
      try {
        const provider = new anchor028.AnchorProvider(resumed.connection(), new anchor028.Wallet(resumed.poster), {});
        for (const { programId, idl } of localnetIdls(LOCALNET)) {
          assert.deepEqual(await anchor028.Program.fetchIdl(programId.toBase58(), provider), idl);
        }
        // The market came from the saved ledger, not from a fresh start.
        assert.equal(resumed.market.toBase58(), first.market.toBase58());
        assert.ok(await resumed.jobsClient().getMarket(resumed.market));
      } finally {
        await resumed.close();
      }
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});

describe('Anchor 0.28 decodes the localnet accounts as the project does', () => {
  test('the market', async () => {
    const localnet = getLocalnet();
    const program = await program028(LOCALNET.jobsProgram);
    const ours = await localnet.jobsClient().getMarket(localnet.market);
    assert.ok(ours);
    const theirs = await program.account.marketAccount!.fetch(localnet.market.toBase58());
    assert.deepEqual(comparable(theirs), comparable(ours.account));
  });

  test('a queued job, then the same job running and its run, and the node stake', async () => {
    const localnet = getLocalnet();
    const client = localnet.jobsClient();
    const jobs = await program028(LOCALNET.jobsProgram);
    const job = await postJob(client, localnet.poster, localnet.market);

    const queued = await client.getJob(job);
    assert.equal(queued?.status, 'QUEUED');
    assert.deepEqual(comparable(await jobs.account.jobAccount!.fetch(job.toBase58())), comparable(queued.account));

    await client.ensureStake(localnet.node);
    const { run } = await client.work(localnet.node, localnet.market);
    const [ourRun] = await client.getRunsByJob(job);
    assert.ok(ourRun);
    assert.equal(ourRun.address.toBase58(), run.toBase58());
    assert.deepEqual(comparable(await jobs.account.runAccount!.fetch(run.toBase58())), comparable(ourRun.account));

    const staking = await program028(LOCALNET.stakingProgram);
    const ourStake = (await client.getNodeAccounts([localnet.node.publicKey])).get(localnet.node.publicKey.toBase58())?.stake;
    assert.ok(ourStake);
    const stakeAddress = stakeAccount(LOCALNET, localnet.node.publicKey)[0];
    assert.deepEqual(comparable(await staking.account.stakeAccount!.fetch(stakeAddress.toBase58())), comparable(ourStake));
  });
});

// ---- instruction encoding, one row per instruction of the fetched IDLs -----------------------

type ProjectArgType = (typeof JOBS_INSTRUCTIONS)[keyof typeof JOBS_INSTRUCTIONS]['args'][number]['type'] | 'u128';

interface SampleArg {
  /** The value as the project's builders take it. */
  ours: unknown;
  /** The same value as Anchor's coder takes it. */
  anchor: unknown;
}

// Values at the edges of each type (sign bits, the top bytes), different per argument position,
// so a swapped argument order, a mis-sized integer or a lost sign changes the bytes. The type
// comes from the project's description, not from the IDL under test.
function sampleArg(type: ProjectArgType, position: number): SampleArg {
  const shift = BigInt(position);
  const integer = (value: bigint): SampleArg => ({ ours: value, anchor: new anchor028.BN(value.toString()) });
  if (type === 'u8') return { ours: 250 - position, anchor: 250 - position };
  if (type === 'u64') return integer((1n << 64n) - 1n - shift);
  if (type === 'i64') return integer(-(1n << 62n) - shift);
  if (type === 'u128') return integer((1n << 128n) - 1n - shift);
  if (typeof type === 'object' && 'array' in type && type.array[0] === 'u8') {
    const bytes = Uint8Array.from({ length: type.array[1] }, (_, index) => (index * 7 + position) % 256);
    return { ours: bytes, anchor: [...bytes] };
  }
  throw new Error(`no sample value for the IDL type ${JSON.stringify(type)}: add one`);
}

function metas(instruction: TransactionInstruction): { pubkey: string; isWritable: boolean; isSigner: boolean }[] {
  return instruction.keys.map((key) => ({ pubkey: key.pubkey.toBase58(), isWritable: key.isWritable, isSigner: key.isSigner }));
}

describe('Anchor 0.28 with the fetched IDLs builds every instruction as the project does', async () => {
  // The rows come from the IDLs the localnet publishes (the same JSON the accounts hold, as the
  // tests above check); each row then reads the IDL back from the chain.
  const rows = localnetIdls(LOCALNET).flatMap(({ programId, idl }) =>
    idl.instructions.map((instruction) => ({ programId, instruction: instruction.name })),
  );
  assert.ok(rows.length >= 17);

  for (const { programId, instruction: name } of rows) {
    test(`${programId.equals(LOCALNET.jobsProgram) ? 'jobs' : 'staking'} ${name}`, async () => {
      const idl = await fetchIdl028(programId);
      const program = new anchor028.Program(idl, programId.toBase58(), provider028());
      const spec = idl.instructions.find((instruction) => instruction.name === name);
      assert.ok(spec);
      const accounts = Object.fromEntries(spec.accounts.map((slot) => [slot.name, Keypair.generate().publicKey]));
      const isJobs = programId.equals(LOCALNET.jobsProgram);
      const projectArgs = (isJobs ? JOBS_INSTRUCTIONS[name as keyof typeof JOBS_INSTRUCTIONS] : STAKE_INSTRUCTIONS.stake).args;
      assert.deepEqual(
        spec.args.map((arg) => arg.name),
        projectArgs.map((arg) => arg.name),
        'argument order',
      );
      const samples = projectArgs.map((arg, position) => ({ name: arg.name, ...sampleArg(arg.type, position) }));
      const ourArgs = Object.fromEntries(samples.map((sample) => [sample.name, sample.ours]));

      const ours = isJobs
        ? jobsInstruction(LOCALNET, name as keyof typeof JOBS_INSTRUCTIONS, accounts as never, ourArgs as never)
        : stakeInstruction(LOCALNET, accounts as never, ourArgs as never);

      const encoded = program.coder.instruction.encode(name, Object.fromEntries(samples.map((sample) => [sample.name, sample.anchor])));
      assert.equal(Buffer.from(encoded).toString('hex'), Buffer.from(ours.data).toString('hex'), 'instruction data');

      const method = program.methods[name];
      assert.ok(method, `Anchor 0.28 has no method ${name}`);
      const built = await method(...samples.map((sample) => sample.anchor))
        .accountsStrict(Object.fromEntries(Object.entries(accounts).map(([slot, key]) => [slot, key.toBase58()])))
        .instruction();
      assert.deepEqual(metas(built), metas(ours), 'account order, isMut and isSigner');
      assert.equal(built.programId.toBase58(), ours.programId.toBase58());
      assert.equal(Buffer.from(built.data).toString('hex'), Buffer.from(ours.data).toString('hex'), 'data built by the method');
    });
  }
});
