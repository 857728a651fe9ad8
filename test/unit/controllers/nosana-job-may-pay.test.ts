// "May we pay this?" for each payment a NosanaJob makes (a post, an extension, a job that landed
// at a higher price): one answer shape, a refusal naming the reason, what is wrong and when to
// look again, or none.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair } from '@solana/web3.js';
import { JOB_TYPE_DISABLED, MARKET_QUEUE_CAPACITY, QUEUE_TYPE } from '../../../src/chain/accounts.ts';
import type { MarketAccount } from '../../../src/chain/accounts.ts';
import { LAMPORTS_PER_SOL } from '../../../src/chain/money.ts';
import { POST_LAMPORTS_NEEDED, mayPay } from '../../../src/controllers/nosana-job/may-pay.ts';
import type { Payment } from '../../../src/controllers/nosana-job/may-pay.ts';
import { REFUSAL_BACKOFF, retryOf } from '../../../src/controllers/nosana-job/refusal.ts';
import type { Spend } from '../../../src/controllers/nosana-job/spend-ledger.ts';
import { ItemBackoff } from '../../../src/runtime/work-queue.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const hoursAgo = (hours: number): Date => new Date(NOW.getTime() - hours * 3_600_000);
const WALLET = Keypair.generate().publicKey.toBase58();
const MARKET = Keypair.generate().publicKey.toBase58();

function marketAccount(overrides: Partial<MarketAccount> = {}): MarketAccount {
  const key = Keypair.generate().publicKey;
  return {
    authority: key,
    jobExpiration: 86_400n,
    jobPrice: 100n,
    jobTimeout: 3_600n,
    jobType: 0,
    vault: key,
    vaultBump: 255,
    nodeAccessKey: key,
    nodeXnosMinimum: 0n,
    queueType: QUEUE_TYPE.empty,
    queue: [],
    ...overrides,
  };
}

type PostPayment = Extract<Payment, { kind: 'post' }>;

function post(overrides: Partial<PostPayment> = {}): PostPayment {
  return {
    kind: 'post',
    market: marketAccount(),
    marketAddress: MARKET,
    toNode: false,
    price: 100n,
    timeout: 3_600n,
    charge: 360_000n,
    wallet: WALLET,
    balances: { lamports: LAMPORTS_PER_SOL, nos: 10n ** 9n },
    ...overrides,
  };
}

const fullQueue = Array.from({ length: MARKET_QUEUE_CAPACITY }, () => Keypair.generate().publicKey);

describe('may we pay this post?', () => {
  const rows: { reason: string; payment: PostPayment; refused?: string; retry?: unknown }[] = [
    { reason: 'a market that will queue it, within budget, funds and limit: yes', payment: post() },
    {
      reason: 'a disabled market keeps the deposit without queueing: refused, rechecked now and then',
      payment: post({ market: marketAccount({ jobType: JOB_TYPE_DISABLED }) }),
      refused: 'MarketDisabled',
      retry: 'recheck',
    },
    {
      reason: 'a job queue at capacity: refused until nodes take some',
      payment: post({ market: marketAccount({ queueType: QUEUE_TYPE.job, queue: fullQueue }) }),
      refused: 'MarketQueueFull',
      retry: { afterMs: 30_000 },
    },
    {
      reason: 'one place left in the queue: yes',
      payment: post({ market: marketAccount({ queueType: QUEUE_TYPE.job, queue: fullQueue.slice(1) }) }),
    },
    {
      reason: 'a post to a named node does not enter the queue',
      payment: post({ toNode: true, market: marketAccount({ queueType: QUEUE_TYPE.job, queue: fullQueue }) }),
    },
    {
      reason: 'a queue of nodes takes jobs at once',
      payment: post({ market: marketAccount({ queueType: QUEUE_TYPE.node, queue: fullQueue }) }),
    },
    { reason: 'a charge over spec.maxCost', payment: post({ maxCost: 300_000n }), refused: 'OverBudget', retry: 'recheck' },
    { reason: 'a charge equal to spec.maxCost: yes', payment: post({ maxCost: 360_000n }) },
    {
      reason: 'short of SOL for rent and fees',
      payment: post({ balances: { lamports: 1_000n, nos: 10n ** 9n } }),
      refused: 'InsufficientFunds',
      retry: 'backoff',
    },
    {
      reason: 'short of NOS for the deposit',
      payment: post({ balances: { lamports: LAMPORTS_PER_SOL, nos: 5n } }),
      refused: 'InsufficientFunds',
      retry: 'backoff',
    },
    {
      reason: 'over the daily spend limit: refused until it fits again',
      payment: post({ charge: 400n, daily: { limit: 1_000n, spends: [{ at: hoursAgo(2), amount: 700n }], market: MARKET } }),
      refused: 'SpendLimitReached',
      retry: { afterMs: 22 * 3_600_000 + 1_000 },
    },
  ];
  for (const row of rows) {
    test(row.reason, () => {
      const answer = mayPay(row.payment, NOW);
      assert.equal(answer.refusal?.reason, row.refused);
      if (row.retry !== undefined) assert.deepEqual(answer.refusal?.retry, row.retry);
    });
  }

  test('the refusals say what is wrong in NOS and SOL', () => {
    assert.match(mayPay(post({ maxCost: 300_000n }), NOW).refusal!.message, /deposit of 0\.36 NOS .*exceeds spec\.maxCost of 0\.3 NOS/);
    const poor = mayPay(post({ charge: 100n, balances: { lamports: 1_000n, nos: 5n } }), NOW);
    assert.match(
      poor.refusal!.message,
      /0\.000001 SOL where a post needs up to 0\.00659324 SOL.* and 0\.000005 NOS where the deposit is 0\.0001 NOS/,
    );
    assert.equal(POST_LAMPORTS_NEEDED, 6_593_240n);
  });

  test('the balance: low when it pays this post but not another like it, the LowBalance condition says so', () => {
    const once = mayPay(post({ charge: 100n, balances: { lamports: LAMPORTS_PER_SOL, nos: 150n } }), NOW);
    assert.deepEqual([once.refusal, once.balance?.low], [undefined, true]);
    const plenty = mayPay(post({ charge: 100n, balances: { lamports: LAMPORTS_PER_SOL, nos: 1_000n } }), NOW);
    assert.deepEqual([plenty.refusal, plenty.balance?.low], [undefined, false]);
    assert.equal(mayPay(post({ balances: { lamports: 1n, nos: 0n } }), NOW).balance?.low, true, 'a refused wallet is low too');
  });

  test('the daily limit counts the rolling day only, and says when the payment fits again', () => {
    const spends: Spend[] = [
      { at: hoursAgo(30), amount: 900n },
      { at: hoursAgo(20), amount: 400n },
      { at: hoursAgo(2), amount: 300n },
    ];
    const daily = { limit: 1_000n, spends, market: 'M' };
    assert.equal(mayPay(post({ charge: 300n, daily }), NOW).refusal, undefined, 'the 30 h old spend is outside the window');
    const refused = mayPay(post({ charge: 400n, daily }), NOW).refusal;
    // 700 spent + 400 > 1000; once the 20 h old spend leaves the window (in 4 h), 300 + 400 fits.
    assert.deepEqual(refused?.retry, { afterMs: 4 * 3_600_000 + 1_000 });
    assert.match(
      refused!.message,
      /paid 0\.0007 NOS .* deposit of 0\.0004 NOS would pass its dailySpendLimit of 0\.001 NOS; it fits again at 2026-06-01T16:00:00\.000Z/,
    );
    const alone = mayPay(post({ charge: 1_001n, daily: { limit: 1_000n, spends: [], market: 'M' } }), NOW).refusal;
    assert.equal(alone?.retry, 'recheck', 'a deposit over the limit on its own never fits');
  });
});

