// The port controllers use to reach the Nosana jobs program. Controllers never learn whether the
// other end is mainnet, devnet or the localnet; the Solana adapter implements it over JSON-RPC.
import type { Keypair, PublicKey } from '@solana/web3.js';
import type { JobAccount, MarketAccount, RunAccount, StakeAccount } from './accounts.ts';
import type { NosanaNetwork } from './addresses.ts';
import type { NodeTransactionRecord } from './node-transaction-record.ts';
import type { ParsedProgramError } from './program-errors.ts';

/** Client-side job states; RUNNING is derived (a run account exists), never stored. */
export type JobStatus = 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'STOPPED';

export interface RunView {
  address: PublicKey;
  account: RunAccount;
}

export interface JobView {
  address: PublicKey;
  account: JobAccount;
  status: JobStatus;
  /** Present while the job runs (and while a claimed stopped job is re-run). */
  run?: RunView;
}

export interface MarketView {
  address: PublicKey;
  account: MarketAccount;
}

/** A post prepared and signed but maybe not yet landed. Persist it BEFORE broadcasting. */
export interface PendingPost {
  jobAddress: string;
  runAddress: string;
  signature: string;
  /** The post can land only while the cluster's block height is at most this. */
  lastValidBlockHeight: number;
  /** The slot its blockhash was fetched at: a history reaching back to it covers the post. */
  preparedSlot?: number;
  /** The cluster it was signed for; it is never resolved or re-sent against another. */
  genesisHash?: string;
  /** The signed wire transaction, base64: re-sending these exact bytes is always harmless. */
  transaction: string;
  preparedAt: string;
}

export type PendingPostOutcome =
  /** The transaction landed: the job exists (or existed). */
  | { outcome: 'landed'; slot?: number }
  /** It may still land: its blockhash has not expired, or it is not yet confirmed. */
  | { outcome: 'pending' }
  /** It landed but failed (nothing was created, only the fee was taken); safe to prepare a new post. */
  | { outcome: 'failed'; error: ParsedProgramError | undefined; detail: string }
  /** Its blockhash expired and no trace of it exists in the cluster's history: it can never land. */
  | { outcome: 'never-landed' }
  /** The RPC cannot say (no transaction history): do not post again. */
  | { outcome: 'unknown'; reason: string };

export interface PostRequest {
  wallet: Keypair;
  market: PublicKey;
  /** The 32 digest bytes of the definition's CIDv0. */
  ipfsJob: Uint8Array;
  timeoutSeconds: bigint;
  /** Assign directly to a node waiting in the market queue. */
  node?: PublicKey;
  /** The market account as the caller has just read it, to spare reading it again; the simulation vouches for it. */
  marketAccount?: MarketAccount;
}

/**
 * A node transaction to prepare (see node-transactions.ts). `finish` and `complete` write the
 * result CIDv0; `finish` pays into `payout`, by default the node's associated NOS account.
 */
export type NodeTransactionRequest =
  | { kind: 'finish'; job: PublicKey; resultCid: string; payout?: PublicKey }
  | { kind: 'complete'; job: PublicKey; resultCid: string }
  | { kind: 'quit'; job: PublicKey }
  | { kind: 'work'; market: PublicKey }
  | { kind: 'leave-queue'; market: PublicKey };

export type NodeTransactionResolution =
  /**
   * It landed and succeeded: its signature was seen (`signature`), or, for finish and complete,
   * what it does is on chain (`effect`: the job completed by this node with this result).
   */
  | { outcome: 'landed'; evidence: 'signature' | 'effect'; slot?: number }
  /** It may still land: its blockhash is still valid, or it is seen but not yet confirmed. */
  | { outcome: 'pending' }
  /** It landed and failed, beyond any rollback: nothing changed but the fee. */
  | { outcome: 'failed'; error: ParsedProgramError | undefined; detail: string }
  /** It did not land and never can: its blockhash expired, shown by one consistent view of the cluster. */
  | { outcome: 'expired' }
  /** The RPC cannot say whether it landed (no history, or no block height): sign nothing new. */
  | { outcome: 'unknown'; reason: string };

export interface Balances {
  lamports: bigint;
  /** NOS base units in the owner's associated NOS account (0 when it does not exist). */
  nos: bigint;
}

/** An account read among many that holds something other than what was asked for; `problem` names its address. */
export interface UnusableAccount {
  problem: string;
}

/** A market read among many: its view, undefined when no account exists, or why the account is not a market. */
export type MarketLookup = MarketView | UnusableAccount | undefined;

/** What a node needs of its own accounts before it may join a market (PROTOCOL.md §8). */
export interface NodeAccounts {
  balances: Balances;
  /** Whether the node's associated NOS token account exists. */
  nosAccount: boolean;
  /** The node's stake account, when it has one. */
  stake?: StakeAccount;
}

export interface TransactionResult {
  signature: string;
}

/**
 * How settled a read must be. Reads default to the connection's commitment (confirmed); a read
 * that lets something go for good (a finalizer, a job counted as cancelled) asks for finalized,
 * which a rolled-back fork cannot contradict.
 */
