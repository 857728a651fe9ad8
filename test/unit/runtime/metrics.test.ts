// The exposition: runtime series under controller-runtime's names with zeroed label values, the
// domain series, bigint amounts, scrape-time gauges and labels that must not carry secrets.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CHAIN_ACTIONS, baseUnitsToSample, createMetrics } from '../../../src/runtime/metrics.ts';
import { WorkQueue } from '../../../src/runtime/work-queue.ts';
import { metricValue } from './metric-values.ts';

/** Matches one exposition line exactly: `name{labels} value`. */
function line(name: string, labels: string, value: number | string): RegExp {
  const escaped = `${name}{${labels}} ${value}`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped}$`, 'm');
}

describe('metrics: runtime series', () => {
  test('a controller and its queue show every series at zero before anything happened', async () => {
    const { registry, runtime } = createMetrics();
    runtime.controller('nosanajob');
    runtime.workQueue('nosanajob');
    const text = await registry.metrics();
    for (const result of ['success', 'error', 'requeue', 'requeue_after']) {
      assert.match(text, line('controller_runtime_reconcile_total', `controller="nosanajob",result="${result}"`, 0));
    }
    for (const name of ['controller_runtime_reconcile_errors_total', 'controller_runtime_reconcile_panics_total', 'controller_runtime_reconcile_time_seconds_count',
      'controller_runtime_max_concurrent_reconciles', 'controller_runtime_active_workers']) {
      assert.match(text, line(name, 'controller="nosanajob"', 0));
    }
    for (const name of ['workqueue_adds_total', 'workqueue_retries_total', 'workqueue_queue_duration_seconds_count', 'workqueue_work_duration_seconds_count']) {
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

describe('metrics: domain series', () => {
  const market = { network: 'localnet', market: 'Mkt1111' };

  test('the first report for a network zeroes every chain action outcome of it', async () => {
    const { registry, nosana } = createMetrics();
    nosana.chainAction('localnet', 'delist', 'error');
    const text = await registry.metrics();
    for (const action of CHAIN_ACTIONS) {
      for (const outcome of ['ok', 'error']) {
        const expected = action === 'delist' && outcome === 'error' ? 1 : 0;
        assert.match(text, line('nosana_chain_actions_total', `network="localnet",action="${action}",outcome="${outcome}"`, expected));
      }
    }
    assert.doesNotMatch(text, /nosana_chain_actions_total\{network="mainnet"/, 'no series for a network never reported');
  });

  test('money counters take bigint base units and start at zero per market', async () => {
    const { registry, nosana } = createMetrics();
    nosana.jobPosted(market);
    nosana.nosSpent(market, 1_234_567_890n);
    nosana.nosSpent(market, 10n);
    const text = await registry.metrics();
    assert.match(text, line('nosana_jobs_posted_total', 'network="localnet",market="Mkt1111"', 1));
    assert.match(text, line('nosana_nos_spent_base_units_total', 'network="localnet",market="Mkt1111"', 1_234_567_900));
    assert.match(text, line('nosana_nos_refunded_base_units_total', 'network="localnet",market="Mkt1111"', 0));
    nosana.nosRefunded(market, 600n);
    assert.equal(await metricValue(registry, 'nosana_nos_refunded_base_units_total', market), 600);
  });

  test('base units convert exactly below 2^53, round to the nearest double above, and a negative amount is refused', () => {
    assert.equal(baseUnitsToSample(2n ** 53n - 1n, 'x'), Number.MAX_SAFE_INTEGER);
    assert.equal(baseUnitsToSample(2n ** 64n + 1n, 'x'), 2 ** 64);
    assert.throws(() => baseUnitsToSample(-1n, 'NOS spent'), /NOS spent must not be negative, got -1 base units/);
    const { nosana } = createMetrics();
    assert.throws(() => nosana.nosSpent(market, -5n), RangeError);
  });

  test('RPC and IPFS requests are counted and timed; an IPFS service label keeps only the URL origin', async () => {
    const { registry, nosana } = createMetrics();
    nosana.rpcRequest('localnet', { method: 'getMultipleAccounts', outcome: 'ok', seconds: 0.02 });
    nosana.rpcRequest('localnet', { method: 'getMultipleAccounts', outcome: 'retry', status: 429, seconds: 0.01 });
    nosana.ipfsRequest({ operation: 'read', service: 'https://gw.example:8443/ipfs/?token=s3cr3t', outcome: 'ok', seconds: 0.3 });
    nosana.ipfsRequest({ operation: 'pin', service: 'pinata', outcome: 'error', seconds: 1 });
    const text = await registry.metrics();
    assert.match(text, line('nosana_rpc_requests_total', 'network="localnet",method="getMultipleAccounts",outcome="ok"', 1));
    assert.match(text, line('nosana_rpc_requests_total', 'network="localnet",method="getMultipleAccounts",outcome="retry"', 1));
    assert.match(text, line('nosana_rpc_request_duration_seconds_count', 'network="localnet",method="getMultipleAccounts"', 2));
    assert.match(text, line('nosana_ipfs_requests_total', 'operation="read",service="https://gw.example:8443",outcome="ok"', 1));
    assert.match(text, line('nosana_ipfs_requests_total', 'operation="pin",service="pinata",outcome="error"', 1));
    assert.match(text, line('nosana_ipfs_request_duration_seconds_sum', 'operation="read",service="https://gw.example:8443"', 0.3));
    assert.doesNotMatch(text, /s3cr3t/);
  });

  test('wallet balances are gauges by public key', async () => {
    const { registry, nosana } = createMetrics();
    const labels = { network: 'localnet', wallet: 'Wallet111' };
    nosana.walletBalance('localnet', 'Wallet111', 5_000_000_000n, 42_000_000n);
    nosana.walletBalance('localnet', 'Wallet111', 4_000_000_000n, 41_000_000n);
    assert.equal(await metricValue(registry, 'nosana_wallet_lamports', labels), 4_000_000_000);
    assert.equal(await metricValue(registry, 'nosana_wallet_nos_base_units', labels), 41_000_000);
  });

  test('pending posts read zero until a source is set, then whatever it says at each scrape', async () => {
    const { registry, nosana } = createMetrics();
    assert.match(await registry.metrics(), /^nosana_pending_posts 0$/m);
    let pending = 3;
    nosana.setPendingPostsSource(() => pending);
    assert.match(await registry.metrics(), /^nosana_pending_posts 3$/m);
    pending = 7;
    assert.match(await registry.metrics(), /^nosana_pending_posts 7$/m);
  });
});
