// The posting path's checks on their own: spec values, credentials, which market's limit governs,
// market and wallet resolution (what may be paid is may-pay.ts's, tested on its own). Each refusal
// names what is wrong and when it is worth trying again.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair } from '@solana/web3.js';
import bs58 from 'bs58';
import { validateJobDefinition } from '../../../src/api/job-definition/index.ts';
import type { JobDefinition } from '../../../src/api/job-definition/index.ts';
import { listCharge } from '../../../src/chain/money.ts';
import { serializeWallet } from '../../../src/chain/wallet.ts';
import { findPublicCredentials } from '../../../src/controllers/nosana-job/credentials.ts';
import { resolveDefinition, resolveMarketReference } from '../../../src/controllers/nosana-job/resolve.ts';
import { durationSeconds, nosAmount } from '../../../src/controllers/nosana-job/spec-values.ts';
import { limitingMarket } from '../../../src/controllers/nosana-job/spend-ledger.ts';
import { WalletProblem, loadWallet, walletSourceFor } from '../../../src/controllers/nosana-job/wallet.ts';
import { ReadForbidden } from '../../../src/runtime/kube-reader.ts';
import type { NosanaJobObject } from '../../../src/api/crds/nosana-job.ts';
import type { NosanaMarketObject } from '../../../src/api/crds/nosana-market.ts';
import { FakeKube, configMapWithKey, nosanaJob, nosanaMarket, secretWithKey } from '../../support/fake-kube.ts';

const HELLO = {
  version: '0.1',
  type: 'container',
  ops: [{ type: 'container/run', id: 'hello', args: { image: 'ubuntu', cmd: 'echo hello' } }],
} as NosanaJobObject['spec']['definition'];

function jobSpec(overrides: Partial<NosanaJobObject['spec']> = {}): NosanaJobObject['spec'] {
  return { market: 'gpu', definition: HELLO, deletionPolicy: 'Cancel', retries: 2, allowPublicCredentials: false, ...overrides };
}

function marketSpec(overrides: Partial<NosanaMarketObject['spec']> = {}): NosanaMarketObject['spec'] {
  return { network: 'localnet', refreshInterval: '60s', ...overrides };
}

function parsed(definition: unknown): JobDefinition {
  const result = validateJobDefinition(definition, { strictness: 'strict' });
  assert.ok(result.ok, JSON.stringify(result.problems));
  return result.definition!;
}

describe('spec values', () => {
  test('durations in seconds or Go syntax become whole seconds, fractions rounded up', () => {
    assert.equal(durationSeconds(90, 'spec.timeout'), 90n);
    assert.equal(durationSeconds('30m', 'spec.timeout'), 1_800n);
    assert.equal(durationSeconds('1h30m', 'spec.timeout'), 5_400n);
    assert.equal(durationSeconds('1.5h', 'spec.timeout'), 5_400n);
    assert.equal(durationSeconds('1500ms', 'spec.timeout'), 2n);
    assert.equal(durationSeconds('10s250us', 'spec.timeout'), 11n);
    assert.throws(() => durationSeconds('soon', 'spec.timeout'), /spec\.timeout must be .*"soon"/);
    assert.throws(() => durationSeconds(0, 'spec.queueTimeout'), /spec\.queueTimeout must be a positive/);
    assert.throws(() => durationSeconds('0s', 'spec.timeout'), /longer than zero/);
  });

  test('NOS amounts are whole NOS or decimal strings, in base units', () => {
    assert.equal(nosAmount(2, 'spec.maxCost'), 2_000_000n);
    assert.equal(nosAmount('0.75', 'spec.maxCost'), 750_000n);
    assert.throws(() => nosAmount('1.1234567', 'spec.maxCost'), /spec\.maxCost: .*at most 6 decimals/);
  });

  test('what a post takes carries the legacy fee outside the localnet', () => {
    assert.equal(listCharge('localnet', 100n, 600n), 60_000n);
    assert.equal(listCharge('mainnet', 100n, 600n), 66_000n);
  });
});

describe('credentials in a definition', () => {
  test('filled docker credentials, S3 IAM keys and HF tokens are found with their paths', () => {
    const definition = parsed({
      version: '0.1',
      type: 'container',
      ops: [
        {
          type: 'container/run',
          id: 'a',
          args: { image: 'private/image', authentication: { docker: { username: 'me', password: 'hunter2' } } },
        },
        {
          type: 'container/run',
          id: 'b',
          args: {
            image: 'ubuntu',
            resources: [
              {
                type: 'S3',
                url: 'https://s3.example/bucket',
                target: '/data',
                IAM: { REGION: 'eu', ACCESS_KEY_ID: 'AKIA', SECRET_ACCESS_KEY: 'secret' },
              },
              { type: 'HF', repo: 'org/model', target: '/models', accessToken: 'hf_token' },
            ],
          },
        },
      ],
    });
    assert.deepEqual(findPublicCredentials(definition), [
      'ops[0].args.authentication.docker.username',
      'ops[0].args.authentication.docker.password',
      'ops[1].args.resources[0].IAM',
      'ops[1].args.resources[1].accessToken',
    ]);
  });

  test("empty credential templates (as in Nosana's examples) and public resources are not credentials", () => {
    const definition = parsed({
      version: '0.1',
      type: 'container',
      ops: [
        {
          type: 'container/run',
          id: 'a',
          args: {
            image: 'ubuntu',
            authentication: { docker: { username: '', password: '' } },
            resources: [
              {
                type: 'S3',
                url: 'https://s3.example/public',
                target: '/data',
                IAM: { REGION: '', ACCESS_KEY_ID: '', SECRET_ACCESS_KEY: '' },
              },
              { type: 'HF', repo: 'org/model', target: '/m' },
            ],
          },
        },
      ],
    });
    assert.deepEqual(findPublicCredentials(definition), []);
  });
});

