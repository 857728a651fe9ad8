// The Nosana jobs program's semantics (PROTOCOL.md §4–5) for the localnet: one FIFO queue per
// market holding jobs or nodes, deposits in the market vault, payment of price × min(elapsed,
// timeout) at finish/end, refunds at delist/recover, and the program's error names.
//
// Deliberate limits: markets with an NFT access key cannot be worked (the localnet has no
// Metaplex metadata program, so a node's NFT collection can never be verified); the network fee
// is 0 as in the current program, so the rewards accounts are passed but never touched.
//
// The program is built with overflow checks and converts seconds with `u64::try_from(..).unwrap()`,
// so a negative timeout or an amount past u64 panics: the localnet reports those as Solana reports
// a Rust panic (ProgramFailedToComplete), see `programPanic`.
import { SystemProgram } from '@solana/web3.js';
import type { PublicKey } from '@solana/web3.js';
import { JOB_STATE, JOB_TYPE_DISABLED, QUEUE_TYPE } from '../../chain/accounts.ts';
import type { JobAccount, MarketAccount, RunAccount } from '../../chain/accounts.ts';
import { JOBS_INSTRUCTIONS } from '../../chain/idl.ts';
import type { JobsInstructionName } from '../../chain/idl.ts';
import { decodeJobsInstruction } from '../../chain/instructions.ts';
import { jobCost } from '../../chain/money.ts';
import { COMMON_ERRORS, JOB_ERRORS } from '../../chain/program-errors.ts';
import type { NosanaNetwork } from '../../chain/addresses.ts';
import { OPEN_MARKET_ACCESS_KEY, marketVault, metaplexMetadata, nosTokenAccount, stakeAccount } from '../../chain/addresses.ts';
import type { LocalProgram, ProgramContext } from '../chain/program.ts';
import { ProgramFailure } from '../chain/program.ts';
import { AnchorInstruction, logInstruction, programPanic } from './anchor-support.ts';

// Anchor resolves an instruction's error name against the program's own enum first; the shared
// enum's names do not clash with it, so one table serves both.
const ERRORS = [...JOB_ERRORS, ...COMMON_ERRORS];

/** Compute units charged per instruction, the market ones higher because the ~10 KB market account is (de)serialised. */
const COMPUTE_UNITS: Record<JobsInstructionName, number> = {
  list: 38_000,
  assign: 38_000,
  work: 34_000,
  stop: 22_000,
  delist: 30_000,
  claim: 26_000,
  finish: 28_000,
  end: 28_000,
  extend: 18_000,
  recover: 18_000,
  complete: 6_000,
  quit: 8_000,
  clean: 12_000,
  open: 30_000,
  update: 20_000,
  close: 24_000,
};

type Args = Record<string, unknown>;
type Handler = (ix: AnchorInstruction, args: Args, program: JobsProgram) => void;

function removeFromQueue(market: MarketAccount, key: PublicKey): boolean {
  const index = market.queue.findIndex((entry) => entry.equals(key));
  if (index < 0) return false;
  market.queue.splice(index, 1);
  if (market.queue.length === 0) market.queueType = QUEUE_TYPE.empty;
  return true;
}

/**
 * `add_to_queue`: a disabled market (job type 255) silently keeps its queue as it is. Only
 * appending is affected; taking the first entry of a queue still works on a disabled market.
 */
function appendToQueue(market: MarketAccount, key: PublicKey, queueType: number): void {
  if (market.jobType === JOB_TYPE_DISABLED) return;
  market.queue.push(key);
  market.queueType = queueType;
}

function popFromQueue(market: MarketAccount): PublicKey {
  const first = market.queue.shift() as PublicKey;
  if (market.queue.length === 0) market.queueType = QUEUE_TYPE.empty;
  return first;
}

const I64_MAX = (1n << 63n) - 1n;
const U64_MAX = (1n << 64n) - 1n;

/**
 * price × seconds with the program's checked arithmetic. Negative seconds fail the u64 conversion;
 * more than i64::MAX seconds can only come from an overflowing i64 subtraction (extend).
 */
