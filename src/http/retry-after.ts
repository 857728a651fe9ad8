// The one Retry-After parser (RFC 9110 §10.2.3), shared by the RPC transport (chain/) and the
// IPFS clients (ipfs/). It lives in http/, below both, because neither of those layers may import
// the other; it imports nothing of the project.
//
// Behaviour, in full:
// - delay-seconds is 1*DIGIT and nothing else: "", " ", "0x10", "1.5", "-1", "+3", "1e3" are not
//   delays. Surrounding spaces and tabs are not part of a field value and are ignored.
// - an HTTP-date in any of the three forms RFC 9110 §5.6.7 makes recipients accept (IMF-fixdate,
//   the obsolete RFC 850 and asctime forms, all in GMT) means max(0, date - now). Date.parse is
//   not used: it takes far more than HTTP dates ("1.5", "2026", local times).
// - anything else is unreadable: undefined, as if the header were absent.
// - no cap: how long is too long is the caller's retry policy. The value is only saturated at the
//   longest delay a Node timer can honour (MAX_RETRY_AFTER_MS); setTimeout would treat anything
//   longer as 1 ms, turning "wait for a year" into "retry now".

/** Longest wait a setTimeout can make (2^31 - 1 ms, about 24.8 days). */
export const MAX_RETRY_AFTER_MS = 2_147_483_647;

const DELAY_SECONDS = /^\d+$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = `(${MONTHS.join('|')})`;
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
// Sun, 06 Nov 1994 08:49:37 GMT
const IMF_FIXDATE = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
// Sunday, 06-Nov-94 08:49:37 GMT
const RFC850_DATE = new RegExp(`^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
// Sun Nov  6 08:49:37 1994
const ASCTIME_DATE = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ${MONTH} ( \\d|\\d{2}) ${TIME} (\\d{4})$`);

/**
 * Milliseconds a Retry-After header value asks the client to wait, or undefined when the header
 * is absent or not a valid value (see the file header for exactly what is valid).
 */
export function parseRetryAfter(header: string | null | undefined, now: number = Date.now()): number | undefined {
  if (header === null || header === undefined) return undefined;
  const value = header.replace(/^[ \t]+|[ \t]+$/g, '');
  if (DELAY_SECONDS.test(value)) return saturate(Number(value) * 1000);
  const date = parseHttpDate(value, now);
  return date === undefined ? undefined : saturate(Math.max(0, date - now));
}

function saturate(ms: number): number {
  // Number() of a long digit string is a huge float or Infinity; either way it is "too long".
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

/** Epoch milliseconds of an HTTP-date, or undefined when `text` is not one or names no real instant. */
function parseHttpDate(text: string, now: number): number | undefined {
  let day: string | undefined, month: string | undefined, year: number, time: (string | undefined)[];
  let match = IMF_FIXDATE.exec(text);
  if (match !== null) {
    [, day, month] = match;
    year = Number(match[3]);
    time = match.slice(4, 7);
  } else if ((match = RFC850_DATE.exec(text)) !== null) {
    [, day, month] = match;
    year = fullYear(Number(match[3]), now);
    time = match.slice(4, 7);
  } else if ((match = ASCTIME_DATE.exec(text)) !== null) {
    [, month, day] = match;
    time = match.slice(3, 6);
    year = Number(match[6]);
  } else {
    return undefined;
  }
  const [hours, minutes, seconds] = time.map(Number) as [number, number, number];
  const monthIndex = MONTHS.indexOf(month ?? '');
  const dayOfMonth = Number(day);
  // 60 is a leap second, which Date cannot represent; it is read as the next second.
  if (hours > 23 || minutes > 59 || seconds > 60) return undefined;
  const midnight = Date.UTC(year, monthIndex, dayOfMonth);
  // Date.UTC rolls "31 Feb" over into March; such a date names no real day.
  if (new Date(midnight).getUTCDate() !== dayOfMonth) return undefined;
  return midnight + ((hours * 60 + minutes) * 60 + seconds) * 1000;
}

/** RFC 9110: a two-digit year more than 50 years in the future is the most recent past year with those digits. */
function fullYear(twoDigits: number, now: number): number {
  const currentYear = new Date(now).getUTCFullYear();
  const candidate = currentYear - (currentYear % 100) + twoDigits;
  return candidate > currentYear + 50 ? candidate - 100 : candidate;
}