describe('spend limit', () => {
  test('a market of another namespace limits only the jobs its own wallet pays for', () => {
    const own = nosanaMarket('team', 'own', marketSpec({ dailySpendLimit: '1' }));
    const lender = nosanaMarket('platform', 'shared', marketSpec({ dailySpendLimit: '0.000001', allowedNamespaces: ['team'] }));
    const withWallet = nosanaJob('team', 'a', jobSpec({ walletSecretRef: { name: 'w', key: 'k' } }));
    const borrowing = nosanaJob('team', 'b', jobSpec());
    assert.equal(limitingMarket({ object: own, settingsFrom: own }, withWallet), own, "the namespace's own market always governs");
    assert.equal(limitingMarket({ object: lender }, withWallet), undefined, 'a lender has no say over a job paying with its own wallet');
    assert.equal(limitingMarket({ object: lender }, borrowing), lender, "a lender's limit governs what its wallet pays");
  });
});

describe('resolving the definition and the market', () => {
  test('an inline definition is validated with every problem and its path', async () => {
    const kube = new FakeKube();
    const definition = {
      version: '0.1',
      type: 'container',
      ops: [
        { type: 'container/run', id: 'x', args: { cmd: 'true' } },
        { type: 'container/run', id: 'x', args: { image: 'ubuntu', gpu: 'yes' } },
      ],
    };
    const bad = nosanaJob('team', 'bad', jobSpec({ definition: definition as NosanaJobObject['spec']['definition'] }));
    const refused = await resolveDefinition(bad, kube.reader);
    assert.ok('refused' in refused);
    assert.equal(refused.reason, 'InvalidDefinition');
    assert.match(refused.message, /ops\[0\]\.args\.image: /);
    assert.match(refused.message, /ops\[1\]\.args\.gpu: /);
    assert.match(refused.message, /ops\[1\]\.id: /);
    const good = await resolveDefinition(nosanaJob('team', 'good', jobSpec()), kube.reader);
    assert.ok(!('refused' in good));
    assert.deepEqual(good.raw, HELLO);
  });

  test('definitionFrom reads a ConfigMap key; missing is retried, bad JSON is invalid', async () => {
    const kube = new FakeKube();
    const from = nosanaJob(
      'team',
      'from',
      jobSpec({ definition: undefined, definitionFrom: { configMapKeyRef: { name: 'defs', key: 'hello.json' } } }),
    );
    const missing = await resolveDefinition(from, kube.reader);
    assert.ok('refused' in missing);
    assert.deepEqual([missing.reason, missing.retry], ['DefinitionUnavailable', 'backoff']);
    assert.match(missing.message, /ConfigMap team\/defs/);
    kube.create(configMapWithKey('team', 'defs', 'other.json', '{}'));
    const noKey = await resolveDefinition(from, kube.reader);
    assert.ok('refused' in noKey);
    assert.match(noKey.message, /has no key "hello\.json"/);
    kube.delete('ConfigMap', { namespace: 'team', name: 'defs' });
    kube.create(configMapWithKey('team', 'defs', 'hello.json', '{"version":'));
    const broken = await resolveDefinition(from, kube.reader);
    assert.ok('refused' in broken);
    assert.equal(broken.reason, 'InvalidDefinition');
    kube.delete('ConfigMap', { namespace: 'team', name: 'defs' });
    kube.create(configMapWithKey('team', 'defs', 'hello.json', JSON.stringify(HELLO)));
    const read = await resolveDefinition(from, kube.reader);
    assert.ok(!('refused' in read));
    assert.deepEqual(read.raw, HELLO);
  });

  test('spec.market: a NosanaMarket of the namespace, else an address matched to a NosanaMarket serving the namespace', () => {
    const kube = new FakeKube();
    const markets = kube.cache<NosanaMarketObject>('NosanaMarket');
    const address = Keypair.generate().publicKey;
    assert.equal(
      (resolveMarketReference(nosanaJob('team', 'j', jobSpec({ market: 'gpu' })), markets) as { reason: string }).reason,
      'MarketNotFound',
    );
    kube.create(nosanaMarket('team', 'gpu', marketSpec()));
    const unsynced = resolveMarketReference(nosanaJob('team', 'j', jobSpec({ market: 'gpu' })), markets);
    assert.match((unsynced as { message: string }).message, /NosanaMarket team\/gpu has no market address yet/);
    kube.setStatus('NosanaMarket', { namespace: 'team', name: 'gpu' }, { address: address.toBase58() });
    const named = resolveMarketReference(nosanaJob('team', 'j', jobSpec({ market: 'gpu' })), markets);
    assert.ok(!('refused' in named));
    assert.ok(named.address.equals(address));

    const shared = Keypair.generate().publicKey;
    kube.create(
      nosanaMarket('platform', 'closed', marketSpec({ address: shared.toBase58(), walletSecretRef: { name: 'w', key: 'keypair' } })),
    );
    const byAddress = nosanaJob('team', 'j', jobSpec({ market: shared.toBase58() }));
    const notServed = resolveMarketReference(byAddress, markets);
    assert.ok(!('refused' in notServed));
    assert.equal(notServed.object, undefined);
    assert.equal(notServed.refusedBy?.metadata?.name, 'closed');
    kube.create(nosanaMarket('platform', 'open', marketSpec({ address: shared.toBase58(), allowedNamespaces: ['team'] })));
    const served = resolveMarketReference(byAddress, markets);
    assert.ok(!('refused' in served));
    assert.equal(served.object?.metadata?.name, 'open');
  });
});

