// What the runtime writes to a real API server: status by server-side apply (and nothing when
// nothing changed, counted in the audit log), metadata patches guarded by resourceVersion,
// finalizers, whole-object apply, uncached reads, and de-duplicated Events.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { ApiEventRecorder, REPORTING_CONTROLLER } from '../../src/runtime/events.ts';
import { ApiKubeReader } from '../../src/runtime/kube-reader.ts';
import { ApiKubeWriter, FIELD_MANAGER } from '../../src/runtime/kube-writer.ts';
import { StaleObjectError, refOf, type ObjectRef } from '../../src/runtime/types.ts';
import { auditEvents } from '../harness/audit-log.ts';
import { useCluster, type ClusterContext } from '../harness/fixture.ts';
import { installNosanaApis } from '../harness/nosana-apis.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';

const log = pino({ level: process.env.NOSANA_TEST_LOG ?? 'silent' });

interface Job extends KubernetesObject {
  status?: Record<string, unknown>;
}

let ctx: ClusterContext;
let writer: ApiKubeWriter;

async function createJob(namespace: string, name: string): Promise<Job> {
  return ctx.objects.create<Job>({
    apiVersion: 'nosana.io/v1alpha1',
    kind: 'NosanaJob',
    metadata: { name, namespace },
    spec: {
      market: 'm',
      definition: { version: '0.1', type: 'container', ops: [{ id: 'a', type: 'container/run', args: { image: 'ubuntu', cmd: 'true' } }] },
    },
  } as Job);
}

async function readJob(ref: ObjectRef): Promise<Job> {
  return ctx.objects.read<Job>({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } });
}

const readyCondition = {
  type: 'Ready',
  status: 'False',
  reason: 'Pending',
  message: 'waiting',
  lastTransitionTime: '2026-01-02T03:04:05Z',
};

