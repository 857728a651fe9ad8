// Driving the following and deletion of on-chain jobs through the real NosanaJobReconciler, one
// reconcile at a time, against the localnet: a NosanaJob in the fake API server as the operator
// leaves it after posting (its finalizer, its job-address annotation, the attempt in its status),
// with jobs posted straight through the chain client so that these tests depend on nothing of the
// posting path.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { PublicKey } from '@solana/web3.js';
import type { JobsClient } from '../../../src/chain/jobs-client.ts';
import { BatchedChainJobWatcher } from '../../../src/controllers/chain-watcher.ts';
import { JOB_ADDRESS_ANNOTATION, NOSANA_JOB_FINALIZER } from '../../../src/api/annotations.ts';
import type { NosanaJobControllerOptions } from '../../../src/controllers/nosana-job/context.ts';
import type { ReconcileOutcome } from '../../../src/runtime/types.ts';
import type { NosanaJobObject } from '../../../src/api/crds/nosana-job.ts';
import { isoSeconds } from '../../../src/controllers/nosana-job/job-status.ts';
import { NosanaJobReconciler } from '../../../src/controllers/nosana-job/reconciler.ts';
import { serializeWallet } from '../../../src/chain/wallet.ts';
import type { Localnet } from '../../../src/localnet/localnet.ts';
import { localnetDeps, nosanaJob, reconcileContext, secretWithKey } from '../../support/fake-kube.ts';
import type { TestDeps } from '../../support/fake-kube.ts';
import { TestNode, openTestMarket, postDirectly, readLedger } from '../../harness/nosana-ledger.ts';
import type { LedgerReading } from '../../harness/nosana-ledger.ts';

export const NAMESPACE = 'team-a';
const WALLET_SECRET = { name: 'poster-wallet', key: 'keypair' };

export interface MirrorWorld extends TestDeps {
  reconciler: NosanaJobReconciler;
  localnet: Localnet;
  market: PublicKey;
  /** Every address the watcher asked the chain about (getJobs), in order. */
  polled: string[];
  watcher: BatchedChainJobWatcher;
}

/**
 * Fake Kubernetes over the localnet, the poster's wallet Secret, and a market of the test's own.
 * The watcher is closed when the test ends.
 */
export async function mirrorWorld(
  t: TestContext,
  localnet: Localnet,
  controller: Partial<NosanaJobControllerOptions> = {},
  price = 10n,
): Promise<MirrorWorld> {
  const polled: string[] = [];
  const world = localnetDeps(localnet, {
    controller,
    wrapJobs: (jobs) =>
      Object.assign(Object.create(jobs) as JobsClient, {
        getJobs: (addresses: readonly PublicKey[]) => {
          polled.push(...addresses.map((address) => address.toBase58()));
          return jobs.getJobs(addresses);
        },
      }),
  });
  t.after(() => world.deps.networks.close());
  // The localnet is shared by a file's tests and earlier tests may have moved its clock: start level with it.
  world.clock.advance(localnet.chain.clock.offsetMs);
  world.kube.create(secretWithKey(NAMESPACE, WALLET_SECRET.name, WALLET_SECRET.key, serializeWallet(localnet.poster)));
  const watcher = world.ports.watcher;
  assert.ok(watcher instanceof BatchedChainJobWatcher);
  return {
    ...world,
    reconciler: new NosanaJobReconciler(world.deps),
    localnet,
    polled,
    watcher,
    market: await openTestMarket(localnet, { price }),
  };
}

/** Whether the watcher still polls `job`: one poll now, and look at what it asked for. */
export async function stillPolled(world: MirrorWorld, job: PublicKey): Promise<boolean> {
  world.polled.length = 0;
  await world.watcher.pollOnce();
  return world.polled.includes(job.toBase58());
}

export const DEFINITION = {
  version: '0.1',
  type: 'container',
  ops: [
    { type: 'container/create-volume', id: 'cache', args: { name: 'cache' } },
    { type: 'container/run', id: 'serve', args: { image: 'nginx', expose: 8080 } },
  ],
};

/** Pins `definition` to the localnet's IPFS and posts it from the poster's wallet; returns the job. */
export async function postJob(world: MirrorWorld, timeoutSeconds: bigint, definition: unknown = DEFINITION): Promise<PublicKey> {
  const cid = await world.ports.pinning.pinJson(definition);
  return postDirectly(world.localnet, world.localnet.poster, world.market, cid, timeoutSeconds);
}

