// The instructions of each operation a poster or a node performs, with every account derived the
// way the program checks it. Pure functions: they read nothing from the chain, the caller passes
// what it already knows (the market account, the job account, the run account).
import { createAssociatedTokenAccountIdempotentInstruction } from '@solana/spl-token';
import type { PublicKey, TransactionInstruction } from '@solana/web3.js';
import type { JobAccount, MarketAccount, RunAccount } from './accounts.ts';
import {
  OPEN_MARKET_ACCESS_KEY,
  SYSTEM_PROGRAM_ID,
  SYSVAR_RENT_PUBKEY,
  TOKEN_PROGRAM_ID,
  associatedTokenAccount,
  marketVault,
  metaplexMetadata,
  nosTokenAccount,
  rewardsReflection,
  rewardsVault,
  stakeAccount,
  stakeVault,
} from './addresses.ts';
import type { NosanaNetwork } from './addresses.ts';
import { jobsInstruction, stakeInstruction } from './instructions.ts';

/** Creates `owner`'s NOS token account if it does not exist yet (harmless when it does). */
export function ensureNosAccount(network: NosanaNetwork, payer: PublicKey, owner: PublicKey): TransactionInstruction {
  return createAssociatedTokenAccountIdempotentInstruction(payer, nosTokenAccount(network, owner), owner, network.nosMint);
}

function rewardsAccounts(network: NosanaNetwork) {
  return {
    rewardsReflection: rewardsReflection(network),
    rewardsVault: rewardsVault(network),
    rewardsProgram: network.rewardsProgram,
    tokenProgram: TOKEN_PROGRAM_ID,
  };
}

export interface ListParams {
  network: NosanaNetwork;
  market: PublicKey;
  marketAccount: Pick<MarketAccount, 'vault' | 'jobPrice'>;
  job: PublicKey;
  run: PublicKey;
  /** Pays rent and the deposit, and gets refunds. */
  payer: PublicKey;
  /** Becomes the job's project: the key that may delist, extend, end and recover it. */
  authority: PublicKey;
  ipfsJob: Uint8Array;
  timeout: bigint;
  /** `assign` to a node waiting in the market's queue instead of `list`. */
  node?: PublicKey;
}

/**
 * `list` (or `assign`). The deposit leaves the payer's NOS account; the Anchor-1.0 program refuses
 * the same account in two writable slots, so even a free market gets the payer's NOS account
 * (created first when needed), never the vault.
 */
export function postInstructions(params: ListParams): TransactionInstruction[] {
  const { network } = params;
  const accounts = {
    job: params.job,
    market: params.market,
    run: params.run,
    user: nosTokenAccount(network, params.payer),
    vault: params.marketAccount.vault,
    payer: params.payer,
    authority: params.authority,
    systemProgram: SYSTEM_PROGRAM_ID,
    ...rewardsAccounts(network),
  };
  const args = { ipfsJob: params.ipfsJob, timeout: params.timeout };
  const post =
    params.node === undefined
      ? jobsInstruction(network, 'list', accounts, args)
      : jobsInstruction(network, 'assign', { ...accounts, node: params.node }, args);
  const setup = params.marketAccount.jobPrice === 0n ? [ensureNosAccount(network, params.payer, params.payer)] : [];
  return [...setup, post];
}

export function delistInstructions(
  network: NosanaNetwork,
  jobAddress: PublicKey,
  job: JobAccount,
  vault: PublicKey,
): TransactionInstruction[] {
  return [
    ensureNosAccount(network, job.project, job.payer),
    jobsInstruction(
      network,
      'delist',
      {
        job: jobAddress,
        market: job.market,
        deposit: nosTokenAccount(network, job.payer),
        payer: job.payer,
        vault,
        tokenProgram: TOKEN_PROGRAM_ID,
        authority: job.project,
      },
      {},
    ),
  ];
}

export function extendInstructions(
  network: NosanaNetwork,
  jobAddress: PublicKey,
  job: JobAccount,
  vault: PublicKey,
  newTimeout: bigint,
): TransactionInstruction[] {
  return [
    jobsInstruction(
      network,
      'extend',
      {
        job: jobAddress,
        market: job.market,
        user: nosTokenAccount(network, job.payer),
        vault,
        authority: job.project,
        payer: job.payer,
        ...rewardsAccounts(network),
      },
      { timeout: newTimeout },
    ),
  ];
}

