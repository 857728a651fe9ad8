// The NosanaMarket reconciler against a localnet over HTTP, with the production network registry
// and settings merge; the API server is the in-memory double (test/support/fake-kube.ts).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Keypair } from '@solana/web3.js';
import { pino } from 'pino';
import type { NosanaMarketObject, NosanaMarketStatus } from '../../../src/api/crds/nosana-market.ts';
import { marketVault } from '../../../src/chain/addresses.ts';
import { CachedNetworkRegistry } from '../../../src/controllers/network-registry.ts';
import { BUILT_IN_NETWORK_DEFAULTS, settingsFor, type OperatorNetworkDefaults } from '../../../src/controllers/network-settings.ts';
import type { NosanaJobObject } from '../../../src/api/crds/nosana-job.ts';
import { MarketDirectory } from '../../../src/controllers/nosana-market/directory.ts';
import { LAST_REFRESHED_HEARTBEAT_MS, NosanaMarketReconciler } from '../../../src/controllers/nosana-market/reconciler.ts';
import { findCondition } from '../../../src/runtime/conditions.ts';
import type { ObjectKey } from '../../../src/runtime/types.ts';
import { DEFAULT_MARKET, LOCALNET } from '../../../src/localnet/localnet.ts';
import { FakeClock, FakeKube, RecordedMetrics, nosanaJob, nosanaMarket, reconcileContext } from '../../support/fake-kube.ts';
import { useLocalnet } from '../support.ts';

const localnet = useLocalnet();

