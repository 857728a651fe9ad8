import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { OwnWrites } from '../../../src/runtime/own-writes.ts';

const copy = (resourceVersion: string, uid = 'u1', name = 'node-a'): KubernetesObject => ({
  metadata: { namespace: 'team', name, uid, resourceVersion },
});

test('own writes: a cached copy is behind exactly while it is the version our last write replaced', () => {
  const cases: { name: string; wrote?: [KubernetesObject, string, string | undefined]; cached: KubernetesObject; behind: boolean }[] = [
    { name: 'nothing written', cached: copy('7'), behind: false },
    { name: 'the cache still holds the replaced version', wrote: [copy('7'), '7', '8'], cached: copy('7'), behind: true },
    { name: 'the cache shows our write', wrote: [copy('7'), '7', '8'], cached: copy('8'), behind: false },
    { name: 'the cache shows a later write of someone else', wrote: [copy('7'), '7', '8'], cached: copy('12'), behind: false },
    { name: 'another object now has the name', wrote: [copy('7'), '7', '8'], cached: copy('7', 'u2'), behind: false },
    { name: 'another name', wrote: [copy('7'), '7', '8'], cached: copy('7', 'u1', 'node-b'), behind: false },
    { name: 'a write with no version to condition on', wrote: [copy(''), '', '8'], cached: copy(''), behind: false },
    { name: 'a write that changed nothing', wrote: [copy('7'), '7', '7'], cached: copy('7'), behind: false },
    { name: 'a status already as decided (nothing sent)', wrote: [copy('7'), '7', undefined], cached: copy('7'), behind: false },
  ];
  for (const { name, wrote, cached, behind } of cases) {
    const writes = new OwnWrites();
    if (wrote !== undefined) writes.wrote(...wrote);
    assert.equal(writes.isBehind(cached), behind, name);
  }
});

test('own writes: once the cache moved on, an older copy is no longer held behind, and forget drops the object', () => {
  const writes = new OwnWrites();
  writes.wrote(copy('7'), '7', '8');
  assert.equal(writes.isBehind(copy('8')), false);
  assert.equal(writes.size, 0, 'seeing the write ends the wait');
  assert.equal(writes.isBehind(copy('7')), false);

  writes.wrote(copy('9'), '9', '10');
  writes.forget({ namespace: 'team', name: 'node-a' });
  assert.equal(writes.size, 0);
  assert.equal(writes.isBehind(copy('9')), false);
});