function checkedAmount(price: bigint, seconds: bigint, what: string): bigint {
  if (seconds < 0n || seconds > I64_MAX) throw programPanic(`${what}: ${seconds} seconds is not a valid duration`);
  const amount = price * seconds;
  if (amount > U64_MAX) throw programPanic(`${what}: attempt to multiply with overflow (${price} × ${seconds})`);
  return amount;
}

function newJob(ix: AnchorInstruction, market: MarketAccount, args: Args): JobAccount {
  return {
    ipfsJob: args.ipfsJob as Uint8Array,
    ipfsResult: new Uint8Array(32),
    market: ix.key('market'),
    node: SystemProgram.programId,
    payer: ix.key('payer'),
    price: market.jobPrice,
    project: ix.key('authority'),
    state: JOB_STATE.queued,
    timeEnd: 0n,
    timeStart: 0n,
    timeout: args.timeout as bigint,
  };
}

function newRun(ix: AnchorInstruction, job: PublicKey, node: PublicKey): RunAccount {
  return { job, node, payer: ix.key('payer'), state: 0, time: ix.ctx.clock.unixTimestamp };
}

/** list/assign: the deposit leaves ATA(payer) unless the market is free. */
function takeDeposit(ix: AnchorInstruction, market: MarketAccount, program: JobsProgram, timeout: bigint): void {
  ix.require(ix.key('vault').equals(market.vault), 'InvalidVault', 'vault');
  if (market.jobPrice === 0n) return;
  ix.require(ix.key('user').equals(program.ata(ix.key('payer'))), 'InvalidATA', 'user');
  ix.transfer('user', 'vault', ix.key('payer'), checkedAmount(market.jobPrice, timeout, 'deposit'));
}

/** delist/end/finish refund into, and extend charges from, exactly ATA(job.payer) when money moves. */
function requirePayerAta(ix: AnchorInstruction, program: JobsProgram, job: JobAccount, slot: string): void {
  if (job.price > 0n) ix.require(ix.key(slot).equals(program.ata(job.payer)), 'InvalidATA', slot);
}

/** finish/end: pay the node for the time it ran, refund the rest of the deposit. */
function settle(ix: AnchorInstruction, job: JobAccount, run: RunAccount, market: MarketAccount, program: JobsProgram): void {
  ix.require(ix.key('vault').equals(market.vault), 'InvalidVault', 'vault');
  requirePayerAta(ix, program, job, 'deposit');
  const now = ix.ctx.clock.unixTimestamp;
  // A free job moves nothing, so its (unchecked) timeout never goes through the conversion.
  const deposit = job.price > 0n ? checkedAmount(job.price, job.timeout, 'deposit') : 0n;
  const earned = jobCost(job.price, now - run.time, job.timeout);
  ix.transfer('vault', 'user', market.vault, earned, true);
  ix.transfer('vault', 'deposit', market.vault, deposit - earned, true);
  job.state = JOB_STATE.done;
  job.node = run.node;
  job.timeStart = run.time;
  job.timeEnd = now;
}

function loadJobMarket(ix: AnchorInstruction, job: JobAccount): MarketAccount {
  ix.require(ix.key('market').equals(job.market), 'InvalidMarketAccount', 'market');
  return ix.load('market', 'MarketAccount');
}

function loadJobRun(ix: AnchorInstruction): RunAccount {
  const run = ix.load('run', 'RunAccount');
  ix.require(run.job.equals(ix.key('job')), 'InvalidJobAccount', 'run');
  return run;
}

/** work/claim: the node's stake and (for gated markets) its access NFT. */
function checkNodeEligibility(ix: AnchorInstruction, market: MarketAccount, program: JobsProgram): void {
  const node = ix.key('authority');
  const stake = ix.load('stake', 'StakeAccount', program.network.stakingProgram);
  // The localnet's staking program creates stakes only at their PDA, so a stake at another
  // address is always someone else's: both cases are the program's has_one failure.
  ix.require(stake.authority.equals(node) && ix.key('stake').equals(program.stakeOf(node)), 'Unauthorized', 'stake');
  ix.require(stake.xnos >= market.nodeXnosMinimum, 'NodeNotEnoughStake', 'stake');
  if (!market.nodeAccessKey.equals(OPEN_MARKET_ACCESS_KEY)) {
    const nft = ix.tokenAccount('nft');
    ix.require(nft.owner.equals(node), 'NodeNftWrongOwner', 'nft');
    ix.require(nft.amount >= 1n, 'NodeNftInvalidAmount', 'nft');
    ix.require(ix.key('metadata').equals(metaplexMetadata(nft.mint)), 'NodeNftWrongMetadata', 'metadata');
    // No Metaplex metadata exists on the localnet, so a verified collection is never found.
    throw ix.failure('NodeKeyInvalidCollection', 'metadata');
  }
}

