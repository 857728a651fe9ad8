// NosanaDeployment end to end: the controller process against the test API server and the
// localnet, the test playing the nodes (TestNodes waiting in a market take each replica as it is
// posted) and, for health checks, the tunnel gateway (a loopback HTTP server routing by Host that
// the test makes stop answering). Every test counts the jobs on chain and the NOS they moved.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { EventsV1Api, PatchStrategy } from '@kubernetes/client-node';
import { PublicKey } from '@solana/web3.js';
import type { Keypair } from '@solana/web3.js';
import type { z } from 'zod';
import type { NosanaDeploymentStatus, nosanaDeploymentSpec } from '../../src/api/crds/nosana-deployment.ts';
import { formatNos, listCharge } from '../../src/chain/money.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';
import { kubectl, kubectlOk } from '../harness/kubectl.ts';
import {
  conditionOf,
  NOSANA_API_VERSION,
  simpleDefinition,
  type NosanaJobResource,
  type NosanaNamespace,
} from '../harness/nosana-fixtures.ts';
import { jobAccountsOf, readLedger, TestNode } from '../harness/nosana-ledger.ts';
import { useNosanaScene } from '../harness/nosana-scene.ts';

type DeploymentSpecInput = z.input<typeof nosanaDeploymentSpec>;

interface DeploymentResource extends KubernetesObject {
  spec: DeploymentSpecInput;
  status?: NosanaDeploymentStatus;
}

const PRICE = 10n;
// an hour, as services are run: longer than the default rotateBefore (10m)
const TIMEOUT = 3600n;
const SETTINGS = { price: PRICE, timeout: TIMEOUT };

/**
 * The service domain's tunnel gateway as the controller reaches it (--probe-gateway): answers the
 * health check of every service host except those the test has taken down.
 */
const down = new Set<string>();
const probed = new Set<string>();
const gateway = createServer((request, response) => {
  const host = (request.headers.host ?? '').split(':')[0] ?? '';
  probed.add(host);
  if (down.has(host) || down.has('*')) {
    response.statusCode = 503;
    response.end('tunnel closed');
    return;
  }
  response.statusCode = request.url === '/health' ? 200 : 404;
  response.end('ok');
});
await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
const gatewayPort = (gateway.address() as AddressInfo).port;

/** A definition with one exposed port and an HTTP health check on it. */
function serviceDefinition(text = 'v1'): DeploymentSpecInput['template']['spec']['definition'] {
  return {
    version: '0.1',
    type: 'container',
    ops: [
      {
        id: 'web',
        type: 'container/run',
        args: {
          image: 'nginx:1.27',
          cmd: ['nginx', '-g', `daemon off; # ${text}`],
          expose: [
            { port: 8080, health_checks: [{ type: 'http', method: 'GET', path: '/health', expected_status: 200, continuous: true }] },
          ],
        },
      },
    ],
  } as DeploymentSpecInput['template']['spec']['definition'];
}

/** The NosanaDeployment side of a test namespace. */
class Deployments {
  readonly #ns: NosanaNamespace;
  constructor(ns: NosanaNamespace) {
    this.#ns = ns;
  }

  #header(name: string) {
    return { apiVersion: NOSANA_API_VERSION, kind: 'NosanaDeployment', metadata: { name, namespace: this.#ns.name } };
  }

  create(name: string, spec: DeploymentSpecInput, annotations?: Record<string, string>): Promise<DeploymentResource> {
    return this.#ns.ctx.objects.create({
      ...this.#header(name),
      metadata: { name, namespace: this.#ns.name, ...(annotations === undefined ? {} : { annotations }) },
      spec,
    } as DeploymentResource);
  }

  read(name: string): Promise<DeploymentResource> {
    return this.#ns.ctx.objects.read<DeploymentResource>(this.#header(name));
  }

  patch(
    name: string,
    patch: { spec?: Partial<DeploymentSpecInput>; metadata?: { annotations?: Record<string, string> } },
  ): Promise<DeploymentResource> {
    return this.#ns.ctx.objects.patch(
      {
        ...this.#header(name),
        metadata: { name, namespace: this.#ns.name, ...patch.metadata },
        ...(patch.spec === undefined ? {} : { spec: patch.spec }),
      } as DeploymentResource,
      undefined,
      undefined,
      undefined,
      undefined,
      PatchStrategy.MergePatch,
    );
  }

  async delete(name: string): Promise<void> {
    await this.#ns.ctx.objects.delete(this.#header(name));
  }

