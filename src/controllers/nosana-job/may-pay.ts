// "May we pay this?": the one place that answers it for every payment a NosanaJob makes: a post's
// deposit (the market will queue it, it fits spec.maxCost, the wallet can pay it, it fits the
// market's daily spend limit), an extension of its timeout (the new total fits spec.maxCost, the
// added charge fits the limit) and a post that landed at a price above what was checked (the job
// it created must fit spec.maxCost, or be taken back). Pure: the caller reads balances and the
// spend ledger, this decides. Every answer has the same shape, a Refusal naming the reason, what
// is wrong and when it is worth looking again, or none.
import { ACCOUNT_SIZES, JOB_TYPE_DISABLED, MARKET_QUEUE_CAPACITY, QUEUE_TYPE } from '../../chain/accounts.ts';
import type { MarketAccount } from '../../chain/accounts.ts';
import type { Balances } from '../../chain/jobs-client.ts';
import { formatNos, formatSol } from '../../chain/money.ts';
import { refusal } from './refusal.ts';
import type { Refusal } from './refusal.ts';
import { SPEND_WINDOW_MS } from './spend-ledger.ts';
import type { Spend } from './spend-ledger.ts';

// A full queue drains only as nodes take jobs; looking again every half minute is plenty.
const QUEUE_FULL_RETRY_MS = 30_000;

/** A market's dailySpendLimit and what the ledger says was paid into it. */
export interface DailyLimit {
  limit: bigint;
  spends: readonly Spend[];
  /** The market address, for messages. */
  market: string;
}

export type Payment =
  | {
      kind: 'post';
      market: MarketAccount;
      marketAddress: string;
      /** A post to a named node does not enter the queue. */
      toNode: boolean;
      price: bigint;
      timeout: bigint;
      /** listCharge: the deposit and any network fee. */
      charge: bigint;
      maxCost?: bigint;
      wallet: string;
      balances: Balances;
      daily?: DailyLimit;
    }
  | {
      kind: 'extend';
      job: string;
      fromSeconds: bigint;
      toSeconds: bigint;
      /** What the job costs in all at the new timeout (listCharge). */
      total: bigint;
      /** What the extension adds now. */
      charge: bigint;
      maxCost?: bigint;
      daily?: DailyLimit;
    }
  | {
      kind: 'landed';
      job: string;
      price: bigint;
      timeout: bigint;
      /** listCharge at the price the job landed at. */
      charge: bigint;
      maxCost?: bigint;
    };

export interface PaymentAnswer {
  /** Set when the payment may not be made. */
  refusal?: Refusal;
  /** Posts only: whether the wallet could pay another post like this one (the LowBalance condition). */
  balance?: { low: boolean; message: string };
}

export function mayPay(payment: Payment, now: Date): PaymentAnswer {
  switch (payment.kind) {
    case 'post':
      return mayPost(payment, now);
    case 'extend':
      return mayExtend(payment, now);
    case 'landed':
      return mayKeep(payment);
  }
}

function mayPost(payment: Extract<Payment, { kind: 'post' }>, now: Date): PaymentAnswer {
  const unsafe = marketRefusal(payment.market, payment.marketAddress, payment.toNode);
  if (unsafe !== undefined) return { refusal: unsafe };
  const { charge, maxCost, price, timeout } = payment;
  if (maxCost !== undefined && charge > maxCost) {
    return {
      refusal: refusal(
        'OverBudget',
        `the deposit of ${formatNos(charge)} NOS (${formatNos(price)} NOS/s × ${timeout}s, with any network fee) exceeds spec.maxCost of ${formatNos(maxCost)} NOS`,
        'recheck',
      ),
    };
  }
  const funds = assessFunds(payment.balances, charge, payment.wallet);
  const balance = { low: funds.low, message: funds.message };
  if (funds.refusal !== undefined) return { refusal: funds.refusal, balance };
  const overLimit = payment.daily === undefined ? undefined : spendLimitRefusal(payment.daily, charge, now, 'a deposit');
  return overLimit === undefined ? { balance } : { refusal: overLimit, balance };
}

function mayExtend(payment: Extract<Payment, { kind: 'extend' }>, now: Date): PaymentAnswer {
  const raising = `raising the timeout of job ${payment.job} from ${payment.fromSeconds}s to ${payment.toSeconds}s`;
  if (payment.maxCost !== undefined && payment.total > payment.maxCost) {
    return {
      refusal: refusal(
        'OverBudget',
        `${raising} would make it cost up to ${formatNos(payment.total)} NOS, more than spec.maxCost of ${formatNos(payment.maxCost)} NOS; raise spec.maxCost to allow it`,
        'edit',
      ),
    };
  }
  const overLimit = payment.daily === undefined ? undefined : spendLimitRefusal(payment.daily, payment.charge, now, 'an extension');
  return overLimit === undefined ? {} : { refusal: { ...overLimit, message: `${raising} waits: ${overLimit.message}` } };
}

function mayKeep(payment: Extract<Payment, { kind: 'landed' }>): PaymentAnswer {
  if (payment.maxCost === undefined || payment.charge <= payment.maxCost) return {};
  return {
    refusal: refusal(
      'PriceAboveMaxCost',
      `job ${payment.job} landed at ${formatNos(payment.price)} NOS/s, so its ${payment.timeout}s cost up to ${formatNos(payment.charge)} NOS, more than spec.maxCost of ${formatNos(payment.maxCost)} NOS (the market price rose before it landed)`,
      'edit',
    ),
  };
}

/**
 * Refuses a disabled market (job type 255: `list` takes the deposit without queueing the job, and
 * a job outside the queue cannot be delisted, so the money would be lost) and a job queue at its
 * capacity (the program would fail the post).
 */
function marketRefusal(market: MarketAccount, address: string, toNode: boolean): Refusal | undefined {
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

/** Whether the wallet can pay a post whose listCharge is `charge`, and whether it could pay another. */
function assessFunds(balances: Balances, charge: bigint, wallet: string): { refusal?: Refusal; low: boolean; message: string } {
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

/**
 * Refuses a payment that would take the rolling day's spend past the limit, saying when it would
 * fit. Refunds give nothing back: a delisted job was still paid for.
 */
function spendLimitRefusal(daily: DailyLimit, amount: bigint, now: Date, what: string): Refusal | undefined {
  const { limit, spends, market } = daily;
  const since = now.getTime() - SPEND_WINDOW_MS;
  const inWindow = spends.filter((spend) => spend.at.getTime() > since).sort((a, b) => a.at.getTime() - b.at.getTime());
  const spent = inWindow.reduce((sum, spend) => sum + spend.amount, 0n);
  if (spent + amount <= limit) return undefined;
  const summary = `this cluster's jobs paid ${formatNos(spent)} NOS into market ${market} in the last 24 h; ${what} of ${formatNos(amount)} NOS would pass its dailySpendLimit of ${formatNos(limit)} NOS`;
  if (amount > limit) return refusal('SpendLimitReached', `${summary}, and exceeds it on its own`, 'recheck');
  // It fits once enough of the oldest spends have left the window (it fits in an empty one).
  let remaining = spent;
  let retryAt = now;
  for (const spend of inWindow) {
    if (remaining + amount <= limit) break;
    remaining -= spend.amount;
    retryAt = new Date(spend.at.getTime() + SPEND_WINDOW_MS);
  }
  return refusal('SpendLimitReached', `${summary}; it fits again at ${retryAt.toISOString()}`, {
    afterMs: retryAt.getTime() - now.getTime() + 1_000,
  });
}
