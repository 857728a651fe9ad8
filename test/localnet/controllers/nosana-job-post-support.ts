// The posting tests' world: the NosanaJob reconciler over the fake API server and a localnet, with
// a market and a funded wallet of the test's own (so balances and job counts are not shared), a
// NosanaMarket for it, and every broadcast noted in the fake's journal so tests can order it
// against the writes.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { Keypair, PublicKey } from '@solana/web3.js';
import type { JobsClient, PendingPost } from '../../../src/chain/jobs-client.ts';
import { parseNos } from '../../../src/chain/money.ts';
import { serializeWallet } from '../../../src/chain/wallet.ts';
import type { NosanaJobObject } from '../../../src/api/crds/nosana-job.ts';
import type { NosanaMarketObject } from '../../../src/api/crds/nosana-market.ts';
import { NosanaJobReconciler } from '../../../src/controllers/nosana-job/reconciler.ts';
import type { Localnet } from '../../../src/localnet/localnet.ts';
import type { ReconcileOutcome } from '../../../src/runtime/types.ts';
import {
  FakeKube,
  localnetDeps,
  nosanaJob,
  nosanaMarket,
  reconcileContext,
  reconcileUntil,
  secretWithKey,
} from '../../support/fake-kube.ts';
import type { TestDeps } from '../../support/fake-kube.ts';
import { fundedWallet, jobAccountsOf, openTestMarket, readLedger } from '../../harness/nosana-ledger.ts';
import type { Funding, LedgerReading, TestMarketSettings } from '../../harness/nosana-ledger.ts';

export const NAMESPACE = 'team-post';
export const WALLET_SECRET = { name: 'wallet', key: 'keypair' };
export const MARKET_NAME = 'gpu';
export const PRICE = 10n;
export const MARKET_TIMEOUT = 600n;
/** A definition as a NosanaJob spec carries it (tests also build ones the validator refuses). */
export function asDefinition(value: unknown): NosanaJobObject['spec']['definition'] {
  return value as NosanaJobObject['spec']['definition'];
}

export const HELLO = asDefinition({
  version: '0.1',
  type: 'container',
  ops: [{ type: 'container/run', id: 'hello', args: { image: 'ubuntu', cmd: 'echo hello' } }],
});

export interface PostWorld extends TestDeps {
  localnet: Localnet;
  market: PublicKey;
  wallet: Keypair;
  reconciler: NosanaJobReconciler;
  /** Signatures of every broadcast, in order (also noted in the journal as "broadcast <signature>"). */
  broadcasts: string[];
}

export interface WorldOptions {
  market?: TestMarketSettings;
  funding?: Funding;
  /** Changes to the client after the broadcast recorder is put around it. */
  wrapJobs?: (jobs: JobsClient) => JobsClient;
}

/** Wraps `jobs`, replacing some methods; the others are the client's own. */
export function overriding(jobs: JobsClient, methods: Partial<JobsClient>): JobsClient {
  return Object.assign(Object.create(jobs) as JobsClient, methods);
}

export async function postWorld(t: TestContext, localnet: Localnet, options: WorldOptions = {}): Promise<PostWorld> {
  const broadcasts: string[] = [];
  const kube = new FakeKube();
  const world = localnetDeps(localnet, {
    kube,
    wrapJobs: (jobs) => {
      const recorded = overriding(jobs, {
        broadcast: async (pending: PendingPost) => {
          broadcasts.push(pending.signature);
          kube.note(`broadcast ${pending.signature}`);
          await jobs.broadcast(pending);
        },
      });
      return options.wrapJobs === undefined ? recorded : options.wrapJobs(recorded);
    },
  });
  t.after(() => world.deps.networks.close());
  const market = await openTestMarket(localnet, { price: PRICE, timeout: MARKET_TIMEOUT, ...options.market });
  const wallet = fundedWallet(localnet, options.funding ?? { sol: 1n, nos: parseNos('10') });
  world.kube.create(secretWithKey(NAMESPACE, WALLET_SECRET.name, WALLET_SECRET.key, serializeWallet(wallet)));
  world.kube.create(marketObject(NAMESPACE, MARKET_NAME, market));
  return { ...world, localnet, market, wallet, reconciler: new NosanaJobReconciler(world.deps), broadcasts };
}

export function marketObject(
  namespace: string,
  name: string,
  market: PublicKey,
  spec: Partial<NosanaMarketObject['spec']> = {},
): NosanaMarketObject {
  return nosanaMarket(
    namespace,
    name,
    { address: market.toBase58(), network: 'localnet', refreshInterval: '60s', ...spec },
    { address: market.toBase58() },
  );
}

export function createJob(
  world: PostWorld,
  name: string,
  spec: Partial<NosanaJobObject['spec']> = {},
  namespace = NAMESPACE,
): NosanaJobObject {
  return world.kube.create(
    nosanaJob(namespace, name, {
      market: MARKET_NAME,
      definition: HELLO,
      walletSecretRef: WALLET_SECRET,
      deletionPolicy: 'Cancel',
      retries: 2,
      allowPublicCredentials: false,
      ...spec,
    }),
  );
}

export function jobObject(world: PostWorld, name: string, namespace = NAMESPACE): NosanaJobObject {
  return world.kube.require('NosanaJob', { namespace, name }) as NosanaJobObject;
}

export function reconcile(world: PostWorld, name: string, namespace = NAMESPACE): Promise<ReconcileOutcome | undefined> {
  return world.reconciler.reconcile({ namespace, name }, reconcileContext());
}

/** Reconciles until the job reaches `phase` (and `reason`, when given); returns the object then. */
export function reconcileToPhase(
  world: PostWorld,
  name: string,
  phase: string,
  reason?: string,
  namespace = NAMESPACE,
): Promise<NosanaJobObject> {
  return reconcileUntil(world.reconciler, { namespace, name }, () => {
    const object = jobObject(world, name, namespace);
    return object.status?.phase === phase && (reason === undefined || readyReason(object) === reason) ? object : undefined;
  });
}

export function readyReason(object: NosanaJobObject): string | undefined {
  return object.status?.conditions?.find((condition) => condition.type === 'Ready')?.reason;
}

export function condition(object: NosanaJobObject, type: string): { status: string; reason: string; message: string } | undefined {
  return object.status?.conditions?.find((entry) => entry.type === type);
}

export interface MoneyReading {
  ledger: LedgerReading;
  lamports: bigint;
  jobs: number;
}

/** The wallet's NOS and SOL, its market's vault, all NOS in existence, and the wallet's job accounts. */
export async function readMoney(world: PostWorld, wallet: Keypair = world.wallet, market: PublicKey = world.market): Promise<MoneyReading> {
  const [ledger, lamports, jobs] = await Promise.all([
    readLedger(world.localnet, { poster: wallet.publicKey, market }),
    world.localnet.connection().getBalance(wallet.publicKey).then(BigInt),
    jobAccountsOf(world.localnet, wallet.publicKey),
  ]);
  return { ledger, lamports, jobs: jobs.length };
}

export async function assertNothingSpent(
  world: PostWorld,
  before: MoneyReading,
  wallet: Keypair = world.wallet,
  market: PublicKey = world.market,
): Promise<void> {
  assert.deepEqual(await readMoney(world, wallet, market), before, 'no NOS, no SOL and no job account may have moved');
}
