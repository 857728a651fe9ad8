// The work queue's contract, driven by a fake clock: dedup, one worker per key, dirty re-queue,
// delayed adds (earliest wins), per-key backoff, shutdown and drain, and what it reports.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BACKOFF, ItemBackoff, WorkQueue } from '../../../src/runtime/work-queue.ts';
import type { WorkQueueGauges, WorkQueueMetrics } from '../../../src/runtime/metrics.ts';
import { FakeClock, flush } from './fake-clock.ts';

interface Recorded {
  added: number;
  retried: number;
  queued: number[];
  worked: number[];
  gauges: () => WorkQueueGauges;
}

function recordingMetrics(): { metrics: WorkQueueMetrics; recorded: Recorded } {
  const recorded: Recorded = {
    added: 0,
    retried: 0,
    queued: [],
    worked: [],
    gauges: () => assert.fail('the queue registered no gauges source'),
  };
  const metrics: WorkQueueMetrics = {
    added: () => void recorded.added++,
    retried: () => void recorded.retried++,
    queued: (seconds) => void recorded.queued.push(seconds),
    worked: (seconds) => void recorded.worked.push(seconds),
    observe: (source) => void (recorded.gauges = source),
  };
  return { metrics, recorded };
}

function newQueue(): { queue: WorkQueue; clock: FakeClock; recorded: Recorded } {
  const clock = new FakeClock();
  const { metrics, recorded } = recordingMetrics();
  return { queue: new WorkQueue({ name: 'test', clock, metrics }), clock, recorded };
}

/** The only key waits exactly `ms` (on the fake clock) before a worker can get it. */
function assertReadyAfter(queue: WorkQueue, clock: FakeClock, ms: number): void {
  assert.equal(queue.length, 0, 'ready at once');
  clock.advance(ms - 1);
  assert.equal(queue.length, 0, `ready before ${ms} ms`);
  clock.advance(1);
  assert.equal(queue.length, 1, `not ready after ${ms} ms`);
}

/** A get() that has not resolved yet, and a way to check whether it has. */
function pendingGet(queue: WorkQueue): { result: Promise<string | undefined>; settled: () => boolean } {
  let settled = false;
  const result = queue.get().finally(() => {
    settled = true;
  });
  return { result, settled: () => settled };
}

describe('work queue: one entry per key', () => {
  test('adding a queued key again does not queue it twice, and keys come out in order', async () => {
    const { queue, recorded } = newQueue();
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    assert.equal(queue.length, 2);
    assert.equal(recorded.added, 2, 'only real insertions count as adds');
    assert.equal(await queue.get(), 'ns/a');
    assert.equal(await queue.get(), 'ns/b');
    assert.equal(queue.length, 0);
  });

  test('a key being processed is not handed to a second worker; it comes back once after done', async () => {
    const { queue } = newQueue();
    queue.add('ns/a');
    const first = await queue.get();
    assert.equal(first, 'ns/a');
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/a');
    assert.equal(queue.length, 0, 'the re-added key waits for done, it is not queued beside the one in progress');
    const second = pendingGet(queue);
    await flush();
    assert.equal(second.settled(), false, 'a second worker must not get the key while the first holds it');
    queue.done('ns/a');
    assert.equal(await second.result, 'ns/a');
    queue.done('ns/a');
    assert.equal(queue.length, 0, 'three adds during processing re-queue the key once');
  });

  test('a key not added again while processing is not re-queued by done', async () => {
    const { queue } = newQueue();
    queue.add('ns/a');
    queue.done((await queue.get()) ?? assert.fail('no key'));
    assert.equal(queue.length, 0);
  });

  test('a waiting worker gets a key as soon as it is added', async () => {
    const { queue } = newQueue();
    const waiting = pendingGet(queue);
    await flush();
    assert.equal(waiting.settled(), false);
    queue.add('ns/a');
    assert.equal(await waiting.result, 'ns/a');
    assert.equal(queue.length, 0);
  });

  test('done() for a key that was never handed out is a caller bug and says so', () => {
    const { queue } = newQueue();
    assert.throws(() => queue.done('ns/ghost'), /ns\/ghost.*not being processed/);
  });
});

