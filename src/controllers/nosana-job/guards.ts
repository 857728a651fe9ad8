// The checks a post must pass before anything is pinned or paid: a market that will queue the job,
// a deposit within the job's budget, and a wallet that can pay for it. Pure functions over what
// was read, so each rule can be tested on its own.
import { ACCOUNT_SIZES, JOB_TYPE_DISABLED, MARKET_QUEUE_CAPACITY, QUEUE_TYPE } from '../../chain/accounts.ts';
import type { MarketAccount } from '../../chain/accounts.ts';
import type { Balances } from '../../chain/jobs-client.ts';
import { formatNos, formatSol } from '../../chain/money.ts';
import { refusal } from './refusal.ts';
import type { Refusal } from './refusal.ts';

// A full queue drains only as nodes take jobs; looking again every half minute is plenty.
const QUEUE_FULL_RETRY_MS = 30_000;

/**
 * Refuses a disabled market (job type 255: `list` takes the deposit without queueing the job, and
 * a job outside the queue cannot be delisted, so the money would be lost) and a job queue at its
 * capacity (the program would fail the post). A post to a named node does not enter the queue.
 */
export function marketRefusal(market: MarketAccount, address: string, toNode: boolean): Refusal | undefined {
  if (market.jobType === JOB_TYPE_DISABLED) {
    return refusal(
      'MarketDisabled',
      `market ${address} is disabled (job type ${JOB_TYPE_DISABLED}): the program would keep the deposit without queueing the job`,
      'recheck',
    );
  }
  if (!toNode && market.queueType === QUEUE_TYPE.job && market.queue.length >= MARKET_QUEUE_CAPACITY) {
    return refusal(
      'MarketQueueFull',
      `market ${address} has ${market.queue.length} jobs queued, its capacity; retrying when nodes have taken some`,
      { afterMs: QUEUE_FULL_RETRY_MS },
    );
  }
  return undefined;
}

/** Refuses a post whose listCharge (deposit plus any network fee) is above spec.maxCost. */
export function budgetRefusal(charge: bigint, maxCost: bigint | undefined, price: bigint, timeout: bigint): Refusal | undefined {
  if (maxCost === undefined || charge <= maxCost) return undefined;
  return refusal(
    'OverBudget',
    `the deposit of ${formatNos(charge)} NOS (${formatNos(price)} NOS/s × ${timeout}s, with any network fee) exceeds spec.maxCost of ${formatNos(maxCost)} NOS`,
    'recheck',
  );
}

// Solana's rent exemption: two years of 3480 lamports per byte, counting 128 bytes of metadata.
function rentExemptLamports(dataBytes: number): bigint {
  return (128n + BigInt(dataBytes)) * 3_480n * 2n;
}
const LAMPORTS_PER_SIGNATURE = 5_000n;
// The post is signed by the wallet and the new job and run keypairs.
const POST_SIGNATURES = 3n;
// The transaction sender's ceiling: 1.4 M compute units at up to 1 000 000 micro-lamports each.
const MAX_PRIORITY_FEE_LAMPORTS = 1_400_000n;
// A wallet (an account without data) may not be left between zero and its own rent minimum.
const WALLET_RENT_MINIMUM = rentExemptLamports(0);

/**
 * The most SOL a post can take from the wallet: rent for the job account and for a run account
 * (created at once when a node is waiting in the queue), the signature fees, the largest priority
 * fee the sender would bid, and the wallet's own rent minimum, which it must keep. Rent comes back
 * when the accounts close; this is about having it now. About 0.0066 SOL.
 */
export const POST_LAMPORTS_NEEDED =
  rentExemptLamports(ACCOUNT_SIZES.JobAccount) +
  rentExemptLamports(ACCOUNT_SIZES.RunAccount) +
  POST_SIGNATURES * LAMPORTS_PER_SIGNATURE +
  MAX_PRIORITY_FEE_LAMPORTS +
  WALLET_RENT_MINIMUM;

export interface FundsAssessment {
  /** Set when this post cannot be paid. */
  refusal?: Refusal;
  /** True when the balances will not cover the next post of the same size (or not even this one). */
  low: boolean;
  /** Says what is short, or that the wallet can pay. */
  message: string;
}

/** Whether the wallet can pay a post whose listCharge (deposit plus any network fee) is `charge`. */
export function assessFunds(balances: Balances, charge: bigint, wallet: string): FundsAssessment {
  const shortfalls: string[] = [];
  if (balances.lamports < POST_LAMPORTS_NEEDED)
    shortfalls.push(
      `${formatSol(balances.lamports)} SOL where a post needs up to ${formatSol(POST_LAMPORTS_NEEDED)} SOL for rent and fees`,
    );
  if (balances.nos < charge) shortfalls.push(`${formatNos(balances.nos)} NOS where the deposit is ${formatNos(charge)} NOS`);
  if (shortfalls.length > 0) {
    const message = `wallet ${wallet} holds ${shortfalls.join(' and ')}; retrying with backoff until it is funded`;
    return { refusal: refusal('InsufficientFunds', message, 'backoff'), low: true, message };
  }
  const nosAfter = balances.nos - charge;
  const solAfter = balances.lamports - POST_LAMPORTS_NEEDED;
  if (nosAfter < charge || solAfter < POST_LAMPORTS_NEEDED) {
    return {
      low: true,
      message: `wallet ${wallet} can pay this post but not another like it: ${formatNos(balances.nos)} NOS and ${formatSol(balances.lamports)} SOL before a deposit of ${formatNos(charge)} NOS`,
    };
  }
  return { low: false, message: `wallet ${wallet} holds ${formatNos(balances.nos)} NOS and ${formatSol(balances.lamports)} SOL` };
}
