import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1Secret } from '@kubernetes/client-node';
import { SECRET_USE_LABEL, type SecretUse } from '../../../src/api/annotations.ts';
import type { NetworkName } from '../../../src/chain/addresses.ts';
import {
  BUILT_IN_NETWORK_DEFAULTS,
  NetworkSettingsError,
  operatorNetworkDefaults,
  settingsFor,
  type OperatorNetworkDefaults,
} from '../../../src/controllers/network-settings.ts';
import type { NosanaMarketObject } from '../../../src/api/crds/nosana-market.ts';
import { PINATA_DEFAULT_API_URL } from '../../../src/ipfs/pinata.ts';
import { KUBO_DEFAULT_API_URL } from '../../../src/ipfs/kubo.ts';
import { FakeKube, configMapWithKey, nosanaMarket, secretWithKey } from '../../support/fake-kube.ts';

const MARKET_ADDRESS = '7AtiXMSH6R1jjBxrcYjehCkkSF7zvYWte63gwEDBcGHq';
const OPERATOR_JWT = 'operator-jwt-value';

function operatorDefaults(defaultNetwork: NetworkName = 'mainnet'): OperatorNetworkDefaults {
  return {
    defaultNetwork,
    networks: {
      ...BUILT_IN_NETWORK_DEFAULTS,
      mainnet: {
        ...BUILT_IN_NETWORK_DEFAULTS.mainnet,
        rpcUrl: 'https://rpc.operator.example',
        pinning: { provider: 'pinata', url: PINATA_DEFAULT_API_URL, jwt: OPERATOR_JWT },
      },
    },
  };
}

function market(spec: Partial<NosanaMarketObject['spec']>, namespace = 'team'): NosanaMarketObject {
  return nosanaMarket(namespace, 'gpus', { address: MARKET_ADDRESS, network: 'mainnet', refreshInterval: '60s', ...spec });
}

