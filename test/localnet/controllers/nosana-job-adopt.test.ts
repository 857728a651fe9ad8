// Adoption: spec.jobAddress mirrors a job posted elsewhere (here straight through the chain
// client, as the Nosana CLI would) without posting, paying or acting on it; deleting the resource
// cancels it only when the resource's wallet is the job's project.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair } from '@solana/web3.js';
import type { PublicKey } from '@solana/web3.js';
import { parseNos } from '../../../src/chain/money.ts';
import { TestNode, fundedWallet, postDirectly } from '../../harness/nosana-ledger.ts';
import { useLocalnet } from '../support.ts';
import type { MirrorWorld } from './nosana-job-mirror-support.ts';
import {
  DEFINITION,
  createJobResource,
  finalize,
  jobResource,
  ledger,
  mirrorWorld,
  observe,
  readyReason,
} from './nosana-job-mirror-support.ts';

const PRICE = 10n;
const getLocalnet = useLocalnet({ chain: { slotMs: 50 } });

/** A job posted by a CLI user's own wallet (not the resource's). */
async function postedByCli(world: MirrorWorld): Promise<PublicKey> {
  const cliWallet = fundedWallet(world.localnet, { sol: 1n, nos: parseNos('10') });
  const cid = await world.ports.pinning.pinJson(DEFINITION);
  return postDirectly(world.localnet, cliWallet, world.market, cid, 600n);
}

describe('NosanaJob adoption', () => {
  test('mirrors a job posted through the client to its end, and never acts or pays (queueTimeout and timeout edits included)', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), {}, PRICE);
    const job = await postedByCli(world);
    createJobResource(world, 'adopted', { jobAddress: job.toBase58(), queueTimeout: 1, timeout: 3_600 });
    const before = await ledger(world);

    world.clock.advance(5_000);
    const queued = await observe(world, 'adopted', job);
    assert.equal(queued.object.status?.phase, 'Queued', 'an adopted job past queueTimeout is not delisted');
    assert.equal(queued.object.status?.queuePosition, 0);
    assert.equal((await world.ports.jobs.getJob(job))?.account.timeout, 600n, 'nor extended');

    const node = await TestNode.join(world.localnet);
    await node.work(world.market);
    assert.equal((await observe(world, 'adopted', job)).object.status?.phase, 'Running');
    await node.finish(job, [
      { id: 'cache', exitCode: 0 },
      { id: 'serve', exitCode: 0, logs: ['served'] },
    ]);
    const { object } = await observe(world, 'adopted', job);
    assert.equal(object.status?.phase, 'Succeeded');
    assert.deepEqual(
      object.status?.ops?.map((op) => op.id),
      ['cache', 'serve'],
    );

    assert.deepEqual(world.metrics.actions, []);
    assert.deepEqual(world.metrics.spent, []);
    const after = await ledger(world);
    assert.equal(after.poster, before.poster, "the resource's wallet paid nothing");
  });

  test('deleting an adopted job leaves it on chain and says so, whoever its project is', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), {}, PRICE);
    const job = await postedByCli(world);
    createJobResource(world, 'foreign', { jobAddress: job.toBase58() });
    await observe(world, 'foreign', job);

    assert.deepEqual(await finalize(world, 'foreign', job), { done: true });
    assert.equal((await world.ports.jobs.getJob(job))?.status, 'QUEUED');
    const left = world.kube.events.list.find((event) => event.reason === 'LeftOnChain');
    assert.match(left?.note ?? '', /adopted \(spec\.jobAddress/);
    assert.deepEqual(world.metrics.actions, []);
  });

  test("an adopted job is never cancelled by deleting the resource, even when the wallet it can use is the project's", async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), {}, PRICE);
    const cid = await world.ports.pinning.pinJson(DEFINITION);
    // Posted by the wallet this namespace's resources use: another team sharing it must not cancel it.
    const job = await postDirectly(world.localnet, world.localnet.poster, world.market, cid, 600n);
    createJobResource(world, 'own', { jobAddress: job.toBase58() });
    await observe(world, 'own', job);

    assert.deepEqual(await finalize(world, 'own', job), { done: true });
    assert.equal((await world.ports.jobs.getJob(job))?.status, 'QUEUED', 'still queued');
    assert.deepEqual(world.metrics.actions, []);
  });

  test('adopting an address with no job says so and keeps looking', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), {}, PRICE);
    const missing = Keypair.generate().publicKey;
    createJobResource(world, 'typo', { jobAddress: missing.toBase58() });
    const { outcome, object } = await observe(world, 'typo', missing);
    assert.equal(object.status?.phase, 'Pending');
    assert.equal(readyReason(object), 'Pending');
    assert.match(
      jobResource(world, 'typo').status?.conditions?.find((condition) => condition.type === 'Ready')?.message ?? '',
      /does not exist on localnet/,
    );
    assert.equal(outcome.requeueAfterMs, world.deps.options.pollIntervalMs);
  });
});