describe('runtime writes on a real API server', () => {
  before(async () => {
    ctx = await useCluster();
    await installNosanaApis(ctx);
    writer = new ApiKubeWriter(ctx.kubeConfig);
  });

  test('replaceStatus: written only at the version read (a stale copy is a conflict, nothing written); fields the new status drops are removed', async () => {
    const namespace = await ctx.freshNamespace('writer');
    const created = await createJob(namespace, 'replaced');
    const ref = refOf(created);
    const first = await writer.replaceStatus(ref, created.metadata?.resourceVersion ?? '', { phase: 'Queued', queuePosition: 2 }, {});
    assert.ok(first !== undefined && first !== created.metadata?.resourceVersion, 'the status was written at a new version');
    assert.deepEqual((await readJob(ref)).status, { phase: 'Queued', queuePosition: 2 });

    await assert.rejects(
      writer.replaceStatus(ref, created.metadata?.resourceVersion ?? '', { phase: 'Running', queuePosition: 9 }, {}),
      StaleObjectError,
      'a status decided from the copy before the last write is refused',
    );
    assert.deepEqual((await readJob(ref)).status, { phase: 'Queued', queuePosition: 2 }, 'nothing of the stale status was written');

    await writer.replaceStatus(ref, first, { phase: 'Running' }, { phase: 'Queued', queuePosition: 2 });
    assert.deepEqual((await readJob(ref)).status, { phase: 'Running' }, 'a field the new status drops is gone');
  });

  test("applyStatus: server-side apply under the operator's field manager; unchanged status sends nothing; fields left out are released", async () => {
    const namespace = await ctx.freshNamespace('writer');
    const ref = refOf(await createJob(namespace, 'applied'));
    const since = new Date(Date.now() - 1000);

    const firstVersion = await writer.applyStatus(ref, { phase: 'Pending', queuePosition: 3, conditions: [readyCondition] });
    const written = await readJob(ref);
    assert.equal(firstVersion, written.metadata?.resourceVersion, "the write returns the object's new resourceVersion");
    assert.deepEqual(written.status, { phase: 'Pending', queuePosition: 3, conditions: [readyCondition] });
    const manager = written.metadata?.managedFields?.find((entry) => entry.manager === FIELD_MANAGER);
    assert.equal(manager?.operation, 'Apply');
    assert.equal(manager?.subresource, 'status');

    // the cached status, with keys in another order: equal, so no request at all
    const cached = {
      conditions: [{ ...readyCondition }].map((c) => Object.fromEntries(Object.entries(c).reverse())),
      queuePosition: 3,
      phase: 'Pending',
    };
    assert.equal(await writer.applyStatus(ref, { phase: 'Pending', queuePosition: 3, conditions: [readyCondition] }, cached), undefined);

    // a later apply without queuePosition removes it: the manager owned it and let it go
    assert.notEqual(await writer.applyStatus(ref, { phase: 'Queued', conditions: [readyCondition] }, cached), undefined);
    assert.deepEqual((await readJob(ref)).status, { phase: 'Queued', conditions: [readyCondition] });

    // exactly the two applies reached the API server (the audit log is flushed in batches)
    const statusWrites = () =>
      auditEvents(ctx.handle.auditLogPath, {
        username: 'admin',
        since,
        namespace,
        verbs: new Set(['patch']),
        objectName: (name) => name === 'applied',
      }).then((events) => events.filter((event) => event.objectRef?.subresource === 'status'));
    await waitFor(async () => (await statusWrites()).length >= 2, { what: 'the status writes in the audit log', timeoutMs: 30_000 });
    assert.equal((await statusWrites()).length, 2);
  });

  test('applyStatus on an object deleted since it was read is a StaleObjectError', async () => {
    const namespace = await ctx.freshNamespace('writer-gone');
    const ref = refOf(await createJob(namespace, 'job'));
    await ctx.objects.delete({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: 'job', namespace } });
    await waitFor(async () => (await readJob(ref).catch(() => undefined)) === undefined, { what: 'the job to be gone' });
    await assert.rejects(writer.applyStatus(ref, { phase: 'Pending' }), StaleObjectError);
  });

  test('patchMetadata: annotations and finalizers at a resourceVersion; idempotent; stale versions and concurrent writers are refused', async () => {
    const namespace = await ctx.freshNamespace('writer-meta');
    const job = await createJob(namespace, 'meta');
    const ref = refOf(job);
    const v1 = job.metadata?.resourceVersion ?? '';

    const v2 = await writer.patchMetadata(ref, v1, {
      annotations: { 'nosana.io/job-address': 'abc' },
      addFinalizers: ['nosana.io/cleanup'],
    });
    assert.notEqual(v2, v1);
    let stored = await readJob(ref);
    assert.equal(stored.metadata?.resourceVersion, v2);
    assert.equal(stored.metadata?.annotations?.['nosana.io/job-address'], 'abc');
    assert.deepEqual(stored.metadata?.finalizers, ['nosana.io/cleanup']);

    // the same change again: nothing to write, same version back
    assert.equal(
      await writer.patchMetadata(ref, v2, { annotations: { 'nosana.io/job-address': 'abc' }, addFinalizers: ['nosana.io/cleanup'] }),
      v2,
    );
    // a change decided from the old version is refused and changes nothing
    await assert.rejects(writer.patchMetadata(ref, v1, { annotations: { 'nosana.io/job-address': 'other' } }), StaleObjectError);
    assert.equal((await readJob(ref)).metadata?.annotations?.['nosana.io/job-address'], 'abc');

    // two writers decided from the same version: the API server lets exactly one through
    const outcomes = await Promise.allSettled([
      writer.patchMetadata(ref, v2, { annotations: { 'nosana.io/pending-post': 'first' } }),
      writer.patchMetadata(ref, v2, { annotations: { 'nosana.io/pending-post': 'second' } }),
    ]);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    assert.equal(won.length, 1);
    assert.equal(lost.length, 1);
    assert.ok(lost[0]?.reason instanceof StaleObjectError, String(lost[0]?.reason));
    stored = await readJob(ref);
    const winner = outcomes[0]?.status === 'fulfilled' ? 'first' : 'second';
    assert.equal(stored.metadata?.annotations?.['nosana.io/pending-post'], winner);

    const v4 = await writer.patchMetadata(ref, stored.metadata?.resourceVersion ?? '', {
      annotations: { 'nosana.io/pending-post': null },
      removeFinalizers: ['nosana.io/cleanup'],
    });
    stored = await readJob(ref);
    assert.equal(stored.metadata?.resourceVersion, v4);
    assert.equal(stored.metadata?.annotations?.['nosana.io/pending-post'], undefined);
    assert.equal(stored.metadata?.annotations?.['nosana.io/job-address'], 'abc', 'other annotations stay');
    assert.equal(stored.metadata?.finalizers, undefined);

    await ctx.objects.delete({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace } });
    await waitFor(async () => (await readJob(ref).catch(() => undefined)) === undefined, { what: 'the job to be gone' });
    await assert.rejects(writer.patchMetadata(ref, v4, { addFinalizers: ['nosana.io/cleanup'] }), StaleObjectError);
  });

  test('applyObject creates and then updates an object the operator owns; the reader returns it, and undefined for what does not exist', async () => {
    const namespace = await ctx.freshNamespace('writer-apply');
    const configMap = (value: string) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'job-logs', namespace },
      data: { value },
    });
    const reader = new ApiKubeReader(ctx.kubeConfig);
    await writer.applyObject(configMap('one'));
    assert.equal((await reader.getConfigMap({ namespace, name: 'job-logs' }))?.data?.value, 'one');
    await writer.applyObject(configMap('two'));
    assert.equal((await reader.getConfigMap({ namespace, name: 'job-logs' }))?.data?.value, 'two');
    assert.equal(await reader.getConfigMap({ namespace, name: 'missing' }), undefined);

    await ctx.core.createNamespacedSecret({ namespace, body: { metadata: { name: 'wallet' }, stringData: { key: 'not-a-real-key' } } });
    const secret = await reader.getSecret({ namespace, name: 'wallet' });
    assert.equal(Buffer.from(secret?.data?.key ?? '', 'base64').toString(), 'not-a-real-key');
    assert.equal(await reader.getSecret({ namespace, name: 'missing' }), undefined);
  });

  test('events: repeats become one Event with a series; distinct notes are distinct Events; an object flooding events is rate limited', async () => {
    const namespace = await ctx.freshNamespace('events');
    const job = await createJob(namespace, 'evented');
    const recorder = new ApiEventRecorder(ctx.kubeConfig, log, {
      reportingInstance: 'test-replica',
      burst: 3,
      refillIntervalMs: 3_600_000,
    });
    for (let i = 0; i < 3; i++)
      recorder.record(job, 'Warning', 'InsufficientFunds', 'Post', 'the wallet holds 1 NOS; the deposit needs 5 NOS');
    recorder.record(job, 'Normal', 'Posted', 'Post', 'posted');
    await recorder.flush();

    type EventObject = {
      reason: string;
      note: string;
      type: string;
      eventTime: string;
      reportingController: string;
      reportingInstance: string;
      action: string;
      regarding: { uid?: string; name?: string };
      series?: { count: number; lastObservedTime: string };
    };
    const events = async () => (await ctx.objects.list<KubernetesObject & EventObject>('events.k8s.io/v1', 'Event', namespace)).items;
    let listed = await events();
    const funds = listed.filter((e) => e.reason === 'InsufficientFunds');
    assert.equal(funds.length, 1, 'one Event for three identical reports');
    assert.equal(funds[0]?.series?.count, 3);
    assert.equal(funds[0]?.type, 'Warning');
    assert.equal(funds[0]?.reportingController, REPORTING_CONTROLLER);
    assert.equal(funds[0]?.reportingInstance, 'test-replica');
    assert.equal(funds[0]?.action, 'Post');
    assert.equal(funds[0]?.regarding.uid, job.metadata?.uid);
    assert.equal(listed.filter((e) => e.reason === 'Posted').length, 1);

    // the budget of 3 writes is spent (create, series update, Posted): further Events are held back
    recorder.record(job, 'Warning', 'Flood', 'Post', 'again');
    await recorder.flush();
    listed = await events();
    assert.equal(listed.filter((e) => e.reason === 'Flood').length, 0);
    const other = await createJob(namespace, 'other');
    recorder.record(other, 'Warning', 'Flood', 'Post', 'again');
    await recorder.flush();
    assert.equal((await events()).filter((e) => e.reason === 'Flood').length, 1, 'the budget is per object');
  });
});