  /** The replica NosanaJobs of a deployment, oldest first. */
  async replicas(name: string): Promise<NosanaJobResource[]> {
    const list = await this.#ns.ctx.objects.list<NosanaJobResource>(
      NOSANA_API_VERSION,
      'NosanaJob',
      this.#ns.name,
      undefined,
      undefined,
      undefined,
      undefined,
      `nosana.io/deployment=${name}`,
    );
    return list.items.sort((a, b) => Number(a.metadata?.labels?.['nosana.io/replica']) - Number(b.metadata?.labels?.['nosana.io/replica']));
  }

  async waitFor(
    name: string,
    what: string,
    accept: (deployment: DeploymentResource, replicas: NosanaJobResource[]) => boolean,
    timeoutMs = 60_000,
  ): Promise<DeploymentResource> {
    return waitFor(
      async () => {
        const deployment = await this.read(name);
        const replicas = await this.replicas(name);
        if (accept(deployment, replicas)) return deployment;
        const ready = conditionOf(deployment, 'Ready');
        throw new Error(
          `phase ${deployment.status?.phase ?? '-'} ${ready?.reason ?? ''}: ${ready?.message ?? ''}; ready ${deployment.status?.ready ?? '-'}; replicas ${replicas
            .map(
              (job) =>
                `${job.metadata?.name}=${job.status?.phase ?? 'new'}${job.metadata?.deletionTimestamp === undefined ? '' : '(deleting)'}`,
            )
            .join(', ')}`,
        );
      },
      { what: `NosanaDeployment ${this.#ns.name}/${name} ${what}`, timeoutMs, intervalMs: 200 },
    );
  }

  /** The reasons of the Events about a deployment, oldest first, with their notes. */
  async events(name: string): Promise<{ reason: string; note: string }[]> {
    const events = await this.#ns.ctx.kubeConfig.makeApiClient(EventsV1Api).listNamespacedEvent({
      namespace: this.#ns.name,
      fieldSelector: `regarding.kind=NosanaDeployment,regarding.name=${name}`,
    });
    const time = (event: { eventTime?: Date | string; deprecatedFirstTimestamp?: Date }) =>
      new Date(event.eventTime ?? event.deprecatedFirstTimestamp ?? 0).getTime();
    return events.items.sort((a, b) => time(a) - time(b)).map((event) => ({ reason: event.reason ?? '?', note: event.note ?? '' }));
  }
}

const live = (replicas: readonly NosanaJobResource[]) =>
  replicas.filter(
    (job) => job.metadata?.deletionTimestamp === undefined && !['Succeeded', 'Failed', 'Cancelled'].includes(job.status?.phase ?? ''),
  );
const running = (replicas: readonly NosanaJobResource[]) =>
  replicas.filter((job) => job.metadata?.deletionTimestamp === undefined && job.status?.phase === 'Running');

/** Nodes waiting in `market`'s queue: each takes the next job posted there. */
async function nodesWaiting(
  scene: { localnet: Parameters<typeof TestNode.join>[0] },
  market: PublicKey,
  count: number,
): Promise<TestNode[]> {
  const nodes = await Promise.all(Array.from({ length: count }, () => TestNode.join(scene.localnet)));
  for (const node of nodes) await node.work(market);
  return nodes;
}

/** The chain jobs the wallet has posted in `market`. */
async function postedJobs(scene: { localnet: Parameters<typeof jobAccountsOf>[0] }, wallet: Keypair, market: PublicKey): Promise<string[]> {
  return (await jobAccountsOf(scene.localnet, wallet.publicKey, market)).map((entry) => entry.address);
}

