// The runtime's exposition: series under controller-runtime's names with zeroed label values,
// scrape-time queue gauges and the process metrics. (The domain series: controllers/nosana-metrics.test.ts.)
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics } from '../../../src/runtime/metrics.ts';
import { WorkQueue } from '../../../src/runtime/work-queue.ts';
import { sampleLine as line } from './metric-values.ts';

describe('metrics: runtime series', () => {
  test('a controller and its queue show every series at zero before anything happened', async () => {
    const { registry, runtime } = createMetrics();
    runtime.controller('nosanajob');
    runtime.workQueue('nosanajob');
    const text = await registry.metrics();
    for (const result of ['success', 'error', 'requeue', 'requeue_after']) {
      assert.match(text, line('controller_runtime_reconcile_total', `controller="nosanajob",result="${result}"`, 0));
    }
    for (const name of [
      'controller_runtime_reconcile_errors_total',
      'controller_runtime_reconcile_panics_total',
      'controller_runtime_reconcile_time_seconds_count',
      'controller_runtime_max_concurrent_reconciles',
      'controller_runtime_active_workers',
    ]) {
      assert.match(text, line(name, 'controller="nosanajob"', 0));
    }
    for (const name of [
      'workqueue_adds_total',
      'workqueue_retries_total',
      'workqueue_queue_duration_seconds_count',
      'workqueue_work_duration_seconds_count',
    ]) {
      assert.match(text, line(name, 'name="nosanajob"', 0));
    }
  });

  test('the queue gauges are read from the queue at scrape time', async () => {
    const { registry, runtime } = createMetrics();
    const queue = new WorkQueue({ name: 'q', metrics: runtime.workQueue('q') });
    queue.add('ns/a');
    queue.add('ns/b');
    assert.match(await registry.metrics(), line('workqueue_depth', 'name="q"', 2));
    await queue.get();
    const text = await registry.metrics();
    assert.match(text, line('workqueue_depth', 'name="q"', 1));
    assert.match(text, line('workqueue_adds_total', 'name="q"', 2));
    assert.match(text, /^workqueue_longest_running_processor_seconds\{name="q"\} \d/m);
    assert.match(text, /^workqueue_unfinished_work_seconds\{name="q"\} \d/m);
    queue.shutDown();
  });

  test('leader status follows setLeader', async () => {
    const { registry, runtime } = createMetrics();
    runtime.setLeader('nosana-operator', false);
    assert.match(await registry.metrics(), line('leader_election_master_status', 'name="nosana-operator"', 0));
    runtime.setLeader('nosana-operator', true);
    assert.match(await registry.metrics(), line('leader_election_master_status', 'name="nosana-operator"', 1));
  });

  test('the default process metrics are included', async () => {
    const text = await createMetrics().registry.metrics();
    assert.match(text, /^process_cpu_user_seconds_total \d/m);
    assert.match(text, /^nodejs_heap_size_used_bytes \d/m);
  });
});
