// The health checks the runner performs itself (a POST with a body and an exact status: no probe
// can send that), end to end through runPlan on the local cluster. The cluster has no Pod network,
// so the runner's resolver points at a loopback server this test runs in the op's place; what the
// server answers, and when, is the test's choice. Checked: a dependent launches only once its
// dependency's check passed, and a `restart_on_failure` check that fails later replaces the op's
// Pod, the log of both Pods ending up in the result.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import pino from 'pino';
import { planJob } from '../../src/executor/plan.ts';
import { runPlan } from '../../src/executor/runner.ts';
import { OP_ID_ANNOTATION } from '../../src/executor/labels.ts';
import { DEFAULT_EXECUTOR_SETTINGS } from '../../src/executor/settings.ts';
import { SimulationWatcher } from '../../src/local-cluster/simulation.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';
import { SupervisedInformer } from '../../src/runtime/informer.ts';
import { useCluster } from '../harness/fixture.ts';
import type { ClusterContext } from '../harness/fixture.ts';

describe('health checks the runner performs', () => {
  let ctx: ClusterContext;
  let namespace: string;
  let watcher: SimulationWatcher;
  let pods: SupervisedInformer<V1Pod>;
  const firstSeenAt = new Map<string, number>();
  const uidsByOp = new Map<string, Set<string>>();

  before(async () => {
    ctx = await useCluster();
    namespace = await ctx.freshNamespace('checks');
    watcher = new SimulationWatcher({
      kubeConfig: ctx.kubeConfig,
      logsDir: ctx.handle.kwokLogsDir,
      rules: [
        { name: 'model server', match: { image: 'vllm' }, then: { logs: [{ stream: 'stdout', text: 'serving' }] } },
        { name: 'client', match: { image: 'client' }, then: { exitCode: 0, runFor: '300ms' } },
      ],
      namespaces: [namespace],
      log: pino({ level: 'silent' }),
    });
    pods = new SupervisedInformer<V1Pod>(ctx.kubeConfig, '/api/v1/pods', pino({ level: 'silent' }), { namespaces: [namespace] });
    pods.on((event) => {
      const opId = event.object.metadata?.annotations?.[OP_ID_ANNOTATION] ?? '';
      const uid = event.object.metadata?.uid ?? '';
      if (!firstSeenAt.has(uid)) firstSeenAt.set(uid, Date.now());
      const uids = uidsByOp.get(opId) ?? new Set<string>();
      uids.add(uid);
      uidsByOp.set(opId, uids);
    });
    await Promise.all([watcher.start(), pods.start()]);
  });

  after(async () => {
    await Promise.all([watcher.stop(), pods.stop()]);
  });

  test('a POST check gates the dependent until it passes; failing later with restart_on_failure, it replaces the Pod', async (t) => {
    // The op's server: 503 to the first check ("loading"), then 200, then 500 once the test says it is wedged.
    let answer = 200;
    let loading = true;
    const requests: { method: string; body: string; status: number; at: number }[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const status = loading ? 503 : answer;
        loading = false;
        requests.push({ method: request.method ?? '', body, status, at: Date.now() });
        response.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;

    const plan = planJob(
      {
        version: '0.1',
        type: 'container',
        ops: [
          {
            type: 'container/run',
            id: 'model',
            args: {
              image: 'vllm',
              expose: [
                {
                  port: 9000,
                  health_checks: [
                    {
                      type: 'http',
                      method: 'POST',
                      path: '/v1/chat/completions',
                      body: '{"messages":[{"role":"user","content":"Ready?"}]}',
                      headers: { 'Content-Type': 'application/json' },
                      expected_status: 200,
                      continuous: true,
                      restart_on_failure: true,
                      max_restarts: 1,
                    },
                  ],
                },
              ],
            },
            execution: { group: 'serve' },
          },
          { type: 'container/run', id: 'client', args: { image: 'client' }, execution: { group: 'serve', depends_on: ['model'] } },
        ],
      },
      'checks-job',
    );
    assert.ok('ops' in plan);
    let deadline = Date.now() + 5 * 60_000;
    const ran = runPlan(plan, {
      kubeConfig: ctx.kubeConfig,
      settings: { ...DEFAULT_EXECUTOR_SETTINGS, namespace, operatorImage: 'operator:test' },
      log: pino({ level: 'silent' }),
      globals: { job: 'checks-job', project: 'poster', host: 'node', frps_address: '' },
      deadline: () => deadline,
      onClusterFailure: 'fail-op',
      // The op's port is this test's server.
      checkResolver: () => Promise.resolve({ host: '127.0.0.1', port }),
    });

    // Whatever fails below, the run is ended and awaited, so nothing keeps the test process alive.
    t.after(async () => {
      deadline = Date.now();
      await ran.catch(() => undefined);
      server.close();
    });

    const client = await waitFor(() => [...(uidsByOp.get('client') ?? [])][0], { what: 'the client launched', timeoutMs: 60_000 });
    const firstPass = requests.find((request) => request.status === 200);
    assert.ok(firstPass !== undefined, 'a check passed');
    assert.ok(requests[0]?.status === 503, 'the first checks failed');
    assert.ok((firstSeenAt.get(client) ?? 0) >= firstPass.at, 'the client was created only after a check passed');
    assert.ok(
      requests.some((request) => request.method === 'POST' && request.body.includes('"Ready?"')),
      'the check sent its body',
    );
    assert.ok(requests.length >= 2, `the check was retried while it failed (${requests.length} requests)`);

    // Wedged: the next continuous check fails, and the op's Pod is replaced.
    answer = 500;
    await waitFor(() => (uidsByOp.get('model')?.size ?? 0) >= 2, { what: 'a second Pod for the model op', timeoutMs: 90_000 });
    answer = 200;
    deadline = Date.now();
    const result = await ran;

    const [model, clientState] = result.flow.opStates;
    assert.equal(model?.status, 'success', 'stopped at the deadline: success');
    assert.equal(clientState?.status, 'success');
    assert.deepEqual(
      model?.logs.map((entry) => entry.log),
      ['serving\n', 'serving\n'],
      'the log of both Pods is kept',
    );
  });
});