/** A NosanaJob paying with the poster's wallet; `posted` marks `job` as posted by it (the annotation the posting path leaves). */
export function createJobResource(
  world: MirrorWorld,
  name: string,
  spec: Partial<NosanaJobObject['spec']>,
  posted?: PublicKey,
): NosanaJobObject {
  const object = nosanaJob(NAMESPACE, name, {
    market: world.market.toBase58(),
    walletSecretRef: WALLET_SECRET,
    deletionPolicy: 'Cancel',
    retries: 2,
    allowPublicCredentials: false,
    ...spec,
  });
  // As the operator's first reconcile leaves it: with the finalizer that cancels the job on delete.
  object.metadata = { ...object.metadata, finalizers: [NOSANA_JOB_FINALIZER] };
  if (posted !== undefined) {
    // As the operator records a post it made: the annotation, and the attempt in the status.
    object.metadata = { ...object.metadata, annotations: { [JOB_ADDRESS_ANNOTATION]: posted.toBase58() } };
    object.status = {
      jobAddress: posted.toBase58(),
      attempts: [{ jobAddress: posted.toBase58(), postedAt: isoSeconds(world.clock.now()) }],
    };
  }
  return world.kube.create(object);
}

export function jobResource(world: MirrorWorld, name: string): NosanaJobObject {
  return world.kube.require('NosanaJob', { namespace: NAMESPACE, name }) as NosanaJobObject;
}

/** A job posted for the resource `name` and taken by a fresh node: where most tests start. */
export async function runningJob(
  world: MirrorWorld,
  name: string,
  options: { spec?: Partial<NosanaJobObject['spec']>; timeout?: bigint; definition?: unknown } = {},
): Promise<{ job: PublicKey; node: TestNode }> {
  const job = await postJob(world, options.timeout ?? 600n, options.definition);
  createJobResource(world, name, options.spec ?? {}, job);
  const node = await TestNode.join(world.localnet);
  await node.work(world.market);
  return { job, node };
}

/** NOS of the poster, the market's vault, the node (when given) and in total. */
export function ledger(world: MirrorWorld, node?: TestNode): Promise<LedgerReading> {
  return readLedger(world.localnet, {
    poster: world.localnet.poster.publicKey,
    market: world.market,
    ...(node === undefined ? {} : { node: node.address }),
  });
}

/**
 * One reconcile of the resource through the real NosanaJobReconciler, after the watcher has seen
 * the chain as it is now (the test just changed it).
 */
export async function observe(
  world: MirrorWorld,
  name: string,
  job: PublicKey,
): Promise<{ outcome: ReconcileOutcome; object: NosanaJobObject }> {
  await world.watcher.job(job, { maxAgeMs: 0 });
  const outcome = (await world.reconciler.reconcile({ namespace: NAMESPACE, name }, reconcileContext())) ?? {};
  return { outcome, object: jobResource(world, name) };
}

/** What one reconcile of a resource being deleted came to: whether it is gone, else when it looks again. */
export interface DeletionOutcome {
  done: boolean;
  requeueAfterMs?: number;
}

/** Deletes the resource (once: `kubectl delete` marks it) and reconciles it once through the real reconciler. */
export async function finalize(world: MirrorWorld, name: string, job: PublicKey | undefined): Promise<DeletionOutcome> {
  if (job !== undefined) await world.watcher.job(job, { maxAgeMs: 0 });
  const key = { namespace: NAMESPACE, name };
  world.kube.delete('NosanaJob', key);
  const outcome = (await world.reconciler.reconcile(key, reconcileContext())) ?? {};
  if (world.kube.get('NosanaJob', key) === undefined) return { done: true };
  return { done: false, ...(outcome.requeueAfterMs === undefined ? {} : { requeueAfterMs: outcome.requeueAfterMs }) };
}

/** Moves the chain's clock and the controller's clock forward together. */
export function advanceTime(world: MirrorWorld, seconds: number): void {
  world.localnet.chain.clock.advance(seconds);
  world.clock.advance(seconds * 1000);
}

export function readyReason(object: NosanaJobObject): string | undefined {
  return object.status?.conditions?.find((condition) => condition.type === 'Ready')?.reason;
}
