// The controller over scripted reconcilers: what each outcome counts and how the key comes back,
// throws and rejections caught without losing a worker, one reconcile per key at a time, log
// fields, and shutdown (drain, then abort).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Controller } from '../../../src/runtime/controller.ts';
import type { ControllerOptions } from '../../../src/runtime/controller.ts';
import { createLogger } from '../../../src/runtime/logger.ts';
import { createMetrics, RECONCILE_RESULTS } from '../../../src/runtime/metrics.ts';
import type { Metrics } from '../../../src/runtime/metrics.ts';
import type { ObjectKey, ReconcileContext, ReconcileOutcome } from '../../../src/runtime/types.ts';
import { keyString } from '../../../src/runtime/types.ts';
import { FakeClock, flush } from './fake-clock.ts';
import { captureLogs } from './log-capture.ts';
import type { LogCapture } from './log-capture.ts';
import { metricValue } from './metric-values.ts';

type Script = (key: ObjectKey, context: ReconcileContext, call: number) => Promise<ReconcileOutcome | undefined>;

interface Harness {
  controller: Controller;
  metrics: Metrics;
  logs: LogCapture;
  /** Every reconcile call, in order, as "namespace/name". */
  calls: string[];
  contexts: ReconcileContext[];
  count(result: string): Promise<number | undefined>;
}

/** `script` gets the number of earlier calls for the same key, so it can fail once and then succeed. */
function harness(script: Script, options: Partial<ControllerOptions> = {}): Harness {
  const metrics = createMetrics();
  const logs = captureLogs();
  const calls: string[] = [];
  const contexts: ReconcileContext[] = [];
  const controller = new Controller({
    name: 'demo',
    workers: 2,
    log: createLogger({ level: 'debug', destination: logs.destination }),
    metrics: metrics.runtime,
    backoff: { baseMs: 1, maxMs: 1 },
    reconciler: {
      name: 'demo',
      reconcile: (key, context) => {
        const call = calls.filter((earlier) => earlier === keyString(key)).length;
        calls.push(keyString(key));
        contexts.push(context);
        return script(key, context, call);
      },
    },
    ...options,
  });
  const count = (result: string): Promise<number | undefined> =>
    metricValue(metrics.registry, 'controller_runtime_reconcile_total', { controller: 'demo', result });
  return { controller, metrics, logs, calls, contexts, count };
}

/** Liveness only: a generous deadline so a hang fails the test instead of timing it. */
async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** A promise the test resolves by hand. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = (): void => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** A reconciler that finishes when `opened` resolves. */
const blockUntil =
  (opened: Promise<void>): Script =>
  async () => {
    await opened;
    return undefined;
  };

const key = (name: string): ObjectKey => ({ namespace: 'ns', name });

