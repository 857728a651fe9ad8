// Results extraction (NODE.md §2.8): each row's reason is the rule, its want the value the
// reference node publishes — arrays of match + capture groups accumulated over log entries, or
// the error string of a regex that does not compile.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateJobDefinition } from '../../../src/api/job-definition/index.ts';
import type { OperationResults } from '../../../src/api/job-definition/index.ts';
import type { LogEntry, ResultValue } from '../../../src/executor/flow-state.ts';
import { RESULTS_MAX_BYTES_PER_OP, extractResults } from '../../../src/executor/results.ts';
import { jobExamples, sharedMissingReason } from '../job-definition/reference-definitions.ts';

const out = (log: string): LogEntry => ({ type: 'stdout', log, timestamp: '2026-01-01T00:00:00.000000001Z' });
const err = (log: string): LogEntry => ({ type: 'stderr', log });

/** The error text a regex that does not compile leaves behind, as the node writes it: String(error). */
function compileError(source: string): string {
  try {
    new RegExp(source);
  } catch (error) {
    return String(error);
  }
  throw new Error(`${source} compiles`);
}

describe('extractResults', () => {
  const rows: { reason: string; spec: OperationResults | undefined; logs: LogEntry[]; want: Record<string, ResultValue> }[] = [
    { reason: 'an op that declares no results has none', spec: undefined, logs: [out('x')], want: {} },
    {
      reason: 'every declared key is there, even when nothing matched, in the order declared',
      spec: { b: 'nothing', a: 'nope' },
      logs: [out('x')],
      want: { b: [], a: [] },
    },
    {
      reason: 'the string form reads every log type, node errors included',
      spec: { word: 'w[a-z]+' },
      logs: [out('wax'), err('wig'), { type: 'nodeerr', log: 'wok' }, { type: 'stdin', log: 'wet' }],
      want: { word: ['wax', 'wig', 'wok', 'wet'] },
    },
    {
      reason: 'the object form reads only the listed log types',
      spec: { word: { regex: 'w[a-z]+', logType: ['stderr'] } },
      logs: [out('wax'), err('wig')],
      want: { word: ['wig'] },
    },
    {
      reason: 'without the g flag an entry gives its first match only, followed by its capture groups',
      spec: { pair: '(\\w+)=(\\d+)' },
      logs: [out('a=1 b=2')],
      want: { pair: ['a=1', 'a', '1'] },
    },
    {
      reason: 'matches accumulate over entries in log order',
      spec: { n: '(?<=n: )\\d+' },
      logs: [out('n: 1'), out('other'), out('n: 2')],
      want: { n: ['1', '2'] },
    },
    {
      reason: 'without the m or s flags "." stops at the end of the first line of a chunk',
      spec: { line: 'Device [0-9].*' },
      logs: [out('Device 0: A\nDevice 1: B\n')],
      want: { line: ['Device 0: A'] },
    },
    {
      reason: 'an optional group that took no part leaves an undefined slot',
      spec: { maybe: 'a(b)?c' },
      logs: [out('ac')],
      want: { maybe: ['ac', undefined] },
    },
    {
      reason: 'a lone "*" becomes "/*", which matches the empty string in every entry',
      spec: { star: '*' },
      logs: [out('abc'), err('def')],
      want: { star: ['', ''] },
    },
    {
      reason: 'empty log entries are skipped',
      spec: { all: '.*' },
      logs: [out(''), out('x')],
      want: { all: ['x'] },
    },
    {
      reason: 'a regex that does not compile makes the value the error string itself, not an array',
      spec: { broken: '(' },
      logs: [out('x')],
      want: { broken: compileError('(') },
    },
    {
      reason: 'a regex that does not compile stays [] while no entry of a watched type was seen',
      spec: { broken: { regex: '(', logType: ['stderr'] } },
      logs: [out('x')],
      want: { broken: [] },
    },
    {
      reason: 'one broken regex does not disturb the other keys',
      spec: { broken: '(', fine: 'x' },
      logs: [out('x')],
      want: { broken: compileError('('), fine: ['x'] },
    },
    {
      reason: 'a result named "__proto__" is an ordinary key',
      spec: JSON.parse('{"__proto__": "x"}') as OperationResults,
      logs: [out('x')],
      want: JSON.parse('{"__proto__": ["x"]}') as Record<string, ResultValue>,
    },
  ];
  for (const row of rows) {
    test(row.reason, () => {
      const results = extractResults(row.spec, row.logs);
      assert.deepEqual(results, row.want);
      assert.deepEqual(Object.keys(results), Object.keys(row.want));
      assert.equal(Object.getPrototypeOf(results), Object.prototype);
    });
  }
});