describe('may we pay this extension?', () => {
  const extension = (overrides: Partial<Extract<Payment, { kind: 'extend' }>> = {}): Payment => ({
    kind: 'extend',
    job: 'J',
    fromSeconds: 600n,
    toSeconds: 1_200n,
    total: 120_000n,
    charge: 60_000n,
    ...overrides,
  });

  test('the new total within spec.maxCost and the added charge within the limit: yes', () => {
    assert.deepEqual(mayPay(extension({ maxCost: 120_000n, daily: { limit: 60_000n, spends: [], market: 'M' } }), NOW), {});
  });

  test('a total over spec.maxCost waits for the spec to change, naming both', () => {
    const refused = mayPay(extension({ maxCost: 100_000n }), NOW).refusal;
    assert.equal(refused?.reason, 'OverBudget');
    assert.equal(refused?.retry, 'edit');
    assert.match(refused!.message, /from 600s to 1200s would make it cost up to 0\.12 NOS, more than spec\.maxCost of 0\.1 NOS/);
  });

  test('the added charge, not the total, counts against the daily limit', () => {
    const daily = { limit: 100_000n, spends: [{ at: hoursAgo(1), amount: 50_000n }], market: 'M' };
    const refused = mayPay(extension({ daily }), NOW).refusal;
    assert.equal(refused?.reason, 'SpendLimitReached');
    assert.match(refused!.message, /raising the timeout of job J .* waits: .* an extension of 0\.06 NOS would pass/);
    assert.equal(mayPay(extension({ charge: 50_000n, daily }), NOW).refusal, undefined);
  });
});

describe('may we keep this landed job?', () => {
  const landed = (charge: bigint, maxCost?: bigint): Payment => ({
    kind: 'landed',
    job: 'J',
    price: 200n,
    timeout: 3_600n,
    charge,
    ...(maxCost === undefined ? {} : { maxCost }),
  });

  test('a price that rose before the post landed takes the job over spec.maxCost: it is taken back', () => {
    const refused = mayPay(landed(720_000n, 400_000n), NOW).refusal;
    assert.equal(refused?.reason, 'PriceAboveMaxCost');
    assert.match(
      refused!.message,
      /job J landed at 0\.0002 NOS\/s, so its 3600s cost up to 0\.72 NOS, more than spec\.maxCost of 0\.4 NOS/,
    );
  });

  test('within spec.maxCost, or with no maxCost: kept', () => {
    assert.equal(mayPay(landed(400_000n, 400_000n), NOW).refusal, undefined);
    assert.equal(mayPay(landed(10n ** 12n), NOW).refusal, undefined);
  });
});

describe('when to look again after a refusal', () => {
  test('backoff waits per object from one second, doubling, and stops growing at five minutes', () => {
    assert.deepEqual(retryOf('backoff'), { backoff: true });
    assert.deepEqual(retryOf('edit'), {}, 'only an edit of the NosanaJob can fix it, and that wakes it');
    assert.deepEqual(retryOf('recheck'), { afterMs: 300_000 });
    assert.deepEqual(retryOf({ afterMs: 10 }), { afterMs: 1_000 }, 'never sooner than a second');
    const backoff = new ItemBackoff(REFUSAL_BACKOFF);
    const delays = [backoff.next('a'), backoff.next('a'), backoff.next('a'), backoff.next('b')];
    assert.deepEqual(delays, [1_000, 2_000, 4_000, 1_000]);
    for (let i = 0; i < 30; i += 1) backoff.next('a');
    assert.equal(backoff.next('a'), 300_000);
    backoff.reset('a');
    assert.equal(backoff.next('a'), 1_000);
  });
});