/** `end` a running job: the node is paid for the time it ran (its NOS account is created if missing). */
export function endInstructions(
  network: NosanaNetwork,
  jobAddress: PublicKey,
  job: JobAccount,
  runAddress: PublicKey,
  run: RunAccount,
  vault: PublicKey,
): TransactionInstruction[] {
  return [
    ensureNosAccount(network, job.project, run.node),
    ensureNosAccount(network, job.project, job.payer),
    jobsInstruction(
      network,
      'end',
      {
        job: jobAddress,
        market: job.market,
        run: runAddress,
        deposit: nosTokenAccount(network, job.payer),
        user: nosTokenAccount(network, run.node),
        vault,
        payer: run.payer,
        authority: job.project,
        tokenProgram: TOKEN_PROGRAM_ID,
      },
      {},
    ),
  ];
}

export function recoverInstructions(
  network: NosanaNetwork,
  jobAddress: PublicKey,
  job: JobAccount,
  vault: PublicKey,
): TransactionInstruction[] {
  return [
    ensureNosAccount(network, job.project, job.payer),
    jobsInstruction(
      network,
      'recover',
      {
        job: jobAddress,
        market: job.market,
        vault,
        user: nosTokenAccount(network, job.payer),
        payer: job.payer,
        authority: job.project,
        tokenProgram: TOKEN_PROGRAM_ID,
      },
      {},
    ),
  ];
}

export function cleanInstructions(network: NosanaNetwork, jobAddress: PublicKey, job: JobAccount): TransactionInstruction[] {
  return [jobsInstruction(network, 'clean', { job: jobAddress, market: job.market, payer: job.payer }, {})];
}

/** The accounts `work` and `claim` check: the node's stake, and its NFT for gated markets. */
function nodeAccessAccounts(network: NosanaNetwork, node: PublicKey, market: Pick<MarketAccount, 'nodeAccessKey'>, nftMint?: PublicKey) {
  const stake = stakeAccount(network, node)[0];
  if (market.nodeAccessKey.equals(OPEN_MARKET_ACCESS_KEY)) {
    // Open markets accept any valid token account as `nft`; Nosana's node passes its NOS account.
    return { stake, nft: nosTokenAccount(network, node), metadata: OPEN_MARKET_ACCESS_KEY };
  }
  if (nftMint === undefined) throw new Error("this market requires an access-key NFT: pass the mint of the node's NFT");
  return { stake, nft: associatedTokenAccount(nftMint, node), metadata: metaplexMetadata(nftMint) };
}

export interface WorkParams {
  network: NosanaNetwork;
  market: PublicKey;
  marketAccount: Pick<MarketAccount, 'nodeAccessKey'>;
  node: PublicKey;
  run: PublicKey;
  nftMint?: PublicKey;
}

/** `work`: take the first queued job, or join the market's queue. */
export function workInstructions(params: WorkParams): TransactionInstruction[] {
  const { network, node } = params;
  return [
    ensureNosAccount(network, node, node),
    jobsInstruction(
      network,
      'work',
      {
        run: params.run,
        market: params.market,
        payer: node,
        ...nodeAccessAccounts(network, node, params.marketAccount, params.nftMint),
        authority: node,
        systemProgram: SYSTEM_PROGRAM_ID,
      },
      {},
    ),
  ];
}

/** `stop`: take a node out of a market's queue; signed by the node itself or the market's authority. */
export function leaveQueueInstructions(
  network: NosanaNetwork,
  market: PublicKey,
  node: PublicKey,
  authority: PublicKey = node,
): TransactionInstruction[] {
  return [jobsInstruction(network, 'stop', { market, node, authority }, {})];
}

export interface FinishParams {
  network: NosanaNetwork;
  jobAddress: PublicKey;
  job: JobAccount;
  runAddress: PublicKey;
  run: RunAccount;
  vault: PublicKey;
  ipfsResult: Uint8Array;
  /** The NOS token account the node is paid into; default: the node's own. */
  payout?: PublicKey;
  /**
   * Create the poster's NOS account (the refund deposit) first, at the node's expense: true only
   * when the caller has just read it and found it missing. Default false.
   */
  createDeposit?: boolean;
}

