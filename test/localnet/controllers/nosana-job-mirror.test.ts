// Mirroring an on-chain job into its NosanaJob, against the localnet over HTTP: queued with its
// queue position, running with node and service URLs, and finished with ops, exit codes, log
// tails, the logs ConfigMap and the cost. The test plays the node through the chain client.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { jobCost, jobDeposit } from '../../../src/chain/money.ts';
import { exposeId } from '../../../src/api/job-definition/expose-id.ts';
import { LOGS_TRUNCATED_ANNOTATION } from '../../../src/controllers/nosana-job/logs-configmap.ts';
import { LOCALNET_SERVICE_DOMAIN } from '../../support/fake-kube.ts';
import { TestNode, resultDocument } from '../../harness/nosana-ledger.ts';
import { cidToBytes32 } from '../../../src/ipfs/cid.ts';
import { useLocalnet } from '../support.ts';
import {
  DEFINITION,
  NAMESPACE,
  createJobResource,
  jobResource,
  ledger,
  mirrorWorld,
  observe,
  postJob,
  readyReason,
  runningJob,
  stillPolled,
} from './nosana-job-mirror-support.ts';

const PRICE = 10n;
const TIMEOUT = 600n;
const getLocalnet = useLocalnet({ chain: { slotMs: 50 } });