/** A loopback market directory (the shape of Nosana's GET /markets/); tests switch it off. */
function directoryServer() {
  let entries: unknown[] = [];
  let up = true;
  const server = createServer((_request, response) => {
    response.writeHead(up ? 200 : 503, { 'content-type': 'application/json' });
    response.end(up ? JSON.stringify(entries) : '{"error":"maintenance"}');
  });
  return {
    server,
    url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/markets/`,
    serve: (list: unknown[]) => {
      entries = list;
    },
    setUp: (value: boolean) => {
      up = value;
    },
  };
}

describe('NosanaMarket reconciler', () => {
  const directory = directoryServer();
  let kube: FakeKube;
  let clock: FakeClock;
  let metrics: RecordedMetrics;
  let registry: CachedNetworkRegistry;
  let reconciler: NosanaMarketReconciler;

  before(async () => {
    await new Promise<void>((resolve) => directory.server.listen(0, '127.0.0.1', resolve));
    const net = localnet();
    kube = new FakeKube();
    clock = new FakeClock();
    metrics = new RecordedMetrics();
    const log = pino({ level: 'silent' });
    registry = new CachedNetworkRegistry({ metrics, log, pollIntervalMs: 60_000 });
    const defaults: OperatorNetworkDefaults = {
      defaultNetwork: 'localnet',
      networks: {
        ...BUILT_IN_NETWORK_DEFAULTS,
        localnet: {
          rpcUrl: net.chain.url,
          gatewayUrls: [net.ipfs.gatewayUrl],
          pinning: { provider: 'pinata', url: net.ipfs.apiUrl, jwt: 'localnet' },
          serviceDomain: 'node.localhost',
        },
      },
    };
    reconciler = new NosanaMarketReconciler({
      markets: kube.cache<NosanaMarketObject>('NosanaMarket'),
      jobs: kube.cache<NosanaJobObject>('NosanaJob'),
      writer: kube.writer,
      events: kube.events,
      networks: registry,
      settingsFor: (market, namespace) => settingsFor(market, namespace, kube.reader, defaults),
      directory: new MarketDirectory({ urls: { localnet: directory.url() }, cacheTtlMs: 0 }),
      now: () => clock.now(),
      random: () => 0.5,
    });
  });
  after(async () => {
    registry.close();
    await new Promise<void>((resolve) => directory.server.close(() => resolve()));
  });

  const status = (key: ObjectKey): NosanaMarketStatus => (kube.get('NosanaMarket', key) as NosanaMarketObject).status ?? {};
  const ready = (key: ObjectKey) => findCondition(status(key).conditions, 'Ready');
  const statusWrites = () => kube.writeCounts('NosanaMarket').applyStatus;
  const reconcile = (key: ObjectKey) => reconciler.reconcile(key, reconcileContext());
  const create = (name: string, spec: Partial<NosanaMarketObject['spec']>): ObjectKey => {
    kube.create(nosanaMarket('team', name, { network: 'localnet', refreshInterval: '60s', ...spec }));
    return { namespace: 'team', name };
  };

  test('an address is mirrored into status, and an unchanged market is not written again', async () => {
    const net = localnet();
    const key = create('gpus', { address: net.market.toBase58() });
    const outcome = await reconcile(key);

    const mirrored = status(key);
    assert.equal(mirrored.address, net.market.toBase58());
    assert.equal(mirrored.jobPriceBaseUnits, DEFAULT_MARKET.price.toString());
    assert.equal(mirrored.jobPrice, '0.0001');
    assert.equal(mirrored.jobTimeout, Number(DEFAULT_MARKET.timeout));
    assert.equal(mirrored.jobExpiration, Number(DEFAULT_MARKET.jobExpiration));
    assert.equal(mirrored.jobType, (await net.jobsClient().getMarket(net.market))?.account.jobType);
    assert.equal(mirrored.queueType, 'Empty');
    assert.equal(mirrored.queueLength, 0);
    assert.equal(mirrored.nodeAccessKey, 'open');
    assert.equal(mirrored.nodeXnosMinimum, DEFAULT_MARKET.nodeXnosMinimum.toString());
    assert.equal(mirrored.vault, marketVault(LOCALNET, net.market)[0].toBase58());
    assert.ok(mirrored.lastRefreshed !== undefined);
    assert.equal(mirrored.observedGeneration, 1);
    assert.deepEqual(
      { status: ready(key)?.status, reason: ready(key)?.reason, stalled: findCondition(mirrored.conditions, 'Stalled')?.status },
      { status: 'True', reason: 'Synced', stalled: 'False' },
    );
    // The refresh interval (60 s) with the jitter's midpoint.
    assert.equal(outcome?.requeueAfterMs, 60_000);
    assert.deepEqual(kube.events.reasons(), ['Synced']);
    // Ready=False Refreshing went out first, then the values.
    const writes = kube.journal.filter((entry) => entry.verb === 'applyStatus' && entry.name === 'gpus');
    assert.equal(writes.length, 2);
    assert.equal(findCondition((writes[0]?.detail as NosanaMarketStatus).conditions, 'Ready')?.reason, 'Refreshing');

    // Before the interval is up nothing is read or written.
    const requests = metrics.rpcRequests;
    const before = statusWrites();
    const early = await reconcile(key);
    assert.equal(metrics.rpcRequests, requests);
    assert.equal(statusWrites(), before);
    assert.ok(early?.requeueAfterMs !== undefined && early.requeueAfterMs <= 60_000);

    // After it, the market is read again; unchanged, it is not written.
    clock.advance(61_000);
    await reconcile(key);
    assert.ok(metrics.rpcRequests > requests, 'the chain was read again');
    assert.equal(statusWrites(), before);
  });

  test('NosanaJobs on the market are counted by phase without reading the chain', async () => {
    const net = localnet();
    const key = { namespace: 'team', name: 'gpus' };
    const spec = { retries: 2, deletionPolicy: 'Cancel' as const, allowPublicCredentials: false };
    kube.create({ ...nosanaJob('team', 'by-name', { market: 'gpus', ...spec }), status: { phase: 'Running' } });
    kube.create({ ...nosanaJob('lab', 'by-address', { market: net.market.toBase58(), ...spec }), status: { phase: 'Queued' } });
    kube.create(nosanaJob('lab', 'not-yet-reconciled', { market: net.market.toBase58(), ...spec }));
    kube.create(nosanaJob('lab', 'other-market', { market: Keypair.generate().publicKey.toBase58(), ...spec }));
    const requests = metrics.rpcRequests;
    const before = statusWrites();
    await reconcile(key);
    assert.deepEqual(status(key).jobs, { pending: 1, posting: 0, queued: 1, running: 1, succeeded: 0, failed: 0, stopped: 0 });
    assert.equal(statusWrites(), before + 1);
    assert.equal(metrics.rpcRequests, requests);
  });

  test('a cache still behind the last write does not undo it', async () => {
    const net = localnet();
    const key = create('lagging', { address: net.market.toBase58() });
    // The watch has not delivered any of the writes below: the cache keeps serving the new object.
    kube.freezeCache('NosanaMarket', key);
    try {
      await reconcile(key);
      assert.equal(ready(key)?.reason, 'Synced');
      const queued = status(key).jobs?.queued ?? 0;
      kube.create({
        ...nosanaJob('team', 'on-lagging', { market: 'lagging', retries: 2, deletionPolicy: 'Cancel', allowPublicCredentials: false }),
        status: { phase: 'Queued' },
      });
      await reconcile(key);
      assert.equal(ready(key)?.reason, 'Synced', 'the counts were added to the status last written, not to the cached copy');
      assert.equal(status(key).jobPrice, '0.0001');
      assert.equal(status(key).jobs?.queued, queued + 1);
    } finally {
      kube.thawCache('NosanaMarket', key);
    }
  });

  test('a change on chain is written at the next refresh; lastRefreshed alone only every heartbeat', async () => {
    const net = localnet();
    const key = { namespace: 'team', name: 'gpus' };
    const client = net.jobsClient();
    await client.ensureStake(net.node);
    await client.work(net.node, net.market);
    try {
      clock.advance(61_000);
      const before = statusWrites();
      await reconcile(key);
      assert.equal(statusWrites(), before + 1);
      assert.equal(status(key).queueType, 'Nodes');
      assert.equal(status(key).queueLength, 1);
      const stamped = Date.parse(status(key).lastRefreshed ?? '');
      assert.ok(Math.abs(stamped - clock.now().getTime()) < 2_000, 'lastRefreshed is the time of this read');

      clock.advance(LAST_REFRESHED_HEARTBEAT_MS);
      await reconcile(key);
      assert.equal(statusWrites(), before + 2);
      assert.ok(Date.parse(status(key).lastRefreshed ?? '') - stamped >= LAST_REFRESHED_HEARTBEAT_MS - 1_000);
    } finally {
      await client.leaveQueue(net.node, net.market);
    }
  });

  test('the RPC going down keeps the last values under Ready=False RpcUnavailable, and recovery syncs again', async () => {
    const net = localnet();
    const key = { namespace: 'team', name: 'gpus' };
    const price = status(key).jobPrice;
    net.chain.faults.serverErrorRate = 1;
    try {
      clock.advance(61_000);
      const outcome = await reconcile(key);
      assert.equal(ready(key)?.status, 'False');
      assert.equal(ready(key)?.reason, 'RpcUnavailable');
      assert.match(ready(key)?.message ?? '', new RegExp(`cannot read market ${net.market.toBase58()} on localnet`));
      assert.equal(status(key).jobPrice, price);
      assert.equal(status(key).address, net.market.toBase58());
      // Retried soon (the first backoff step), not at the next refresh.
      assert.equal(outcome?.requeueAfterMs, 1_000);
      assert.equal(kube.events.list.at(-1)?.type, 'Warning');
    } finally {
      net.chain.faults.serverErrorRate = 0;
    }
    clock.advance(1_000);
    await reconcile(key);
    assert.equal(ready(key)?.reason, 'Synced');
    assert.equal(kube.events.list.at(-1)?.reason, 'Synced');
  });

  test('an address without a market account is MarketNotFound and Stalled, with nothing mirrored', async () => {
    const missing = Keypair.generate().publicKey.toBase58();
    const key = create('missing', { address: missing });
    const outcome = await reconcile(key);
    assert.equal(ready(key)?.reason, 'MarketNotFound');
    assert.equal(ready(key)?.message, `no market account at ${missing} on localnet`);
    assert.equal(findCondition(status(key).conditions, 'Stalled')?.status, 'True');
    assert.equal(status(key).address, missing);
    assert.equal(status(key).jobPrice, undefined);
    // Looked at again at the refresh interval, not in a hot loop.
    assert.equal(outcome?.requeueAfterMs, 60_000);
  });

  test("editing the address drops the old market's values before anything is read", async () => {
    const net = localnet();
    const key = create('edited', { address: net.market.toBase58() });
    await reconcile(key);
    assert.equal(status(key).jobPrice, '0.0001');
    const other = Keypair.generate().publicKey.toBase58();
    const current = kube.get('NosanaMarket', key) as NosanaMarketObject;
    kube.updateSpec<NosanaMarketObject>('NosanaMarket', key, { ...current.spec, address: other });
    const from = kube.journal.length;
    await reconcile(key);
    const writes = kube.journal.slice(from).filter((entry) => entry.verb === 'applyStatus');
    const refreshing = writes[0]?.detail as NosanaMarketStatus;
    assert.equal(findCondition(refreshing.conditions, 'Ready')?.reason, 'Refreshing');
    assert.equal(refreshing.observedGeneration, 2);
    assert.equal(refreshing.jobPrice, undefined);
    assert.equal(refreshing.address, undefined);
    assert.equal(ready(key)?.reason, 'MarketNotFound');
  });

  test('a slug is resolved through the market directory; an unreachable directory and unknown slugs are named', async () => {
    const net = localnet();
    directory.serve([{ slug: 'local-gpus', address: net.market.toBase58(), name: 'Localnet GPUs' }]);
    directory.setUp(false);
    const key = create('by-slug', { slug: 'local-gpus' });
    try {
      const outcome = await reconcile(key);
      assert.equal(ready(key)?.reason, 'DirectoryUnavailable');
      assert.equal(ready(key)?.message, `the market directory ${directory.url()} cannot be read: HTTP 503`);
      assert.equal(outcome?.requeueAfterMs, 1_000);
    } finally {
      directory.setUp(true);
    }
    clock.advance(1_000);
    await reconcile(key);
    assert.equal(ready(key)?.reason, 'Synced');
    assert.equal(status(key).address, net.market.toBase58());
    assert.equal(status(key).slugResolvedFrom, directory.url());

    const unknown = create('unknown-slug', { slug: 'nvidia-h100' });
    await reconcile(unknown);
    assert.equal(ready(unknown)?.reason, 'MarketNotFound');
    assert.equal(ready(unknown)?.message, `the market slug "nvidia-h100" is not in the market directory ${directory.url()}`);
    assert.equal(status(unknown).address, undefined);
  });

  test('a localnet RPC configured under the mainnet name is refused, naming both', async () => {
    const net = localnet();
    const key = create('wrong-network', { address: net.market.toBase58(), network: 'mainnet', rpc: { url: net.chain.url } });
    await reconcile(key);
    assert.equal(ready(key)?.reason, 'RpcUnavailable');
    assert.match(ready(key)?.message ?? '', /serves localnet, but the network is configured as mainnet/);
    assert.equal(status(key).jobPrice, undefined);
  });

  test('a deleted market is forgotten', async () => {
    kube.delete('NosanaMarket', { namespace: 'team', name: 'missing' });
    assert.equal(await reconcile({ namespace: 'team', name: 'missing' }), undefined);
  });
});
