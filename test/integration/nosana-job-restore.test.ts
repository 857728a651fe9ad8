// A namespace rebuilt from Git or a backup, end to end with the real API server, its admission
// policy and the controller process: NosanaJobs come back with new uids and no status, with or
// without their annotations, and the jobs they posted are followed, not paid for again.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PatchStrategy } from '@kubernetes/client-node';
import { JOB_ADDRESS_ANNOTATION } from '../../src/api/annotations.ts';
import { NOSANA_API_VERSION, nosanaJob, simpleDefinition, type NosanaJobResource } from '../harness/nosana-fixtures.ts';
import { jobAccountsOf } from '../harness/nosana-ledger.ts';
import { useNosanaScene } from '../harness/nosana-scene.ts';

const SETTINGS = { price: 10n, timeout: 600n };

describe('NosanaJobs restored without their status', () => {
  const scene = useNosanaScene({ prefix: 'nj-restore' });

  test('restored with and without their annotations: each follows the job it posted; nothing is posted again', async () => {
    const { ns, localnet, ctx } = scene();
    const { wallet, walletSecretRef } = await ns.stage('restore', { settings: SETTINGS });
    const spec = { market: 'restore', walletSecretRef, definition: simpleDefinition() };
    const posted = new Map<string, string>();
    for (const name of ['with-annotations', 'bare']) {
      await ns.createJob(name, spec);
      posted.set(name, (await ns.waitForPhase(name, 'Queued')).metadata?.annotations?.[JOB_ADDRESS_ANNOTATION] ?? '');
    }

    // The namespace is lost without the finalizers running (they are stripped, as a wiped etcd
    // would lose them), while the operator is down: a running one would put its finalizer back.
    await scene().stopControllers();
    for (const name of posted.keys()) {
      await ctx.objects.patch(
        {
          apiVersion: NOSANA_API_VERSION,
          kind: 'NosanaJob',
          metadata: { name, namespace: ns.name, finalizers: null },
        } as unknown as NosanaJobResource,
        undefined,
        undefined,
        undefined,
        undefined,
        PatchStrategy.MergePatch,
      );
      await ns.deleteJob(name);
      await ns.waitForJobGone(name);
    }
    await ctx.objects.create({
      ...nosanaJob(ns.name, 'with-annotations', spec),
      metadata: {
        namespace: ns.name,
        name: 'with-annotations',
        annotations: { [JOB_ADDRESS_ANNOTATION]: posted.get('with-annotations') ?? '' },
      },
    });
    await ns.createJob('bare', spec);
    await (await scene().startController()).waitReady();

    for (const [name, address] of posted) {
      const restored = await ns.waitForPhase(name, 'Queued');
      assert.equal(restored.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION], address, `${name} follows the job it posted`);
      assert.equal(
        restored.status?.attempts?.find((attempt) => attempt.jobAddress === address)?.origin ?? 'posted',
        'posted',
        `${name} may act on it`,
      );
    }
    assert.ok((await ns.eventReasons('bare')).includes('PostFound'));
    assert.equal((await jobAccountsOf(localnet, wallet.publicKey)).length, 2, 'two jobs in all: nothing was posted again');
  });
});
