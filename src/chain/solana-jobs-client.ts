// The JobsClient adapter over Solana JSON-RPC (web3.js 1.x Connection + the project's codecs).
import { Keypair } from '@solana/web3.js';
import type { AccountInfo, Connection, GetProgramAccountsFilter, PublicKey } from '@solana/web3.js';
import bs58 from 'bs58';
import { ACCOUNT_DISCRIMINATORS } from './idl.ts';
import { AccountDecodeError, JOB_STATE, OFFSETS, accountKindOf, decodeAccount } from './accounts.ts';
import type { JobAccount } from './accounts.ts';
import { TOKEN_PROGRAM_ID, nosTokenAccount, stakeAccount } from './addresses.ts';
import { cidToBytes32 } from '../ipfs/cid.ts';
import type { NosanaNetwork } from './addresses.ts';
import { decodePendingPost, genesisHashOf, requireSameCluster, resolvePendingPost, toPendingPost } from './create-once.ts';
import type {
  Balances,
  JobStatus,
  JobView,
  JobsClient,
  MarketLookup,
  MarketView,
  NodeAccounts,
  NodeTransactionRequest,
  NodeTransactionResolution,
  PendingPost,
  PendingPostOutcome,
  PostRequest,
  ReadOptions,
  RunView,
  TransactionResult,
} from './jobs-client.ts';
import {
  cleanInstructions,
  completeInstructions,
  createStakeInstructions,
  delistInstructions,
  endInstructions,
  ensureNosAccount,
  extendInstructions,
  finishInstructions,
  leaveQueueInstructions,
  postInstructions,
  quitInstructions,
  recoverInstructions,
  workInstructions,
} from './operations.ts';
import { decodeNodeTransaction, toNodeTransactionRecord } from './node-transaction-record.ts';
import type { NodeTransactionRecord, NodeTransactionSubject } from './node-transaction-record.ts';
import { payoutProblem, refusalToSign, requireRecordCluster, resolveNodeTransaction } from './node-transactions.ts';
import { TransactionSender } from './transaction-sender.ts';
import type { SenderOptions } from './transaction-sender.ts';

/** getMultipleAccounts takes at most 100 keys per call. */
export const MULTIPLE_ACCOUNTS_BATCH = 100;

export interface SolanaJobsClientOptions {
  connection: Connection;
  network: NosanaNetwork;
  sender?: SenderOptions;
}

/** The commitment and minimum slot of a read, as web3.js takes them (nothing set: the connection's defaults). */
function readConfig(options: ReadOptions): { commitment?: 'confirmed' | 'finalized'; minContextSlot?: number } {
  return {
    ...(options.commitment === undefined ? {} : { commitment: options.commitment }),
    ...(options.minContextSlot === undefined ? {} : { minContextSlot: options.minContextSlot }),
  };
}

function memcmp(offset: number, bytes: Uint8Array): GetProgramAccountsFilter {
  return { memcmp: { offset, bytes: bs58.encode(bytes) } };
}

/** Derives the client-side status; a run account means running whatever the stored state says. */
export function deriveJobStatus(job: JobAccount, hasRun: boolean): JobStatus {
  if (job.state === JOB_STATE.done) return 'COMPLETED';
  if (hasRun) return 'RUNNING';
  return job.state === JOB_STATE.stopped ? 'STOPPED' : 'QUEUED';
}

export class SolanaJobsClient implements JobsClient {
  readonly network: NosanaNetwork;
  readonly connection: Connection;
  private readonly sender: TransactionSender;

  constructor(options: SolanaJobsClientOptions) {
    this.network = options.network;
    this.connection = options.connection;
    this.sender = new TransactionSender(options.connection, options.sender);
  }

  // ---- reads -------------------------------------------------------------------------------

  async getMarket(address: PublicKey): Promise<MarketView | undefined> {
    const info = await this.connection.getAccountInfo(address);
    if (info === null) return undefined;
    this.requireJobsProgramOwner(address, info.owner);
    return { address, account: decodeAccount('MarketAccount', info.data) };
  }

  async getMarkets(): Promise<MarketView[]> {
    const accounts = await this.connection.getProgramAccounts(this.network.jobsProgram, {
      filters: [memcmp(0, ACCOUNT_DISCRIMINATORS.MarketAccount)],
    });
    return accounts.map(({ pubkey, account }) => ({ address: pubkey, account: decodeAccount('MarketAccount', account.data) }));
  }

