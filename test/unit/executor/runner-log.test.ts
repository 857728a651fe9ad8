// The container log as the API serves it with timestamps=true, turned into result log entries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLog } from '../../../src/executor/runner.ts';

test('each line becomes a stdout entry with its timestamp and its newline; empty lines between are kept, the final newline is not a line', () => {
  const text = '2026-01-01T00:00:00.000000001Z hello world\n2026-01-01T00:00:01Z \n2026-01-01T00:00:02Z done\n';
  assert.deepEqual(parseLog(text), [
    { type: 'stdout', log: 'hello world\n', timestamp: '2026-01-01T00:00:00.000000001Z' },
    { type: 'stdout', log: '\n', timestamp: '2026-01-01T00:00:01Z' },
    { type: 'stdout', log: 'done\n', timestamp: '2026-01-01T00:00:02Z' },
  ]);
  assert.deepEqual(parseLog(''), []);
});
