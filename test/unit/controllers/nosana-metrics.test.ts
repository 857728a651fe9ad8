// The domain series: bigint amounts, zeroed label values per network and market, scrape-time
// gauges and labels that must not carry secrets, registered after the runtime's series.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Registry } from 'prom-client';
import type { NosanaJobObject, NosanaJobPhase } from '../../../src/api/crds/nosana-job.ts';
import {
  CHAIN_ACTIONS,
  baseUnitsToSample,
  createNosanaMetrics,
  oldestPendingPostAgeSeconds,
} from '../../../src/controllers/nosana-metrics.ts';
import type { NosanaMetrics, NosanaMetricsSources } from '../../../src/controllers/nosana-metrics.ts';
import { createMetrics } from '../../../src/runtime/metrics.ts';
import { metricValue, sampleLine as line } from '../runtime/metric-values.ts';

/** One registry, the runtime's series first and the domain series after, as the manager builds it. */
function operatorMetrics(): { registry: Registry; nosana: NosanaMetrics & NosanaMetricsSources } {
  const { registry } = createMetrics();
  return { registry, nosana: createNosanaMetrics(registry) };
}

describe('metrics: registration', () => {
  test('the domain series follow the runtime series in the exposition', async () => {
    const { registry } = operatorMetrics();
    const names = registry.getMetricsAsArray().map((metric) => metric.name);
    const lastRuntime = names.indexOf('leader_election_master_status');
    const firstDomain = names.findIndex((name) => name.startsWith('nosana_'));
    assert.ok(lastRuntime >= 0 && firstDomain > lastRuntime, names.join(' '));
    assert.equal(names[firstDomain], 'nosana_jobs_posted_total');
  });
});

describe('metrics: domain series', () => {
  const market = { network: 'localnet', market: 'Mkt1111' };

  test('the first report for a network zeroes every chain action outcome of it', async () => {
    const { registry, nosana } = operatorMetrics();
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
    const { registry, nosana } = operatorMetrics();
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
    const { nosana } = operatorMetrics();
    assert.throws(() => nosana.nosSpent(market, -5n), RangeError);
  });

  test('RPC and IPFS requests are counted and timed; an IPFS service label keeps only the URL origin', async () => {
    const { registry, nosana } = operatorMetrics();
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
    const { registry, nosana } = operatorMetrics();
    const labels = { network: 'localnet', wallet: 'Wallet111' };
    nosana.walletBalance('localnet', 'Wallet111', 5_000_000_000n, 42_000_000n);
    nosana.walletBalance('localnet', 'Wallet111', 4_000_000_000n, 41_000_000n);
    assert.equal(await metricValue(registry, 'nosana_wallet_lamports', labels), 4_000_000_000);
    assert.equal(await metricValue(registry, 'nosana_wallet_nos_base_units', labels), 41_000_000);
  });

  test('pending posts read zero until a source is set, then whatever it says at each scrape', async () => {
    const { registry, nosana } = operatorMetrics();
    assert.match(await registry.metrics(), /^nosana_pending_posts 0$/m);
    let pending = 3;
    nosana.setPendingPostsSource(() => pending);
    assert.match(await registry.metrics(), /^nosana_pending_posts 3$/m);
    pending = 7;
    assert.match(await registry.metrics(), /^nosana_pending_posts 7$/m);
  });

  test('jobs by phase and Ready reason are counted from the source at each scrape, every known state reported at zero once a source is set', async () => {
    const { registry, nosana } = operatorMetrics();
    const job = (name: string, phase?: NosanaJobPhase, reason?: string): NosanaJobObject => ({
      metadata: { namespace: 'team', name },
      spec: {} as NosanaJobObject['spec'],
      ...(phase === undefined
        ? {}
        : {
            status: {
              phase,
              ...(reason === undefined
                ? {}
                : { conditions: [{ type: 'Ready', status: 'False', reason, message: '', lastTransitionTime: '2025-01-01T00:00:00Z' }] }),
            },
          }),
    });
    const jobsLine = (phase: string, reason: string, value: number) => line('nosana_jobs', `phase="${phase}",reason="${reason}"`, value);
    assert.doesNotMatch(await registry.metrics(), /^nosana_jobs\{/m, 'no series without a source (the node agent has no NosanaJobs)');

    const jobs: NosanaJobObject[] = [];
    nosana.setJobsSource(() => jobs);
    assert.match(await registry.metrics(), jobsLine('Pending', 'SpendLimitReached', 0), 'every known state reads zero with no jobs');

    jobs.push(
      job('a', 'Pending', 'SpendLimitReached'),
      job('b', 'Pending', 'SpendLimitReached'),
      job('c', 'Queued', 'Queued'),
      job('fresh'),
    );
    const text = await registry.metrics();
    assert.match(text, jobsLine('Pending', 'SpendLimitReached', 2));
    assert.match(text, jobsLine('Queued', 'Queued', 1));
    assert.match(text, jobsLine('Running', 'Running', 0));
    assert.match(text, jobsLine('Pending', '', 1), 'a job with no status yet is Pending with no reason');
    assert.doesNotMatch(text, /nosana_jobs\{[^}]*namespace=/, 'no namespace label');

    jobs.splice(0, 2);
    const after = await registry.metrics();
    assert.match(after, jobsLine('Pending', 'SpendLimitReached', 0), 'jobs that left a state are no longer counted in it');
    assert.match(after, jobsLine('Queued', 'Queued', 1));
  });

  test('the oldest pending post: its age from preparedAt, 0 with none, an unreadable record counted as new', async () => {
    const NOW = Date.parse('2026-12-03T12:00:00Z');
    const pending = (name: string, record: string | undefined): NosanaJobObject => ({
      metadata: { namespace: 'team', name, ...(record === undefined ? {} : { annotations: { 'nosana.io/pending-post': record } }) },
      spec: {} as NosanaJobObject['spec'],
    });
    const at = (iso: string) => JSON.stringify({ signature: 's', preparedAt: iso });
    const cases: { reason: string; jobs: NosanaJobObject[]; seconds: number }[] = [
      { reason: 'no job', jobs: [], seconds: 0 },
      { reason: 'no pending post', jobs: [pending('a', undefined)], seconds: 0 },
      {
        reason: 'the oldest of several',
        jobs: [pending('a', at('2026-12-03T11:59:50Z')), pending('b', at('2026-12-03T11:50:00Z')), pending('c', undefined)],
        seconds: 600,
      },
      { reason: 'an unreadable record', jobs: [pending('a', '{not json'), pending('b', JSON.stringify({}))], seconds: 0 },
    ];
    for (const { reason, jobs, seconds } of cases) assert.equal(oldestPendingPostAgeSeconds(jobs, NOW), seconds, reason);

    const { registry, nosana } = operatorMetrics();
    assert.equal(await metricValue(registry, 'nosana_pending_post_oldest_age_seconds', {}), 0, 'zero without a source');
    nosana.setJobsSource(() => [pending('old', at(new Date(Date.now() - 120_000).toISOString()))]);
    const value = await metricValue(registry, 'nosana_pending_post_oldest_age_seconds', {});
    assert.ok(value !== undefined && value >= 120 && value < 130, `about two minutes, got ${value}`);
  });
});
