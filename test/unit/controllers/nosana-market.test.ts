import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair, PublicKey } from '@solana/web3.js';
import { QUEUE_TYPE } from '../../../src/chain/accounts.ts';
import type { MarketAccount } from '../../../src/chain/accounts.ts';
import { OPEN_MARKET_ACCESS_KEY } from '../../../src/chain/addresses.ts';
import { parseDuration } from '../../../src/api/duration.ts';
import { countByPhase, jobsOfMarket, marketsOfJob } from '../../../src/controllers/nosana-market/market-jobs.ts';
import { MIRRORED_FIELDS, mirrorMarket, withoutMirroredFields } from '../../../src/controllers/nosana-market/market-status.ts';
import { FakeKube, nosanaJob, nosanaMarket } from '../../support/fake-kube.ts';
import type { NosanaJobObject } from '../../../src/api/crds/nosana-job.ts';
import type { NosanaMarketObject } from '../../../src/api/crds/nosana-market.ts';

const ADDRESS = Keypair.generate().publicKey.toBase58();
const OTHER_ADDRESS = Keypair.generate().publicKey.toBase58();

describe('parseDuration', () => {
  test('reads Go durations in milliseconds', () => {
    assert.equal(parseDuration('60s', 'x'), 60_000);
    assert.equal(parseDuration('1h30m', 'x'), 5_400_000);
    assert.equal(parseDuration('1.5h', 'x'), 5_400_000);
    assert.equal(parseDuration('500ms', 'x'), 500);
    assert.equal(parseDuration('2m', 'x'), 120_000);
    assert.equal(parseDuration('0', 'x'), 0);
  });

  test('refuses anything else and names the setting', () => {
    for (const text of ['60', '', '1d', '-5s', 's', '5 s']) {
      assert.throws(
        () => parseDuration(text, '--lease-duration'),
        (error: Error) => error.message.startsWith(`--lease-duration: "${text}" is not a duration`),
      );
    }
  });
});

function account(overrides: Partial<MarketAccount> = {}): MarketAccount {
  return {
    authority: Keypair.generate().publicKey,
    jobExpiration: 86_400n,
    jobPrice: 43n,
    jobTimeout: 7_200n,
    jobType: 0,
    vault: Keypair.generate().publicKey,
    vaultBump: 255,
    nodeAccessKey: OPEN_MARKET_ACCESS_KEY,
    nodeXnosMinimum: 12_345_678_901_234_567_890n,
    queueType: QUEUE_TYPE.job,
    queue: [Keypair.generate().publicKey, Keypair.generate().publicKey],
    ...overrides,
  };
}

describe('mirrorMarket', () => {
  test('puts the price in NOS/s and base units, the queue and the access rules in status', () => {
    const market = account();
    const status = mirrorMarket({ address: new PublicKey(ADDRESS), account: market });
    assert.deepEqual(status, {
      address: ADDRESS,
      jobPrice: '0.000043',
      jobPriceBaseUnits: '43',
      jobTimeout: 7_200,
      jobExpiration: 86_400,
      jobType: 0,
      queueType: 'Jobs',
      queueLength: 2,
      nodeAccessKey: 'open',
      // above 2^53: kept exact as a string
      nodeXnosMinimum: '12345678901234567890',
      vault: market.vault.toBase58(),
    });
  });

  test('names the access collection of a closed market and each queue type', () => {
    const collection = Keypair.generate().publicKey;
    assert.equal(
      mirrorMarket({ address: new PublicKey(ADDRESS), account: account({ nodeAccessKey: collection }) }).nodeAccessKey,
      collection.toBase58(),
    );
    assert.equal(mirrorMarket({ address: new PublicKey(ADDRESS), account: account({ queueType: QUEUE_TYPE.node }) }).queueType, 'Nodes');
    assert.equal(
      mirrorMarket({ address: new PublicKey(ADDRESS), account: account({ queueType: QUEUE_TYPE.empty, queue: [] }) }).queueType,
      'Empty',
    );
    assert.equal(mirrorMarket({ address: new PublicKey(ADDRESS), account: account({ queueType: 7 }) }).queueType, undefined);
  });

  test('withoutMirroredFields drops every chain value and keeps the rest', () => {
    const mirrored = {
      ...mirrorMarket({ address: new PublicKey(ADDRESS), account: account() }),
      lastRefreshed: '2026-01-01T00:00:00Z',
      slugResolvedFrom: 'https://dir.example/markets/',
    };
    const kept = withoutMirroredFields({ ...mirrored, observedGeneration: 3, jobs: { pending: 1 } });
    assert.deepEqual(kept, { observedGeneration: 3, jobs: { pending: 1 } });
    for (const field of MIRRORED_FIELDS) assert.ok(field in mirrored, `${field} is one of the fields mirrorMarket or the reconciler sets`);
  });
});

function job(namespace: string, name: string, market: string, status?: NosanaJobObject['status']): NosanaJobObject {
  return {
    ...nosanaJob(namespace, name, { market, retries: 2, deletionPolicy: 'Cancel', allowPublicCredentials: false }),
    ...(status === undefined ? {} : { status }),
  };
}

function marketObject(namespace: string, name: string, status?: NosanaMarketObject['status']): NosanaMarketObject {
  return nosanaMarket(namespace, name, { address: ADDRESS, network: 'mainnet', refreshInterval: '60s' }, status);
}

describe('jobs of a market', () => {
  test('counts jobs naming the market by name in its namespace, or its address from anywhere', () => {
    const kube = new FakeKube();
    const gpus = kube.create(marketObject('team', 'gpus', { address: ADDRESS }));
    kube.create(marketObject('other', 'gpus'));
    kube.create(job('team', 'by-name', 'gpus', { phase: 'Running' }));
    kube.create(job('other', 'same-name-other-namespace', 'gpus', { phase: 'Queued' }));
    kube.create(job('lab', 'by-address', ADDRESS, { phase: 'Succeeded' }));
    kube.create(job('lab', 'resolved-address', 'lab-market', { phase: 'Succeeded', marketAddress: ADDRESS }));
    kube.create(job('team', 'elsewhere', OTHER_ADDRESS, { phase: 'Failed' }));
    kube.create(job('team', 'new', ADDRESS));

    const jobs = kube.cache<NosanaJobObject>('NosanaJob');
    const names = jobsOfMarket(gpus, jobs)
      .map((item) => item.metadata?.name)
      .sort();
    assert.deepEqual(names, ['by-address', 'by-name', 'new', 'resolved-address']);
    assert.deepEqual(countByPhase(jobsOfMarket(gpus, jobs)), {
      pending: 1,
      posting: 0,
      queued: 0,
      running: 1,
      succeeded: 2,
      failed: 0,
      stopped: 0,
    });

    const markets = kube.cache<NosanaMarketObject>('NosanaMarket');
    const ofJob = (namespace: string, name: string) =>
      marketsOfJob(jobs.get({ namespace, name }) as NosanaJobObject, markets)
        .map((item) => `${item.metadata?.namespace}/${item.metadata?.name}`)
        .sort();
    assert.deepEqual(ofJob('team', 'by-name'), ['team/gpus']);
    // A name means a NosanaMarket of the job's own namespace only.
    assert.deepEqual(ofJob('other', 'same-name-other-namespace'), ['other/gpus']);
    assert.deepEqual(ofJob('lab', 'by-address'), ['other/gpus', 'team/gpus']);
    assert.deepEqual(ofJob('team', 'elsewhere'), []);
  });
});
