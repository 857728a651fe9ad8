// The supervised informer against a real API server: sync, events, what the cache keeps, and
// convergence after the connection is cut, after it stalls, and after its version expires (410).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, test, type TestContext } from 'node:test';
import type { KubernetesObject, V1ConfigMap } from '@kubernetes/client-node';
import { pino } from 'pino';
import { SupervisedInformer, type InformerOptions, type RestartReason } from '../../src/runtime/informer.ts';
import type { CacheEvent } from '../../src/runtime/types.ts';
import { useCluster, type ClusterContext } from '../harness/fixture.ts';
import { kubectl, kubectlOk } from '../harness/kubectl.ts';
import { installNosanaApis } from '../harness/nosana-apis.ts';
import { TcpProxy } from '../harness/tcp-proxy.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';

const log = pino({ level: process.env.NOSANA_TEST_LOG ?? 'silent' });
// short enough that a test is not spent waiting for retries
const FAST_BACKOFF: InformerOptions['backoff'] = { initialMs: 100, maxMs: 1000 };

let ctx: ClusterContext;

/** An informer that records its events and restarts, stopped when the test ends. */
function recordingInformer<T extends KubernetesObject>(
  t: TestContext,
  kubeConfig: ClusterContext['kubeConfig'],
  path: string,
  options: InformerOptions = {},
) {
  const events: CacheEvent<T>[] = [];
  const restarts: RestartReason[] = [];
  const informer = new SupervisedInformer<T>(kubeConfig, path, log, { ...options, onRestart: (reason) => restarts.push(reason) });
  informer.on((event) => events.push(event));
  t.after(() => informer.stop());
  return { informer, events, restarts };
}

function configMap(namespace: string, name: string, value: string): V1ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels: { 'h2-test': 'yes' } }, data: { value } };
}

/** name → data.value of what the cache holds, and of what the API server holds. */
function cachedValues(informer: SupervisedInformer<V1ConfigMap>): Record<string, string | undefined> {
  return Object.fromEntries(
    informer
      .list()
      .map((cm) => [cm.metadata?.name ?? '', cm.data?.value])
      .sort(),
  );
}

async function serverValues(namespace: string): Promise<Record<string, string | undefined>> {
  const list = await ctx.core.listNamespacedConfigMap({ namespace, labelSelector: 'h2-test=yes' });
  return Object.fromEntries(list.items.map((cm) => [cm.metadata?.name ?? '', cm.data?.value]).sort());
}

async function converged(informer: SupervisedInformer<V1ConfigMap>, namespace: string, what: string): Promise<void> {
  await waitFor(async () => JSON.stringify(cachedValues(informer)) === JSON.stringify(await serverValues(namespace)), {
    what,
    timeoutMs: 60_000,
    intervalMs: 200,
  });
}

/** While the informer cannot reach the API server: update one object, delete one, create one. */
async function changeWhileAway(namespace: string): Promise<void> {
  await ctx.core.patchNamespacedConfigMap({ name: 'a', namespace, body: [{ op: 'replace', path: '/data/value', value: 'a2' }] });
  await ctx.core.deleteNamespacedConfigMap({ name: 'b', namespace });
  await ctx.core.createNamespacedConfigMap({ namespace, body: configMap(namespace, 'd', 'd1') });
}

async function seed(namespace: string): Promise<void> {
  for (const name of ['a', 'b', 'c']) await ctx.core.createNamespacedConfigMap({ namespace, body: configMap(namespace, name, `${name}1`) });
}