describe('wallets', () => {
  test("the job's own Secret, else the market default only for namespaces it serves", () => {
    const market = nosanaMarket(
      'platform',
      'm',
      marketSpec({ walletSecretRef: { name: 'shared', key: 'keypair' }, allowedNamespaces: ['team'] }),
    );
    const address = Keypair.generate().publicKey;
    const own = walletSourceFor(nosanaJob('other', 'j', jobSpec({ walletSecretRef: { name: 'mine', key: 'k' } })), {
      address,
      object: market,
    });
    assert.deepEqual(own.secret, { namespace: 'other', name: 'mine' });
    const served = walletSourceFor(nosanaJob('team', 'j', jobSpec()), { address, object: market });
    assert.deepEqual([served.secret, served.key], [{ namespace: 'platform', name: 'shared' }, 'keypair']);
    assert.throws(
      () => walletSourceFor(nosanaJob('other', 'j', jobSpec()), { address, object: market }),
      (error: unknown) => error instanceof WalletProblem && error.reason === 'WalletNotAllowed' && /namespace other/.test(error.message),
    );
    assert.throws(
      () => walletSourceFor(nosanaJob('other', 'j', jobSpec()), { address, refusedBy: market }),
      (error: unknown) => error instanceof WalletProblem && error.reason === 'WalletNotAllowed',
    );
    assert.throws(
      () => walletSourceFor(nosanaJob('other', 'j', jobSpec()), { address }),
      (error: unknown) => error instanceof WalletProblem && error.reason === 'WalletUnavailable',
    );
  });

  test('a missing or malformed Secret names the Secret and key, never its content', async () => {
    const kube = new FakeKube();
    const source = { secret: { namespace: 'team', name: 'wallet' }, key: 'keypair', namedBy: 'spec.walletSecretRef' };
    await assert.rejects(loadWallet(kube.reader, source), /Secret team\/wallet key "keypair" .*does not exist/);
    const secretText = 'not-a-key-but-secret-looking-0OIl';
    kube.create(secretWithKey('team', 'wallet', 'keypair', secretText));
    await assert.rejects(loadWallet(kube.reader, source), (error: unknown) => {
      assert.ok(error instanceof WalletProblem);
      assert.match(error.message, /Secret team\/wallet key "keypair"/);
      assert.ok(!error.message.includes(secretText), 'the content never appears in the message');
      return true;
    });
    const keypair = Keypair.generate();
    kube.delete('Secret', { namespace: 'team', name: 'wallet' });
    kube.create(secretWithKey('team', 'wallet', 'keypair', bs58.encode(keypair.secretKey)));
    assert.ok((await loadWallet(kube.reader, source)).publicKey.equals(keypair.publicKey));
    kube.delete('Secret', { namespace: 'team', name: 'wallet' });
    kube.create(secretWithKey('team', 'wallet', 'other', serializeWallet(keypair)));
    await assert.rejects(loadWallet(kube.reader, source), /has no such key/);
  });

  test('a Secret the RBAC does not let the operator read: WalletUnavailable saying so, not a bare API error', async () => {
    const source = { secret: { namespace: 'team', name: 'wallet' }, key: 'keypair', namedBy: 'spec.walletSecretRef' };
    const forbidding = {
      getSecret: (key: { namespace: string; name: string }) => Promise.reject(new ReadForbidden('Secret', key)),
      getConfigMap: () => Promise.resolve(undefined),
    };
    await assert.rejects(loadWallet(forbidding, source), (error: unknown) => {
      assert.ok(error instanceof WalletProblem);
      assert.equal(error.reason, 'WalletUnavailable');
      assert.match(
        error.message,
        /Secret team\/wallet key "keypair" \(spec\.walletSecretRef\): the operator may not read Secret team\/wallet/,
      );
      assert.match(error.message, /no grant to get secrets in namespace team/);
      return true;
    });
  });
});