  async getJob(address: PublicKey, options: ReadOptions = {}): Promise<JobView | undefined> {
    return (await this.getJobs([address], options)).get(address.toBase58());
  }

  async findJobsByDefinition(project: PublicKey, ipfsJob: Uint8Array): Promise<JobView[]> {
    const accounts = await this.connection.getProgramAccounts(this.network.jobsProgram, {
      filters: [
        memcmp(0, ACCOUNT_DISCRIMINATORS.JobAccount),
        memcmp(OFFSETS.job.ipfsJob, ipfsJob),
        memcmp(OFFSETS.job.project, project.toBytes()),
      ],
    });
    // Decoded from this answer, not read again: a second read could come from a node that has not
    // seen the job yet, and a job missed here is a job paid for twice.
    const views: JobView[] = accounts.map(({ pubkey, account }) => {
      const decoded = decodeAccount('JobAccount', account.data);
      return { address: pubkey, account: decoded, status: deriveJobStatus(decoded, false) };
    });
    const unfinished = views.filter((view) => view.account.state !== JOB_STATE.done).map((view) => view.address);
    if (unfinished.length > 0) {
      for (const run of await this.runsForJobs(unfinished, {})) {
        const view = views.find((candidate) => candidate.address.equals(run.account.job));
        if (view !== undefined) {
          view.run = run;
          view.status = deriveJobStatus(view.account, true);
        }
      }
    }
    return views;
  }

  async getJobs(addresses: readonly PublicKey[], options: ReadOptions = {}): Promise<Map<string, JobView | undefined>> {
    const jobs = new Map<string, JobView | undefined>();
    const unfinished: PublicKey[] = [];
    for (let start = 0; start < addresses.length; start += MULTIPLE_ACCOUNTS_BATCH) {
      const batch = addresses.slice(start, start + MULTIPLE_ACCOUNTS_BATCH);
      const infos = await this.connection.getMultipleAccountsInfo(batch, readConfig(options));
      batch.forEach((address, index) => {
        const info = infos[index];
        if (info === null || info === undefined) {
          jobs.set(address.toBase58(), undefined);
          return;
        }
        this.requireJobsProgramOwner(address, info.owner);
        const account = decodeAccount('JobAccount', info.data);
        jobs.set(address.toBase58(), { address, account, status: deriveJobStatus(account, false) });
        if (account.state !== JOB_STATE.done) unfinished.push(address);
      });
    }
    if (unfinished.length > 0) {
      for (const run of await this.runsForJobs(unfinished, options)) {
        const view = jobs.get(run.account.job.toBase58());
        if (view !== undefined) {
          view.run = run;
          view.status = deriveJobStatus(view.account, true);
        }
      }
    }
    return jobs;
  }

  async getJobsWithRuns(
    addresses: readonly PublicKey[],
    runs: readonly PublicKey[],
    options: ReadOptions = {},
  ): Promise<Map<string, JobView | undefined>> {
    const infos = await this.multipleAccounts([...addresses, ...runs], options);
    const jobs = new Map<string, JobView | undefined>();
    addresses.forEach((address, index) => {
      const info = infos[index] ?? null;
      if (info === null) return jobs.set(address.toBase58(), undefined);
      this.requireJobsProgramOwner(address, info.owner);
      const account = decodeAccount('JobAccount', info.data);
      jobs.set(address.toBase58(), { address, account, status: deriveJobStatus(account, false) });
    });
    runs.forEach((address, index) => {
      const info = infos[addresses.length + index] ?? null;
      // A closed run (finished or quit) is no run; nor is any other account, of this program or another.
      if (info === null || !info.owner.equals(this.network.jobsProgram) || accountKindOf(info.data) !== 'RunAccount') return;
      const account = decodeAccount('RunAccount', info.data);
      const view = jobs.get(account.job.toBase58());
      if (view === undefined || view.account.state === JOB_STATE.done) return;
      view.run = { address, account };
      view.status = deriveJobStatus(view.account, true);
    });
    return jobs;
  }

  async getRunsByJob(job: PublicKey, options: ReadOptions = {}): Promise<RunView[]> {
    return this.runs([memcmp(OFFSETS.run.job, job.toBytes())], options);
  }