describe('SupervisedInformer on a real API server', () => {
  before(async () => {
    ctx = await useCluster();
  });

  test('syncs the watched namespaces only, then reports added, modified and deleted; cached objects are frozen and carry no managedFields', async (t) => {
    await installNosanaApis(ctx);
    const [first, second, unwatched] = await Promise.all([ctx.freshNamespace('inf'), ctx.freshNamespace('inf'), ctx.freshNamespace('inf')]);
    const job = (namespace: string, name: string) => ({
      apiVersion: 'nosana.io/v1alpha1',
      kind: 'NosanaJob',
      metadata: { name, namespace },
      spec: {
        market: 'm',
        definition: {
          version: '0.1',
          type: 'container',
          ops: [{ id: 'a', type: 'container/run', args: { image: 'ubuntu', cmd: 'true' } }],
        },
      },
    });
    for (const [namespace, name] of [
      [first, 'one'],
      [second, 'two'],
      [unwatched, 'other'],
    ] as const)
      await ctx.objects.create(job(namespace, name));

    const { informer, events } = recordingInformer<KubernetesObject>(t, ctx.kubeConfig, '/apis/nosana.io/v1alpha1/nosanajobs', {
      namespaces: [first, second],
    });
    assert.equal(informer.hasSynced(), false);
    await informer.start();
    assert.equal(informer.hasSynced(), true);
    assert.deepEqual(
      informer
        .list()
        .map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`)
        .sort(),
      [`${first}/one`, `${second}/two`].sort(),
    );
    assert.deepEqual(
      events.map((e) => e.type),
      ['added', 'added'],
    );
    assert.equal(informer.list(first).length, 1);

    const cached = informer.get({ namespace: first, name: 'one' });
    assert.ok(cached, 'the object is in the cache');
    assert.equal(cached.kind, 'NosanaJob', 'list items get their kind');
    assert.equal(cached.metadata?.managedFields, undefined);
    assert.ok(Object.isFrozen(cached) && Object.isFrozen(cached.metadata), 'cached objects are frozen');
    assert.throws(() => {
      (cached.metadata as { name?: string }).name = 'changed';
    }, TypeError);

    events.length = 0;
    await ctx.objects.create(job(second, 'three'));
    await ctx.objects.patch(
      { apiVersion: 'nosana.io/v1alpha1', kind: 'NosanaJob', metadata: { name: 'one', namespace: first, labels: { touched: 'yes' } } },
      undefined,
      undefined,
      undefined,
      undefined,
      'application/merge-patch+json',
    );
    await ctx.objects.delete({ apiVersion: 'nosana.io/v1alpha1', kind: 'NosanaJob', metadata: { name: 'two', namespace: second } });
    await ctx.objects.create(job(unwatched, 'ignored'));
    await waitFor(() => events.length >= 3, { what: 'three events', timeoutMs: 30_000 });

    const seen = events.map((e) => `${e.type} ${e.object.metadata?.name}`);
    assert.deepEqual(seen, ['added three', 'modified one', 'deleted two']);
    const modified = events[1];
    assert.equal(modified?.previous?.metadata?.labels?.touched, undefined, 'previous is the version before the change');
    assert.equal(modified?.object.metadata?.labels?.touched, 'yes');
    assert.equal(modified?.object.metadata?.managedFields, undefined, 'watched objects are stripped too');
    assert.equal(informer.get({ namespace: second, name: 'two' }), undefined);
    assert.equal(informer.get({ namespace: unwatched, name: 'ignored' }), undefined);
  });

  test('a cut connection: the informer retries while the API server is unreachable and converges on the exact set once it is back', async (t) => {
    const namespace = await ctx.freshNamespace('inf-cut');
    await seed(namespace);
    const proxy = await TcpProxy.forKubeConfig(ctx.kubeConfig);
    t.after(() => proxy.close());
    const { informer, restarts } = recordingInformer<V1ConfigMap>(
      t,
      proxy.kubeConfig(ctx.kubeConfig),
      `/api/v1/namespaces/${namespace}/configmaps`,
      { labelSelector: 'h2-test=yes', backoff: FAST_BACKOFF },
    );
    await informer.start();
    assert.deepEqual(cachedValues(informer), { a: 'a1', b: 'b1', c: 'c1' });

    proxy.refuse();
    proxy.sever();
    await changeWhileAway(namespace);
    // it noticed: the watch failed and reconnecting is refused
    await waitFor(() => restarts.length >= 2, { what: 'the informer to retry', timeoutMs: 30_000 });
    assert.deepEqual(cachedValues(informer), { a: 'a1', b: 'b1', c: 'c1' }, 'nothing changes while unreachable');

    proxy.allow();
    await converged(informer, namespace, 'the cache to match the API server after the cut');
    assert.deepEqual(cachedValues(informer), { a: 'a2', c: 'c1', d: 'd1' });
    assert.ok(
      restarts.every((reason) => reason === 'error'),
      `restarts: ${restarts.join(', ')}`,
    );
  });

  test('a stalled watch (connection open, silent) is torn down after the stall bound; the rebuilt list/watch converges while the old link hangs', async (t) => {
    const namespace = await ctx.freshNamespace('inf-stall');
    await seed(namespace);
    const proxy = await TcpProxy.forKubeConfig(ctx.kubeConfig);
    t.after(() => proxy.close());
    const { informer, events, restarts } = recordingInformer<V1ConfigMap>(
      t,
      proxy.kubeConfig(ctx.kubeConfig),
      `/api/v1/namespaces/${namespace}/configmaps`,
      { labelSelector: 'h2-test=yes', backoff: FAST_BACKOFF, stallTimeoutMs: 1500 },
    );
    await informer.start();
    // an event through the watch proves it is connected: that connection is the one to stall
    await ctx.core.createNamespacedConfigMap({ namespace, body: configMap(namespace, 'e', 'e1') });
    await waitFor(() => events.some((e) => e.object.metadata?.name === 'e'), { what: 'the watch to deliver an event', timeoutMs: 30_000 });
    events.length = 0;

    // the live watch connection goes silent but stays open: only the stall bound can notice
    proxy.stall();
    await changeWhileAway(namespace);
    await converged(informer, namespace, 'the cache to match the API server despite the stalled connection');
    assert.ok(restarts.includes('stalled'), `restarts: ${restarts.join(', ')}`);
    assert.deepEqual(cachedValues(informer), { a: 'a2', c: 'c1', d: 'd1', e: 'e1' });
    const seen = events.map((e) => `${e.type} ${e.object.metadata?.name}`).sort();
    assert.deepEqual(seen, ['added d', 'deleted b', 'modified a']);
  });

  test('410 Gone: a watch resuming from a version the API server no longer has relists and reports the difference', async (t) => {
    // A CRD deleted and created again gets a fresh watch cache that starts after the
    // informer's last version, so resuming from that version is answered with a real 410.
    const group = `h2-${randomBytes(3).toString('hex')}.test.nosana.io`;
    const crd = JSON.stringify({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `widgets.${group}` },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        ],
      },
    });
    const installCrd = async () => {
      await kubectlOk(ctx, ['apply', '-f', '-'], crd);
      await kubectlOk(ctx, ['wait', '--for=condition=Established', '--timeout=60s', `crd/widgets.${group}`]);
    };
    t.after(async () => {
      await kubectl(ctx, ['delete', 'crd', `widgets.${group}`, '--ignore-not-found', '--wait=false']);
    });
    const namespace = await ctx.freshNamespace('inf-gone');
    const widget = (name: string) => JSON.stringify({ apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name, namespace } });
    const createWidget = (name: string) =>
      waitFor(async () => (await kubectlOk(ctx, ['create', '-f', '-'], widget(name))) !== undefined, {
        what: `widget ${name} to be created`,
        timeoutMs: 30_000,
        intervalMs: 500,
      });
    await installCrd();
    await createWidget('x');
    await createWidget('y');

    const proxy = await TcpProxy.forKubeConfig(ctx.kubeConfig);
    t.after(() => proxy.close());
    const { informer, events, restarts } = recordingInformer<KubernetesObject>(
      t,
      proxy.kubeConfig(ctx.kubeConfig),
      `/apis/${group}/v1/namespaces/${namespace}/widgets`,
      { backoff: FAST_BACKOFF },
    );
    await informer.start();
    assert.deepEqual(
      informer
        .list()
        .map((o) => o.metadata?.name)
        .sort(),
      ['x', 'y'],
    );
    events.length = 0;

    proxy.refuse();
    proxy.sever();
    await kubectlOk(ctx, ['delete', 'crd', `widgets.${group}`, '--wait=true', '--timeout=60s']);
    await installCrd();
    await createWidget('z');
    proxy.allow();

    await waitFor(() => restarts.includes('expired'), { what: 'the watch to be answered with 410', timeoutMs: 60_000 });
    await waitFor(
      () =>
        informer
          .list()
          .map((o) => o.metadata?.name)
          .join() === 'z',
      { what: 'the cache to hold only z', timeoutMs: 60_000, intervalMs: 200 },
    );
    assert.deepEqual(events.map((e) => `${e.type} ${e.object.metadata?.name}`).sort(), ['added z', 'deleted x', 'deleted y']);
  });
});
