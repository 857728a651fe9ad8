// A NosanaJob recreated without its annotations and status (a namespace rebuilt from Git, a
// backup restored without status) finds the job it posted on chain by the binding in the pinned
// definition, and follows it instead of paying for it again. Records that came with an object
// and that its binding does not prove are never acted on: a copied job address is mirrored, not
// cancelled; a copied post record is dropped. Driven through the whole reconciler.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair, PublicKey } from '@solana/web3.js';
import { JOB_ADDRESS_ANNOTATION, NOSANA_JOB_FINALIZER, PENDING_POST_ANNOTATION } from '../../../src/api/annotations.ts';
import { BINDING_META_KEY } from '../../../src/controllers/nosana-job/binding.ts';
import { bytes32ToCid } from '../../../src/ipfs/cid.ts';
import { TestNode, jobAccountsOf } from '../../harness/nosana-ledger.ts';
import { serializeWallet } from '../../../src/chain/wallet.ts';
import { nosanaJob, secretWithKey } from '../../support/fake-kube.ts';
import { useLocalnet } from '../support.ts';
import {
  HELLO,
  MARKET_NAME,
  NAMESPACE,
  WALLET_SECRET,
  createJob,
  jobObject,
  postWorld,
  readyReason,
  reconcile,
  reconcileToPhase,
} from './nosana-job-post-support.ts';

const getLocalnet = useLocalnet({ chain: { slotMs: 50 } });
const SPEC = {
  market: MARKET_NAME,
  definition: HELLO,
  walletSecretRef: WALLET_SECRET,
  deletionPolicy: 'Cancel' as const,
  retries: 2,
  allowPublicCredentials: false,
};