  async getRunsByNode(node: PublicKey): Promise<RunView[]> {
    return this.runs([memcmp(OFFSETS.run.node, node.toBytes())]);
  }

  async getBalances(owner: PublicKey): Promise<Balances> {
    // Both accounts in one read, at one slot. The token account is read rather than asked with
    // getTokenAccountBalance: a missing account is 0 NOS (as a missing wallet is 0 SOL), while an
    // RPC failure must stay an error, not look like an empty wallet.
    const [wallet, token] = await this.connection.getMultipleAccountsInfo([owner, nosTokenAccount(this.network, owner)]);
    return { lamports: BigInt(wallet?.lamports ?? 0), nos: token == null ? 0n : token.data.readBigUInt64LE(64) };
  }

  // ---- batched reads for many nodes -----------------------------------------------------------

  async getMarketsByAddress(addresses: readonly PublicKey[], options: ReadOptions = {}): Promise<Map<string, MarketLookup>> {
    const infos = await this.multipleAccounts(addresses, options);
    const markets = new Map<string, MarketLookup>();
    addresses.forEach((address, index) => markets.set(address.toBase58(), this.marketLookup(address, infos[index] ?? null)));
    return markets;
  }

  async getRunsByNodes(nodes: readonly PublicKey[], options: ReadOptions = {}): Promise<Map<string, RunView[]>> {
    const held = new Map<string, RunView[]>(nodes.map((node) => [node.toBase58(), []]));
    const [only] = nodes;
    if (only === undefined) return held;
    // One node: its own runs. Several: every run account of the program, matched here. Runs exist
    // only while a job runs, so the set stays small, and one call replaces one per node. Only the
    // runs of the nodes asked for are decoded: nobody else's account can spoil this read.
    const filters =
      nodes.length === 1
        ? [memcmp(0, ACCOUNT_DISCRIMINATORS.RunAccount), memcmp(OFFSETS.run.node, only.toBytes())]
        : [memcmp(0, ACCOUNT_DISCRIMINATORS.RunAccount)];
    const accounts = await this.connection.getProgramAccounts(this.network.jobsProgram, {
      filters,
      ...readConfig(options),
    });
    const nodeField = OFFSETS.run.node;
    for (const { pubkey, account } of accounts) {
      if (account.data.length < nodeField + 32) continue;
      const runs = held.get(bs58.encode(account.data.subarray(nodeField, nodeField + 32)));
      runs?.push({ address: pubkey, account: decodeAccount('RunAccount', account.data) });
    }
    return held;
  }

  async getNodeAccounts(nodes: readonly PublicKey[], options: ReadOptions = {}): Promise<Map<string, NodeAccounts>> {
    const keys = nodes.flatMap((node) => [node, nosTokenAccount(this.network, node), stakeAccount(this.network, node)[0]]);
    const infos = await this.multipleAccounts(keys, options);
    const found = new Map<string, NodeAccounts>();
    nodes.forEach((node, index) => {
      const [wallet, token, stake] = [infos[3 * index] ?? null, infos[3 * index + 1] ?? null, infos[3 * index + 2] ?? null];
      // Anyone can send lamports to an address before its account is created: only a NOS token
      // account owned by the token program, and a stake owned by the staking program, count.
      const nosAccount = token !== null && payoutProblem(this.network, token.owner, token.data) === undefined;
      const staked = stake !== null && stake.owner.equals(this.network.stakingProgram);
      found.set(node.toBase58(), {
        balances: { lamports: BigInt(wallet?.lamports ?? 0), nos: nosAccount ? token.data.readBigUInt64LE(64) : 0n },
        nosAccount,
        ...(staked ? { stake: decodeAccount('StakeAccount', stake.data) } : {}),
      });
    });
    return found;
  }

  // ---- create-once posting ------------------------------------------------------------------

  async preparePost(request: PostRequest): Promise<PendingPost> {
    const market = request.marketAccount === undefined ? (await this.requireMarket(request.market)).account : request.marketAccount;
    const job = Keypair.generate();
    const run = Keypair.generate();
    const instructions = postInstructions({
      network: this.network,
      market: request.market,
      marketAccount: market,
      job: job.publicKey,
      run: run.publicKey,
      payer: request.wallet.publicKey,
      authority: request.wallet.publicKey,
      ipfsJob: request.ipfsJob,
      timeout: request.timeoutSeconds,
      ...(request.node === undefined ? {} : { node: request.node }),
    });
    const genesisHash = await genesisHashOf(this.connection);
    const signed = await this.sender.build('post', instructions, request.wallet.publicKey, [request.wallet, job, run]);
    return toPendingPost(signed, job.publicKey, run.publicKey, { genesisHash, preparedSlot: signed.slot });
  }

