// The container log as the API serves it with timestamps=true, turned into result log entries.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseLog, tagStreams } from '../../../src/executor/log-streams.ts';

test('each line becomes a stdout entry with its timestamp and its newline; empty lines between are kept, the final newline is not a line', () => {
  const text = '2026-01-01T00:00:00.000000001Z hello world\n2026-01-01T00:00:01Z \n2026-01-01T00:00:02Z done\n';
  assert.deepEqual(parseLog(text), [
    { type: 'stdout', log: 'hello world\n', timestamp: '2026-01-01T00:00:00.000000001Z' },
    { type: 'stdout', log: '\n', timestamp: '2026-01-01T00:00:01Z' },
    { type: 'stdout', log: 'done\n', timestamp: '2026-01-01T00:00:02Z' },
  ]);
  assert.deepEqual(parseLog(''), []);
});

describe('tagStreams: which stream each line came from', () => {
  const merged = 'T1 running ubuntu\nT2 Device 0: RTX 3070\nT3 Device 1: RTX 3080\nT4 same\nT5 same\n';
  const rows: { reason: string; stdout: string | undefined; stderr: string | undefined; want: ('stdout' | 'stderr')[] }[] = [
    {
      reason: 'a kubelet that splits streams: lines read from stderr are stderr, in the merged order',
      stdout: 'T1 running ubuntu\nT3 Device 1: RTX 3080\nT5 same\n',
      stderr: 'T2 Device 0: RTX 3070\nT4 same\n',
      want: ['stdout', 'stderr', 'stdout', 'stderr', 'stdout'],
    },
    {
      reason: 'a kubelet that ignores the stream parameter answers every read with the merged log: all stdout',
      stdout: merged,
      stderr: merged,
      want: ['stdout', 'stdout', 'stdout', 'stdout', 'stdout'],
    },
    {
      reason: 'an API that refuses the parameter: all stdout',
      stdout: undefined,
      stderr: undefined,
      want: ['stdout', 'stdout', 'stdout', 'stdout', 'stdout'],
    },
    {
      reason: 'everything printed to stderr, by a kubelet that splits: all stderr',
      stdout: '',
      stderr: merged,
      want: ['stderr', 'stderr', 'stderr', 'stderr', 'stderr'],
    },
  ];
  for (const { reason, stdout, stderr, want } of rows) {
    test(reason, () => {
      assert.deepEqual(
        tagStreams(merged, stdout, stderr).map((entry) => entry.type),
        want,
      );
    });
  }
});