describe('NosanaDeployment through the controller process', () => {
  after(() => new Promise<void>((resolve) => gateway.close(() => resolve())));
  const scene = useNosanaScene({
    prefix: 'ndep',
    controller: { extraArgs: ['--probe-gateway', `node.localhost=http://127.0.0.1:${gatewayPort}`] },
  });

  test('kubectl scale 0 → 3 → 1: exactly three replicas posted and paid, two cancelled, NOS conserved; kubectl get ndep shows them', async () => {
    const { ns, localnet } = scene();
    const deployments = new Deployments(ns);
    const { market, wallet, walletSecretRef, before } = await ns.stage('scale', { settings: SETTINGS });
    await deployments.create('scale', {
      replicas: 0,
      template: { spec: { market: 'scale', walletSecretRef, timeout: Number(TIMEOUT), definition: simpleDefinition() } },
    });
    await deployments.waitFor(
      'scale',
      'to be Stopped with no replica',
      (d) => d.status?.phase === 'Stopped' && conditionOf(d, 'Ready')?.reason === 'ScaledToZero',
    );

    const nodes = await nodesWaiting(scene(), market, 3);
    await kubectlOk(ns.ctx, ['scale', '-n', ns.name, 'nosanadeployment/scale', '--replicas=3']);
    const scaled = await deployments.waitFor(
      'scale',
      'to run 3 ready replicas',
      (d, r) => running(r).length === 3 && d.status?.readyReplicas === 3 && conditionOf(d, 'Available')?.status === 'True',
    );
    assert.equal(scaled.status?.phase, 'Running');
    assert.equal(conditionOf(scaled, 'Ready')?.reason, 'Available');
    assert.equal(scaled.status?.ready, '3/3');
    assert.equal(scaled.status?.selector, 'nosana.io/deployment=scale');
    assert.equal((await postedJobs(scene(), wallet, market)).length, 3, 'three jobs on chain, one per replica');

    const replicas = await deployments.replicas('scale');
    assert.deepEqual(
      replicas.map((job) => job.metadata?.labels?.['nosana.io/replica']),
      ['0', '1', '2'],
      'replicas are numbered from 0',
    );
    for (const job of replicas) {
      assert.match(job.metadata?.name ?? '', /^scale-[0-9a-f]{10}-[0-2]$/);
      const owner = job.metadata?.ownerReferences?.[0];
      assert.equal(owner?.kind, 'NosanaDeployment');
      assert.equal(owner?.controller, true);
      assert.equal(job.spec.retries, 0);
    }

    const table = await kubectlOk(ns.ctx, ['get', 'ndep', '-n', ns.name, 'scale']);
    assert.match(table, /NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+MODE\s+STRATEGY\s+MARKET\s+AGE/, table);
    assert.match(table, /scale\s+3\/3\s+3\s+3\s+Continuous\s+RollingUpdate\s+scale\s+/, table);
    const scale = JSON.parse(
      await kubectlOk(ns.ctx, ['get', '--raw', `/apis/nosana.io/v1alpha1/namespaces/${ns.name}/nosanadeployments/scale/scale`]),
    ) as {
      spec: { replicas: number };
      status: { replicas: number; selector: string };
    };
    assert.deepEqual(
      [scale.spec.replicas, scale.status.replicas, scale.status.selector],
      [3, 3, 'nosana.io/deployment=scale'],
      'the scale subresource, as an autoscaler reads it',
    );

    await kubectlOk(ns.ctx, ['scale', '-n', ns.name, 'nosanadeployment/scale', '--replicas=1']);
    const one = await deployments.waitFor(
      'scale',
      'to keep one replica',
      (d, r) => r.length === 1 && d.status?.replicas === 1 && d.status?.readyReplicas === 1,
    );
    assert.equal(conditionOf(one, 'Available')?.status, 'True');
    const kept = (await deployments.replicas('scale'))[0]!;
    assert.equal(kept.metadata?.labels?.['nosana.io/replica'], '0', 'the oldest replica is kept, the newest cancelled');
    assert.equal((await postedJobs(scene(), wallet, market)).length, 3, 'scaling down posts nothing');
    const reasons = (await deployments.events('scale')).map((event) => event.reason);
    assert.equal(reasons.filter((reason) => reason === 'ReplicaCreated').length, 3);
    assert.equal(reasons.filter((reason) => reason === 'ScaledDown').length, 2);

    const after = await readLedger(localnet, { poster: wallet.publicKey, market });
    const earned = (await Promise.all(nodes.map((node) => node.nos()))).reduce((sum, nos) => sum + nos, 0n);
    assert.equal(
      after.poster + after.vault + earned,
      before.poster + before.vault,
      'NOS is conserved: what left the wallet is in the vault or paid to the nodes',
    );
    assert.ok(after.poster < before.poster, 'the kept replica holds its deposit');
  });

  test('a template change rolls the replicas one by one, never below replicas − maxUnavailable ready; Recreate cancels first', async () => {
    const { ns } = scene();
    const deployments = new Deployments(ns);
    const { market, wallet, walletSecretRef } = await ns.stage('roll', { settings: SETTINGS });
    await nodesWaiting(scene(), market, 2);
    await deployments.create('roll', {
      replicas: 2,
      template: { spec: { market: 'roll', walletSecretRef, timeout: Number(TIMEOUT), definition: simpleDefinition('main', 'echo v1') } },
    });
    const first = await deployments.waitFor('roll', 'to run 2 ready replicas', (d) => d.status?.readyReplicas === 2);
    const oldRevision = first.status?.updateRevision;

    await nodesWaiting(scene(), market, 2);
    await deployments.patch('roll', {
      spec: {
        template: { spec: { market: 'roll', walletSecretRef, timeout: Number(TIMEOUT), definition: simpleDefinition('main', 'echo v2') } },
      },
    });
    let lowestReady = Number.POSITIVE_INFINITY;
    let mostLive = 0;
    const rolled = await deployments.waitFor(
      'roll',
      'to roll out the new revision',
      (d, r) => {
        if (d.status?.updateRevision !== oldRevision) lowestReady = Math.min(lowestReady, d.status?.readyReplicas ?? 0);
        mostLive = Math.max(mostLive, live(r).length);
        return (
          d.status?.updateRevision !== oldRevision &&
          d.status?.updatedReplicas === 2 &&
          d.status?.replicas === 2 &&
          d.status?.readyReplicas === 2 &&
          r.length === 2
        );
      },
      90_000,
    );
    assert.notEqual(rolled.status?.updateRevision, oldRevision);
    assert.equal(rolled.status?.currentRevision, rolled.status?.updateRevision);
    assert.ok(lowestReady >= 2, `readiness never fell below 2 during the rollout (lowest seen ${lowestReady})`);
    assert.ok(mostLive <= 3, `at most replicas + maxSurge live at once (saw ${mostLive})`);
    assert.equal((await postedJobs(scene(), wallet, market)).length, 4, 'two replicas per revision, each posted once');
    const reasons = (await deployments.events('roll')).map((event) => event.reason);
    assert.equal(reasons.filter((reason) => reason === 'RolledOut').length, 2);

    // Recreate: the old replica goes before the new one is posted.
    await deployments.patch('roll', { spec: { replicas: 1, strategy: { type: 'Recreate' } } });
    await deployments.waitFor('roll', 'to keep one replica', (_d, r) => r.length === 1);
    const [node] = await nodesWaiting(scene(), market, 1);
    const v2 = (await deployments.read('roll')).status?.updateRevision;
    await deployments.patch('roll', {
      spec: {
        template: { spec: { market: 'roll', walletSecretRef, timeout: Number(TIMEOUT), definition: simpleDefinition('main', 'echo v3') } },
      },
    });
    let overlap = false;
    await deployments.waitFor(
      'roll',
      'to recreate its replica',
      (d, r) => {
        const revisions = new Set(live(r).map((job) => job.metadata?.labels?.['nosana.io/template-hash']));
        if (revisions.size > 1) overlap = true;
        const current = d.status?.updateRevision;
        return (
          current !== v2 &&
          d.status?.updatedReplicas === 1 &&
          d.status?.readyReplicas === 1 &&
          r.length === 1 &&
          r[0]?.metadata?.labels?.['nosana.io/template-hash'] === current
        );
      },
      60_000,
    );
    assert.equal(overlap, false, 'Recreate never runs two revisions at once');
    assert.ok(node !== undefined && (await node.currentJob()) !== undefined, 'the new replica runs');
  });

  test('Continuous: a replacement is posted rotateBefore ahead of the timeout; the old one goes once it is ready, the overlap shown', async () => {
    const { ns, localnet } = scene();
    const deployments = new Deployments(ns);
    const { market, wallet, walletSecretRef, before } = await ns.stage('rotate', { settings: SETTINGS });
    await nodesWaiting(scene(), market, 1);
    // 75 s of paid time, the replacement due a minute ahead: 15 s after the first replica starts
    await deployments.create('rotate', {
      replicas: 1,
      rotateBefore: '1m',
      template: { spec: { market: 'rotate', walletSecretRef, timeout: 75, definition: simpleDefinition() } },
    });
    await deployments.waitFor('rotate', 'to run its replica', (d) => d.status?.readyReplicas === 1);
    const overlapping = await deployments.waitFor(
      'rotate',
      'to post a replacement',
      (d) => (d.status?.overlapReplicas ?? 0) === 1 && d.status?.replicas === 2,
      45_000,
    );
    assert.equal(overlapping.status?.ready, '1/1', 'the old replica still serves while its replacement starts');
    assert.equal(overlapping.status?.readyReplicas, 1);
    const nodes = await nodesWaiting(scene(), market, 1);
    const rotated = await deployments.waitFor(
      'rotate',
      'to hand over to the replacement',
      (d, r) => r.length === 1 && running(r).length === 1 && d.status?.replicas === 1 && d.status?.overlapReplicas === 0,
      45_000,
    );
    const replica = (await deployments.replicas('rotate'))[0]!;
    assert.equal(replica.metadata?.labels?.['nosana.io/replica'], '1', 'the replacement is a new replica, never the old one re-posted');
    assert.equal(rotated.status?.readyReplicas, 1);
    assert.ok(
      (await deployments.events('rotate')).some((event) => event.reason === 'Rotated'),
      'a Rotated Event says why the old one went',
    );
    assert.equal((await postedJobs(scene(), wallet, market)).length, 2);
    const after = await readLedger(localnet, { poster: wallet.publicKey, market });
    assert.ok(before.poster - after.poster <= 2n * PRICE * 75n, 'the overlap costs no more than the two replicas’ deposits');
    assert.ok(nodes.length === 1);
  });

  test('Extend: a running replica\u2019s timeout is raised on chain before it runs out, the extension counted in the budget', async () => {
    const { ns, localnet } = scene();
    const deployments = new Deployments(ns);
    const { market, walletSecretRef } = await ns.stage('extend', { settings: SETTINGS });
    await nodesWaiting(scene(), market, 1);
    await deployments.create('extend', {
      replicas: 1,
      mode: 'Extend',
      rotateBefore: '1m',
      extendBy: '2m',
      budget: '1',
      template: { spec: { market: 'extend', walletSecretRef, timeout: 75, definition: simpleDefinition() } },
    });
    await deployments.waitFor('extend', 'to run its replica', (d) => d.status?.readyReplicas === 1);
    const extended = await deployments.waitFor(
      'extend',
      'to raise the timeout',
      (_d, r) => r.length === 1 && Number(r[0]!.spec.timeout) === 195,
      45_000,
    );
    const replica = (await deployments.replicas('extend'))[0]!;
    const address = await waitFor(
      async () => {
        const job = await ns.job(replica.metadata!.name!);
        const chain =
          job?.status?.jobAddress === undefined ? undefined : await localnet.jobsClient().getJob(new PublicKey(job.status.jobAddress));
        return chain?.account.timeout === 195n
          ? job!.status!.jobAddress!
          : Promise.reject(new Error(`timeout on chain ${chain?.account.timeout}`));
      },
      { what: 'the extension to land on chain', timeoutMs: 30_000, intervalMs: 250 },
    );
    assert.ok(address.length > 0);
    const reservation = listCharge('localnet', PRICE, 75n) + PRICE * 120n;
    assert.equal(extended.status?.replicas, 1, 'extended in place, no second replica');
    const spent = await deployments.waitFor(
      'extend',
      'to count the extension',
      (d) => d.status?.spent24hBaseUnits === reservation.toString(),
      15_000,
    );
    assert.equal(conditionOf(spent, 'BudgetExhausted')?.status, 'False');
  });

  test('an unreachable endpoint is replaced with an Event naming it; when every replica fails at once none is replaced; endpoints in status and the ConfigMap', async () => {
    const { ns } = scene();
    const deployments = new Deployments(ns);
    const { market, wallet, walletSecretRef } = await ns.stage('health', { settings: SETTINGS });
    await nodesWaiting(scene(), market, 2);
    await deployments.create('health', {
      replicas: 2,
      endpointsConfigMap: true,
      health: { unreachableAfter: '3s', probeInterval: '1s' },
      template: { spec: { market: 'health', walletSecretRef, timeout: Number(TIMEOUT), definition: serviceDefinition() } },
    });
    const ready = await deployments.waitFor(
      'health',
      'to have 2 replicas passing their health checks',
      (d) => d.status?.readyReplicas === 2 && (d.status?.endpoints ?? []).filter((e) => e.ready).length === 2,
    );
    const endpoints = ready.status!.endpoints!;
    for (const endpoint of endpoints) {
      assert.match(endpoint.url, /^https:\/\/[A-Za-z0-9]+\.node\.localhost$/);
      assert.equal(endpoint.op, 'web');
      assert.equal(endpoint.port, 8080);
      assert.ok(probed.has(new URL(endpoint.url).hostname), `the gateway saw a probe for ${endpoint.url}`);
    }
    const configMap = await ns.ctx.core.readNamespacedConfigMap({ namespace: ns.name, name: 'health-endpoints' });
    const listed = JSON.parse(configMap.data?.['endpoints.json'] ?? '[]') as { url: string }[];
    assert.deepEqual(
      listed.map((entry) => entry.url).sort(),
      endpoints.map((entry) => entry.url).sort(),
      'the ConfigMap lists the ready URLs',
    );

    // One tunnel closes: that replica is cancelled and replaced.
    const victim = endpoints[0]!;
    down.add(new URL(victim.url).hostname);
    await nodesWaiting(scene(), market, 1);
    const replaced = await deployments.waitFor(
      'health',
      `to replace ${victim.replica}`,
      (d, r) =>
        !r.some((job) => job.metadata?.name === victim.replica && job.metadata?.deletionTimestamp === undefined) &&
        d.status?.readyReplicas === 2,
      60_000,
    );
    const unhealthy = (await deployments.events('health')).find((event) => event.reason === 'Unhealthy');
    assert.ok(unhealthy !== undefined, 'an Unhealthy Event');
    assert.ok(unhealthy.note.includes(victim.url), `the Event names the endpoint: ${unhealthy.note}`);
    assert.equal(replaced.status?.replacedForHealth?.length, 1);
    assert.equal((await postedJobs(scene(), wallet, market)).length, 3, 'one replacement posted');

    // Every tunnel closes at once: the prober is suspect; nothing is replaced.
    down.add('*');
    const suspect = await deployments.waitFor(
      'health',
      'to report ProbesFailing',
      (d) => conditionOf(d, 'Ready')?.reason === 'ProbesFailing',
      30_000,
    );
    assert.equal(suspect.status?.readyReplicas, 0);
    await new Promise((resolve) => setTimeout(resolve, 5_000)); // longer than unreachableAfter
    const still = await deployments.read('health');
    assert.equal(conditionOf(still, 'Ready')?.reason, 'ProbesFailing');
    assert.equal((await postedJobs(scene(), wallet, market)).length, 3, 'no replacement while every replica fails');
    assert.equal(live(await deployments.replicas('health')).length, 2, 'no replica cancelled');
    down.clear();
    await deployments.waitFor('health', 'to be ready again', (d) => d.status?.readyReplicas === 2);
  });

  test('replicas that keep failing: back-off, then Failed/RapidFailures and nothing more posted; the reset annotation starts again', async () => {
    const { ns } = scene();
    const deployments = new Deployments(ns);
    const { market, wallet, walletSecretRef } = await ns.stage('crashloop', { settings: SETTINGS });
    await deployments.create('crashloop', {
      replicas: 1,
      failSafe: { initialBackoff: '1s', maxBackoff: '2s', maxRapidFailures: 2 },
      template: {
        spec: { market: 'crashloop', walletSecretRef, timeout: Number(TIMEOUT), definition: simpleDefinition('main', 'exit 1') },
      },
    });
    const failOne = async (count: number) => {
      const [node] = await nodesWaiting(scene(), market, 1);
      const job = await waitFor(async () => (await node!.currentJob()) ?? Promise.reject(new Error('no job yet')), {
        what: `replica ${count} to be taken`,
        timeoutMs: 30_000,
        intervalMs: 200,
      });
      await node!.finish(job, [{ id: 'main', exitCode: 1, logs: ['boom'] }]);
    };
    await failOne(1);
    await failOne(2);
    const failed = await deployments.waitFor(
      'crashloop',
      'to stop posting',
      (d) => d.status?.phase === 'Failed' && conditionOf(d, 'Ready')?.reason === 'RapidFailures',
      30_000,
    );
    assert.equal(conditionOf(failed, 'ReplicaFailure')?.status, 'True');
    assert.match(conditionOf(failed, 'Ready')?.message ?? '', /2 replicas in a row/);
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // past the longest back-off
    assert.equal((await postedJobs(scene(), wallet, market)).length, 2, 'nothing posted after the fail-safe tripped');
    assert.ok((await deployments.events('crashloop')).some((event) => event.reason === 'RapidFailures'));

    await deployments.patch('crashloop', { metadata: { annotations: { 'nosana.io/reset-failures': 'fixed-it' } } });
    await waitFor(async () => ((await postedJobs(scene(), wallet, market)).length === 3 ? true : Promise.reject(new Error('not yet'))), {
      what: 'a replica posted after the reset',
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    const reset = await deployments.read('crashloop');
    assert.notEqual(reset.status?.phase, 'Failed');
    assert.equal(reset.status?.failuresResetBy, 'fixed-it');
  });

  test('a budget: replicas are posted while they fit, then BudgetExhausted names spec.budget and nothing more is spent', async () => {
    const { ns } = scene();
    const deployments = new Deployments(ns);
    const { market, wallet, walletSecretRef } = await ns.stage('budget', { settings: SETTINGS });
    const reservation = listCharge('localnet', PRICE, TIMEOUT);
    await deployments.create('budget', {
      replicas: 3,
      budget: formatNos((reservation * 5n) / 2n),
      template: { spec: { market: 'budget', walletSecretRef, timeout: Number(TIMEOUT), definition: simpleDefinition() } },
    });
    const blocked = await deployments.waitFor(
      'budget',
      'to run out of budget',
      (d) => conditionOf(d, 'BudgetExhausted')?.status === 'True' && d.status?.replicas === 2,
      30_000,
    );
    assert.match(conditionOf(blocked, 'BudgetExhausted')?.message ?? '', /spec\.budget/);
    assert.equal(blocked.status?.spent24hBaseUnits, (2n * reservation).toString(), 'two reservations committed');
    assert.equal(conditionOf(blocked, 'Ready')?.reason, 'BudgetExhausted');
    const ledger = await ns.ctx.core.readNamespacedConfigMap({ namespace: ns.name, name: 'nosana-budget-budget' });
    assert.ok(
      ledger.metadata?.ownerReferences?.some((owner) => owner.kind === 'NosanaDeployment'),
      'the ledger is owned by the deployment',
    );
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.equal((await postedJobs(scene(), wallet, market)).length, 2, 'the third replica is never posted');
    const table = await kubectlOk(ns.ctx, ['get', 'ndep', '-n', ns.name, 'budget', '-o', 'wide']);
    assert.match(table, /SPENT-24H/, table);
  });

  test('a ConfigMap the user owns under the endpoints name is left alone: not written, not adopted, an Event says why', async () => {
    const { ns } = scene();
    const deployments = new Deployments(ns);
    await ns.ctx.core.createNamespacedConfigMap({
      namespace: ns.name,
      body: { metadata: { name: 'mine-endpoints' }, data: { 'app.conf': 'keep me' } },
    });
    const { walletSecretRef } = await ns.stage('mine', { settings: SETTINGS });
    await deployments.create('mine', {
      replicas: 0,
      endpointsConfigMap: true,
      template: { spec: { market: 'mine', walletSecretRef, definition: simpleDefinition() } },
    });
    await waitFor(
      async () =>
        (await deployments.events('mine')).some((event) => event.reason === 'EndpointsConfigMapTaken')
          ? true
          : Promise.reject(new Error('no Event yet')),
      {
        what: 'an EndpointsConfigMapTaken Event',
        timeoutMs: 30_000,
        intervalMs: 250,
      },
    );
    const kept = await ns.ctx.core.readNamespacedConfigMap({ namespace: ns.name, name: 'mine-endpoints' });
    assert.deepEqual(kept.data, { 'app.conf': 'keep me' }, 'its data is untouched');
    assert.equal(kept.metadata?.ownerReferences, undefined, 'it is not made the deployment’s (deleting the deployment would delete it)');
  });

  test('Scheduled: a round on every tick of the cron expression; concurrencyPolicy Replace cancels the previous round first', async () => {
    const { ns } = scene();
    const deployments = new Deployments(ns);
    const { market, wallet, walletSecretRef } = await ns.stage('cron', { settings: SETTINGS });
    await nodesWaiting(scene(), market, 2);
    // a six-field expression: every 10 seconds
    await deployments.create('cron', {
      replicas: 1,
      mode: 'Scheduled',
      schedule: { cron: '*/10 * * * * *', concurrencyPolicy: 'Replace' },
      template: { spec: { market: 'cron', walletSecretRef, timeout: Number(TIMEOUT), definition: simpleDefinition() } },
    });
    const waiting = await deployments.waitFor(
      'cron',
      'to wait for its first round',
      (d) => d.status?.phase === 'Waiting' || (d.status?.replicas ?? 0) > 0,
      15_000,
    );
    const createdAt = new Date(waiting.metadata?.creationTimestamp ?? 0).getTime();
    const first = await deployments.waitFor('cron', 'to run its first round', (d, r) => r.length === 1 && running(r).length === 1, 30_000);
    const firstReplica = (await deployments.replicas('cron'))[0]!;
    const firstRound = Number(firstReplica.metadata?.labels?.['nosana.io/round']);
    assert.equal(firstRound % 10, 0, 'the round is a tick of the expression');
    assert.ok(firstRound * 1000 >= createdAt - 1000, 'no round for a tick before the deployment existed');
    assert.ok(first.status?.lastScheduleTime !== undefined);
    const second = await deployments.waitFor(
      'cron',
      'to replace the first round with the second',
      (_d, r) =>
        r.some((job) => Number(job.metadata?.labels?.['nosana.io/round']) > firstRound && job.status?.phase === 'Running') &&
        !live(r).some((job) => job.metadata?.name === firstReplica.metadata?.name),
      30_000,
    );
    // The next round is the latest tick when it is posted: the tick after the first on a quiet
    // machine, a later one when replacing the first took longer than a tick (a CronJob skips a
    // missed tick the same way). Either way a tick of the expression, posted within a tick of it.
    const later = (await deployments.replicas('cron')).filter((job) => Number(job.metadata?.labels?.['nosana.io/round']) > firstRound);
    assert.ok(later.length > 0, 'a later round');
    for (const job of later) {
      const round = Number(job.metadata?.labels?.['nosana.io/round']);
      const postedAt = new Date(job.metadata?.creationTimestamp ?? 0).getTime() / 1000;
      assert.equal(round % 10, 0, `round ${round} is a tick of the expression`);
      assert.ok(postedAt >= round - 1 && postedAt < round + 10 + 2, `round ${round} was posted at ${postedAt}, within a tick of it`);
    }
    assert.ok(new Date(second.status!.lastScheduleTime!).getTime() / 1000 >= firstRound + 10);
    await deployments.patch('cron', { spec: { paused: true } });
    await deployments.waitFor('cron', 'to pause', (d) => d.status?.phase === 'Paused');
    const created = (await deployments.events('cron')).filter((event) => event.reason === 'ReplicaCreated').length;
    assert.ok(created >= 2);
    assert.equal((await postedJobs(scene(), wallet, market)).length, created, 'one job per round');
  });

  test('kill -9 of the controller right after it created a replica: the next controller posts no extra one', async () => {
    const { ns } = scene();
    const deployments = new Deployments(ns);
    const { market, wallet, walletSecretRef } = await ns.stage('crash', { settings: SETTINGS });
    await scene().stopControllers();
    const dying = await scene().startController({ killAt: 'deployment:after-create', killAfter: 2 });
    await dying.waitReady();
    await deployments.create('crash', {
      replicas: 3,
      template: { spec: { market: 'crash', walletSecretRef, timeout: Number(TIMEOUT), definition: simpleDefinition() } },
    });
    const exit = await dying.waitForExit(60_000);
    assert.equal(exit.signal, 'SIGKILL', 'the controller died at the kill point');
    await (await scene().startController()).waitReady();
    await deployments.waitFor(
      'crash',
      'to have 3 queued replicas',
      (_d, r) => r.length === 3 && r.every((job) => job.status?.phase === 'Queued'),
      60_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.equal((await deployments.replicas('crash')).length, 3, 'three replica NosanaJobs');
    assert.equal((await postedJobs(scene(), wallet, market)).length, 3, 'three jobs on chain: none posted twice');
  });

  test('kstatus reads its health from the Ready condition, kubectl wait from Available; deleting the deployment cancels its replicas', async () => {
    const { ns, localnet } = scene();
    const deployments = new Deployments(ns);
    const { market, wallet, walletSecretRef, before } = await ns.stage('gone', { settings: SETTINGS });
    await deployments.create('gone', {
      replicas: 2,
      template: { spec: { market: 'gone', walletSecretRef, timeout: Number(TIMEOUT), definition: simpleDefinition() } },
    });
    const queued = await deployments.waitFor(
      'gone',
      'to have 2 queued replicas',
      (d, r) => r.length === 2 && r.every((job) => job.status?.phase === 'Queued') && d.status?.phase === 'Starting',
    );
    assert.equal(conditionOf(queued, 'Ready')?.status, 'False', 'kstatus: not ready while no replica runs');
    const waited = await kubectl(ns.ctx, [
      'wait',
      '--for=condition=Available=False',
      '--timeout=10s',
      '-n',
      ns.name,
      'nosanadeployment/gone',
    ]);
    assert.equal(waited.code, 0, waited.stderr);
    const names = (await deployments.replicas('gone')).map((job) => job.metadata!.name!);
    await deployments.delete('gone');
    for (const name of names) await ns.waitForJobGone(name);
    const after = await readLedger(localnet, { poster: wallet.publicKey, market });
    assert.equal(after.poster, before.poster, 'both queued replicas were delisted and refunded in full');
  });
});