  async broadcast(pending: PendingPost): Promise<void> {
    const transaction = decodePendingPost(this.network, pending);
    await requireSameCluster(this.connection, pending);
    await this.sender.send(transaction);
  }

  async resolvePendingPost(pending: PendingPost): Promise<PendingPostOutcome> {
    return resolvePendingPost(this.connection, this.network, pending);
  }

  // ---- poster operations --------------------------------------------------------------------

  async delist(wallet: Keypair, job: PublicKey): Promise<TransactionResult> {
    const view = await this.requireJob(job);
    const vault = await this.vaultOf(view.account.market);
    return this.run('delist', delistInstructions(this.network, job, view.account, vault), wallet);
  }

  async end(wallet: Keypair, job: PublicKey): Promise<TransactionResult> {
    const view = await this.requireJob(job);
    if (view.run === undefined) throw new Error(`job ${job.toBase58()} is not running (${view.status}); only a running job can be ended`);
    const vault = await this.vaultOf(view.account.market);
    return this.run('end', endInstructions(this.network, job, view.account, view.run.address, view.run.account, vault), wallet);
  }

  async extend(wallet: Keypair, job: PublicKey, newTimeoutSeconds: bigint): Promise<TransactionResult> {
    const view = await this.requireJob(job);
    const vault = await this.vaultOf(view.account.market);
    return this.run('extend', extendInstructions(this.network, job, view.account, vault, newTimeoutSeconds), wallet);
  }

  async recover(wallet: Keypair, job: PublicKey): Promise<TransactionResult> {
    const view = await this.requireJob(job);
    const vault = await this.vaultOf(view.account.market);
    return this.run('recover', recoverInstructions(this.network, job, view.account, vault), wallet);
  }

  async clean(wallet: Keypair, job: PublicKey): Promise<TransactionResult> {
    const view = await this.requireJob(job);
    return this.run('clean', cleanInstructions(this.network, job, view.account), wallet);
  }

  // ---- node operations ----------------------------------------------------------------------

  async ensureStake(node: Keypair): Promise<TransactionResult | undefined> {
    const stake = stakeAccount(this.network, node.publicKey)[0];
    // Only the staking program's account is a stake: anyone may send lamports to the address first.
    const existing = await this.connection.getAccountInfo(stake);
    if (existing !== null && existing.owner.equals(this.network.stakingProgram)) return undefined;
    return this.run('stake', createStakeInstructions(this.network, node.publicKey), node);
  }

  async ensureNosAccount(node: Keypair): Promise<TransactionResult> {
    return this.run('nos-account', [ensureNosAccount(this.network, node.publicKey, node.publicKey)], node);
  }

  async work(node: Keypair, market: PublicKey): Promise<TransactionResult & { run: PublicKey; slot: number }> {
    const view = await this.requireMarket(market);
    const run = Keypair.generate();
    const instructions = workInstructions({
      network: this.network,
      market,
      marketAccount: view.account,
      node: node.publicKey,
      run: run.publicKey,
    });
    const { signature, slot } = await this.sender.executeLanded('work', instructions, node.publicKey, [node, run]);
    return { signature, run: run.publicKey, slot };
  }

  async leaveQueue(node: Keypair, market: PublicKey): Promise<TransactionResult> {
    return this.run('stop', leaveQueueInstructions(this.network, market, node.publicKey), node);
  }

  async finish(node: Keypair, job: PublicKey, ipfsResult: Uint8Array): Promise<TransactionResult> {
    const view = await this.requireJob(job);
    const run = this.requireOwnRun(view, node.publicKey);
    const vault = await this.vaultOf(view.account.market);
    return this.run(
      'finish',
      finishInstructions({
        network: this.network,
        jobAddress: job,
        job: view.account,
        runAddress: run.address,
        run: run.account,
        vault,
        ipfsResult,
        createDeposit: await this.depositMissing(view.account),
      }),
      node,
    );
  }

  async complete(node: Keypair, job: PublicKey, ipfsResult: Uint8Array): Promise<TransactionResult> {
    return this.run('complete', completeInstructions(this.network, job, node.publicKey, ipfsResult), node);
  }

