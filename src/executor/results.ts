// An op's `results` turn its logs into named values (NODE.md §2.8): they are published in the
// result document and are what later ops read through "%%ops.<id>.results.<key>%%" literals. Both
// uses depend on the exact shape the reference node produces — arrays of match + capture groups,
// accumulated over log entries, or an error string — so that shape is reproduced here, quirks included.
// The regexes are a stranger's: one that backtracks catastrophically would freeze the process
// that runs the job, so matching gets a time budget and is cut off when it runs out.
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
): Record<string, ResultValue> {
  if (spec === undefined) return {};
  try {
    // The watchdog of a vm timeout interrupts whatever runs inside, a regex in the middle of a match too.
    return runInNewContext('extract()', { extract: () => extract(spec, logs) }, { timeout: budgetMs }) as Record<string, ResultValue>;
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw error;
    const message = `the results regexes took longer than ${budgetMs} ms over the op's logs and were stopped`;
    return Object.fromEntries(Object.keys(spec).map((key) => [key, message]));
  }
}

/** How long all of one op's results may take to extract. */
export const RESULTS_BUDGET_MS = 2_000;

function extract(spec: OperationResults, logs: readonly LogEntry[]): Record<string, ResultValue> {
  const extractors = Object.entries(spec).map(([key, extractor]) => compile(key, extractor));
  const values = new Map<string, ResultValue>(extractors.map(({ key }) => [key, []]));
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
      if (match !== null && Array.isArray(sofar)) sofar.push(...match);
    }
  }
  // fromEntries defines own properties, so a result named "__proto__" stays an ordinary key.
  return Object.fromEntries(values);
}
