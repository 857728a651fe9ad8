// The chain side of end-to-end tests on a localnet: markets and wallets of a test's own (so its
// balances and job counts are not shared with other tests), the ledger readings tests assert
// (NOS of wallets and vaults, every job account of a project), and a node played by the test
// through the production chain client (work, pin a result document, finish; quit).
import { Keypair, PublicKey } from '@solana/web3.js';
import bs58 from 'bs58';
import { ACCOUNT_SIZES, OFFSETS, QUEUE_TYPE, MARKET_QUEUE_CAPACITY, decodeAccount, encodeAccount } from '../../src/chain/accounts.ts';
import type { JobAccount } from '../../src/chain/accounts.ts';
import { marketVault, nosTokenAccount } from '../../src/chain/addresses.ts';
import { ACCOUNT_DISCRIMINATORS } from '../../src/chain/idl.ts';
import { LAMPORTS_PER_SOL } from '../../src/chain/money.ts';
import { openMarketInstructions } from '../../src/chain/operations.ts';
import type { SolanaJobsClient } from '../../src/chain/solana-jobs-client.ts';
import { TransactionSender } from '../../src/chain/transaction-sender.ts';
import { cidToBytes32 } from '../../src/ipfs/cid.ts';
import { PinataClient } from '../../src/ipfs/pinata.ts';
import { LOCALNET } from '../../src/localnet/localnet.ts';
import type { Localnet } from '../../src/localnet/localnet.ts';
import { tokenBalance, totalNos } from '../localnet/support.ts';

// ---- markets and wallets -------------------------------------------------------------------

export interface TestMarketSettings {
  /** NOS base units per second. */
  price?: bigint;
  /** The market's default job timeout, seconds. */
  timeout?: bigint;
  jobExpiration?: bigint;
  /** 255 opens it disabled. */
  jobType?: number;
}

/** Opens a market of the test's own through the program's `open`, signed by the localnet's market authority. */
export async function openTestMarket(localnet: Localnet, settings: TestMarketSettings = {}): Promise<PublicKey> {
  const market = Keypair.generate();
  const authority = localnet.marketAuthority;
  await new TransactionSender(localnet.connection()).execute(
    'open market',
    openMarketInstructions({
      network: LOCALNET,
      market: market.publicKey,
      authority: authority.publicKey,
      jobPrice: settings.price ?? 10n,
      jobTimeout: settings.timeout ?? 600n,
      jobExpiration: settings.jobExpiration ?? 86_400n,
      ...(settings.jobType === undefined ? {} : { jobType: settings.jobType }),
    }),
    authority.publicKey,
    [authority, market],
  );
  return market.publicKey;
}

/** Fills the market's job queue to capacity with placeholder entries (a full queue refuses `list`). */
export function fillMarketQueue(localnet: Localnet, market: PublicKey): void {
  const stored = localnet.chain.ledger.get(market);
  if (stored === undefined) throw new Error(`no market account at ${market.toBase58()}`);
  const account = decodeAccount('MarketAccount', stored.data);
  const fillers = Array.from({ length: MARKET_QUEUE_CAPACITY - account.queue.length }, () => Keypair.generate().publicKey);
  const full = { ...account, queueType: QUEUE_TYPE.job, queue: [...account.queue, ...fillers] };
  localnet.chain.ledger.put(market, { ...stored, data: encodeAccount('MarketAccount', full) });
}

export interface Funding {
  /** Whole SOL. */
  sol?: bigint;
  /** NOS base units; undefined: no NOS account at all. */
  nos?: bigint;
}

/** A new wallet funded at genesis-style (written to the ledger, not transferred). */
export function fundedWallet(localnet: Localnet, funding: Funding): Keypair {
  const wallet = Keypair.generate();
  localnet.chain.ledger.airdrop(wallet.publicKey, (funding.sol ?? 1n) * LAMPORTS_PER_SOL);
  if (funding.nos !== undefined) {
    localnet.chain.ledger.createTokenAccount({
      mint: LOCALNET.nosMint,
      owner: wallet.publicKey,
      address: nosTokenAccount(LOCALNET, wallet.publicKey),
      amount: funding.nos,
    });
  }
  return wallet;
}

