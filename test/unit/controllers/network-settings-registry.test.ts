// The network registry: one set of clients per distinct settings, RPC headers on every request,
// the network identity checked once, and nothing secret in what identifies an entry.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Keypair } from '@solana/web3.js';
import { pino } from 'pino';
import { CachedNetworkRegistry, settingsFingerprint } from '../../../src/controllers/network-registry.ts';
import type { NetworkSettings } from '../../../src/controllers/network-ports.ts';
import { RecordedMetrics } from '../../support/fake-kube.ts';

const MAINNET_GENESIS = '5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d';
const DEVNET_GENESIS = 'EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG';

/** A JSON-RPC stub: answers the genesis hash it is told and "no account" to everything else, recording each request. */
function rpcStub() {
  let genesis = MAINNET_GENESIS;
  const requests: { method: string; headers: Record<string, string | string[] | undefined> }[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => {
      const call = JSON.parse(body) as { id: number; method: string };
      requests.push({ method: call.method, headers: request.headers });
      const result = call.method === 'getGenesisHash' ? genesis : { context: { slot: 1 }, value: null };
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ jsonrpc: '2.0', id: call.id, result }));
    });
  });
  return {
    server,
    url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    serveGenesis: (hash: string) => {
      genesis = hash;
    },
    requests,
  };
}

function settings(url: string, overrides: Partial<NetworkSettings> = {}): NetworkSettings {
  return {
    name: 'mainnet',
    rpcUrl: url,
    gatewayUrls: ['https://gateway.example/ipfs/'],
    pinning: { provider: 'pinata', url: 'https://pins.example', jwt: 'jwt-one' },
    serviceDomain: 'node.k8s.prd.nos.ci',
    ...overrides,
  };
}

describe('settingsFingerprint', () => {
  test('equal settings match whatever the key order; tokens and headers count but do not show', () => {
    const a = settings('https://rpc.example', { rpcHeaders: { 'x-api-key': 'secret-123' } });
    const reordered: NetworkSettings = {
      serviceDomain: a.serviceDomain,
      pinning: { jwt: 'jwt-one', url: 'https://pins.example', provider: 'pinata' },
      gatewayUrls: a.gatewayUrls,
      rpcHeaders: { 'x-api-key': 'secret-123' },
      rpcUrl: a.rpcUrl,
      name: 'mainnet',
    };
    assert.equal(settingsFingerprint(reordered), settingsFingerprint(a));
    assert.notEqual(
      settingsFingerprint(settings('https://rpc.example', { rpcHeaders: { 'x-api-key': 'secret-456' } })),
      settingsFingerprint(a),
    );
    assert.notEqual(settingsFingerprint({ ...a, pinning: { ...a.pinning, jwt: 'jwt-two' } }), settingsFingerprint(a));
    assert.match(settingsFingerprint(a), /^[0-9a-f]{64}$/);
  });
});

describe('CachedNetworkRegistry', () => {
  const rpc = rpcStub();
  const metrics = new RecordedMetrics();
  const registry = new CachedNetworkRegistry({ metrics, log: pino({ level: 'silent' }), pollIntervalMs: 60_000 });
  before(() => new Promise<void>((resolve) => rpc.server.listen(0, '127.0.0.1', resolve)));
  after(async () => {
    registry.close();
    await new Promise<void>((resolve) => rpc.server.close(() => resolve()));
  });

  test('hands out one set of clients per settings, sends the RPC headers and checks the network once', async () => {
    const withHeaders = settings(rpc.url(), { rpcHeaders: { 'x-api-key': 'k-1' } });
    const ports = registry.ports(withHeaders);
    assert.equal(registry.ports({ ...withHeaders }), ports);
    assert.notEqual(registry.ports(settings(rpc.url())), ports);
    assert.equal(ports.network.name, 'mainnet');

    const from = rpc.requests.length;
    assert.equal(await ports.jobs.getMarket(Keypair.generate().publicKey), undefined);
    assert.equal(await ports.jobs.getMarket(Keypair.generate().publicKey), undefined);
    const seen = rpc.requests.slice(from);
    assert.deepEqual(
      seen.map((request) => request.method),
      ['getGenesisHash', 'getAccountInfo', 'getAccountInfo'],
    );
    for (const request of seen) assert.equal(request.headers['x-api-key'], 'k-1');
    assert.ok(metrics.rpcRequests >= seen.length, 'every request reached the metrics');
  });

  test('refuses an RPC serving another network than the settings name, and checks again next time', async () => {
    rpc.serveGenesis(DEVNET_GENESIS);
    const ports = registry.ports(settings(rpc.url(), { serviceDomain: 'other.example' }));
    try {
      await assert.rejects(ports.jobs.getMarket(Keypair.generate().publicKey), /serves devnet, but the network is configured as mainnet/);
      await assert.rejects(ports.jobs.getMarket(Keypair.generate().publicKey), /serves devnet/);
    } finally {
      rpc.serveGenesis(MAINNET_GENESIS);
    }
    assert.equal(await ports.jobs.getMarket(Keypair.generate().publicKey), undefined);
  });

  test('without a Pinata JWT each pin is refused with the fix, the rest works', async () => {
    const ports = registry.ports(settings(rpc.url(), { pinning: { provider: 'pinata', url: 'https://pins.example' } }));
    await assert.rejects(
      ports.pinning.pinJson({ a: 1 }),
      /no Pinata JWT; set spec\.ipfs\.pinning\.credentialsSecretRef on the NosanaMarket, or PINATA_JWT/,
    );
    assert.equal(await ports.jobs.getMarket(Keypair.generate().publicKey), undefined);
    assert.equal(
      registry.ports(settings(rpc.url(), { pinning: { provider: 'kubo', url: 'http://kubo.example:5001' } })).pinning.kind,
      'kubo',
    );
  });
});
