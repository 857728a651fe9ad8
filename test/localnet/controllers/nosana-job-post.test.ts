// The NosanaJob posting path against the localnet over HTTP, with the API server faked: a post is
// recorded before it is broadcast and lands exactly once; every refusal leaves the ledger as it was
// (no NOS, no SOL, no job account) and pins nothing that was refused for its content.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair, PublicKey } from '@solana/web3.js';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { JOB_ADDRESS_ANNOTATION, NOSANA_JOB_FINALIZER, PENDING_POST_ANNOTATION } from '../../../src/api/annotations.ts';
import { JOB_TYPE_DISABLED } from '../../../src/chain/accounts.ts';
import { OPEN_MARKET_ACCESS_KEY } from '../../../src/chain/addresses.ts';
import { jobsInstruction } from '../../../src/chain/instructions.ts';
import type { PostRequest } from '../../../src/chain/jobs-client.ts';
import { jobDeposit, parseNos } from '../../../src/chain/money.ts';
import { TransactionSender } from '../../../src/chain/transaction-sender.ts';
import { serializeWallet } from '../../../src/chain/wallet.ts';
import type { NosanaMarketObject } from '../../../src/api/crds/nosana-market.ts';
import { bytes32ToCid } from '../../../src/ipfs/cid.ts';
import { encodeJsonForPinning } from '../../../src/ipfs/json.ts';
import { computeCidV0 } from '../../../src/ipfs/unixfs.ts';
import { boundDefinition } from '../../../src/controllers/nosana-job/binding.ts';
import { SPEND_LEDGER_DATA_KEY, ledgerName } from '../../../src/controllers/nosana-job/spend-ledger.ts';
import { LOCALNET } from '../../../src/localnet/localnet.ts';
import type { Localnet } from '../../../src/localnet/localnet.ts';
import { NosanaJobReconciler } from '../../../src/controllers/nosana-job/reconciler.ts';
import { reconcileContext, reconcileUntil, secretWithKey } from '../../support/fake-kube.ts';
import { fillMarketQueue, fundedWallet, jobAccountsOf, nosOf } from '../../harness/nosana-ledger.ts';
import { useLocalnet } from '../support.ts';
import {
  HELLO,
  MARKET_NAME,
  MARKET_TIMEOUT,
  NAMESPACE,
  PRICE,
  asDefinition,
  assertNothingSpent,
  condition,
  createJob,
  jobObject,
  marketObject,
  overriding,
  postWorld,
  readMoney,
  readyReason,
  reconcile,
  reconcileToPhase,
} from './nosana-job-post-support.ts';
import type { PostWorld } from './nosana-job-post-support.ts';

const getLocalnet = useLocalnet({ chain: { slotMs: 50 } });
const DEPOSIT = jobDeposit(PRICE, MARKET_TIMEOUT);

/** The market authority's `update`, changing the price (the rest as openTestMarket set it). */
async function setPrice(localnet: Localnet, market: PublicKey, jobPrice: bigint): Promise<void> {
  const authority = localnet.marketAuthority;
  await new TransactionSender(localnet.connection()).execute(
    'update',
    [
      jobsInstruction(
        LOCALNET,
        'update',
        { market, accessKey: OPEN_MARKET_ACCESS_KEY, authority: authority.publicKey },
        { jobExpiration: 86_400n, jobPrice, jobType: 0, nodeStakeMinimum: 0n, jobTimeout: MARKET_TIMEOUT },
      ),
    ],
    authority.publicKey,
    [authority],
  );
}

/** The CID the operator pins for `definition`: bound to the object `name` and its first attempt. */
function pinnedCid(world: PostWorld, definition: unknown, name: string): Promise<string> {
  return computeCidV0(encodeJsonForPinning(boundDefinition(definition, { wallet: world.wallet, namespace: NAMESPACE, name }, 0)));
}