describe('work queue: delayed adds', () => {
  test('addAfter makes the key ready when its delay has passed, not before', () => {
    const { queue, clock } = newQueue();
    queue.addAfter('ns/a', 1000);
    assertReadyAfter(queue, clock, 1000);
  });

  test('the earliest of several pending delays wins, and the later one does not fire again', async () => {
    for (const [firstMs, secondMs] of [
      [1000, 200],
      [200, 1000],
    ] as const) {
      const { queue, clock } = newQueue();
      queue.addAfter('ns/a', firstMs);
      queue.addAfter('ns/a', secondMs);
      assert.equal(clock.pendingTimers, 1, `${firstMs} then ${secondMs}: one timer per key`);
      clock.advance(199);
      assert.equal(queue.length, 0);
      clock.advance(1);
      assert.equal(queue.length, 1, `${firstMs} then ${secondMs}: ready at 200 ms`);
      queue.done((await queue.get()) ?? assert.fail('no key'));
      clock.advance(1000);
      assert.equal(queue.length, 0, `${firstMs} then ${secondMs}: the later delay was dropped`);
    }
  });

  test('an immediate add of a delayed key makes it ready now and cancels the delay', async () => {
    const { queue, clock } = newQueue();
    queue.addAfter('ns/a', 500);
    queue.add('ns/a');
    assert.equal(queue.length, 1);
    assert.equal(clock.pendingTimers, 0);
    queue.done((await queue.get()) ?? assert.fail('no key'));
    clock.advance(500);
    assert.equal(queue.length, 0);
  });

  test('addAfter of a key that is already queued keeps it queued and sets no timer', () => {
    const { queue, clock } = newQueue();
    queue.add('ns/a');
    queue.addAfter('ns/a', 100);
    assert.equal(queue.length, 1);
    assert.equal(clock.pendingTimers, 0);
  });

  test('a zero or negative delay is an immediate add', () => {
    const { queue } = newQueue();
    queue.addAfter('ns/a', 0);
    queue.addAfter('ns/b', -5);
    assert.equal(queue.length, 2);
  });

  test('a delay that ends while the key is processing re-queues it after done', async () => {
    const { queue, clock } = newQueue();
    queue.add('ns/a');
    const key = (await queue.get()) ?? assert.fail('no key');
    queue.addAfter(key, 10);
    clock.advance(10);
    assert.equal(queue.length, 0);
    queue.done(key);
    assert.equal(queue.length, 1);
  });
});

describe('work queue: backoff', () => {
  test('the delay starts at 5 ms, doubles per failure and stops at 5 minutes', () => {
    const backoff = new ItemBackoff();
    const delays = Array.from({ length: 20 }, () => backoff.next('ns/a'));
    assert.deepEqual(delays.slice(0, 5), [5, 10, 20, 40, 80]);
    assert.equal(delays[15], 163_840, '16th failure: 5 ms × 2^15');
    assert.equal(delays[16], 300_000, '17th failure would be 327.68 s: capped');
    assert.deepEqual(delays.slice(17), [300_000, 300_000, 300_000]);
    assert.equal(DEFAULT_BACKOFF.maxMs, 300_000);
  });

  test('the cap holds for any number of failures (no overflow to Infinity or NaN)', () => {
    const backoff = new ItemBackoff({ baseMs: 5, maxMs: 1000 });
    let last = 0;
    for (let failure = 0; failure < 2000; failure++) last = backoff.next('ns/a');
    assert.equal(last, 1000);
  });

  test('reset clears one key; other keys keep their own count', () => {
    const backoff = new ItemBackoff();
    backoff.next('ns/a');
    backoff.next('ns/a');
    backoff.next('ns/b');
    backoff.reset('ns/a');
    assert.equal(backoff.failureCount('ns/a'), 0);
    assert.equal(backoff.next('ns/a'), 5);
    assert.equal(backoff.next('ns/b'), 10);
  });

  test('settings that cannot work are refused, naming the field', () => {
    assert.throws(() => new ItemBackoff({ baseMs: 0, maxMs: 10 }), /backoff\.baseMs/);
    assert.throws(() => new ItemBackoff({ baseMs: 5, maxMs: Number.NaN }), /backoff\.maxMs/);
    assert.throws(() => new ItemBackoff({ baseMs: 50, maxMs: 10 }), /backoff\.maxMs \(10\) must not be below backoff\.baseMs \(50\)/);
  });

  test('overall: a burst of retries across keys goes at once, the rest wait their turn at the overall rate', () => {
    const clock = new FakeClock();
    const backoff = new ItemBackoff({ baseMs: 5, maxMs: 300_000, overall: { perSecond: 10, burst: 3 } }, clock);
    const delays = ['ns/a', 'ns/b', 'ns/c', 'ns/d', 'ns/e'].map((key) => backoff.next(key));
    assert.deepEqual(delays, [5, 5, 5, 100, 200], 'three within the burst, then one every 100 ms');
    clock.advance(1_000);
    assert.equal(backoff.next('ns/f'), 5, 'the burst refills while no key fails');
  });

  test("overall: one namespace's failures never delay another namespace's retries", () => {
    const clock = new FakeClock();
    const backoff = new ItemBackoff({ baseMs: 5, maxMs: 300_000, overall: { perSecond: 10, burst: 2 } }, clock);
    for (let index = 0; index < 50; index++) backoff.next(`noisy/job-${index}`);
    assert.ok(backoff.next('noisy/one-more') > 4_000, 'the noisy namespace waits its turn');
    assert.equal(backoff.next('quiet/job'), 5, 'another namespace retries at its own pace');
    assert.equal(backoff.next('cluster-scoped'), 5, 'keys without a namespace share a schedule of their own');
  });

  test('overall: schedules of namespaces that went quiet are forgotten, so they do not pile up', () => {
    const clock = new FakeClock();
    const backoff = new ItemBackoff({ baseMs: 5, maxMs: 300_000, overall: { perSecond: 10, burst: 1 } }, clock);
    for (let index = 0; index < 1_500; index++) backoff.next(`team-${index}/job`);
    const held = (backoff as unknown as { nextSlotAt: Map<string, number> }).nextSlotAt;
    assert.equal(held.size, 1_500, 'each namespace has a schedule while it is ahead of now');
    clock.advance(1_000);
    backoff.next('team-0/job');
    assert.ok(held.size < 1_000, `past schedules were dropped: ${held.size} held`);
    assert.equal(backoff.next('team-1/job'), 10, 'a forgotten schedule starts with its burst');
  });

  test('overall: a key whose own delay is longer keeps it', () => {
    const clock = new FakeClock();
    const backoff = new ItemBackoff({ baseMs: 1_000, maxMs: 300_000, overall: { perSecond: 10, burst: 1 } }, clock);
    assert.equal(backoff.next('ns/a'), 1_000);
    assert.equal(backoff.next('ns/a'), 2_000);
    assert.throws(() => new ItemBackoff({ baseMs: 5, maxMs: 10, overall: { perSecond: 0, burst: 1 } }), /backoff\.overall\.perSecond/);
  });

  test('addRateLimited waits the backoff delay, which grows until forget', async () => {
    const { queue, clock, recorded } = newQueue();
    queue.addRateLimited('ns/a');
    assertReadyAfter(queue, clock, 5);
    queue.done((await queue.get()) ?? assert.fail('no key'));
    queue.addRateLimited('ns/a');
    assertReadyAfter(queue, clock, 10);
    queue.done((await queue.get()) ?? assert.fail('no key'));
    assert.equal(queue.failureCount('ns/a'), 2);
    assert.equal(recorded.retried, 2);

    queue.forget('ns/a');
    queue.addRateLimited('ns/a');
    clock.advance(5);
    assert.equal(queue.length, 1, 'after forget the delay is 5 ms again');
  });
});