describe('NosanaJob restored without its records', () => {
  test('recreated without annotations or status: the job it posted is found by its binding and followed; nothing is posted again', async (t) => {
    const world = await postWorld(t, getLocalnet());
    createJob(world, 'restored');
    const first = await reconcileToPhase(world, 'restored', 'Queued');
    const posted = first.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION];
    assert.ok(posted !== undefined);
    const onChain = await world.ports.jobs.getJob(new PublicKey(posted));
    const pinned = await world.ports.gateway.readJson(bytes32ToCid(onChain!.account.ipfsJob));
    assert.match(
      JSON.stringify((pinned.value as { meta?: unknown }).meta),
      new RegExp(`"${BINDING_META_KEY}":"[0-9a-f]{32}"`),
      'the pinned definition carries the binding, not the names',
    );
    assert.ok(!JSON.stringify(pinned.value).includes(NAMESPACE), 'the namespace stays off IPFS');

    // The namespace is rebuilt from Git: same spec, new uid, no annotations, no status.
    world.kube.wipe('NosanaJob', { namespace: NAMESPACE, name: 'restored' });
    world.kube.create(nosanaJob(NAMESPACE, 'restored', SPEC));
    const again = await reconcileToPhase(world, 'restored', 'Queued');
    assert.equal(again.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION], posted, 'the same job is followed');
    assert.ok(world.kube.events.reasons().includes('PostFound'));
    assert.equal((await jobAccountsOf(world.localnet, world.wallet.publicKey)).length, 1, 'one job on chain');
    assert.equal(new Set(world.broadcasts).size, 1, 'one post in all');
  });

  test('restored with its job-address annotation but not its status: proven its own once its wallet can be read, then cancelled on delete', async (t) => {
    const world = await postWorld(t, getLocalnet());
    createJob(world, 'from-backup');
    const first = await reconcileToPhase(world, 'from-backup', 'Queued');
    const address = first.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION] ?? '';
    world.kube.wipe('NosanaJob', { namespace: NAMESPACE, name: 'from-backup' });
    // The backup brings the object back before its wallet Secret.
    world.kube.delete('Secret', { namespace: NAMESPACE, name: WALLET_SECRET.name });
    world.kube.create({
      ...nosanaJob(NAMESPACE, 'from-backup', SPEC),
      metadata: { namespace: NAMESPACE, name: 'from-backup', annotations: { [JOB_ADDRESS_ANNOTATION]: address } },
    });
    await reconcile(world, 'from-backup');
    await reconcile(world, 'from-backup');
    const undecided = jobObject(world, 'from-backup');
    assert.equal(
      undecided.status?.attempts?.find((attempt) => attempt.jobAddress === address)?.origin,
      'unverified',
      'mirrored, undecided, while the wallet cannot be read',
    );
    assert.ok(!world.kube.events.reasons().includes('RecordUnproven'));

    world.kube.create(secretWithKey(NAMESPACE, WALLET_SECRET.name, WALLET_SECRET.key, serializeWallet(world.wallet)));
    await reconcile(world, 'from-backup');
    const proven = jobObject(world, 'from-backup').status?.attempts?.find((attempt) => attempt.jobAddress === address);
    assert.deepEqual([proven?.origin, proven?.binding], ['posted', 0], 'the binding in the pinned definition proves it');

    world.kube.delete('NosanaJob', { namespace: NAMESPACE, name: 'from-backup' });
    for (let i = 0; i < 5 && world.kube.get('NosanaJob', { namespace: NAMESPACE, name: 'from-backup' }) !== undefined; i += 1)
      await reconcile(world, 'from-backup');
    assert.equal(world.kube.get('NosanaJob', { namespace: NAMESPACE, name: 'from-backup' }), undefined);
    assert.equal(await world.ports.jobs.getJob(new PublicKey(address)), undefined, 'its own job was delisted');
    assert.equal((await jobAccountsOf(world.localnet, world.wallet.publicKey)).length, 0);
  });

  test('deleted after it finished and created again under the same name: a new run is posted, the finished job is not followed', async (t) => {
    const world = await postWorld(t, getLocalnet());
    createJob(world, 'rerun');
    const first = await reconcileToPhase(world, 'rerun', 'Queued');
    const finished = new PublicKey(first.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION] ?? '');
    const node = await TestNode.join(world.localnet);
    await node.work(world.market);
    await node.finish(finished, [{ id: 'hello', exitCode: 0, logs: ['hello'] }]);
    await reconcileToPhase(world, 'rerun', 'Succeeded');
    world.kube.delete('NosanaJob', { namespace: NAMESPACE, name: 'rerun' });
    for (let i = 0; i < 5 && world.kube.get('NosanaJob', { namespace: NAMESPACE, name: 'rerun' }) !== undefined; i += 1)
      await reconcile(world, 'rerun');
    assert.equal(world.kube.get('NosanaJob', { namespace: NAMESPACE, name: 'rerun' }), undefined);

    world.kube.create(nosanaJob(NAMESPACE, 'rerun', SPEC));
    const again = await reconcileToPhase(world, 'rerun', 'Queued');
    assert.notEqual(again.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION], finished.toBase58(), 'a new job');
    assert.equal((await jobAccountsOf(world.localnet, world.wallet.publicKey)).length, 2, 'the finished job and the new run');
  });

  test('another object copying a job address in its annotations only mirrors it: deleting it cancels nothing', async (t) => {
    const world = await postWorld(t, getLocalnet());
    createJob(world, 'owner');
    const owner = await reconcileToPhase(world, 'owner', 'Queued');
    const address = owner.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION] ?? '';
    // Same namespace, same wallet (a shared default wallet): only the binding tells them apart.
    world.kube.create({
      ...nosanaJob(NAMESPACE, 'intruder', SPEC),
      metadata: { namespace: NAMESPACE, name: 'intruder', annotations: { [JOB_ADDRESS_ANNOTATION]: address } },
    });
    const intruder = await reconcileToPhase(world, 'intruder', 'Queued');
    assert.equal(intruder.status?.attempts?.[0]?.origin, 'adopted');
    assert.ok(world.kube.events.reasons().includes('RecordUnproven'));

    world.kube.delete('NosanaJob', { namespace: NAMESPACE, name: 'intruder' });
    for (let i = 0; i < 5 && world.kube.get('NosanaJob', { namespace: NAMESPACE, name: 'intruder' }) !== undefined; i += 1)
      await reconcile(world, 'intruder');
    assert.equal(world.kube.get('NosanaJob', { namespace: NAMESPACE, name: 'intruder' }), undefined, 'the intruder is gone');
    assert.equal((await world.ports.jobs.getJob(new PublicKey(address)))?.status, 'QUEUED', "the owner's job is still queued");
    assert.equal(readyReason(jobObject(world, 'owner')), 'Queued');
  });

  test('deleted before it was ever reconciled, with a copied job address (and a finalizer of its own): nothing is cancelled', async (t) => {
    const world = await postWorld(t, getLocalnet());
    createJob(world, 'owner');
    const owner = await reconcileToPhase(world, 'owner', 'Queued');
    const address = owner.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION] ?? '';
    const decoy = Keypair.generate().publicKey.toBase58();
    for (const [name, spec] of [
      ['copied', SPEC],
      ['copied-with-decoy', { ...SPEC, jobAddress: decoy }],
    ] as const) {
      world.kube.create({
        ...nosanaJob(NAMESPACE, name, spec),
        metadata: { namespace: NAMESPACE, name, finalizers: [NOSANA_JOB_FINALIZER], annotations: { [JOB_ADDRESS_ANNOTATION]: address } },
      });
      world.kube.delete('NosanaJob', { namespace: NAMESPACE, name });
      for (let i = 0; i < 5 && world.kube.get('NosanaJob', { namespace: NAMESPACE, name }) !== undefined; i += 1)
        await reconcile(world, name);
      assert.equal(world.kube.get('NosanaJob', { namespace: NAMESPACE, name }), undefined, `${name} is gone`);
      assert.equal((await world.ports.jobs.getJob(new PublicKey(address)))?.status, 'QUEUED', `${name}: the owner's job is still queued`);
    }
    assert.deepEqual(world.metrics.actions, [], 'no delist, end or recover was sent');
  });

  test('another object copying a post record does not settle it: the record is dropped and the object posts its own job', async (t) => {
    const world = await postWorld(t, getLocalnet());
    createJob(world, 'victim');
    await reconcile(world, 'victim');
    const record = jobObject(world, 'victim').metadata?.annotations?.[PENDING_POST_ANNOTATION];
    assert.ok(record !== undefined);
    const victimJob = (JSON.parse(record) as { jobAddress: string }).jobAddress;
    world.kube.create({
      ...nosanaJob(NAMESPACE, 'copycat', SPEC),
      metadata: { namespace: NAMESPACE, name: 'copycat', annotations: { [PENDING_POST_ANNOTATION]: record } },
    });
    const copycat = await reconcileToPhase(world, 'copycat', 'Queued');
    assert.ok(world.kube.events.reasons().includes('RecordUnproven'));
    assert.notEqual(
      copycat.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION],
      victimJob,
      "the copycat follows its own job, not the victim's",
    );
    const victim = await reconcileToPhase(world, 'victim', 'Queued');
    assert.equal(victim.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION], victimJob);
  });
});