/**
 * `finish`: the node posts its result and is paid into `payout` (default: its own NOS account).
 * The node's own account is created first when it is the payout and missing (another payout
 * account must already exist). The poster's account, which gets the refund, is created only when
 * asked: Nosana's node always adds the idempotent create, but that instruction fails when the
 * account exists with another token owner (classic SPL Token lets the owner be changed), which
 * would make every finish of the poster's jobs fail and leave the node unpaid.
 */
export function finishInstructions(params: FinishParams): TransactionInstruction[] {
  const { network, job, run } = params;
  const ownAccount = nosTokenAccount(network, run.node);
  const payout = params.payout ?? ownAccount;
  return [
    ...(payout.equals(ownAccount) ? [ensureNosAccount(network, run.node, run.node)] : []),
    ...(params.createDeposit === true ? [ensureNosAccount(network, run.node, job.payer)] : []),
    jobsInstruction(
      network,
      'finish',
      {
        job: params.jobAddress,
        run: params.runAddress,
        market: job.market,
        vault: params.vault,
        deposit: nosTokenAccount(network, job.payer),
        user: payout,
        payerRun: run.payer,
        payerJob: job.payer,
        authority: run.node,
        tokenProgram: TOKEN_PROGRAM_ID,
      },
      { ipfsResult: params.ipfsResult },
    ),
  ];
}

export function completeInstructions(
  network: NosanaNetwork,
  jobAddress: PublicKey,
  node: PublicKey,
  ipfsResult: Uint8Array,
): TransactionInstruction[] {
  return [jobsInstruction(network, 'complete', { job: jobAddress, authority: node }, { ipfsResult })];
}

export function quitInstructions(
  network: NosanaNetwork,
  jobAddress: PublicKey,
  runAddress: PublicKey,
  run: RunAccount,
): TransactionInstruction[] {
  return [jobsInstruction(network, 'quit', { job: jobAddress, run: runAddress, payer: run.payer, authority: run.node }, {})];
}

/** The zero stake a node needs before `work` (Nosana's node creates the same, locked 14 days). */
export function createStakeInstructions(
  network: NosanaNetwork,
  node: PublicKey,
  amount = 0n,
  durationSeconds = 14n * 86_400n,
): TransactionInstruction[] {
  return [
    ensureNosAccount(network, node, node),
    stakeInstruction(
      network,
      {
        mint: network.nosMint,
        user: nosTokenAccount(network, node),
        vault: stakeVault(network, node)[0],
        stake: stakeAccount(network, node)[0],
        authority: node,
        systemProgram: SYSTEM_PROGRAM_ID,
        tokenProgram: TOKEN_PROGRAM_ID,
        rent: SYSVAR_RENT_PUBKEY,
      },
      { amount, duration: durationSeconds },
    ),
  ];
}

export interface OpenMarketParams {
  network: NosanaNetwork;
  market: PublicKey;
  authority: PublicKey;
  jobPrice: bigint;
  jobTimeout: bigint;
  jobExpiration: bigint;
  jobType?: number;
  nodeXnosMinimum?: bigint;
  accessKey?: PublicKey;
}

export function openMarketInstructions(params: OpenMarketParams): TransactionInstruction[] {
  const { network } = params;
  return [
    jobsInstruction(
      network,
      'open',
      {
        mint: network.nosMint,
        market: params.market,
        vault: marketVault(network, params.market)[0],
        authority: params.authority,
        accessKey: params.accessKey ?? OPEN_MARKET_ACCESS_KEY,
        rent: SYSVAR_RENT_PUBKEY,
        systemProgram: SYSTEM_PROGRAM_ID,
        tokenProgram: TOKEN_PROGRAM_ID,
      },
      {
        jobExpiration: params.jobExpiration,
        jobPrice: params.jobPrice,
        jobTimeout: params.jobTimeout,
        jobType: params.jobType ?? 4,
        nodeXnosMinimum: params.nodeXnosMinimum ?? 0n,
      },
    ),
  ];
}