const HANDLERS: Record<JobsInstructionName, Handler> = {
  open(ix, args, program) {
    ix.require(ix.key('mint').equals(program.network.nosMint), 'InvalidMint', 'mint');
    ix.require(ix.key('vault').equals(program.vaultOf(ix.key('market'))[0]), 'ConstraintSeeds', 'vault');
    ix.createSelfOwnedTokenAccount('vault', program.network.nosMint, 'authority');
    ix.create('market', 'MarketAccount', 'authority', {
      authority: ix.key('authority'),
      jobExpiration: args.jobExpiration as bigint,
      jobPrice: args.jobPrice as bigint,
      jobTimeout: args.jobTimeout as bigint,
      jobType: args.jobType as number,
      vault: ix.key('vault'),
      vaultBump: program.vaultOf(ix.key('market'))[1],
      nodeAccessKey: ix.key('accessKey'),
      nodeXnosMinimum: args.nodeXnosMinimum as bigint,
      queueType: QUEUE_TYPE.empty,
      queue: [],
    });
  },

  update(ix, args) {
    const market = ix.load('market', 'MarketAccount');
    ix.require(ix.key('authority').equals(market.authority), 'Unauthorized', 'authority');
    market.jobExpiration = args.jobExpiration as bigint;
    market.jobPrice = args.jobPrice as bigint;
    market.jobType = args.jobType as number;
    market.nodeXnosMinimum = args.nodeStakeMinimum as bigint;
    market.jobTimeout = args.jobTimeout as bigint;
    market.nodeAccessKey = ix.key('accessKey');
    ix.store('market', 'MarketAccount', market);
  },

  close(ix) {
    const market = ix.load('market', 'MarketAccount');
    ix.require(ix.key('authority').equals(market.authority), 'Unauthorized', 'authority');
    ix.require(ix.key('vault').equals(market.vault), 'InvalidVault', 'vault');
    ix.transfer('vault', 'user', market.vault, ix.tokenAccount('vault').amount, true);
    ix.closeTokenAccount('vault', ix.key('authority'), market.vault);
    ix.close('market', 'authority');
  },

  list(ix, args, program) {
    const market = ix.load('market', 'MarketAccount');
    const run = ix.ctx.get(ix.key('run'));
    ix.require(run === undefined || (run.lamports === 0n && run.data.length === 0), 'LamportsNonNull', 'run');
    const job = newJob(ix, market, args);
    if (market.queueType === QUEUE_TYPE.node) {
      ix.create('run', 'RunAccount', 'payer', newRun(ix, ix.key('job'), popFromQueue(market)));
    } else {
      appendToQueue(market, ix.key('job'), QUEUE_TYPE.job);
    }
    ix.create('job', 'JobAccount', 'payer', job);
    ix.store('market', 'MarketAccount', market);
    takeDeposit(ix, market, program, args.timeout as bigint);
  },

  assign(ix, args, program) {
    const market = ix.load('market', 'MarketAccount');
    ix.require(market.queueType === QUEUE_TYPE.node, 'MarketInWrongState', 'market');
    ix.require(removeFromQueue(market, ix.key('node')), 'NodeQueueDoesNotMatch', 'node');
    ix.create('job', 'JobAccount', 'payer', newJob(ix, market, args));
    ix.create('run', 'RunAccount', 'payer', newRun(ix, ix.key('job'), ix.key('node')));
    ix.store('market', 'MarketAccount', market);
    takeDeposit(ix, market, program, args.timeout as bigint);
  },

  delist(ix, _args, program) {
    const job = ix.load('job', 'JobAccount');
    ix.require(job.state === JOB_STATE.queued, 'JobInWrongState', 'job');
    ix.require(ix.key('authority').equals(job.project), 'Unauthorized', 'authority');
    ix.require(ix.key('payer').equals(job.payer), 'InvalidPayer', 'payer');
    const market = loadJobMarket(ix, job);
    ix.require(ix.key('vault').equals(market.vault), 'InvalidVault', 'vault');
    ix.require(market.queueType === QUEUE_TYPE.job, 'MarketInWrongState', 'market');
    ix.require(removeFromQueue(market, ix.key('job')), 'NotInMarketQueue', 'job');
    requirePayerAta(ix, program, job, 'deposit');
    ix.store('market', 'MarketAccount', market);
    ix.transfer('vault', 'deposit', market.vault, job.price * job.timeout, true);
    ix.close('job', 'payer');
  },

  extend(ix, args, program) {
    const job = ix.load('job', 'JobAccount');
    ix.require(job.state === JOB_STATE.queued, 'JobInWrongState', 'job');
    ix.require(ix.key('authority').equals(job.project), 'Unauthorized', 'authority');
    const market = loadJobMarket(ix, job);
    ix.require(ix.key('vault').equals(market.vault), 'InvalidVault', 'vault');
    const timeout = args.timeout as bigint;
    ix.require(timeout > job.timeout, 'JobTimeoutNotGreater');
    if (job.price > 0n) {
      ix.require(ix.key('payer').equals(job.payer), 'InvalidPayer', 'payer');
      requirePayerAta(ix, program, job, 'user');
      ix.transfer('user', 'vault', job.payer, checkedAmount(job.price, timeout - job.timeout, 'extension'));
    }
    job.timeout = timeout;
    ix.store('job', 'JobAccount', job);
  },

  end(ix, _args, program) {
    const job = ix.load('job', 'JobAccount');
    ix.require(ix.key('authority').equals(job.project), 'Unauthorized', 'authority');
    const run = loadJobRun(ix);
    ix.require(ix.key('payer').equals(run.payer), 'InvalidPayer', 'payer');
    if (job.price > 0n) ix.require(ix.key('user').equals(program.ata(run.node)), 'InvalidATA', 'user');
    const market = loadJobMarket(ix, job);
    settle(ix, job, run, market, program);
    ix.store('job', 'JobAccount', job);
    ix.close('run', 'payer');
  },

  recover(ix) {
    const job = ix.load('job', 'JobAccount');
    ix.require(job.state === JOB_STATE.stopped, 'JobInWrongState', 'job');
    ix.require(ix.key('authority').equals(job.project), 'Unauthorized', 'authority');
    ix.require(ix.key('payer').equals(job.payer), 'InvalidPayer', 'payer');
    const market = loadJobMarket(ix, job);
    ix.require(ix.key('vault').equals(market.vault), 'InvalidVault', 'vault');
    ix.transfer('vault', 'user', market.vault, job.price * job.timeout, true);
    ix.close('job', 'payer');
  },

  work(ix, _args, program) {
    const market = ix.load('market', 'MarketAccount');
    checkNodeEligibility(ix, market, program);
    const node = ix.key('authority');
    if (market.queueType === QUEUE_TYPE.job) {
      ix.create('run', 'RunAccount', 'payer', newRun(ix, popFromQueue(market), node));
    } else {
      ix.require(!market.queue.some((entry) => entry.equals(node)), 'NodeAlreadyQueued', 'authority');
      appendToQueue(market, node, QUEUE_TYPE.node);
    }
    ix.store('market', 'MarketAccount', market);
  },

  stop(ix) {
    const market = ix.load('market', 'MarketAccount');
    const signer = ix.key('authority');
    ix.require(signer.equals(ix.key('node')) || signer.equals(market.authority), 'Unauthorized', 'authority');
    ix.require(market.queueType === QUEUE_TYPE.node, 'MarketInWrongState', 'market');
    ix.require(removeFromQueue(market, ix.key('node')), 'NotInMarketQueue', 'node');
    ix.store('market', 'MarketAccount', market);
  },

  claim(ix, _args, program) {
    const job = ix.load('job', 'JobAccount');
    ix.require(job.state === JOB_STATE.stopped, 'JobInWrongState', 'job');
    const market = loadJobMarket(ix, job);
    checkNodeEligibility(ix, market, program);
    // The job keeps state Stopped while re-run; clients see it running because a run exists.
    ix.create('run', 'RunAccount', 'payer', newRun(ix, ix.key('job'), ix.key('authority')));
  },

  finish(ix, args, program) {
    const result = args.ipfsResult as Uint8Array;
    ix.require(
      result.some((byte) => byte !== 0),
      'JobResultNull',
    );
    const job = ix.load('job', 'JobAccount');
    const run = loadJobRun(ix);
    ix.require(ix.key('authority').equals(run.node), 'Unauthorized', 'authority');
    ix.require(ix.key('payerRun').equals(run.payer), 'InvalidPayer', 'payerRun');
    ix.require(ix.key('payerJob').equals(job.payer), 'InvalidPayer', 'payerJob');
    const market = loadJobMarket(ix, job);
    settle(ix, job, run, market, program);
    job.ipfsResult = result;
    ix.store('job', 'JobAccount', job);
    ix.close('run', 'payerRun');
  },

  complete(ix, args) {
    const result = args.ipfsResult as Uint8Array;
    ix.require(
      result.some((byte) => byte !== 0),
      'JobResultNull',
    );
    const job = ix.load('job', 'JobAccount');
    ix.require(job.state === JOB_STATE.done, 'JobInWrongState', 'job');
    ix.require(ix.key('authority').equals(job.node), 'Unauthorized', 'authority');
    ix.require(
      job.ipfsResult.every((byte) => byte === 0),
      'JobResultsAlreadySet',
      'job',
    );
    job.ipfsResult = result;
    ix.store('job', 'JobAccount', job);
  },

  quit(ix) {
    const job = ix.load('job', 'JobAccount');
    const run = loadJobRun(ix);
    ix.require(ix.key('authority').equals(run.node), 'Unauthorized', 'authority');
    ix.require(ix.key('payer').equals(run.payer), 'InvalidPayer', 'payer');
    job.state = JOB_STATE.stopped;
    ix.store('job', 'JobAccount', job);
    ix.close('run', 'payer');
  },

  clean(ix) {
    const job = ix.load('job', 'JobAccount');
    ix.require(job.state === JOB_STATE.done, 'JobInWrongState', 'job');
    ix.require(ix.key('payer').equals(job.payer), 'InvalidPayer', 'payer');
    // As in the program, the market passed is not checked against the job's market.
    const market = ix.load('market', 'MarketAccount');
    ix.require(market.jobExpiration < ix.ctx.clock.unixTimestamp - job.timeEnd, 'JobNotExpired', 'job');
    ix.close('job', 'payer');
  },
};

export class JobsProgram implements LocalProgram {
  readonly programId: PublicKey;
  readonly name = 'nosana-jobs';
  readonly network: NosanaNetwork;

  constructor(network: NosanaNetwork) {
    this.network = network;
    this.programId = network.jobsProgram;
  }

  execute(ctx: ProgramContext): void {
    const decoded = decodeJobsInstruction(ctx.data);
    if (decoded === undefined) {
      throw new ProgramFailure('InstructionFallbackNotFound', 101, 'the instruction discriminator matches no jobs-program instruction');
    }
    const name = decoded.name as JobsInstructionName;
    logInstruction(ctx, name);
    ctx.consume(COMPUTE_UNITS[name]);
    const ix = new AnchorInstruction(ctx, JOBS_INSTRUCTIONS[name].accounts, ERRORS);
    HANDLERS[name](ix, decoded.args, this);
  }

  ata(owner: PublicKey): PublicKey {
    return nosTokenAccount(this.network, owner);
  }

  vaultOf(market: PublicKey): [PublicKey, number] {
    return marketVault(this.network, market);
  }

  stakeOf(node: PublicKey): PublicKey {
    return stakeAccount(this.network, node)[0];
  }
}