describe('job-examples/cli-result-extracting.json', { skip: sharedMissingReason ?? false }, () => {
  test('its four results, from the output its command prints', () => {
    const example = jobExamples().find(({ name }) => name === 'job-examples/cli-result-extracting.json');
    assert.ok(example !== undefined, 'the example is present');
    const validation = validateJobDefinition(example.definition, { strictness: 'lenient' });
    const op = validation.definition?.ops[0];
    assert.ok(op?.results !== undefined, 'the example validates and declares results');

    // `echo 'running ubuntu' && echo 'Device 0: …' >>/dev/stderr && echo 'Device 1: …'`, one
    // log entry per line, each with the newline the container printed.
    const device0 = 'Device 0: NVIDIA GeForce RTX 3070, compute capability 8.6, VMM: yes';
    const device1 = 'Device 1: NVIDIA GeForce RTX 3080, compute capability 8.6, VMM: yes';
    const logs = [out('running ubuntu\n'), err(`${device0}\n`), out(`${device1}\n`)];

    const results = extractResults(op.results, logs);
    assert.deepEqual(Object.keys(results), ['detected-gpu-stderr', 'detected-gpu-all-std', 'empty-result', 'throw-error']);
    assert.deepEqual(results['detected-gpu-stderr'], [device0], 'stderr only');
    assert.deepEqual(results['detected-gpu-all-std'], [device0, device1], 'any log type, in log order');
    assert.deepEqual(results['empty-result'], [], '"Missing" never printed');
    const thrown = results['throw-error'];
    assert.equal(typeof thrown, 'string', 'the regex "\\" does not compile: the value is the error string');
    assert.match(String(thrown), /^SyntaxError: Invalid regular expression: /);
  });
});

test('a regex that backtracks catastrophically is cut off within its budget: every key says so, the process goes on', () => {
  const started = Date.now();
  const values = extractResults({ slow: '^(a+)+$', other: 'a' }, [{ type: 'stdout', log: `${'a'.repeat(40)}!` }], 200);
  assert.ok(Date.now() - started < 2_000, 'stopped near its budget');
  assert.match(String(values['slow']), /took longer than 200 ms/);
  assert.match(String(values['other']), /took longer than 200 ms/);
});

describe("an op's results stay within their byte budget", () => {
  /** The bytes the values take in the result document. */
  const valueBytes = (values: Record<string, ResultValue>) =>
    Object.values(values).reduce((sum, value) => sum + Buffer.byteLength(JSON.stringify(value), 'utf8'), 0);
  const noisy = Array.from({ length: 2_000 }, (_, index) => out(`line ${index} ${'z'.repeat(100)}`));

  test('a greedy regex over many lines keeps only the newest whole matches, each key saying how many it lost', () => {
    const maxBytes = 20_000;
    const values = extractResults({ a: '(.*)', b: '(.*)', small: 'line 1999' }, noisy, undefined, maxBytes);
    assert.ok(valueBytes(values) <= maxBytes, `${valueBytes(values)} bytes within ${maxBytes}`);
    assert.deepEqual(values['small'], ['line 1999'], 'a key under its share keeps everything');
    for (const key of ['a', 'b']) {
      const [note, ...kept] = values[key] as string[];
      const lost = noisy.length - kept.length / 2;
      assert.equal(note, `[${lost} earlier matches were dropped to keep this op's results within ${maxBytes} bytes]`);
      assert.deepEqual(
        kept,
        noisy.slice(lost).flatMap(({ log }) => [log, log]),
        'the newest matches, each whole (match and group), in log order',
      );
      assert.ok(valueBytes({ [key]: values[key] as ResultValue }) > maxBytes / 3, 'the room is shared, not wasted');
    }
  });

  test('the budget applies by default: megabytes of logs give at most RESULTS_MAX_BYTES_PER_OP', () => {
    const big = Array.from({ length: 3_000 }, (_, index) => out(`${index} ${'q'.repeat(1_000)}`));
    const values = extractResults({ a: '(.*)', b: '(.*)' }, big);
    assert.ok(valueBytes(values) <= RESULTS_MAX_BYTES_PER_OP, `${valueBytes(values)} bytes`);
    assert.match(String((values['a'] as string[])[0]), /earlier matches were dropped/);
  });

  test('an error string is not cut, and values under the budget are untouched', () => {
    const values = extractResults({ broken: '(', few: 'line 1\\d' }, noisy.slice(0, 20), undefined, 1_000);
    assert.deepEqual(values, {
      broken: compileError('('),
      few: ['line 10', 'line 11', 'line 12', 'line 13', 'line 14', 'line 15', 'line 16', 'line 17', 'line 18', 'line 19'],
    });
  });
});
