// The demo stops what it started newest first, goes on when one stop fails, and stops nothing twice.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Teardown } from '../../../src/demo/teardown.ts';

test('stops newest first, every stop runs even after a failure, and a second run stops nothing again', async () => {
  const stopped: string[] = [];
  const teardown = new Teardown();
  teardown.add('the cluster', async () => {
    stopped.push('cluster');
  });
  teardown.add('the localnet', async () => {
    stopped.push('localnet');
    throw new Error('port still busy');
  });
  teardown.add('the agent', async () => {
    stopped.push('agent');
  });
  const failures = await teardown.run();
  assert.deepEqual(stopped, ['agent', 'localnet', 'cluster']);
  assert.deepEqual(
    failures.map((failure) => [failure.what, (failure.error as Error).message]),
    [['the localnet', 'port still busy']],
  );
  assert.deepEqual(await teardown.run(), []);
  assert.deepEqual(stopped, ['agent', 'localnet', 'cluster']);
});
