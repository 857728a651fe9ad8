// The one Retry-After parser, as a table: each case's reason is the specification (RFC 9110
// §10.2.3 delay-seconds = 1*DIGIT, or an HTTP-date in one of the three accepted forms).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_RETRY_AFTER_MS, parseRetryAfter } from '../../../src/http/retry-after.ts';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

interface Case {
  reason: string;
  header: string | null | undefined;
  want: number | undefined;
}

const CASES: readonly Case[] = [
  { reason: 'absent', header: null, want: undefined },
  { reason: 'absent (undefined)', header: undefined, want: undefined },
  { reason: 'zero seconds: retry at once', header: '0', want: 0 },
  { reason: 'whole seconds', header: '120', want: 120_000 },
  { reason: 'leading zeros are still digits', header: '007', want: 7_000 },
  { reason: 'spaces and tabs around the value are not part of it', header: ' \t3 ', want: 3_000 },
  { reason: 'empty is not a delay', header: '', want: undefined },
  { reason: 'blank is not a delay', header: ' ', want: undefined },
  { reason: 'hex is not 1*DIGIT', header: '0x10', want: undefined },
  { reason: 'a fraction is not 1*DIGIT', header: '1.5', want: undefined },
  { reason: 'a negative number is not 1*DIGIT', header: '-1', want: undefined },
  { reason: 'a sign is not a digit', header: '+3', want: undefined },
  { reason: 'an exponent is not a digit', header: '1e3', want: undefined },
  { reason: 'a unit is not a digit', header: '5s', want: undefined },
  { reason: 'two numbers are not one', header: '1 2', want: undefined },
  { reason: 'non-ASCII digits are not DIGIT', header: '\u0663', want: undefined },
  { reason: 'a delay beyond what a timer can wait saturates there', header: '2147484', want: MAX_RETRY_AFTER_MS },
  { reason: 'a delay of hundreds of digits saturates instead of becoming Infinity', header: '9'.repeat(400), want: MAX_RETRY_AFTER_MS },
  { reason: 'the largest delay a timer honours exactly is kept', header: '2147483', want: 2_147_483_000 },
  { reason: 'IMF-fixdate in the future: the time until then', header: 'Thu, 01 Jan 2026 12:00:05 GMT', want: 5_000 },
  { reason: 'IMF-fixdate in the past: now', header: 'Thu, 01 Jan 2026 11:59:00 GMT', want: 0 },
  { reason: 'RFC 850 date, two-digit year in this century', header: 'Thursday, 01-Jan-26 12:01:00 GMT', want: 60_000 },
  { reason: 'RFC 850 date, two-digit year more than 50 years ahead is last century', header: 'Friday, 01-Jan-99 00:00:00 GMT', want: 0 },
  { reason: 'asctime date (GMT, day padded with a space)', header: 'Thu Jan  1 12:00:10 2026', want: 10_000 },
  { reason: 'asctime date with a two-digit day', header: 'Sat Jan 10 12:00:00 2026', want: 9 * 86_400_000 },
  { reason: 'a date far in the future saturates', header: 'Fri, 31 Dec 9999 23:59:59 GMT', want: MAX_RETRY_AFTER_MS },
  { reason: 'a day that does not exist is unreadable', header: 'Mon, 31 Feb 2026 00:00:00 GMT', want: undefined },
  { reason: 'an hour that does not exist is unreadable', header: 'Thu, 01 Jan 2026 24:00:00 GMT', want: undefined },
  { reason: 'a zone other than GMT is not an HTTP-date', header: 'Thu, 01 Jan 2026 12:00:05 +0000', want: undefined },
  { reason: 'ISO 8601 is not an HTTP-date', header: '2026-01-01T12:00:05Z', want: undefined },
  { reason: 'lowercase names are not an HTTP-date (they are case-sensitive)', header: 'thu, 01 jan 2026 12:00:05 gmt', want: undefined },
  { reason: 'words are unreadable', header: 'soon', want: undefined },
];

describe('parseRetryAfter', () => {
  for (const { reason, header, want } of CASES) {
    test(`${reason}: ${JSON.stringify(header)?.slice(0, 40)} -> ${want}`, () => {
      assert.equal(parseRetryAfter(header, NOW), want);
    });
  }

  test('every answer is a whole number of ms a timer can wait, or undefined', () => {
    for (const { header } of CASES) {
      const ms = parseRetryAfter(header, NOW);
      if (ms !== undefined) assert.ok(Number.isInteger(ms) && ms >= 0 && ms <= MAX_RETRY_AFTER_MS, `${header} -> ${ms}`);
    }
  });

  test('now defaults to the clock', (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: NOW });
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 12:00:05 GMT'), 5_000);
  });
});
