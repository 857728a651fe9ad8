// The controller following the chain over the localnet's websocket, as a process: with a poll
// interval of ten minutes, only a notification (read again, then waking the NosanaJob) can move a
// job along within the tests' deadlines; with the socket cut, the poll must take over at its own
// interval rather than trust snapshots the dead socket can no longer vouch for.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PublicKey } from '@solana/web3.js';
import { simpleDefinition, type NosanaJobResource } from '../harness/nosana-fixtures.ts';
import { TestNode } from '../harness/nosana-ledger.ts';
import { useNosanaScene } from '../harness/nosana-scene.ts';
import { sumSamples } from '../harness/prometheus-text.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';

const SETTINGS = { price: 10n, timeout: 600n };
/** Well under the 30 s resync and the ten-minute poll: only a notification or the 1 s poll can meet it. */
const DEADLINE_MS = 15_000;

function jobAddressOf(job: NosanaJobResource): PublicKey {
  assert.ok(job.status?.jobAddress !== undefined, 'the job is posted');
  return new PublicKey(job.status.jobAddress);
}

describe('the controller follows jobs over the RPC websocket', () => {
  const scene = useNosanaScene({ prefix: 'nj-ws', controller: { pollInterval: '10m' } });

  test('with a ten-minute poll interval a job still goes Running and Succeeded as the chain changes: each change is heard, read and mirrored', async () => {
    const { ns, localnet, controller } = scene();
    const { market, walletSecretRef } = await ns.stage('heard', { settings: SETTINGS });
    await ns.createJob('heard', { market: 'heard', timeout: 600, walletSecretRef, definition: simpleDefinition('hello') });
    const job = jobAddressOf(await ns.waitForPhase('heard', 'Queued'));
    const node = await TestNode.join(localnet);
    await node.work(market);
    const running = await ns.waitForPhase('heard', 'Running', undefined, DEADLINE_MS);
    assert.equal(running.status?.node, node.address.toBase58(), 'the run the notification told of, as read back');
    const result = await node.finish(job, [{ id: 'hello', exitCode: 0, logs: ['hello'] }]);
    const done = await ns.waitForPhase('heard', 'Succeeded', undefined, DEADLINE_MS);
    assert.equal(done.status?.ipfsResult, result);
    const notifications = sumSamples(await controller.scrape(), 'nosana_chain_notifications_total');
    assert.ok(notifications >= 2, `the claim and the finish were notified (${notifications} notifications)`);
  });

  test('the socket cut for good: the poll takes over at its interval, not at the resync', async () => {
    const { ns, localnet, faults } = scene();
    await scene().stopControllers();
    await (await scene().startController({ pollInterval: '1s' })).waitReady();
    const { market, walletSecretRef } = await ns.stage('cut', { settings: SETTINGS });
    await ns.createJob('cut', { market: 'cut', timeout: 600, walletSecretRef, definition: simpleDefinition('hello') });
    const job = jobAddressOf(await ns.waitForPhase('cut', 'Queued'));
    // Let the snapshot of the queued job be taken under live subscriptions (then fresh until the resync).
    await waitFor(async () => (localnet.chain.pubsub.subscriptions >= 2 ? true : Promise.reject(new Error('not yet'))), {
      what: 'the controller’s subscriptions on the localnet',
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await faults.during({ chain: { wsDropRate: 1 } }, async () => {
      await waitFor(async () => (localnet.chain.pubsub.openConnections === 0 ? true : Promise.reject(new Error('still connected'))), {
        what: 'every websocket to be cut',
        timeoutMs: 10_000,
        intervalMs: 50,
      });
      const node = await TestNode.join(localnet);
      await node.work(market);
      await ns.waitForPhase('cut', 'Running', undefined, DEADLINE_MS);
      await node.finish(job, [{ id: 'hello', exitCode: 0, logs: ['hello'] }]);
      await ns.waitForPhase('cut', 'Succeeded', undefined, DEADLINE_MS);
    });
  });
});
