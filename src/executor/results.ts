// An op's `results` turn its logs into named values (NODE.md §2.8): they are published in the
// result document and are what later ops read through "%%ops.<id>.results.<key>%%" literals. Both
// uses depend on the exact shape the reference node produces — arrays of match + capture groups,
// accumulated over log entries, or an error string — so that shape is reproduced here, quirks included.
// The regexes are a stranger's: one that backtracks catastrophically would freeze the process
// that runs the job, so matching gets a time budget and is cut off when it runs out. Their yield
// is a stranger's too: `(.*)` keeps every log line twice (match and group), so an op's values get
// a byte budget, shared fairly between its keys; like the logs, the oldest matches go first and
// the value then starts with a note saying how many.
import { runInNewContext } from 'node:vm';
import type { OperationResults } from '../api/job-definition/index.ts';
import type { LogEntry, ResultValue } from './flow-state.ts';

interface CompiledExtractor {
  key: string;
  /** undefined: every log type (the string form of an extractor). */
  logTypes: readonly string[] | undefined;
  /** The compiled regex, or the error text when it does not compile. */
  pattern: RegExp | string;
}

function compile(key: string, extractor: OperationResults[string]): CompiledExtractor {
  const { regex, logTypes } =
    typeof extractor === 'string' ? { regex: extractor, logTypes: undefined } : { regex: extractor.regex, logTypes: extractor.logType };
  // A lone "*" is not a regex; the node turns it into "/*", which matches an empty string anywhere.
  const source = regex === '*' ? '/*' : regex;
  try {
    return { key, logTypes, pattern: new RegExp(source) };
  } catch (error) {
    // The node stores String(error): "SyntaxError: Invalid regular expression: …".
    return { key, logTypes, pattern: String(error) };
  }
}

/**
 * The values of an op's declared results, extracted from its stored log entries, in the
 * declaration order of `spec`. For every entry whose type the extractor watches (any type for the
 * string form) and whose text is not empty, `log.match(regex)` without the g flag is appended: the
 * first match and its capture groups, nothing when it does not match.
 *
 * An invalid regex makes the value the error string itself, not an array holding it: NODE.md says
 * it "makes the value the error string", and the reference node assigns the string. Like the
 * reference, this happens only once an entry of a watched type has been seen; before that the
 * value is still `[]`.
 *
 * Without `spec` the op declares no results: the answer is `{}`, and the op's state carries no
 * `results` field at all.
 */
export function extractResults(
  spec: OperationResults | undefined,
  logs: readonly LogEntry[],
  budgetMs = RESULTS_BUDGET_MS,
  maxBytes = RESULTS_MAX_BYTES_PER_OP,
): Record<string, ResultValue> {
  if (spec === undefined) return {};
  let matches: Map<string, Match[] | string>;
  try {
    // The watchdog of a vm timeout interrupts whatever runs inside, a regex in the middle of a match too.
    matches = runInNewContext('extract()', { extract: () => extract(spec, logs) }, { timeout: budgetMs }) as Map<string, Match[] | string>;
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw error;
    const message = `the results regexes took longer than ${budgetMs} ms over the op's logs and were stopped`;
    return Object.fromEntries(Object.keys(spec).map((key) => [key, message]));
  }
  // fromEntries defines own properties, so a result named "__proto__" stays an ordinary key.
  return Object.fromEntries(newestMatchesWithin(matches, maxBytes));
}

/** How long all of one op's results may take to extract. */
export const RESULTS_BUDGET_MS = 2_000;

/**
 * The most bytes an op's results values take in the result document, all keys together (the
 * JSON of their items). The result document holds at most 16 MiB for every op and its logs.
 */
export const RESULTS_MAX_BYTES_PER_OP = 1024 * 1024;

// Room kept per key for the note that says how many matches were dropped (under 150 bytes).
const RESULTS_NOTE_BYTES = 256;

/** One log entry's match: the matched text and its capture groups. */
type Match = (string | undefined)[];

function extract(spec: OperationResults, logs: readonly LogEntry[]): Map<string, Match[] | string> {
  const extractors = Object.entries(spec).map(([key, extractor]) => compile(key, extractor));
  const values = new Map<string, Match[] | string>(extractors.map(({ key }) => [key, []]));
  for (const { type, log } of logs) {
    if (log === '') continue;
    for (const { key, logTypes, pattern } of extractors) {
      if (logTypes !== undefined && !logTypes.includes(type)) continue;
      if (typeof pattern === 'string') {
        values.set(key, pattern);
        continue;
      }
      const match = log.match(pattern);
      const sofar = values.get(key);
      if (match !== null && Array.isArray(sofar)) sofar.push([...match]);
    }
  }
  return values;
}

/**
 * The values as published: each key's matches flattened in log order, within `maxBytes` over all
 * keys. Over it, the room is shared fairly (a key under its share keeps everything), each key
 * keeps its newest whole matches, and a key that lost some starts with a note saying how many.
 */
function newestMatchesWithin(values: Map<string, Match[] | string>, maxBytes: number): [string, ResultValue][] {
  const matchSizes = new Map<string, number[]>();
  for (const [key, value] of values) if (Array.isArray(value)) matchSizes.set(key, value.map(matchSize));
  const totals = [...matchSizes.values()].map((sizes) => sizes.reduce((sum, size) => sum + size, 0));
  const over = totals.reduce((sum, total) => sum + total, 0) > maxBytes;
  const caps = over ? fairShares(totals, Math.max(0, maxBytes - RESULTS_NOTE_BYTES * totals.length)) : totals;
  const capOf = new Map([...matchSizes.keys()].map((key, index) => [key, caps[index] ?? 0]));
  return [...values].map(([key, value]): [string, ResultValue] => {
    if (!Array.isArray(value)) return [key, value];
    const kept = newestWithin(value, matchSizes.get(key) ?? [], capOf.get(key) ?? 0);
    const dropped = value.length - kept.length;
    const flat = kept.flat();
    return [key, dropped === 0 ? flat : [resultsDropNote(dropped, maxBytes), ...flat]];
  });
}

/** A match's bytes inside its value's JSON array, separating commas included (undefined is null there). */
function matchSize(match: Match): number {
  return match.reduce((sum, item) => sum + (item === undefined ? 4 : Buffer.byteLength(JSON.stringify(item), 'utf8')) + 1, 0);
}

function resultsDropNote(dropped: number, maxBytes: number): string {
  return `[${dropped} earlier matches were dropped to keep this op's results within ${maxBytes} bytes]`;
}

/**
 * Shares `budget` between totals: those under their share are kept whole and what they leave is
 * split among the larger ones (water-filling).
 */
export function fairShares(totals: readonly number[], budget: number): number[] {
  const order = totals.map((_, index) => index).sort((a, b) => (totals[a] ?? 0) - (totals[b] ?? 0));
  const caps = totals.map(() => 0);
  let remaining = budget;
  order.forEach((index, position) => {
    const cap = Math.min(totals[index] ?? 0, Math.floor(remaining / (order.length - position)));
    caps[index] = cap;
    remaining -= cap;
  });
  return caps;
}

/** The newest items whose sizes add up to at most `cap`, in their order. */
export function newestWithin<T>(items: readonly T[], sizes: readonly number[], cap: number): T[] {
  let used = 0;
  let first = items.length;
  while (first > 0 && used + (sizes[first - 1] ?? 0) <= cap) {
    used += sizes[first - 1] ?? 0;
    first -= 1;
  }
  return items.slice(first);
}
