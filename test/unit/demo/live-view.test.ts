// What the demo waits on: the first cached object a condition accepts, whether it is there already
// or arrives with a later change; a stop (Ctrl-C, the timeout) ends the wait, and a finished wait
// leaves no handler behind.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { until } from '../../../src/demo/live-view.ts';
import type { CacheEventHandler } from '../../../src/runtime/informer.ts';

class FakeCache {
  objects: KubernetesObject[] = [];
  readonly handlers = new Set<CacheEventHandler<KubernetesObject>>();
  list(): KubernetesObject[] {
    return this.objects;
  }
  on(handler: CacheEventHandler<KubernetesObject>): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }
  put(object: KubernetesObject): void {
    this.objects = [...this.objects.filter((o) => o.metadata?.name !== object.metadata?.name), object];
    for (const handler of this.handlers) handler({ type: 'modified', object });
  }
}

const phase = (name: string, value: string): KubernetesObject => ({ metadata: { name, labels: { phase: value } } });
const isDone = (object: KubernetesObject): boolean => object.metadata?.labels?.['phase'] === 'done';

describe('until', () => {
  test('resolves at once with an object already cached', async () => {
    const cache = new FakeCache();
    cache.objects = [phase('a', 'done')];
    assert.equal((await until(cache, isDone, new AbortController().signal)).metadata?.name, 'a');
    assert.equal(cache.handlers.size, 0);
  });

  test('resolves at the change that makes an object acceptable, not before', async () => {
    const cache = new FakeCache();
    let settled = false;
    const waiting = until(cache, isDone, new AbortController().signal).then((object) => {
      settled = true;
      return object;
    });
    cache.put(phase('a', 'running'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false);
    cache.put(phase('a', 'done'));
    assert.equal((await waiting).metadata?.labels?.['phase'], 'done');
    assert.equal(cache.handlers.size, 0, 'the handler is gone once the wait ended');
  });

  test('a stop ends the wait with its reason, and removes the handler', async () => {
    const cache = new FakeCache();
    const stop = new AbortController();
    const waiting = until(cache, isDone, stop.signal);
    stop.abort(new Error('interrupted'));
    await assert.rejects(waiting, /interrupted/);
    assert.equal(cache.handlers.size, 0);
    await assert.rejects(until(cache, isDone, stop.signal), /interrupted/, 'a wait begun after the stop ends at once');
  });
});