describe('NosanaJob posting', () => {
  test('posts once: the record is written before the broadcast, Posting → Queued, one job on chain, the deposit paid', async (t) => {
    const world = await postWorld(t, getLocalnet());
    const before = await readMoney(world);
    createJob(world, 'hello');

    const first = await reconcile(world, 'hello');
    const posting = jobObject(world, 'hello');
    assert.equal(posting.status?.phase, 'Posting');
    assert.equal(readyReason(posting), 'Posting');
    assert.ok(posting.metadata?.finalizers?.includes(NOSANA_JOB_FINALIZER));
    const record = JSON.parse(posting.metadata?.annotations?.[PENDING_POST_ANNOTATION] ?? '{}') as {
      jobAddress: string;
      signature: string;
      transaction: string;
    };
    assert.equal(posting.status?.pendingPost?.jobAddress, record.jobAddress);
    assert.ok(first?.requeueAfterMs !== undefined && first.requeueAfterMs <= 1_000, 'a post in flight is looked at again soon');

    const queued = await reconcileToPhase(world, 'hello', 'Queued');
    const jobAddress = queued.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION];
    assert.equal(jobAddress, record.jobAddress);
    assert.equal(queued.metadata?.annotations?.[PENDING_POST_ANNOTATION], undefined);
    assert.equal(queued.status?.pendingPost, undefined);
    assert.equal(condition(queued, 'Posted')?.status, 'True');
    assert.equal(condition(queued, 'LowBalance')?.status, 'False');

    // Order of events: the record with the finalizer, broadcast(s) of the recorded bytes, then the swap to the job address.
    const entries = world.kube.journal.map((entry) =>
      entry.verb === 'note'
        ? String(entry.detail).split(' ')[0]
        : entry.verb === 'patchMetadata'
          ? Object.keys((entry.detail as { annotations?: object }).annotations ?? { finalizer: 1 }).join('+')
          : entry.verb,
    );
    const recordAt = entries.indexOf(PENDING_POST_ANNOTATION);
    const recordPatch = world.kube.journal.find(
      (entry) =>
        entry.verb === 'patchMetadata' && PENDING_POST_ANNOTATION in ((entry.detail as { annotations?: object }).annotations ?? {}),
    );
    assert.deepEqual(
      (recordPatch?.detail as { addFinalizers?: string[] } | undefined)?.addFinalizers,
      [NOSANA_JOB_FINALIZER],
      'the finalizer goes on in the same write as the record, before anything is spent',
    );
    assert.equal(entries.indexOf('finalizer'), -1, `no separate finalizer write: ${entries.join(', ')}`);
    assert.ok(recordAt >= 0 && recordAt < entries.indexOf('broadcast'), `recorded before broadcast: ${entries.join(', ')}`);
    assert.ok(entries.indexOf('broadcast') < entries.indexOf(`${JOB_ADDRESS_ANNOTATION}+${PENDING_POST_ANNOTATION}`), entries.join(', '));
    assert.deepEqual(new Set(world.broadcasts), new Set([record.signature]), 'only the recorded bytes were ever sent');

    // One job on chain, for the definition as written, and exactly its deposit paid.
    const jobs = await jobAccountsOf(world.localnet, world.wallet.publicKey);
    assert.deepEqual(
      jobs.map((job) => job.address),
      [record.jobAddress],
    );
    const cid = await pinnedCid(world, HELLO, 'hello');
    assert.equal(
      bytes32ToCid(jobs[0]!.account.ipfsJob),
      cid,
      'the definition is pinned with the binding of this object and its first attempt',
    );
    assert.equal(queued.status?.ipfsJob, cid);
    assert.ok(world.localnet.ipfs.store.get(cid) !== undefined, 'the definition is pinned');
    const after = await readMoney(world);
    assert.equal(after.ledger.poster, before.ledger.poster - DEPOSIT);
    assert.equal(after.ledger.vault, before.ledger.vault + DEPOSIT);
    assert.equal(after.ledger.total, before.ledger.total, 'NOS is conserved');
    assert.deepEqual(world.metrics.posted, [{ network: 'localnet', market: world.market.toBase58() }]);
    assert.deepEqual(
      world.metrics.spent.map((entry) => entry.baseUnits),
      [DEPOSIT],
    );
    assert.deepEqual(world.kube.events.reasons(), ['Posting', 'Posted'], 'the landing announced once: no Queued Event after Posted');
    assert.equal(world.metrics.pendingPosts?.(), 0);

    // Converged: another reconcile writes nothing.
    const writes = world.kube.journal.length;
    await reconcile(world, 'hello');
    assert.equal(world.kube.journal.length, writes, 'no write when nothing changed');
  });

  test('a stale cache cannot make a second post: the record write fails its resourceVersion check and nothing is broadcast', async (t) => {
    const world = await postWorld(t, getLocalnet());
    const created = createJob(world, 'stale');
    const key = { namespace: NAMESPACE, name: 'stale' };
    await world.kube.writer.patchMetadata(
      { apiVersion: 'nosana.io/v1alpha1', kind: 'NosanaJob', ...key },
      created.metadata!.resourceVersion!,
      { addFinalizers: [NOSANA_JOB_FINALIZER] },
    );
    // The informer has not seen anything since: it keeps serving the object without a record.
    world.kube.freezeCache('NosanaJob', key);
    await reconcile(world, 'stale');
    assert.equal(world.broadcasts.length, 1);
    const stale = await reconcile(world, 'stale');
    assert.equal(stale?.requeueAfterMs, 500, 'a lost race is looked at again soon, not treated as an error');
    assert.equal(world.broadcasts.length, 1, 'the second, stale reconcile broadcast nothing');
    const records = world.kube.journal.filter(
      (entry) =>
        entry.verb === 'patchMetadata' && PENDING_POST_ANNOTATION in ((entry.detail as { annotations?: object }).annotations ?? {}),
    );
    assert.equal(records.length, 1, 'only the first record was written');

    world.kube.thawCache('NosanaJob', key);
    await reconcileToPhase(world, 'stale', 'Queued');
    assert.equal((await jobAccountsOf(world.localnet, world.wallet.publicKey)).length, 1, 'exactly one job on chain');
  });

  test('an invalid definition: InvalidDefinition with every problem and its path; nothing pinned, nothing spent, no retry loop', async (t) => {
    const world = await postWorld(t, getLocalnet());
    const before = await readMoney(world);
    const pins = world.localnet.ipfs.store.objectCount;
    // Valid for the CRD's schema (what the API server checks), invalid for the full validator.
    const definition = asDefinition({
      version: '0.1',
      type: 'container',
      ops: [
        { type: 'container/run', id: 'a', args: { image: 'ubuntu', imagePullPolicy: 'Always' } },
        { type: 'container/run', id: 'b', args: { image: 'ubuntu' }, execution: { depends_on: ['missing'] } },
      ],
    });
    createJob(world, 'invalid', { definition });
    const outcome = await reconcile(world, 'invalid');
    const object = jobObject(world, 'invalid');
    assert.equal(object.status?.phase, 'Pending');
    assert.equal(readyReason(object), 'InvalidDefinition');
    assert.match(
      condition(object, 'Ready')!.message,
      /2 problems: ops\[0\]\.args\.imagePullPolicy: unknown key .*; ops\[1\]\.execution\.depends_on\[0\]: unknown op "missing"/,
    );
    assert.equal(condition(object, 'Stalled')?.status, 'True');
    assert.equal(outcome?.requeueAfterMs, undefined, 'only an edit of the spec retries');
    assert.equal(world.localnet.ipfs.store.objectCount, pins, 'nothing pinned');
    assert.equal(world.localnet.ipfs.store.get(await computeCidV0(encodeJsonForPinning(definition))), undefined);
    await assertNothingSpent(world, before);
  });

  test('credentials in the definition are refused before pinning, and posted once allowPublicCredentials is set', async (t) => {
    const world = await postWorld(t, getLocalnet());
    const before = await readMoney(world);
    const definition = asDefinition({
      version: '0.1',
      type: 'container',
      ops: [
        {
          type: 'container/run',
          id: 'private',
          args: { image: 'registry.example/app', authentication: { docker: { username: 'ci', password: 'hunter2' } } },
        },
      ],
    });
    const created = createJob(world, 'creds', { definition });
    await reconcile(world, 'creds');
    const refused = jobObject(world, 'creds');
    assert.equal(readyReason(refused), 'PublicCredentials');
    assert.match(
      condition(refused, 'Ready')!.message,
      /ops\[0\]\.args\.authentication\.docker\.password.*public IPFS.*allowPublicCredentials/,
    );
    assert.ok(!condition(refused, 'Ready')!.message.includes('hunter2'));
    const cid = await pinnedCid(world, definition, 'creds');
    assert.equal(world.localnet.ipfs.store.get(cid), undefined, 'not pinned');
    await assertNothingSpent(world, before);

    world.kube.updateSpec('NosanaJob', { namespace: NAMESPACE, name: 'creds' }, { ...created.spec, allowPublicCredentials: true });
    const queued = await reconcileToPhase(world, 'creds', 'Queued');
    assert.equal(queued.status?.ipfsJob, cid);
  });

  test('over budget: price × timeout above maxCost is refused naming both amounts; nothing spent', async (t) => {
    const world = await postWorld(t, getLocalnet());
    const before = await readMoney(world);
    createJob(world, 'pricey', { timeout: '1h', maxCost: '0.03' });
    await reconcile(world, 'pricey');
    const object = jobObject(world, 'pricey');
    assert.equal(readyReason(object), 'OverBudget');
    assert.match(
      condition(object, 'Ready')!.message,
      /deposit of 0\.036 NOS \(0\.00001 NOS\/s × 3600s.*exceeds spec\.maxCost of 0\.03 NOS/,
    );
    await assertNothingSpent(world, before);
  });

  test('insufficient funds: the amounts, a LowBalance condition and the balance metric; retried with a growing delay', async (t) => {
    const world = await postWorld(t, getLocalnet(), { funding: { sol: 1n, nos: DEPOSIT - 1n } });
    const before = await readMoney(world);
    createJob(world, 'poor');
    const first = await reconcile(world, 'poor');
    const second = await reconcile(world, 'poor');
    const object = jobObject(world, 'poor');
    assert.equal(readyReason(object), 'InsufficientFunds');
    assert.match(
      condition(object, 'Ready')!.message,
      new RegExp(`wallet ${world.wallet.publicKey.toBase58()} holds 0\\.005999 NOS where the deposit is 0\\.006 NOS`),
    );
    assert.equal(condition(object, 'LowBalance')?.status, 'True');
    assert.ok(
      first?.requeueAfterMs !== undefined && second?.requeueAfterMs !== undefined && second.requeueAfterMs > first.requeueAfterMs,
      `backoff grows: ${first?.requeueAfterMs} then ${second?.requeueAfterMs}`,
    );
    assert.deepEqual(world.metrics.balances.at(-1), {
      network: 'localnet',
      wallet: world.wallet.publicKey.toBase58(),
      lamports: before.lamports,
      nosBaseUnits: DEPOSIT - 1n,
    });
    await assertNothingSpent(world, before);
  });

  test('a malformed wallet Secret: WalletUnavailable naming the Secret and key, never the content; nothing spent', async (t) => {
    const world = await postWorld(t, getLocalnet());
    const before = await readMoney(world);
    const garbage = 'this-is-not-a-keypair-but-could-be-half-of-one';
    world.kube.create(secretWithKey(NAMESPACE, 'broken', 'keypair', garbage));
    createJob(world, 'broken-wallet', { walletSecretRef: { name: 'broken', key: 'keypair' } });
    const outcome = await reconcile(world, 'broken-wallet');
    const object = jobObject(world, 'broken-wallet');
    assert.equal(readyReason(object), 'WalletUnavailable');
    const message = condition(object, 'Ready')!.message;
    assert.match(message, new RegExp(`Secret ${NAMESPACE}/broken key "keypair"`));
    assert.ok(!message.includes(garbage));
    assert.ok(world.kube.events.list.every((event) => !event.note.includes(garbage)));
    assert.ok((outcome?.requeueAfterMs ?? 0) > 0, 'retried with backoff');
    await assertNothingSpent(world, before);
  });

  test('an unknown market: MarketNotFound for a missing NosanaMarket, an address without a market account, and unreadable network settings', async (t) => {
    const world = await postWorld(t, getLocalnet());
    const before = await readMoney(world);
    createJob(world, 'nowhere', { market: 'no-such-market' });
    await reconcile(world, 'nowhere');
    assert.equal(readyReason(jobObject(world, 'nowhere')), 'MarketNotFound');
    const empty = Keypair.generate().publicKey.toBase58();
    createJob(world, 'no-account', { market: empty });
    await reconcile(world, 'no-account');
    const object = jobObject(world, 'no-account');
    assert.equal(readyReason(object), 'MarketNotFound');
    assert.match(condition(object, 'Ready')!.message, new RegExp(`no market account at ${empty}`));

    // The NosanaMarket exists but its network settings cannot be read (a Secret it names is missing).
    const unreadable = new NosanaJobReconciler({
      ...world.deps,
      settingsFor: () => Promise.reject(new Error('Secret team-post/pinata does not exist')),
    });
    createJob(world, 'no-settings');
    const outcome = await unreadable.reconcile({ namespace: NAMESPACE, name: 'no-settings' }, reconcileContext());
    const blocked = jobObject(world, 'no-settings');
    assert.equal(readyReason(blocked), 'MarketNotFound');
    assert.match(
      condition(blocked, 'Ready')!.message,
      /network settings for market .* cannot be resolved: Secret team-post\/pinata does not exist/,
    );
    assert.ok((outcome?.requeueAfterMs ?? 0) > 0, 'retried with backoff');
    await assertNothingSpent(world, before);
  });

  test("a market's default wallet pays only for the namespaces it serves", async (t) => {
    const world = await postWorld(t, getLocalnet());
    const shared = fundedWallet(world.localnet, { sol: 1n, nos: parseNos('1') });
    world.kube.create(secretWithKey('platform', 'shared-wallet', 'keypair', serializeWallet(shared)));
    world.kube.create(marketObject('platform', 'shared', world.market, { walletSecretRef: { name: 'shared-wallet', key: 'keypair' } }));
    const before = await readMoney(world, shared);
    const spec = { market: world.market.toBase58(), walletSecretRef: undefined };
    createJob(world, 'tenant', spec, 'tenant');
    await reconcile(world, 'tenant', 'tenant');
    const refused = jobObject(world, 'tenant', 'tenant');
    assert.equal(readyReason(refused), 'WalletNotAllowed');
    assert.match(condition(refused, 'Ready')!.message, /NosanaMarket platform\/shared does not serve namespace tenant/);
    await assertNothingSpent(world, before, shared);

    const market = world.kube.require('NosanaMarket', { namespace: 'platform', name: 'shared' }) as NosanaMarketObject;
    world.kube.updateSpec('NosanaMarket', { namespace: 'platform', name: 'shared' }, { ...market.spec, allowedNamespaces: ['tenant'] });
    await reconcileToPhase(world, 'tenant', 'Queued', undefined, 'tenant');
    assert.equal((await jobAccountsOf(world.localnet, shared.publicKey)).length, 1, "the market's wallet paid");
    assert.equal(await nosOf(world.localnet, shared.publicKey), before.ledger.poster - DEPOSIT);
  });

  test("the daily spend limit counts this cluster's posts to the market over a rolling day", async (t) => {
    const world = await postWorld(t, getLocalnet());
    const market = world.kube.require('NosanaMarket', { namespace: NAMESPACE, name: MARKET_NAME }) as NosanaMarketObject;
    // Room for one deposit (0.006 NOS) but not two.
    world.kube.updateSpec('NosanaMarket', { namespace: NAMESPACE, name: MARKET_NAME }, { ...market.spec, dailySpendLimit: '0.01' });
    createJob(world, 'first');
    await reconcileToPhase(world, 'first', 'Queued');
    const before = await readMoney(world);
    createJob(world, 'second');
    const outcome = await reconcile(world, 'second');
    const refused = jobObject(world, 'second');
    assert.equal(readyReason(refused), 'SpendLimitReached');
    assert.match(
      condition(refused, 'Ready')!.message,
      /paid 0\.006 NOS .* deposit of 0\.006 NOS would pass its dailySpendLimit of 0\.01 NOS; it fits again at /,
    );
    const dayMs = 24 * 3_600_000;
    assert.ok(
      outcome?.requeueAfterMs !== undefined && outcome.requeueAfterMs > dayMs - 120_000 && outcome.requeueAfterMs <= dayMs + 1_000,
      `retried when the window allows, got ${outcome?.requeueAfterMs}`,
    );
    await assertNothingSpent(world, before);

    world.clock.advance(dayMs + 1_000);
    await reconcileToPhase(world, 'second', 'Queued');
    assert.equal((await jobAccountsOf(world.localnet, world.wallet.publicKey)).length, 2);
  });

  test('the spend ledger outlives the NosanaJobs and the operator: a job deleted, then one of another name after a restart, still meet its spend', async (t) => {
    const world = await postWorld(t, getLocalnet());
    const marketKey = { namespace: NAMESPACE, name: MARKET_NAME };
    const market = world.kube.require('NosanaMarket', marketKey) as NosanaMarketObject;
    world.kube.updateSpec('NosanaMarket', marketKey, { ...market.spec, dailySpendLimit: '0.01' });
    createJob(world, 'first');
    const first = await reconcileToPhase(world, 'first', 'Queued');
    const ledger = world.kube.get('ConfigMap', {
      namespace: NAMESPACE,
      name: ledgerName({ market: world.market, marketName: MARKET_NAME }),
    }) as V1ConfigMap | undefined;
    assert.deepEqual(
      JSON.parse(ledger?.data?.[SPEND_LEDGER_DATA_KEY] ?? '[]').map((entry: { job: string; amount: string }) => [entry.job, entry.amount]),
      [[first.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION], String(jobDeposit(PRICE, MARKET_TIMEOUT))]],
      "the post was counted in the market's ledger",
    );

    // Deleted (its deposit refunded: a refund gives no budget back), then the operator restarts.
    world.kube.delete('NosanaJob', { namespace: NAMESPACE, name: 'first' });
    await reconcileUntil(
      world.reconciler,
      { namespace: NAMESPACE, name: 'first' },
      () => world.kube.get('NosanaJob', { namespace: NAMESPACE, name: 'first' }) === undefined || undefined,
    );
    const restarted = new NosanaJobReconciler(world.deps);
    createJob(world, 'renamed');
    await restarted.reconcile({ namespace: NAMESPACE, name: 'renamed' }, reconcileContext());
    assert.equal(readyReason(jobObject(world, 'renamed')), 'SpendLimitReached');
    assert.equal((await jobAccountsOf(world.localnet, world.wallet.publicKey)).length, 0, 'nothing more was posted');
  });

  test('a post refused its record (a stale object) is taken back out of the spend ledger; the recorded post stays counted', async (t) => {
    const world = await postWorld(t, getLocalnet());
    const marketKey = { namespace: NAMESPACE, name: MARKET_NAME };
    const market = world.kube.require('NosanaMarket', marketKey) as NosanaMarketObject;
    world.kube.updateSpec('NosanaMarket', marketKey, { ...market.spec, dailySpendLimit: '0.02' });
    const created = createJob(world, 'raced');
    const key = { namespace: NAMESPACE, name: 'raced' };
    await world.kube.writer.patchMetadata(
      { apiVersion: 'nosana.io/v1alpha1', kind: 'NosanaJob', ...key },
      created.metadata!.resourceVersion!,
      {
        addFinalizers: [NOSANA_JOB_FINALIZER],
      },
    );
    // The informer keeps serving the object without its record: the second post is refused its record.
    world.kube.freezeCache('NosanaJob', key);
    await reconcile(world, 'raced');
    await reconcile(world, 'raced');
    world.kube.thawCache('NosanaJob', key);
    const recorded = (
      JSON.parse(world.kube.require('NosanaJob', key).metadata?.annotations?.[PENDING_POST_ANNOTATION] ?? '{}') as { jobAddress?: string }
    ).jobAddress;
    const ledger = world.kube.get('ConfigMap', {
      namespace: NAMESPACE,
      name: ledgerName({ market: world.market, marketName: MARKET_NAME }),
    }) as V1ConfigMap | undefined;
    const counted = (JSON.parse(ledger?.data?.[SPEND_LEDGER_DATA_KEY] ?? '[]') as { job: string }[]).map((entry) => entry.job);
    assert.ok(recorded !== undefined);
    assert.deepEqual(counted, [recorded], 'one entry: the post that was recorded');
  });

  test("the daily spend limit also bounds what raising a posted job's timeout pays", async (t) => {
    const world = await postWorld(t, getLocalnet());
    const marketKey = { namespace: NAMESPACE, name: MARKET_NAME };
    const market = world.kube.require('NosanaMarket', marketKey) as NosanaMarketObject;
    world.kube.updateSpec('NosanaMarket', marketKey, { ...market.spec, dailySpendLimit: '0.01' });
    const created = createJob(world, 'growing', { timeout: 600 });
    const queued = await reconcileToPhase(world, 'growing', 'Queued');
    const job = new PublicKey(queued.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION] ?? '');
    const before = await readMoney(world);

    // Another 600 s (0.006 NOS) on top of the 0.006 NOS paid today would pass the 0.01 NOS limit.
    world.kube.updateSpec('NosanaJob', { namespace: NAMESPACE, name: 'growing' }, { ...created.spec, timeout: 1200 });
    await reconcile(world, 'growing');
    await reconcile(world, 'growing');
    assert.equal((await world.ports.jobs.getJob(job))?.account.timeout, 600n, 'not extended');
    await assertNothingSpent(world, before);
    const refused = world.kube.events.list.find((event) => event.reason === 'ExtendRefused');
    assert.match(refused?.note ?? '', /paid 0\.006 NOS .* an extension of 0\.006 NOS would pass its dailySpendLimit of 0\.01 NOS/);

    world.kube.updateSpec('NosanaMarket', marketKey, { ...market.spec, dailySpendLimit: '0.02' });
    await reconcile(world, 'growing');
    assert.equal((await world.ports.jobs.getJob(job))?.account.timeout, 1200n, 'extended once the limit allows it');
    assert.equal((await readMoney(world)).ledger.poster, before.ledger.poster - PRICE * 600n);
  });

  test('a disabled market (job type 255) is refused: it would keep the deposit without queueing the job', async (t) => {
    const world = await postWorld(t, getLocalnet(), { market: { jobType: JOB_TYPE_DISABLED } });
    const before = await readMoney(world);
    createJob(world, 'disabled');
    await reconcile(world, 'disabled');
    const object = jobObject(world, 'disabled');
    assert.equal(readyReason(object), 'MarketDisabled');
    assert.match(condition(object, 'Ready')!.message, /job type 255/);
    await assertNothingSpent(world, before);
  });

  test('a market whose job queue is full: MarketQueueFull, retried later; nothing spent', async (t) => {
    const world = await postWorld(t, getLocalnet());
    fillMarketQueue(world.localnet, world.market);
    const before = await readMoney(world);
    createJob(world, 'full');
    const outcome = await reconcile(world, 'full');
    assert.equal(readyReason(jobObject(world, 'full')), 'MarketQueueFull');
    assert.equal(outcome?.requeueAfterMs, 30_000);
    await assertNothingSpent(world, before);
  });

  test('a price rise between the check and the landing: the job is delisted at once and the resource stops with PriceAboveMaxCost', async (t) => {
    const localnet = getLocalnet();
    const raised: { market?: PublicKey } = {};
    const world = await postWorld(t, localnet, {
      wrapJobs: (jobs) =>
        overriding(jobs, {
          // The market authority raises the price after the controller checked it, before the post is signed.
          preparePost: async (request: PostRequest) => {
            await setPrice(localnet, raised.market!, PRICE * 3n);
            return jobs.preparePost(request);
          },
        }),
    });
    raised.market = world.market;
    const before = await readMoney(world);
    // maxCost allows the old deposit (0.006 NOS) but not the new one (0.018 NOS).
    createJob(world, 'raised', { maxCost: '0.01' });
    const stopped = await reconcileUntil(world.reconciler, { namespace: NAMESPACE, name: 'raised' }, () => {
      const object = jobObject(world, 'raised');
      return object.status?.phase === 'Stopped' && object.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION] !== undefined
        ? object
        : undefined;
    });
    assert.equal(readyReason(stopped), 'PriceAboveMaxCost');
    assert.match(
      condition(stopped, 'Ready')!.message,
      /landed at 0\.00003 NOS\/s.*cost up to 0\.018 NOS, more than spec\.maxCost of 0\.01 NOS.*taken back at once \(delisted\)/,
    );
    assert.equal(stopped.status?.attempts?.[0]?.outcome, 'PriceAboveMaxCost');
    assert.equal(stopped.metadata?.annotations?.[PENDING_POST_ANNOTATION], undefined);
    assert.ok(
      world.kube.events.list.some(
        (event) =>
          event.type === 'Warning' && event.reason === 'PriceAboveMaxCost' && /delisted job .*0\.018 NOS refunded/.test(event.note),
      ),
      world.kube.events.list.map((event) => event.note).join('\n'),
    );
    const after = await readMoney(world);
    assert.equal(after.jobs, 0, 'the job account was closed by the delist');
    assert.equal(after.ledger.poster, before.ledger.poster, 'the whole deposit came back');
    assert.equal(after.ledger.total, before.ledger.total);

    const writes = world.kube.journal.length;
    await reconcile(world, 'raised');
    assert.equal(world.kube.journal.length, writes, 'a stopped job is left alone');
  });

  test('the definition can come from a ConfigMap key', async (t) => {
    const world = await postWorld(t, getLocalnet());
    world.kube.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { namespace: NAMESPACE, name: 'defs' },
      data: { 'hello.json': JSON.stringify(HELLO, null, 2) },
    });
    createJob(world, 'from-configmap', { definition: undefined, definitionFrom: { configMapKeyRef: { name: 'defs', key: 'hello.json' } } });
    const queued = await reconcileToPhase(world, 'from-configmap', 'Queued');
    // The value is pinned (compact JSON), not the ConfigMap's formatting.
    assert.equal(queued.status?.ipfsJob, await pinnedCid(world, HELLO, 'from-configmap'));
  });
});