  async quit(node: Keypair, job: PublicKey): Promise<TransactionResult> {
    const view = await this.requireJob(job);
    const run = this.requireOwnRun(view, node.publicKey);
    return this.run('quit', quitInstructions(this.network, job, run.address, run.account), node);
  }

  // ---- exactly-once node transactions (node-transactions.ts) ---------------------------------

  async prepareNodeTransaction(node: Keypair, request: NodeTransactionRequest): Promise<NodeTransactionRecord> {
    const { subject, instructions, signers } = await this.planNodeTransaction(node.publicKey, request);
    const genesisHash = await genesisHashOf(this.connection);
    const signed = await this.sender.build(request.kind, instructions, node.publicKey, [node, ...signers]);
    return toNodeTransactionRecord(subject, node.publicKey, signed, genesisHash);
  }

  async broadcastNodeTransaction(record: NodeTransactionRecord, options: { awaitLandingMs?: number } = {}): Promise<void> {
    const transaction = decodeNodeTransaction(this.network, record);
    await requireRecordCluster(this.connection, record);
    await this.sender.send(transaction);
    if (options.awaitLandingMs !== undefined) await this.sender.awaitSettled(record.signature, options.awaitLandingMs);
  }

  async resolveNodeTransaction(record: NodeTransactionRecord): Promise<NodeTransactionResolution> {
    return resolveNodeTransaction(this.connection, this.network, record);
  }

  // ---- helpers ------------------------------------------------------------------------------

  /** Reads what a node transaction needs and builds it; refuses what must not be signed now. */
  private async planNodeTransaction(
    node: PublicKey,
    request: NodeTransactionRequest,
  ): Promise<{ subject: NodeTransactionSubject; instructions: Parameters<TransactionSender['build']>[1]; signers: Keypair[] }> {
    if (request.kind === 'work') {
      const market = await this.requireMarket(request.market);
      const run = Keypair.generate();
      const instructions = workInstructions({
        network: this.network,
        market: request.market,
        marketAccount: market.account,
        node,
        run: run.publicKey,
      });
      return { subject: { kind: 'work', market: request.market, run: run.publicKey }, instructions, signers: [run] };
    }
    if (request.kind === 'leave-queue') {
      return {
        subject: { kind: 'leave-queue', market: request.market },
        instructions: leaveQueueInstructions(this.network, request.market, node),
        signers: [],
      };
    }
    const view = await this.getJob(request.job);
    const refusal = refusalToSign(request, node, view);
    if (refusal !== undefined || view === undefined) throw new Error(refusal ?? `job ${request.job.toBase58()} does not exist`);
    if (request.kind === 'complete') {
      return {
        subject: { kind: 'complete', job: request.job, resultCid: request.resultCid },
        instructions: completeInstructions(this.network, request.job, node, cidToBytes32(request.resultCid)),
        signers: [],
      };
    }
    const run = this.requireOwnRun(view, node);
    if (request.kind === 'quit') {
      return {
        subject: { kind: 'quit', job: request.job, run: run.address },
        instructions: quitInstructions(this.network, request.job, run.address, run.account),
        signers: [],
      };
    }
    const payout = request.payout ?? nosTokenAccount(this.network, node);
    if (request.payout !== undefined) await this.requirePayout(request.payout);
    const instructions = finishInstructions({
      network: this.network,
      jobAddress: request.job,
      job: view.account,
      runAddress: run.address,
      run: run.account,
      vault: await this.vaultOf(view.account.market),
      ipfsResult: cidToBytes32(request.resultCid),
      payout,
      createDeposit: await this.depositMissing(view.account),
    });
    return {
      subject: { kind: 'finish', job: request.job, run: run.address, resultCid: request.resultCid, payout },
      instructions,
      signers: [],
    };
  }

  /** A chosen payout account must already be a NOS token account: the program would pay nothing into anything else. */
  private async requirePayout(payout: PublicKey): Promise<void> {
    const info = await this.connection.getAccountInfo(payout);
    const problem = info === null ? 'it does not exist' : payoutProblem(this.network, info.owner, info.data);
    if (problem !== undefined) throw new Error(`payout account ${payout.toBase58()} cannot receive NOS: ${problem}`);
  }

