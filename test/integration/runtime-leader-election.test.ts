// Leader election on a real Lease: one leader at a time, a released Lease is taken over at once,
// and a leader cut off from the API server steps down before its follower takes over.
// Durations are short so the test is not spent waiting; where nothing waits for the lease to
// expire, the lease is longer so a slow, busy machine cannot make a healthy leader look dead.
import assert from 'node:assert/strict';
import { before, describe, test, type TestContext } from 'node:test';
import type { V1Lease } from '@kubernetes/client-node';
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { LeaderElector } from '../../src/runtime/leader-election.ts';
import { useCluster, type ClusterContext } from '../harness/fixture.ts';
import { TcpProxy } from '../harness/tcp-proxy.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';

const log = pino({ level: process.env.NOSANA_TEST_LOG ?? 'silent' });
const EXPIRES_SOON = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };
const RELEASED_BEFORE_EXPIRY = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 500 };

let ctx: ClusterContext;

/** Everything the electors report, in order, checked to never show two leaders at once. */
class Timeline {
  readonly entries: string[] = [];
  private readonly electors = new Map<string, LeaderElector>();
  private readonly t: TestContext;

  constructor(t: TestContext) {
    this.t = t;
  }

  elector(name: string, kubeConfig: k8s.KubeConfig, namespace: string, durations: typeof EXPIRES_SOON): LeaderElector {
    const elector = new LeaderElector(kubeConfig, log, {
      namespace,
      name: 'operator',
      identity: name,
      ...durations,
      onStartedLeading: () => {
        const others = [...this.electors].filter(([other, e]) => other !== name && e.isLeader()).map(([other]) => other);
        assert.deepEqual(others, [], `${name} started leading while ${others.join()} still led`);
        this.entries.push(`${name} leads`);
      },
      onStoppedLeading: () => this.entries.push(`${name} stopped`),
    });
    this.electors.set(name, elector);
    this.t.after(() => elector.stop());
    return elector;
  }
}

async function readLease(namespace: string): Promise<V1Lease> {
  return ctx.kubeConfig.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ name: 'operator', namespace });
}

describe('LeaderElector on a real Lease', () => {
  before(async () => {
    ctx = await useCluster();
  });

  test('two candidates: exactly one leads; stopping it releases the Lease and the other takes over', async (t) => {
    const namespace = await ctx.freshNamespace('lease');
    const timeline = new Timeline(t);
    const alpha = timeline.elector('alpha', ctx.kubeConfig, namespace, RELEASED_BEFORE_EXPIRY);
    const beta = timeline.elector('beta', ctx.kubeConfig, namespace, RELEASED_BEFORE_EXPIRY);
    const runs = [alpha.run(), beta.run()];

    await waitFor(() => alpha.isLeader() || beta.isLeader(), { what: 'a leader', timeoutMs: 30_000 });
    const [leader, follower] = alpha.isLeader() ? [alpha, beta] : [beta, alpha];
    assert.equal(follower.isLeader(), false);
    const held = await readLease(namespace);
    assert.equal(held.spec?.holderIdentity, leader.identity);
    assert.equal(held.spec?.leaseDurationSeconds, 15);
    // the follower keeps trying and keeps failing while the leader renews
    const renewTime = String(held.spec?.renewTime);
    await waitFor(async () => String((await readLease(namespace)).spec?.renewTime) !== renewTime, { what: 'a renewal', timeoutMs: 30_000 });
    assert.equal(follower.isLeader(), false);
    assert.deepEqual(timeline.entries, [`${leader.identity} leads`]);

    await leader.stop();
    assert.equal(leader.isLeader(), false);
    await waitFor(() => follower.isLeader(), { what: 'the follower to take over', timeoutMs: 30_000 });
    const taken = await readLease(namespace);
    assert.equal(taken.spec?.holderIdentity, follower.identity);
    assert.equal(taken.spec?.leaseTransitions, (held.spec?.leaseTransitions ?? 0) + 1);
    assert.deepEqual(timeline.entries, [`${leader.identity} leads`, `${leader.identity} stopped`, `${follower.identity} leads`]);

    await follower.stop();
    await Promise.all(runs);
    const released = await readLease(namespace);
    assert.equal(released.spec?.holderIdentity ?? '', '', 'stopping releases the Lease');
    assert.equal(released.spec?.leaseDurationSeconds, 1);
  });

  test('a leader that cannot renew steps down after the renew deadline, and the follower takes over once the lease expires', async (t) => {
    const namespace = await ctx.freshNamespace('lease-cut');
    const proxy = await TcpProxy.forKubeConfig(ctx.kubeConfig);
    t.after(() => proxy.close());
    const timeline = new Timeline(t);
    const cutOff = timeline.elector('cut-off', proxy.kubeConfig(ctx.kubeConfig), namespace, EXPIRES_SOON);
    const cutOffRun = cutOff.run();
    await waitFor(() => cutOff.isLeader(), { what: 'the first candidate to lead', timeoutMs: 30_000 });
    const observedLeaders: string[] = [];
    const follower = new LeaderElector(ctx.kubeConfig, log, {
      namespace,
      name: 'operator',
      identity: 'follower',
      ...EXPIRES_SOON,
      onNewLeader: (identity) => observedLeaders.push(identity),
      onStartedLeading: () => {
        assert.equal(cutOff.isLeader(), false, 'the cut-off leader must have stepped down first');
        timeline.entries.push('follower leads');
      },
    });
    t.after(() => follower.stop());
    const followerRun = follower.run();
    await waitFor(() => observedLeaders.length > 0, { what: 'the follower to see the leader', timeoutMs: 30_000 });

    proxy.refuse();
    proxy.sever();
    await cutOffRun; // leadership lost: the elector's term is over
    assert.equal(cutOff.isLeader(), false);
    await waitFor(() => follower.isLeader(), { what: 'the follower to take over', timeoutMs: 30_000 });
    assert.deepEqual(timeline.entries, ['cut-off leads', 'cut-off stopped', 'follower leads']);
    assert.deepEqual(observedLeaders, ['cut-off', 'follower']);
    assert.equal((await readLease(namespace)).spec?.holderIdentity, 'follower');
    await follower.stop();
    await followerRun;
  });
});
