// Every line of the demo carries the seconds since it started; a multi-line step keeps its
// continuation lines under the first, so the timestamps stay a column of their own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Progress } from '../../../src/demo/progress.ts';

test('timestamped steps with continuation lines indented under them, and plain text as given', () => {
  let now = 1_000_000;
  let written = '';
  const progress = new Progress({ write: (text: string) => (written += text) }, () => now);
  progress.step('starting');
  now += 12_345;
  progress.step('ready\nwork dir /tmp/x');
  progress.plain('The job Succeeded.');
  assert.equal(written, ['[  0.0s] starting', '[ 12.3s] ready', '         work dir /tmp/x', 'The job Succeeded.', ''].join('\n'));
});
