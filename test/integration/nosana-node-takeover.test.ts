// A node agent killed (kill -9) while its job runs: the next agent takes the running Pod over
// where it is instead of starting the job again, and the job is finished once. The graceful case
// (SIGTERM in a rolling update) is chart-install.test.ts; endings cut short at each step are
// nosana-node-crash.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PublicKey } from '@solana/web3.js';
import type { SimulationRule } from '../../src/local-cluster/simulation.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';
import { auditEvents } from '../harness/audit-log.ts';
import { definitionFixture } from '../harness/nosana-fixtures.ts';
import { useNodeScene } from '../harness/node-scene.ts';

const SLOW_IMAGE = 'slow-story';
const RULES: SimulationRule[] = [
  {
    name: 'slow',
    match: { image: SLOW_IMAGE },
    then: { exitCode: 0, runFor: '12s', logs: [{ stream: 'stdout', text: 'written across two agents' }] },
  },
];

describe('a node agent killed mid-run', () => {
  const scene = useNodeScene({ prefix: 'nn-takeover', rules: RULES, startAgent: false });

  test('the next agent takes the running Pod over: created once, finished once, counted once', async () => {
    const node = scene();
    const { ns, localnet, ctx } = node.jobs;
    const since = new Date();
    const { walletSecretRef } = await ns.stage('takeover', { settings: { price: 10n, timeout: 600n } });
    await ns.wallet('takeover-node-key', { sol: 1n });
    await node.createNode('takeover-node', { market: 'takeover', keySecret: 'takeover-node-key' });
    const doomed = await node.startAgent({ name: 'doomed' });
    await doomed.waitReady();
    await node.waitForNodePhase('takeover-node', 'Queued', undefined, 90_000);

    const definition = (await definitionFixture('story.json')) as { ops: { args: Record<string, unknown> }[] };
    await ns.createJob('slow', {
      market: 'takeover',
      timeout: 600,
      walletSecretRef,
      definition: { ...definition, ops: definition.ops.map((op) => ({ ...op, args: { ...op.args, image: SLOW_IMAGE } })) } as never,
    });
    const pod = await waitFor(
      async () => {
        const running = (await node.jobPods()).find((candidate) => candidate.status?.phase === 'Running');
        if (running !== undefined) return running;
        throw new Error('no job Pod runs yet');
      },
      { what: 'the job Pod to run', timeoutMs: 60_000, intervalMs: 100 },
    );
    await doomed.sigkill();
    const killedAt = Date.now();

    const survivor = await node.startAgent({ name: 'survivor' });
    await survivor.waitReady();
    const done = await ns.waitForPhase('slow', 'Succeeded', undefined, 120_000);
    assert.match(done.status?.ops?.[0]?.logTail ?? '', /written across two agents/);
    const counted = await node.waitForNode('takeover-node', 'to count the job once', (candidate) => candidate.status?.jobsCompleted === 1);
    assert.equal(counted.status?.jobsCompleted, 1);

    const chainJob = await localnet.jobsClient().getJob(new PublicKey(done.status?.jobAddress ?? ''));
    assert.ok(chainJob !== undefined);
    assert.ok(Number(chainJob.account.timeEnd) * 1000 + 1000 > killedAt, 'the run ended after the first agent died');
    const signatures = await localnet.connection().getSignaturesForAddress(new PublicKey(done.status?.jobAddress ?? ''));
    assert.deepEqual(
      signatures.filter((entry) => entry.err !== null).map((entry) => entry.signature),
      [],
      'no transaction about the job failed: one ending',
    );

    await new Promise((resolve) => setTimeout(resolve, 2_000)); // the audit log is written in batches of a second
    const creates = await auditEvents(ctx.handle.auditLogPath, {
      username: node.agentIdentity.username,
      namespace: node.jobNamespace,
      verbs: new Set(['create']),
      since,
    });
    const podCreates = creates.filter(
      (event) =>
        event.objectRef?.resource === 'pods' &&
        event.objectRef.subresource === undefined &&
        event.objectRef.name === pod.metadata?.name &&
        event.responseStatus?.code === 201,
    );
    assert.equal(podCreates.length, 1, 'the Pod was created once: the survivor took it over instead of starting the job again');
  });
});