describe('controller: results and retries', () => {
  test('every result label and the error/panic counters read zero before any reconcile', async () => {
    const { metrics } = harness(async () => undefined);
    const text = await metrics.registry.metrics();
    for (const result of RECONCILE_RESULTS) {
      assert.match(text, new RegExp(`^controller_runtime_reconcile_total\\{controller="demo",result="${result}"\\} 0$`, 'm'));
    }
    assert.match(text, /^controller_runtime_reconcile_errors_total\{controller="demo"\} 0$/m);
    assert.match(text, /^controller_runtime_reconcile_panics_total\{controller="demo"\} 0$/m);
    assert.match(text, /^controller_runtime_reconcile_time_seconds_count\{controller="demo"\} 0$/m);
    assert.match(text, /^controller_runtime_active_workers\{controller="demo"\} 0$/m);
    assert.match(text, /^workqueue_adds_total\{name="demo"\} 0$/m);
  });

  test('success, error then success, and requeue_after are counted under their labels', async () => {
    const { controller, metrics, calls, count } = harness(async (object, _context, call) => {
      if (object.name === 'fails-once' && call === 0) throw new Error('the RPC is down');
      if (object.name === 'polls-once' && call === 0) return { requeueAfterMs: 1 };
      return undefined;
    });
    controller.enqueue(key('ok'));
    controller.enqueue(key('fails-once'));
    controller.enqueue(key('polls-once'));
    controller.start();
    await waitFor(async () => (await count('success')) === 3, 'three successful reconciles');
    assert.equal(await count('error'), 1);
    assert.equal(await count('requeue_after'), 1);
    assert.equal(await count('requeue'), 0);
    assert.equal(await metricValue(metrics.registry, 'controller_runtime_reconcile_errors_total', { controller: 'demo' }), 1);
    assert.equal(await metricValue(metrics.registry, 'controller_runtime_reconcile_panics_total', { controller: 'demo' }), 0);
    assert.equal(await metricValue(metrics.registry, 'controller_runtime_reconcile_time_seconds_count', { controller: 'demo' }), 5);
    assert.equal(await metricValue(metrics.registry, 'controller_runtime_max_concurrent_reconciles', { controller: 'demo' }), 2);
    assert.deepEqual([...calls].sort(), ['ns/fails-once', 'ns/fails-once', 'ns/ok', 'ns/polls-once', 'ns/polls-once']);
    assert.equal(await controller.stop({ drainTimeoutMs: 10_000 }), true);
  });

  test('requeueAfterMs 0 is a rate-limited requeue, counted as "requeue"', async () => {
    const { controller, count } = harness(async (_object, _context, call) => (call === 0 ? { requeueAfterMs: 0 } : undefined));
    controller.enqueue(key('again'));
    controller.start();
    await waitFor(async () => (await count('success')) === 1, 'the second reconcile');
    assert.equal(await count('requeue'), 1);
    await controller.stop({ drainTimeoutMs: 10_000 });
  });

  test('a synchronous throw and a non-Error rejection are errors and panics, and the single worker survives both', async () => {
    // Not an async function on purpose: it throws before returning a promise.
    const { controller, metrics, logs, calls, count } = harness(
      (object) => {
        if (object.name === 'sync-throw') throw new Error('thrown before any promise existed');
        if (object.name === 'string-rejection') return Promise.reject('a bare string' as unknown as Error);
        return Promise.resolve(undefined);
      },
      { workers: 1, backoff: { baseMs: 60_000, maxMs: 60_000 } },
    );
    controller.enqueue(key('sync-throw'));
    controller.enqueue(key('string-rejection'));
    controller.enqueue(key('after'));
    controller.start();
    await waitFor(async () => (await count('success')) === 1, 'the key queued after the failures');
    assert.deepEqual(calls, ['ns/sync-throw', 'ns/string-rejection', 'ns/after']);
    assert.equal(await count('error'), 2);
    assert.equal(await metricValue(metrics.registry, 'controller_runtime_reconcile_errors_total', { controller: 'demo' }), 2);
    assert.equal(await metricValue(metrics.registry, 'controller_runtime_reconcile_panics_total', { controller: 'demo' }), 2);
    const messages = logs
      .lines()
      .filter((line) => line['level'] === 'error')
      .map((line) => line['msg']);
    assert.deepEqual(messages, [
      'reconcile failed: thrown before any promise existed',
      'reconcile failed: a non-Error value was thrown (string)',
    ]);
    await controller.stop({ drainTimeoutMs: 10_000 });
  });

  test('a failing key is retried after its backoff delay, which doubles', async () => {
    const clock = new FakeClock();
    const { controller, calls, count } = harness(
      async () => {
        throw new Error('still failing');
      },
      { clock, backoff: { baseMs: 5, maxMs: 1000 }, workers: 1 },
    );
    controller.enqueue(key('broken'));
    controller.start();
    const afterErrors = async (errors: number): Promise<void> => {
      await waitFor(async () => (await count('error')) === errors, `${errors} failed reconciles`);
      await flush();
    };
    await afterErrors(1);
    clock.advance(4);
    await flush();
    assert.equal(calls.length, 1, 'not retried before 5 ms');
    clock.advance(1);
    await afterErrors(2);
    clock.advance(9);
    await flush();
    assert.equal(calls.length, 2, 'the second retry waits 10 ms');
    clock.advance(1);
    await afterErrors(3);
    await controller.stop({ drainTimeoutMs: 10_000 });
  });

  test('each failed reconcile is logged with the controller, object and reconcile id its context carried', async () => {
    const { controller, logs, contexts, count } = harness(async (_object, _context, call) => {
      if (call === 0) throw Object.assign(new Error('market account not found'), { code: 'MarketNotFound' });
      return undefined;
    });
    controller.enqueue(key('job-1'));
    controller.start();
    await waitFor(async () => (await count('success')) === 1, 'the retry');
    await controller.stop({ drainTimeoutMs: 10_000 });
    const failure = logs.lines().find((line) => line['level'] === 'error') ?? assert.fail('no error line');
    assert.equal(failure['controller'], 'demo');
    assert.equal(failure['namespace'], 'ns');
    assert.equal(failure['name'], 'job-1');
    assert.equal(failure['msg'], 'reconcile failed: market account not found');
    const { name, message, code } = failure['err'] as Record<string, unknown>;
    assert.deepEqual({ name, message, code }, { name: 'Error', message: 'market account not found', code: 'MarketNotFound' });
    const [first, second] = contexts;
    assert.equal(failure['reconcileID'], first?.reconcileId);
    assert.match(first?.reconcileId ?? '', /^[0-9a-f-]{36}$/);
    assert.notEqual(first?.reconcileId, second?.reconcileId, 'every reconcile gets its own id');
  });
});