export interface ReadOptions {
  commitment?: 'confirmed' | 'finalized';
  /**
   * The read must answer as of this slot or later (an RPC behind it refuses with -32016): a change
   * announced at slot S is only believed from a read that has seen S.
   */
  minContextSlot?: number;
}

export interface JobsClient {
  readonly network: NosanaNetwork;

  getMarket(address: PublicKey): Promise<MarketView | undefined>;
  getMarkets(): Promise<MarketView[]>;
  /** undefined when the account is gone (delisted, recovered or cleaned). */
  getJob(address: PublicKey, options?: ReadOptions): Promise<JobView | undefined>;
  /** Many jobs at once: getMultipleAccounts in batches, one run query for all that may be running. */
  getJobs(addresses: readonly PublicKey[], options?: ReadOptions): Promise<Map<string, JobView | undefined>>;
  /**
   * Jobs and the only runs they can have, in one getMultipleAccounts instead of a run query: for a
   * caller that hears of every run created (a runs subscription). A run that is gone, or that
   * names a job not asked for, is ignored.
   */
  getJobsWithRuns(
    addresses: readonly PublicKey[],
    runs: readonly PublicKey[],
    options?: ReadOptions,
  ): Promise<Map<string, JobView | undefined>>;
  /** The jobs a wallet posted with exactly this definition CID (one filtered getProgramAccounts). */
  findJobsByDefinition(project: PublicKey, ipfsJob: Uint8Array): Promise<JobView[]>;
  getRunsByJob(job: PublicKey): Promise<RunView[]>;
  getRunsByNode(node: PublicKey): Promise<RunView[]>;
  getBalances(owner: PublicKey): Promise<Balances>;

  // Batched reads for many node identities at once (the node agent reads all of its nodes per round).
  /**
   * Many markets in getMultipleAccounts calls of 100. An address that holds another account is
   * reported in its own entry, so one wrong market spoils no other.
   */
  getMarketsByAddress(addresses: readonly PublicKey[], options?: ReadOptions): Promise<Map<string, MarketLookup>>;
  /**
   * The runs each node holds, keyed by node address (an empty list for none), in one
   * getProgramAccounts call whatever the number of nodes.
   */
  getRunsByNodes(nodes: readonly PublicKey[], options?: ReadOptions): Promise<Map<string, RunView[]>>;
  /** SOL, NOS account and stake account of many nodes, keyed by node address: getMultipleAccounts over three accounts per node. */
  getNodeAccounts(nodes: readonly PublicKey[], options?: ReadOptions): Promise<Map<string, NodeAccounts>>;

  // Create-once posting (see create-once.ts for the protocol).
  preparePost(request: PostRequest): Promise<PendingPost>;
  broadcast(pending: PendingPost): Promise<void>;
  resolvePendingPost(pending: PendingPost): Promise<PendingPostOutcome>;

  // Poster operations; `wallet` must be the job's project (and payer).
  delist(wallet: Keypair, job: PublicKey): Promise<TransactionResult>;
  end(wallet: Keypair, job: PublicKey): Promise<TransactionResult>;
  extend(wallet: Keypair, job: PublicKey, newTimeoutSeconds: bigint): Promise<TransactionResult>;
  recover(wallet: Keypair, job: PublicKey): Promise<TransactionResult>;
  clean(wallet: Keypair, job: PublicKey): Promise<TransactionResult>;

  // Node operations; `node` signs and pays.
  /** Creates the node's stake account (zero stake, its NOS token account with it) unless it has one. */
  ensureStake(node: Keypair): Promise<TransactionResult | undefined>;
  /** Creates the node's associated NOS token account (idempotent on chain). */
  ensureNosAccount(node: Keypair): Promise<TransactionResult>;
  /**
   * Joins the market's queue, or takes the first job waiting. Answers the slot it landed in: a
   * read as of that slot or later shows the node queued or holding the run.
   */
  work(node: Keypair, market: PublicKey): Promise<TransactionResult & { run: PublicKey; slot: number }>;
  leaveQueue(node: Keypair, market: PublicKey): Promise<TransactionResult>;
  finish(node: Keypair, job: PublicKey, ipfsResult: Uint8Array): Promise<TransactionResult>;
  complete(node: Keypair, job: PublicKey, ipfsResult: Uint8Array): Promise<TransactionResult>;
  quit(node: Keypair, job: PublicKey): Promise<TransactionResult>;

  // Exactly-once node transactions (see node-transactions.ts): prepare signs and sends nothing;
  // the caller persists the record, then broadcasts and resolves it as often as needed.
  prepareNodeTransaction(node: Keypair, request: NodeTransactionRequest): Promise<NodeTransactionRecord>;
  /**
   * Sends the recorded bytes; with `awaitLandingMs`, then waits up to that long for them to be
   * seen settled (a wait only: resolveNodeTransaction says what happened).
   */
  broadcastNodeTransaction(record: NodeTransactionRecord, options?: { awaitLandingMs?: number }): Promise<void>;
  resolveNodeTransaction(record: NodeTransactionRecord): Promise<NodeTransactionResolution>;
}