describe('work queue: shutdown', () => {
  test('shutDown releases waiting workers, refuses new keys and drops queued and delayed ones', async () => {
    const { queue } = newQueue();
    const waiting = pendingGet(queue);
    await flush();
    queue.shutDown();
    assert.equal(await waiting.result, undefined);

    const other = newQueue();
    other.queue.add('ns/queued');
    other.queue.addAfter('ns/later', 100);
    other.queue.shutDown();
    assert.equal(await other.queue.get(), undefined, 'queued keys are not handed out after shutdown');
    assert.equal(other.queue.length, 0);
    assert.equal(other.clock.pendingTimers, 0, 'delayed adds are cancelled');
    other.queue.add('ns/new');
    other.queue.addRateLimited('ns/new');
    assert.equal(other.queue.length, 0);
    assert.equal(other.clock.pendingTimers, 0);
  });

  test('shutDownWithDrain resolves only when every handed-out key is done, and does not re-queue them', async () => {
    const { queue } = newQueue();
    queue.add('ns/a');
    queue.add('ns/b');
    const a = (await queue.get()) ?? assert.fail('no key');
    const b = (await queue.get()) ?? assert.fail('no key');
    queue.add(a);
    let drained = false;
    const drain = queue.shutDownWithDrain().then(() => {
      drained = true;
    });
    queue.done(a);
    await flush();
    assert.equal(drained, false, 'one key is still being processed');
    queue.done(b);
    await drain;
    assert.equal(drained, true);
    assert.equal(queue.length, 0, 'the dirty key is not re-queued during shutdown');
  });

  test('shutDownWithDrain with nothing in flight resolves at once', async () => {
    const { queue } = newQueue();
    await queue.shutDownWithDrain();
    assert.equal(queue.isShuttingDown, true);
  });
});

describe('work queue: metrics', () => {
  test('queue and work durations are measured on the clock, from add to get and get to done', async () => {
    const { queue, clock, recorded } = newQueue();
    queue.add('ns/a');
    clock.advance(250);
    const key = (await queue.get()) ?? assert.fail('no key');
    clock.advance(100);
    queue.done(key);
    assert.deepEqual(recorded.queued, [0.25]);
    assert.deepEqual(recorded.worked, [0.1]);
  });

  test('the gauges source reports depth, unfinished work and the longest-running key', async () => {
    const { queue, clock, recorded } = newQueue();
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/c');
    await queue.get();
    clock.advance(3000);
    await queue.get();
    clock.advance(1000);
    assert.deepEqual(recorded.gauges(), { depth: 1, unfinishedWorkSeconds: 5, longestRunningProcessorSeconds: 4 });
  });
});
