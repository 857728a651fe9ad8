// The runner's own health checks as the runner sees them: a cap on how many an op may ask for, the
// op not ready for its dependents until they pass, and a bound on Pod replacements.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import pino from 'pino';
import { CONTINUOUS_CHECK_PERIOD_MS, STARTUP_CHECK_PERIOD_MS } from '../../../src/executor/check-schedule.ts';
import { MAX_HEALTH_RESTARTS, MAX_RUNNER_CHECKS_PER_OP, RunnerChecks } from '../../../src/executor/runner-checks.ts';

const POST_CHECK = { type: 'http' as const, method: 'POST' as const, path: '/ready', body: 'x', expected_status: 200, continuous: true };

let status = 200;
const server = createServer((_request, response) => response.writeHead(status).end());
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as AddressInfo).port;
after(() => server.close());

function checks(): { runner: RunnerChecks; outcomes: () => Promise<void> } {
  let arrived: () => void = () => undefined;
  const runner = new RunnerChecks({
    namespace: 'jobs',
    jobId: 'job',
    resolver: () => Promise.resolve({ host: '127.0.0.1', port }),
    log: pino({ level: 'silent' }),
    wake: () => arrived(),
  });
  return { runner, outcomes: () => new Promise<void>((resolve) => (arrived = resolve)) };
}

// Outcomes are stamped with the real clock, so the test's clock starts at the real now.
const STARTED = Date.now();
/** The first check is due one startup period after the container started, as on the node. */
const FIRST = STARTED + STARTUP_CHECK_PERIOD_MS;
const runningPod: V1Pod = {
  metadata: { name: 'p', uid: 'u1' },
  status: {
    podIP: '10.0.0.1',
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [
      { name: 'op', image: 'x', imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: new Date(STARTED) } } },
    ],
  },
};

describe('RunnerChecks', () => {
  test(`more than ${MAX_RUNNER_CHECKS_PER_OP} checks no probe can perform: the op is refused, naming the count`, () => {
    const { runner } = checks();
    const expose = [{ port: 80, health_checks: Array.from({ length: MAX_RUNNER_CHECKS_PER_OP + 1 }, () => POST_CHECK) }];
    assert.match(runner.track('a', { expose }) ?? '', new RegExp(`has ${MAX_RUNNER_CHECKS_PER_OP + 1} health checks`));
    assert.equal(runner.track('b', { expose: [{ port: 80, health_checks: [POST_CHECK] }] }), undefined);
    runner.close();
  });

  test('a Ready Pod is not ready for its dependents until its checks passed', async () => {
    const { runner, outcomes } = checks();
    runner.track('a', { expose: [{ port: 80, health_checks: [POST_CHECK] }] });
    const observed = { phase: 'ready' as const, startedAt: STARTED, readyAt: STARTED, restarts: 0 };
    const arrived = outcomes();
    const before = runner.observe('a', 0, runningPod, observed, FIRST);
    assert.deepEqual([before.phase, before.readyAt], ['running', undefined]);
    await arrived;
    const afterPass = runner.observe('a', 0, runningPod, observed, FIRST + 1_000);
    assert.deepEqual([afterPass.phase, afterPass.readyAt], ['ready', FIRST + 1_000]);
    runner.close();
  });

  test(`a restart_on_failure check asks for a restart, but never for more than ${MAX_HEALTH_RESTARTS} in an op's life`, async () => {
    const { runner, outcomes } = checks();
    runner.track('a', { expose: [{ port: 80, health_checks: [{ ...POST_CHECK, restart_on_failure: true, max_restarts: 1000 }] }] });
    const observed = { phase: 'ready' as const, startedAt: STARTED, restarts: 0 };
    status = 200;
    let arrived = outcomes();
    runner.observe('a', 0, runningPod, observed, FIRST);
    await arrived;
    runner.observe('a', 0, runningPod, observed, FIRST + 1_000);
    status = 500;
    arrived = outcomes();
    runner.observe('a', 0, runningPod, observed, FIRST + 1_000 + CONTINUOUS_CHECK_PERIOD_MS);
    await arrived;
    runner.observe('a', 0, runningPod, observed, FIRST + 2_000 + CONTINUOUS_CHECK_PERIOD_MS);
    assert.deepEqual(runner.restartWanted('a')?.restarts, 1, 'the first failure asks for a restart');
    runner.restarted('a', MAX_HEALTH_RESTARTS);
    runner.observe('a', 0, runningPod, observed, FIRST + 3_000 + CONTINUOUS_CHECK_PERIOD_MS);
    assert.equal(runner.restartWanted('a'), undefined, 'past the node-side bound the op runs on');
    runner.close();
  });
});
