// The spend ledger's own rules: what an entry replaces, what leaves the window, and that an
// unreadable ledger is an error rather than an empty one (an empty one would let every post through).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair } from '@solana/web3.js';
import {
  SPEND_LEDGER_DATA_KEY,
  asSpends,
  ledgerName,
  parseLedger,
  postEntryKey,
  withEntry,
} from '../../../src/controllers/nosana-job/spend-ledger.ts';
import type { LedgerEntry } from '../../../src/controllers/nosana-job/spend-ledger.ts';

const now = new Date('2026-06-01T12:00:00Z');
const hoursAgo = (hours: number): Date => new Date(now.getTime() - hours * 3_600_000);
const entry = (key: string, amount: bigint, at: Date, job = Keypair.generate().publicKey.toBase58()): LedgerEntry => ({
  key,
  job,
  amount,
  at,
});

describe('spend ledger', () => {
  test('an entry written again replaces itself; another post, attempt or object is another entry; old entries leave with the window', () => {
    const first = entry(postEntryKey('team', 'a', 'uid-a', 0, 'job-a0'), 100n, hoursAgo(1));
    const stale = entry(postEntryKey('team', 'b', 'uid-b', 0, 'job-b0'), 50n, hoursAgo(25));
    const again = entry(postEntryKey('team', 'a', 'uid-a', 0, 'job-a0'), 100n, now);
    const retry = entry(postEntryKey('team', 'a', 'uid-a', 1, 'job-a1'), 100n, now);
    assert.deepEqual(withEntry([first, stale], again, now), [again]);
    assert.deepEqual(withEntry([first], retry, now), [first, retry], 'another attempt is another payment');
    assert.deepEqual(withEntry([first, retry], undefined, now, retry.key), [first], 'a post that never landed takes its entry back');
    const recreated = entry(postEntryKey('team', 'a', 'uid-other', 0, 'job-a0'), 100n, now);
    assert.deepEqual(
      withEntry([first], recreated, now),
      [first, recreated],
      'an object re-created under the same name does not erase what the old one paid',
    );
  });

  test('entries count as spends at the time they were written, whatever the job does later', () => {
    const paid = entry(postEntryKey('team', 'a', 'uid-a', 0, 'job-a0'), 100n, hoursAgo(2));
    assert.deepEqual(asSpends([paid]), [{ jobAddress: paid.job, at: paid.at, amount: 100n }]);
  });

  test('the ConfigMap round trip; a missing ledger is empty, an unreadable one an error naming it', () => {
    const market = Keypair.generate().publicKey;
    const name = ledgerName({ market, marketName: 'gpu' });
    assert.match(name, /^nosana-spend-[0-9a-f]{20}$/, 'a valid ConfigMap name whatever the address');
    assert.notEqual(ledgerName({ market, marketName: 'other' }), name, 'two NosanaMarkets on one address keep two ledgers');
    assert.deepEqual(parseLedger(undefined), { entries: [] });
    const paid = entry(postEntryKey('team', 'a', 'uid-a', 0, 'job-a0'), 12345678901234567890n, hoursAgo(2));
    const stored = {
      metadata: { namespace: 'team', name, resourceVersion: '7' },
      data: { [SPEND_LEDGER_DATA_KEY]: JSON.stringify([{ ...paid, amount: paid.amount.toString(), at: paid.at.toISOString() }]) },
    };
    assert.deepEqual(parseLedger(stored), { entries: [paid], resourceVersion: '7' });
    for (const data of ['{not json', JSON.stringify([{ key: 'k', job: 'j', amount: '-1', at: now.toISOString() }])]) {
      assert.throws(
        () => parseLedger({ metadata: { namespace: 'team', name }, data: { [SPEND_LEDGER_DATA_KEY]: data } }),
        new RegExp(`ConfigMap team/${name}`),
      );
    }
  });
});