describe('controller: concurrency', () => {
  test('a key enqueued while it is reconciling waits, with four idle workers, and runs once more', async () => {
    const release = gate();
    let running = 0;
    let mostAtOnce = 0;
    const { controller, calls, count } = harness(
      async (_object, _context, call) => {
        running++;
        mostAtOnce = Math.max(mostAtOnce, running);
        if (call === 0) await release.opened;
        running--;
        return undefined;
      },
      { workers: 4 },
    );
    controller.enqueue(key('busy'));
    controller.start();
    await waitFor(() => calls.length === 1, 'the first reconcile');
    for (let add = 0; add < 5; add++) controller.enqueue(key('busy'));
    await flush();
    assert.equal(calls.length, 1, 'no second reconcile of the key while the first runs');
    release.open();
    await waitFor(async () => (await count('success')) === 2, 'the re-queued reconcile');
    await controller.stop({ drainTimeoutMs: 10_000 });
    assert.equal(calls.length, 2, 'five enqueues during the reconcile re-queue it once');
    assert.equal(mostAtOnce, 1);
  });

  test('active workers counts reconciles in progress', async () => {
    const release = gate();
    const { controller, metrics, calls } = harness(blockUntil(release.opened), { workers: 3 });
    controller.enqueue(key('a'));
    controller.enqueue(key('b'));
    controller.start();
    await waitFor(() => calls.length === 2, 'two reconciles in progress');
    assert.equal(await metricValue(metrics.registry, 'controller_runtime_active_workers', { controller: 'demo' }), 2);
    release.open();
    await controller.stop({ drainTimeoutMs: 10_000 });
    assert.equal(await metricValue(metrics.registry, 'controller_runtime_active_workers', { controller: 'demo' }), 0);
  });

  test('workers must be a positive integer', () => {
    assert.throws(() => harness(async () => undefined, { workers: 0 }), /workers must be an integer >= 1, got 0/);
  });
});

describe('controller: stop', () => {
  test('stop waits for the reconcile in progress, starts no new one, and reports a clean drain', async () => {
    const release = gate();
    const { controller, calls, contexts } = harness(blockUntil(release.opened), { workers: 1 });
    controller.enqueue(key('in-flight'));
    controller.enqueue(key('queued'));
    controller.start();
    await waitFor(() => calls.length === 1, 'the first reconcile');
    let stopped: boolean | undefined;
    const stopping = controller.stop({ drainTimeoutMs: 60_000 }).then((drained) => {
      stopped = drained;
    });
    controller.enqueue(key('late'));
    await flush();
    assert.equal(stopped, undefined, 'stop returned while a reconcile was still running');
    release.open();
    await stopping;
    assert.equal(stopped, true);
    assert.deepEqual(calls, ['ns/in-flight'], 'neither the queued key nor the late one was reconciled');
    assert.equal(contexts[0]?.signal.aborted, false, 'a reconcile that finished in time is not aborted');
  });

  test('when the drain time runs out the in-flight reconcile is aborted', async () => {
    const { controller, calls, contexts } = harness(
      (_object, context) => new Promise((resolve) => context.signal.addEventListener('abort', () => resolve(undefined))),
    );
    controller.enqueue(key('stubborn'));
    controller.start();
    await waitFor(() => calls.length === 1, 'the reconcile');
    assert.equal(await controller.stop({ drainTimeoutMs: 10 }), false);
    const signal = contexts[0]?.signal ?? assert.fail('no context');
    assert.equal(signal.aborted, true);
    assert.match(String((signal.reason as Error).message), /demo is shutting down and its drain time ran out/);
  });

  test('a stopped controller cannot start, and a started one cannot start twice', async () => {
    const first = harness(async () => undefined);
    first.controller.start();
    assert.throws(() => first.controller.start(), /already started/);
    await first.controller.stop({ drainTimeoutMs: 1000 });
    const second = harness(async () => undefined);
    await second.controller.stop({ drainTimeoutMs: 1000 });
    assert.throws(() => second.controller.start(), /stopped and cannot start again/);
  });
});