/** A Secret labelled for one use of its content over the network. */
function secretFor(use: SecretUse, namespace: string, name: string, key: string, value: string): V1Secret {
  const secret = secretWithKey(namespace, name, key, value);
  return { ...secret, metadata: { ...secret.metadata, labels: { [SECRET_USE_LABEL]: use } } };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof NetworkSettingsError, `expected a NetworkSettingsError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the settings to be refused');
}

describe('settingsFor', () => {
  test('a market given by bare address uses the operator defaults of the default network', async () => {
    const settings = await settingsFor(undefined, 'team', new FakeKube().reader, operatorDefaults());
    assert.deepEqual(settings, {
      name: 'mainnet',
      rpcUrl: 'https://rpc.operator.example',
      gatewayUrls: BUILT_IN_NETWORK_DEFAULTS.mainnet.gatewayUrls,
      pinning: { provider: 'pinata', url: PINATA_DEFAULT_API_URL, jwt: OPERATOR_JWT },
      serviceDomain: 'node.k8s.prd.nos.ci',
    });
  });

  test('a network without an RPC says which flag or field sets one', async () => {
    const error = await rejection(settingsFor(market({ network: 'devnet' }), 'team', new FakeKube().reader, operatorDefaults()));
    assert.match(error.message, /no Solana RPC URL for network devnet/);
    assert.match(error.message, /spec\.rpc\.url/);
    assert.match(error.message, /--rpc-url devnet=URL/);
  });

  test('the localnet has no built-in IPFS: the missing gateway and pinning API are named', async () => {
    const reader = new FakeKube().reader;
    const noGateway = await rejection(
      settingsFor(market({ network: 'localnet', rpc: { url: 'http://127.0.0.1:8899' } }), 'team', reader, operatorDefaults()),
    );
    assert.match(noGateway.message, /no IPFS gateway for network localnet/);
    const noPinning = await rejection(
      settingsFor(
        market({ network: 'localnet', rpc: { url: 'http://127.0.0.1:8899' }, ipfs: { gatewayUrls: ['http://127.0.0.1:8080/ipfs/'] } }),
        'team',
        reader,
        operatorDefaults(),
      ),
    );
    assert.match(noPinning.message, /no IPFS pinning API for network localnet/);
  });

  test('spec fields win over the settingsFrom ConfigMap, which wins over the operator defaults', async () => {
    const kube = new FakeKube();
    kube.create({
      ...configMapWithKey('team', 'net', 'rpcUrl', 'https://rpc.configmap.example'),
      data: {
        rpcUrl: 'https://rpc.configmap.example',
        ipfsGatewayUrls: 'https://gw1.example/ipfs/,\n https://gw2.example',
        ipfsPinningProvider: 'kubo',
        ipfsPinningUrl: 'http://kubo.configmap.example:5001',
      },
    });
    const fromConfigMap = await settingsFor(
      market({ settingsFrom: { configMapRef: { name: 'net' } } }),
      'team',
      kube.reader,
      operatorDefaults(),
    );
    assert.equal(fromConfigMap.rpcUrl, 'https://rpc.configmap.example');
    assert.deepEqual(fromConfigMap.gatewayUrls, ['https://gw1.example/ipfs/', 'https://gw2.example']);
    assert.deepEqual(fromConfigMap.pinning, { provider: 'kubo', url: 'http://kubo.configmap.example:5001' });

    const specWins = await settingsFor(
      market({
        settingsFrom: { configMapRef: { name: 'net' } },
        rpc: { url: 'https://rpc.spec.example' },
        ipfs: { gatewayUrls: ['https://gw.spec.example/ipfs/'], pinning: { provider: 'kubo', url: 'http://kubo.spec.example:5001' } },
        serviceDomain: 'nodes.example.org',
      }),
      'team',
      kube.reader,
      operatorDefaults(),
    );
    assert.equal(specWins.rpcUrl, 'https://rpc.spec.example');
    assert.deepEqual(specWins.gatewayUrls, ['https://gw.spec.example/ipfs/']);
    assert.deepEqual(specWins.pinning, { provider: 'kubo', url: 'http://kubo.spec.example:5001' });
    assert.equal(specWins.serviceDomain, 'nodes.example.org');
  });

  test("the operator's JWT goes only to the operator's own pinning API", async () => {
    const reader = new FakeKube().reader;
    const sameService = await settingsFor(market({ ipfs: { pinning: { provider: 'pinata' } } }), 'team', reader, operatorDefaults());
    assert.deepEqual(sameService.pinning, { provider: 'pinata', url: PINATA_DEFAULT_API_URL, jwt: OPERATOR_JWT });
    const elsewhere = await settingsFor(
      market({ ipfs: { pinning: { provider: 'pinata', url: 'https://pins.elsewhere.example' } } }),
      'team',
      reader,
      operatorDefaults(),
    );
    assert.deepEqual(elsewhere.pinning, { provider: 'pinata', url: 'https://pins.elsewhere.example' });
    const otherProvider = await settingsFor(market({ ipfs: { pinning: { provider: 'kubo' } } }), 'team', reader, operatorDefaults());
    assert.deepEqual(otherProvider.pinning, { provider: 'kubo', url: KUBO_DEFAULT_API_URL });
  });

  test("RPC headers and the pinning JWT come from Secrets labelled for that use in the market's own namespace", async () => {
    const kube = new FakeKube();
    kube.create(
      secretFor('rpc-headers', 'team', 'rpc-auth', 'headers', JSON.stringify({ 'x-api-key': 'k-123', Authorization: 'Bearer abc' })),
    );
    kube.create(secretFor('pinning', 'team', 'pinata', 'jwt', '  market-jwt\n'));
    const spec = {
      rpc: { headersSecretRef: { name: 'rpc-auth', key: 'headers' } },
      ipfs: {
        pinning: { provider: 'pinata' as const, url: 'https://pins.team.example', credentialsSecretRef: { name: 'pinata', key: 'jwt' } },
      },
    };
    // The job asking lives in another namespace; the references are still read in the market's.
    const settings = await settingsFor(market(spec), 'elsewhere', kube.reader, operatorDefaults());
    assert.deepEqual(settings.rpcHeaders, { 'x-api-key': 'k-123', Authorization: 'Bearer abc' });
    assert.deepEqual(settings.pinning, { provider: 'pinata', url: 'https://pins.team.example', jwt: 'market-jwt' });
  });

  test('missing Secrets, keys and ConfigMaps are named', async () => {
    const kube = new FakeKube();
    kube.create(secretFor('rpc-headers', 'team', 'rpc-auth', 'other', '{}'));
    const noSecret = await rejection(
      settingsFor(market({ rpc: { headersSecretRef: { name: 'absent', key: 'headers' } } }), 'team', kube.reader, operatorDefaults()),
    );
    assert.equal(noSecret.message, 'Secret team/absent does not exist');
    const noKey = await rejection(
      settingsFor(market({ rpc: { headersSecretRef: { name: 'rpc-auth', key: 'headers' } } }), 'team', kube.reader, operatorDefaults()),
    );
    assert.equal(noKey.message, 'Secret team/rpc-auth key headers does not exist');
    const noConfigMap = await rejection(
      settingsFor(market({ settingsFrom: { configMapRef: { name: 'absent' } } }), 'team', kube.reader, operatorDefaults()),
    );
    assert.equal(noConfigMap.message, 'ConfigMap team/absent (spec.settingsFrom.configMapRef) does not exist');
  });

  test('malformed Secrets are refused without quoting their content', async () => {
    const secretContents = {
      notJson: 'Bearer sk-live-0123456789',
      notObject: '["sk-live-0123456789"]',
      badName: JSON.stringify({ 'Bearer sk-live-0123456789': 'x' }),
      badValue: JSON.stringify({ 'x-api-key': 'sk-live-0123456789\r\nInjected: 1' }),
      hostHeader: JSON.stringify({ 'x-api-key': 'sk-live-0123456789', Host: 'internal-admin.default.svc' }),
      emptyJwt: '   ',
    };
    const kube = new FakeKube();
    for (const [name, content] of Object.entries(secretContents)) {
      kube.create(secretFor(name === 'emptyJwt' ? 'pinning' : 'rpc-headers', 'team', name.toLowerCase(), 'v', content));
    }
    const headers = (name: string) => market({ rpc: { headersSecretRef: { name, key: 'v' } } });
    const expectations: [NosanaMarketObject, RegExp][] = [
      [headers('notjson'), /^Secret team\/notjson key v is not valid JSON/],
      [headers('notobject'), /^Secret team\/notobject key v must be a JSON object/],
      [headers('badname'), /^Secret team\/badname key v: the name of header #1 is not a valid HTTP header name$/],
      [headers('badvalue'), /^Secret team\/badvalue key v: the value of header #1 must be a single-line string$/],
      [headers('hostheader'), /^Secret team\/hostheader key v: header #2 \(Host\) steers the connection itself/],
      [
        market({ ipfs: { pinning: { provider: 'pinata', credentialsSecretRef: { name: 'emptyjwt', key: 'v' } } } }),
        /^Secret team\/emptyjwt key v is empty$/,
      ],
    ];
    for (const [object, expected] of expectations) {
      const error = await rejection(settingsFor(object, 'team', kube.reader, operatorDefaults()));
      assert.match(error.message, expected);
      assert.doesNotMatch(error.message, /sk-live|Injected/);
    }
  });

  test('a Secret not labelled for being sent is refused before it is read, naming the Secret, the field and the label', async () => {
    // What someone who may edit NosanaMarkets but not read Secrets would try: the wallet.
    const walletContent = '[12,34,56,78,90]';
    const kube = new FakeKube();
    kube.create(secretWithKey('team', 'wallet', 'keypair', walletContent));
    const cases: [string, NosanaMarketObject, string][] = [
      [
        'as the pinning API token',
        market({
          ipfs: {
            pinning: { provider: 'pinata', url: 'https://pins.attacker.example', credentialsSecretRef: { name: 'wallet', key: 'keypair' } },
          },
        }),
        'Secret team/wallet (named by spec.ipfs.pinning.credentialsSecretRef) is not labelled nosana.io/use=pinning',
      ],
      [
        'as RPC headers',
        market({ rpc: { url: 'https://rpc.attacker.example', headersSecretRef: { name: 'wallet', key: 'keypair' } } }),
        'Secret team/wallet (named by spec.rpc.headersSecretRef) is not labelled nosana.io/use=rpc-headers',
      ],
      [
        'even under a key it does not have (which keys it has is not told either)',
        market({ ipfs: { pinning: { provider: 'kubo', credentialsSecretRef: { name: 'wallet', key: 'token' } } } }),
        'Secret team/wallet (named by spec.ipfs.pinning.credentialsSecretRef) is not labelled nosana.io/use=pinning',
      ],
    ];
    for (const [reason, object, expected] of cases) {
      const error = await rejection(settingsFor(object, 'team', kube.reader, operatorDefaults()));
      assert.ok(error.message.startsWith(`${expected}:`), `${reason}: ${error.message}`);
      assert.ok(!error.message.includes(walletContent) && !error.message.includes('12,34'), `${reason}: the content is never quoted`);
    }
  });

  test('a Secret labelled for the other use is refused: a pinning token is not RPC headers, nor the reverse', async () => {
    const kube = new FakeKube();
    kube.create(secretFor('pinning', 'team', 'pinata', 'headers', JSON.stringify({ Authorization: 'Bearer pin-token' })));
    kube.create(secretFor('rpc-headers', 'team', 'rpc-auth', 'jwt', 'rpc-token'));
    const asHeaders = await rejection(
      settingsFor(market({ rpc: { headersSecretRef: { name: 'pinata', key: 'headers' } } }), 'team', kube.reader, operatorDefaults()),
    );
    assert.match(
      asHeaders.message,
      /^Secret team\/pinata \(named by spec\.rpc\.headersSecretRef\) is not labelled nosana\.io\/use=rpc-headers:/,
    );
    const asToken = await rejection(
      settingsFor(
        market({ ipfs: { pinning: { provider: 'pinata', credentialsSecretRef: { name: 'rpc-auth', key: 'jwt' } } } }),
        'team',
        kube.reader,
        operatorDefaults(),
      ),
    );
    assert.match(
      asToken.message,
      /^Secret team\/rpc-auth \(named by spec\.ipfs\.pinning\.credentialsSecretRef\) is not labelled nosana\.io\/use=pinning:/,
    );
    for (const error of [asHeaders, asToken]) assert.doesNotMatch(error.message, /pin-token|rpc-token/);
  });

  test('ConfigMap values are checked and the key at fault is named', async () => {
    const kube = new FakeKube();
    kube.create(configMapWithKey('team', 'bad-provider', 'ipfsPinningProvider', 'filecoin'));
    kube.create(configMapWithKey('team', 'bad-url', 'ipfsGatewayUrls', 'https://ok.example ftp://nope.example'));
    const provider = await rejection(
      settingsFor(market({ settingsFrom: { configMapRef: { name: 'bad-provider' } } }), 'team', kube.reader, operatorDefaults()),
    );
    assert.equal(provider.message, 'ConfigMap team/bad-provider key ipfsPinningProvider: must be pinata or kubo');
    const url = await rejection(
      settingsFor(market({ settingsFrom: { configMapRef: { name: 'bad-url' } } }), 'team', kube.reader, operatorDefaults()),
    );
    assert.equal(url.message, 'ConfigMap team/bad-url key ipfsGatewayUrls: "ftp://nope.example" is not an http(s) URL');
  });

  test('each network has its own service domain unless the market sets one', async () => {
    const defaults = operatorDefaults();
    defaults.networks.devnet = { ...defaults.networks.devnet, rpcUrl: 'https://devnet.operator.example' };
    const devnet = await settingsFor(market({ network: 'devnet' }), 'team', new FakeKube().reader, defaults);
    assert.equal(devnet.serviceDomain, 'node.k8s.dev.nos.ci');
    assert.equal(devnet.rpcUrl, 'https://devnet.operator.example');
  });
});

describe('operatorNetworkDefaults', () => {
  const localnet = { rpcUrl: 'http://127.0.0.1:8899', ipfsApiUrl: 'http://127.0.0.1:5001', gatewayUrl: 'http://127.0.0.1:5001/ipfs/' };

  test("without flags: Nosana's public services, no RPC anywhere, mainnet for bare addresses", () => {
    const defaults = operatorNetworkDefaults({});
    assert.equal(defaults.defaultNetwork, 'mainnet');
    assert.deepEqual(defaults.networks, BUILT_IN_NETWORK_DEFAULTS);
    assert.equal(defaults.networks.mainnet.serviceDomain, 'node.k8s.prd.nos.ci');
    assert.equal(defaults.networks.mainnet.rpcUrl, undefined);
  });

  test('a localnet fills in the localnet network and becomes the default network', () => {
    const defaults = operatorNetworkDefaults({ localnet });
    assert.equal(defaults.defaultNetwork, 'localnet');
    assert.deepEqual(defaults.networks.localnet, {
      rpcUrl: localnet.rpcUrl,
      gatewayUrls: [localnet.gatewayUrl],
      pinning: { provider: 'pinata', url: localnet.ipfsApiUrl, jwt: 'localnet' },
      serviceDomain: 'node.localhost',
    });
    assert.deepEqual(defaults.networks.mainnet, BUILT_IN_NETWORK_DEFAULTS.mainnet);
  });

  test('flags win over the localnet and the built-in values', () => {
    const defaults = operatorNetworkDefaults({
      localnet,
      defaultNetwork: 'devnet',
      rpcUrls: { devnet: 'https://devnet.rpc.example', localnet: 'http://127.0.0.1:9999' },
      gatewayUrls: ['https://gw.example/ipfs/'],
      pinningProvider: 'kubo',
      pinningUrl: 'http://kubo.example:5001',
      pinataJwt: 'ignored-for-kubo',
      serviceDomains: { localnet: 'nodes.lab.example' },
      marketDirectoryUrls: { devnet: 'https://markets.example/' },
    });
    assert.equal(defaults.defaultNetwork, 'devnet');
    assert.equal(defaults.networks.devnet.rpcUrl, 'https://devnet.rpc.example');
    assert.equal(defaults.networks.localnet.rpcUrl, 'http://127.0.0.1:9999');
    assert.equal(defaults.networks.mainnet.rpcUrl, undefined);
    for (const network of ['mainnet', 'devnet', 'localnet'] as const) {
      assert.deepEqual(defaults.networks[network].gatewayUrls, ['https://gw.example/ipfs/']);
      assert.deepEqual(defaults.networks[network].pinning, { provider: 'kubo', url: 'http://kubo.example:5001' });
    }
    assert.equal(defaults.networks.localnet.serviceDomain, 'nodes.lab.example');
    assert.equal(defaults.networks.mainnet.serviceDomain, 'node.k8s.prd.nos.ci');
    assert.equal(defaults.networks.devnet.marketDirectoryUrl, 'https://markets.example/');
    assert.equal(defaults.networks.mainnet.marketDirectoryUrl, BUILT_IN_NETWORK_DEFAULTS.mainnet.marketDirectoryUrl);
  });

  test('$PINATA_JWT goes with Pinata, and a pinning URL alone means Pinata', () => {
    const defaults = operatorNetworkDefaults({ pinataJwt: OPERATOR_JWT });
    assert.deepEqual(defaults.networks.mainnet.pinning, { provider: 'pinata', url: PINATA_DEFAULT_API_URL, jwt: OPERATOR_JWT });
    assert.equal(defaults.networks.localnet.pinning, undefined);
    const urlOnly = operatorNetworkDefaults({ pinningUrl: 'https://pins.example', pinataJwt: OPERATOR_JWT });
    assert.deepEqual(urlOnly.networks.localnet.pinning, { provider: 'pinata', url: 'https://pins.example', jwt: OPERATOR_JWT });
  });
});