  /**
   * Whether the poster's NOS account, where finish refunds the deposit, is not yet a token
   * account and must be created first. Only then does the node pay its rent; an account that
   * exists is never "created" again, whoever its token owner now is.
   */
  private async depositMissing(job: JobAccount): Promise<boolean> {
    const info = await this.connection.getAccountInfo(nosTokenAccount(this.network, job.payer));
    // Lamports sent to the address before it was created leave a system account the create accepts.
    return info === null || !info.owner.equals(TOKEN_PROGRAM_ID);
  }

  private async run(what: string, instructions: Parameters<TransactionSender['execute']>[1], signer: Keypair): Promise<TransactionResult> {
    return { signature: await this.sender.execute(what, instructions, signer.publicKey, [signer]) };
  }

  private async runs(filters: GetProgramAccountsFilter[], options: ReadOptions = {}): Promise<RunView[]> {
    // Always the discriminator plus a selective filter; never dataSize (allocations exceed Borsh sizes).
    const accounts = await this.connection.getProgramAccounts(this.network.jobsProgram, {
      filters: [memcmp(0, ACCOUNT_DISCRIMINATORS.RunAccount), ...filters],
      ...readConfig(options),
    });
    return accounts.map(({ pubkey, account }) => ({ address: pubkey, account: decodeAccount('RunAccount', account.data) }));
  }

  /**
   * Runs for many jobs in one query: every run account of the program, then matched locally. One
   * call replaces one call per job; the run set is small (only jobs running right now).
   */
  private async runsForJobs(jobs: PublicKey[], options: ReadOptions): Promise<RunView[]> {
    if (jobs.length === 1 && jobs[0] !== undefined) return this.getRunsByJob(jobs[0], options);
    const wanted = new Set(jobs.map((job) => job.toBase58()));
    const all = await this.runs([], options);
    return all.filter((run) => wanted.has(run.account.job.toBase58()));
  }

  /** getMultipleAccounts in calls of at most MULTIPLE_ACCOUNTS_BATCH keys; null where no account exists. */
  private async multipleAccounts(addresses: readonly PublicKey[], options: ReadOptions): Promise<(AccountInfo<Buffer> | null)[]> {
    const infos: (AccountInfo<Buffer> | null)[] = [];
    for (let start = 0; start < addresses.length; start += MULTIPLE_ACCOUNTS_BATCH) {
      const batch = addresses.slice(start, start + MULTIPLE_ACCOUNTS_BATCH);
      infos.push(...(await this.connection.getMultipleAccountsInfo(batch, readConfig(options))));
    }
    return infos;
  }

  private marketLookup(address: PublicKey, info: AccountInfo<Buffer> | null): MarketLookup {
    if (info === null) return undefined;
    const where = `${address.toBase58()} on ${this.network.name}`;
    if (!info.owner.equals(this.network.jobsProgram))
      return { problem: `${where} is not a Nosana jobs-program account (owner ${info.owner.toBase58()})` };
    try {
      return { address, account: decodeAccount('MarketAccount', info.data) };
    } catch (error) {
      if (!(error instanceof AccountDecodeError)) throw error;
      return { problem: `${where} is not a Nosana market: ${error.message}` };
    }
  }

  private requireJobsProgramOwner(address: PublicKey, owner: PublicKey): void {
    if (!owner.equals(this.network.jobsProgram)) {
      throw new AccountDecodeError(
        `${address.toBase58()} is not a Nosana jobs-program account on ${this.network.name} (owner ${owner.toBase58()})`,
      );
    }
  }

  private async requireMarket(address: PublicKey): Promise<MarketView> {
    const market = await this.getMarket(address);
    if (market === undefined) throw new Error(`market ${address.toBase58()} does not exist on ${this.network.name}`);
    return market;
  }

  private async requireJob(address: PublicKey): Promise<JobView> {
    const job = await this.getJob(address);
    if (job === undefined) throw new Error(`job ${address.toBase58()} does not exist on ${this.network.name} (never posted, or closed)`);
    return job;
  }

  private requireOwnRun(view: JobView, node: PublicKey): RunView {
    if (view.run === undefined || !view.run.account.node.equals(node)) {
      throw new Error(`job ${view.address.toBase58()} has no run for node ${node.toBase58()}`);
    }
    return view.run;
  }

  private async vaultOf(market: PublicKey): Promise<PublicKey> {
    return (await this.requireMarket(market)).account.vault;
  }
}