describe('NosanaJob mirror', () => {
  test('a queued job: phase Queued, its queue position, price, market and definition CID; one event for the transition', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), {}, PRICE);
    const first = await postJob(world, TIMEOUT);
    const second = await postJob(world, TIMEOUT);
    createJobResource(world, 'second', {}, second);

    const { outcome, object } = await observe(world, 'second', second);
    assert.equal(object.status?.phase, 'Queued');
    assert.equal(readyReason(object), 'Queued');
    assert.equal(object.status?.queuePosition, 1, `job ${second.toBase58()} is behind ${first.toBase58()}`);
    assert.equal(object.status?.jobAddress, second.toBase58());
    assert.equal(object.status?.marketAddress, world.market.toBase58());
    assert.equal(object.status?.priceBaseUnits, PRICE.toString());
    assert.equal(object.status?.price, '0.00001');
    assert.equal(object.status?.ipfsJob, await world.ports.pinning.pinJson(DEFINITION));
    assert.equal(object.status?.conditions?.find((condition) => condition.type === 'Posted')?.status, 'True');
    assert.equal(outcome.requeueAfterMs, world.deps.options.pollIntervalMs);
    assert.deepEqual(world.kube.events.reasons(), ['Queued']);

    // Nothing changed: the next reconcile writes nothing and records no event.
    const writes = world.kube.writeCounts('NosanaJob').applyStatus;
    await observe(world, 'second', second);
    assert.equal(world.kube.writeCounts('NosanaJob').applyStatus, writes);
    assert.deepEqual(world.kube.events.reasons(), ['Queued']);
  });

  test('a running job: node, run account, start time and the service URLs of its exposed ports', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), {}, PRICE);
    const job = await postJob(world, TIMEOUT);
    createJobResource(world, 'service', {}, job);
    await observe(world, 'service', job);
    const node = await TestNode.join(world.localnet);
    await node.work(world.market);

    const { object } = await observe(world, 'service', job);
    const run = (await world.ports.jobs.getJob(job))?.run;
    assert.equal(object.status?.phase, 'Running');
    assert.equal(readyReason(object), 'ServiceRunning', 'a job exposing ports is a running service');
    assert.equal(object.status?.conditions?.find((condition) => condition.type === 'Ready')?.status, 'True');
    assert.equal(object.status?.node, node.address.toBase58());
    assert.equal(object.status?.runAddress, run?.address.toBase58());
    assert.equal(object.status?.timeStart, new Date(Number(run?.account.time) * 1000).toISOString().replace(/\.000Z$/, 'Z'));
    assert.equal(object.status?.queuePosition, undefined);
    // The serving op is ops[1] (after the volume op).
    assert.deepEqual(object.status?.serviceUrls, [
      { op: 'serve', port: 8080, url: `https://${exposeId(job.toBase58(), 1, 8080)}.${LOCALNET_SERVICE_DOMAIN}` },
    ]);
    assert.deepEqual(
      object.status?.attempts?.map((attempt) => attempt.node),
      [node.address.toBase58()],
    );
    assert.deepEqual(world.kube.events.reasons(), ['Queued', 'ServiceRunning']);
    assert.equal(await stillPolled(world, job), true, 'a running job is polled with the others');
  });

  test('a batch job (no exposed ports) runs with reason Running and no service URLs', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), {}, PRICE);
    const { job } = await runningJob(world, 'batch', {
      timeout: TIMEOUT,
      definition: { version: '0.1', type: 'container', ops: [{ type: 'container/run', id: 'train', args: { image: 'ubuntu' } }] },
    });
    const { object } = await observe(world, 'batch', job);
    assert.equal(object.status?.phase, 'Running');
    assert.equal(readyReason(object), 'Running');
    assert.deepEqual(object.status?.serviceUrls, []);
  });

  test('a finished job: Succeeded with every op, exit codes, log tails, the logs ConfigMap, duration and cost; then no longer polled', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), { logTailMaxBytes: 64 }, PRICE);
    const { job, node } = await runningJob(world, 'done', { timeout: TIMEOUT });
    await observe(world, 'done', job);
    const before = await ledger(world, node);
    world.localnet.chain.clock.advance(30);
    const lines = Array.from({ length: 20 }, (_, index) => `step ${index} done`);
    const cid = await node.finish(job, [
      { id: 'cache', exitCode: 0 },
      { id: 'serve', exitCode: 0, logs: lines },
    ]);

    const { outcome, object } = await observe(world, 'done', job);
    const account = (await world.ports.jobs.getJob(job))?.account;
    assert.ok(account !== undefined);
    const elapsed = account.timeEnd - account.timeStart;
    assert.ok(elapsed >= 30n);
    assert.equal(object.status?.phase, 'Succeeded');
    assert.equal(object.status?.ipfsResult, cid);
    assert.equal(object.status?.duration, Number(elapsed));
    assert.equal(object.status?.costBaseUnits, jobCost(PRICE, elapsed, TIMEOUT).toString());
    assert.equal(object.status?.conditions?.find((condition) => condition.type === 'Completed')?.status, 'True');
    assert.deepEqual(
      object.status?.ops?.map((op) => [op.id, op.status, op.exitCode]),
      [
        ['cache', 'success', 0],
        ['serve', 'success', 0],
      ],
    );
    const tail = object.status?.ops?.[1]?.logTail ?? '';
    assert.ok(
      Buffer.byteLength(tail) <= 64 && tail.endsWith('step 19 done\n') && tail.startsWith('step '),
      `log tail ${JSON.stringify(tail)}`,
    );
    assert.equal(object.status?.logsConfigMap, 'done-logs');
    const configMap = world.kube.get('ConfigMap', { namespace: NAMESPACE, name: 'done-logs' }) as V1ConfigMap | undefined;
    assert.equal(configMap?.data?.['serve.log'], lines.map((line) => `${line}\n`).join(''));
    assert.equal(configMap?.metadata?.ownerReferences?.[0]?.uid, object.metadata?.uid);
    assert.deepEqual(
      object.status?.attempts?.map((attempt) => attempt.outcome),
      ['Succeeded'],
    );
    assert.deepEqual(outcome, {}, 'a terminal job is not requeued');
    assert.equal(await stillPolled(world, job), false, 'the watcher forgot it');

    // The chain settled price × elapsed to the node and refunded the rest; the mirror spent nothing.
    const after = await ledger(world, node);
    assert.equal(after.node - before.node, jobCost(PRICE, elapsed, TIMEOUT));
    assert.equal(after.poster - before.poster, jobDeposit(PRICE, TIMEOUT) - jobCost(PRICE, elapsed, TIMEOUT));
    assert.equal(after.total, before.total);
    assert.deepEqual(world.metrics.actions, []);
  });

  test('the logs ConfigMap is capped and the truncation is marked', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), { logsConfigMapMaxBytes: 2048 }, PRICE);
    const { job, node } = await runningJob(world, 'noisy', { timeout: TIMEOUT });
    const lines = Array.from({ length: 1_000 }, (_, index) => `token ${index}`);
    await node.finish(job, [
      { id: 'cache', exitCode: 0 },
      { id: 'serve', exitCode: 0, logs: lines },
    ]);
    await observe(world, 'noisy', job);
    const configMap = world.kube.get('ConfigMap', { namespace: NAMESPACE, name: 'noisy-logs' }) as V1ConfigMap | undefined;
    const log = configMap?.data?.['serve.log'] ?? '';
    assert.ok(Buffer.byteLength(log) <= 2048);
    assert.match(log, /^\[nosana-operator: the first \d+ bytes of this log were dropped/);
    assert.ok(log.endsWith('token 999\n'));
    assert.equal(configMap?.metadata?.annotations?.[LOGS_TRUNCATED_ANNOTATION], 'serve.log');
  });

  test('a ConfigMap of the logs name that the NosanaJob does not own is left alone; the result is still stored', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), {}, PRICE);
    const { job, node } = await runningJob(world, 'taken', { timeout: TIMEOUT });
    world.kube.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'taken-logs', namespace: NAMESPACE },
      data: { mine: 'precious' },
    });
    await node.finish(job, [
      { id: 'cache', exitCode: 0 },
      { id: 'serve', exitCode: 0, logs: ['served'] },
    ]);
    const { object } = await observe(world, 'taken', job);
    assert.equal(object.status?.phase, 'Succeeded');
    assert.equal(object.status?.logsConfigMap, undefined);
    assert.equal(object.status?.ops?.find((op) => op.id === 'serve')?.logTail, 'served\n');
    const configMap = world.kube.get('ConfigMap', { namespace: NAMESPACE, name: 'taken-logs' }) as V1ConfigMap | undefined;
    assert.deepEqual(configMap?.data, { mine: 'precious' });
    assert.ok(world.kube.events.reasons().includes('LogsConfigMapTaken'));
  });

  test('a result document full of extracted values still fits the status: the job ends, every op listed, latest values kept', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), {}, PRICE);
    const { job, node } = await runningJob(world, 'extracting', { timeout: TIMEOUT });
    // Each op extracted six expressions matching all through its log: 32 values of 4096 characters each.
    const values = (key: string): string[] => Array.from({ length: 32 }, (_, index) => `${key}#${index} ${'é'.repeat(4_000)}`);
    const document = resultDocument(['a', 'b', 'c'].map((id) => ({ id, exitCode: 0, logs: [`${id} done`] })));
    const opStates = (document.opStates as Record<string, unknown>[]).map((op) => ({
      ...op,
      results: Object.fromEntries(['k0', 'k1', 'k2', 'k3', 'k4', 'k5'].map((key) => [key, values(key)])),
    }));
    const cid = await world.ports.pinning.pinJson({ ...document, opStates });
    await world.ports.jobs.finish(node.key, job, cidToBytes32(cid));

    const { object } = await observe(world, 'extracting', job);
    assert.equal(object.status?.phase, 'Succeeded');
    const size = Buffer.byteLength(JSON.stringify(object.status), 'utf8');
    assert.ok(size <= 512 * 1024, `the status takes ${size} bytes`);
    assert.deepEqual(
      object.status?.ops?.map((op) => [op.id, op.logTail]),
      [
        ['a', 'a done\n'],
        ['b', 'b done\n'],
        ['c', 'c done\n'],
      ],
    );
    const kept = object.status?.ops?.[0]?.results?.['k0'] ?? [];
    assert.ok(kept.length > 0 && kept.at(-1)?.startsWith('k0#31 '), 'the latest match of the first expression is kept');
  });

  test("a logs cap set above what a ConfigMap may hold is held to the API server's 1 MiB", async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), { logsConfigMapMaxBytes: 4 * 1024 * 1024 }, PRICE);
    const { job, node } = await runningJob(world, 'verbose', { timeout: TIMEOUT });
    const lines = Array.from({ length: 30_000 }, (_, index) => `verbose output line ${index} ${'x'.repeat(40)}`);
    await node.finish(job, [
      { id: 'cache', exitCode: 0 },
      { id: 'serve', exitCode: 0, logs: lines },
    ]);
    const { object } = await observe(world, 'verbose', job);
    assert.equal(object.status?.phase, 'Succeeded');
    const configMap = world.kube.get('ConfigMap', { namespace: NAMESPACE, name: 'verbose-logs' }) as V1ConfigMap | undefined;
    const log = configMap?.data?.['serve.log'] ?? '';
    assert.ok(Buffer.byteLength(log) <= 1024 * 1024 && log.endsWith(`${lines.at(-1)}\n`));
    assert.equal(configMap?.metadata?.annotations?.[LOGS_TRUNCATED_ANNOTATION], 'serve.log');
  });

  test('a logs ConfigMap that cannot be written does not keep the result out of the resource: stored first, the write retried', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), {}, PRICE);
    const { job, node } = await runningJob(world, 'quota', { timeout: TIMEOUT });
    const cid = await node.finish(job, [
      { id: 'cache', exitCode: 0 },
      { id: 'serve', exitCode: 0, logs: ['served'] },
    ]);
    const writer = world.deps.writer;
    world.deps.writer = { ...writer, applyObject: () => Promise.reject(new Error('configmaps "quota-logs" is forbidden: exceeded quota')) };

    await assert.rejects(observe(world, 'quota', job), /exceeded quota/);
    const stored = jobResource(world, 'quota');
    assert.equal(stored.status?.ipfsResult, cid, 'the result CID is in the resource');
    assert.deepEqual(
      stored.status?.ops?.map((op) => [op.id, op.exitCode]),
      [
        ['cache', 0],
        ['serve', 0],
      ],
    );
    assert.equal(stored.status?.phase, 'Running', 'not finished until its logs are kept');
    assert.match(
      stored.status?.conditions?.find((condition) => condition.type === 'Ready')?.message ?? '',
      /logs ConfigMap quota-logs could not be written: .*exceeded quota/,
    );

    world.deps.writer = writer;
    const { object } = await observe(world, 'quota', job);
    assert.equal(object.status?.phase, 'Succeeded');
    assert.equal(object.status?.logsConfigMap, 'quota-logs');
  });

  test('a failed op: Failed, reason OpFailed naming the op and its exit code', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), {}, PRICE);
    const { job, node } = await runningJob(world, 'broken', { timeout: TIMEOUT });
    await node.finish(job, [
      { id: 'cache', exitCode: 0 },
      { id: 'serve', exitCode: 137, logs: ['Killed'] },
    ]);

    const { object } = await observe(world, 'broken', job);
    assert.equal(object.status?.phase, 'Failed');
    assert.equal(readyReason(object), 'OpFailed');
    const ready = object.status?.conditions?.find((condition) => condition.type === 'Ready');
    assert.match(ready?.message ?? '', /op "serve" failed with exit code 137/);
    assert.equal(object.status?.conditions?.find((condition) => condition.type === 'Failed')?.status, 'True');
    assert.deepEqual(
      object.status?.ops?.map((op) => [op.id, op.exitCode, op.logTail]),
      [
        ['cache', 0, undefined],
        ['serve', 137, 'Killed\n'],
      ],
    );
    assert.deepEqual(
      object.status?.attempts?.map((attempt) => attempt.outcome),
      ['Failed'],
    );
    assert.ok(world.kube.events.list.some((event) => event.type === 'Warning' && event.reason === 'OpFailed'));
  });
});