/** Posts a job straight through the chain client, as the Nosana CLI would (for adoption tests). */
export async function postDirectly(
  localnet: Localnet,
  wallet: Keypair,
  market: PublicKey,
  definitionCid: string,
  timeoutSeconds: bigint,
): Promise<PublicKey> {
  const client = localnet.jobsClient();
  const pending = await client.preparePost({ wallet, market, ipfsJob: cidToBytes32(definitionCid), timeoutSeconds });
  await client.broadcast(pending);
  for (;;) {
    const resolution = await client.resolvePendingPost(pending);
    if (resolution.outcome === 'landed') return new PublicKey(pending.jobAddress);
    if (resolution.outcome !== 'pending') throw new Error(`the direct post did not land: ${JSON.stringify(resolution)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// ---- ledger readings ------------------------------------------------------------------------

export function nosOf(localnet: Localnet, owner: PublicKey): Promise<bigint> {
  return tokenBalance(localnet.connection(), nosTokenAccount(LOCALNET, owner));
}

export function vaultNos(localnet: Localnet, market: PublicKey): Promise<bigint> {
  return tokenBalance(localnet.connection(), marketVault(LOCALNET, market)[0]);
}

export interface LedgerReading {
  /** Every NOS base unit in existence on the localnet. */
  total: bigint;
  poster: bigint;
  vault: bigint;
  /** The node's NOS, when a node was given. */
  node: bigint;
}

/** The balances a money assertion compares before and after. */
export async function readLedger(
  localnet: Localnet,
  parties: { poster: PublicKey; market: PublicKey; node?: PublicKey },
): Promise<LedgerReading> {
  const [total, poster, vault, node] = await Promise.all([
    totalNos(localnet.connection()),
    nosOf(localnet, parties.poster),
    vaultNos(localnet, parties.market),
    parties.node === undefined ? Promise.resolve(0n) : nosOf(localnet, parties.node),
  ]);
  return { total, poster, vault, node };
}

export interface JobAccountEntry {
  address: string;
  account: JobAccount;
}

/** Every job account whose project (poster) is `project`, on `market` when given — what "exactly one job" counts. */
export async function jobAccountsOf(localnet: Localnet, project: PublicKey, market?: PublicKey): Promise<JobAccountEntry[]> {
  const memcmp = (offset: number, bytes: Uint8Array) => ({ memcmp: { offset, bytes: bs58.encode(bytes) } });
  const accounts = await localnet.connection().getProgramAccounts(LOCALNET.jobsProgram, {
    filters: [
      memcmp(0, ACCOUNT_DISCRIMINATORS.JobAccount),
      memcmp(OFFSETS.job.project, project.toBytes()),
      ...(market === undefined ? [] : [memcmp(OFFSETS.job.market, market.toBytes())]),
    ],
  });
  return accounts
    .filter(({ account }) => account.data.length >= ACCOUNT_SIZES.JobAccount)
    .map(({ pubkey, account }) => ({ address: pubkey.toBase58(), account: decodeAccount('JobAccount', account.data) }));
}

// ---- the node, played by the test ---------------------------------------------------------

export interface OpOutcome {
  id: string;
  exitCode: number;
  /** Lines the op printed on stdout. */
  logs?: readonly string[];
  /** Defaults to success for exit code 0, failed otherwise. */
  status?: 'success' | 'failed' | 'stopped';
}

/**
 * A result document as a Nosana node pins it (NODE.md §3.1, FlowState): one opState per op in
 * order, millisecond timestamps, logs as typed lines.
 */
export function resultDocument(ops: readonly OpOutcome[], startMs = Date.now() - 60_000): Record<string, unknown> {
  const opStates = ops.map((op, index) => {
    const start = startMs + index * 1_000;
    return {
      operationId: op.id,
      group: op.id,
      providerId: `container-${index}`,
      status: op.status ?? (op.exitCode === 0 ? 'success' : 'failed'),
      startTime: start,
      endTime: start + 900,
      exitCode: op.exitCode,
      logs: (op.logs ?? []).map((line, n) => ({ type: 'stdout', log: `${line}\n`, timestamp: new Date(start + n).toISOString() })),
      errors: [],
    };
  });
  const failed = opStates.some((op) => op.status !== 'success');
  return {
    status: failed ? 'failed' : 'success',
    startTime: startMs,
    endTime: startMs + ops.length * 1_000,
    errors: [],
    secrets: {},
    opStates,
  };
}

export class TestNode {
  readonly key: Keypair;
  readonly #localnet: Localnet;
  readonly #client: SolanaJobsClient;

  private constructor(localnet: Localnet, key: Keypair) {
    this.#localnet = localnet;
    this.key = key;
    this.#client = localnet.jobsClient();
  }

  /** A fresh node key with SOL and a stake account, so tests never share queue positions or earnings. */
  static async join(localnet: Localnet): Promise<TestNode> {
    const node = new TestNode(localnet, Keypair.generate());
    localnet.chain.ledger.airdrop(node.key.publicKey, 2n * LAMPORTS_PER_SOL);
    await node.#client.ensureStake(node.key);
    return node;
  }

  get address(): PublicKey {
    return this.key.publicKey;
  }

  /** Enters the market: takes the first queued job at once, or waits in the node queue for one. */
  async work(market: PublicKey): Promise<void> {
    await this.#client.work(this.key, market);
  }

  /** The job this node is running, if any. */
  async currentJob(): Promise<PublicKey | undefined> {
    const runs = await this.#client.getRunsByNode(this.key.publicKey);
    return runs[0]?.account.job;
  }

  /** Pins the result document and settles the job with `finish`; returns the result CID. */
  async finish(job: PublicKey, ops: readonly OpOutcome[]): Promise<string> {
    const cid = await this.pinResult(ops);
    await this.#client.finish(this.key, job, cidToBytes32(cid));
    return cid;
  }

  async pinResult(ops: readonly OpOutcome[]): Promise<string> {
    return new PinataClient({ jwt: 'localnet', apiUrl: this.#localnet.ipfs.apiUrl }).pinJson(resultDocument(ops));
  }

  async quit(job: PublicKey): Promise<void> {
    await this.#client.quit(this.key, job);
  }

  nos(): Promise<bigint> {
    return nosOf(this.#localnet, this.key.publicKey);
  }
}
