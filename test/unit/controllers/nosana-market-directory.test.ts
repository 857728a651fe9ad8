import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Keypair } from '@solana/web3.js';
import {
  MarketDirectory,
  MarketDirectoryUnavailableError,
  UnknownMarketSlugError,
} from '../../../src/controllers/nosana-market/directory.ts';

const RTX_4090 = Keypair.generate().publicKey.toBase58();
const A100 = Keypair.generate().publicKey.toBase58();

/** A loopback market directory whose answer each test sets. */
function directoryServer() {
  let answer: { status: number; body: string } = { status: 200, body: '[]' };
  let requests = 0;
  const server = createServer((_request, response) => {
    requests += 1;
    response.writeHead(answer.status, { 'content-type': 'application/json' });
    response.end(answer.body);
  });
  return {
    server,
    url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/markets/`,
    answer: (status: number, body: unknown) => {
      answer = { status, body: typeof body === 'string' ? body : JSON.stringify(body) };
    },
    requests: () => requests,
  };
}

describe('MarketDirectory', () => {
  const directory = directoryServer();
  before(() => new Promise<void>((resolve) => directory.server.listen(0, '127.0.0.1', resolve)));
  after(() => new Promise<void>((resolve) => directory.server.close(() => resolve())));

  const markets = [
    { name: 'NVIDIA 4090', slug: 'nvidia-4090', address: RTX_4090, type: 'PREMIUM' },
    { name: 'broken', slug: 'broken', address: 'not-an-address' },
    { name: 'no slug', address: A100 },
    { name: 'A100', slug: 'nvidia-a100', address: A100 },
  ];

  test('resolves slugs from a JSON list of markets, skipping malformed entries', async () => {
    directory.answer(200, markets);
    const resolver = new MarketDirectory({ urls: { mainnet: directory.url() } });
    assert.deepEqual(await resolver.resolve('mainnet', 'nvidia-4090'), { address: RTX_4090, url: directory.url() });
    assert.deepEqual(await resolver.resolve('mainnet', 'nvidia-a100'), { address: A100, url: directory.url() });
    await assert.rejects(resolver.resolve('mainnet', 'broken'), UnknownMarketSlugError);
    await assert.rejects(
      resolver.resolve('mainnet', 'nvidia-h100'),
      (error: Error) =>
        error instanceof UnknownMarketSlugError &&
        error.message === `the market slug "nvidia-h100" is not in the market directory ${directory.url()}`,
    );
  });

  test('a network without a directory says how to configure one', async () => {
    const resolver = new MarketDirectory({ urls: { mainnet: directory.url() } });
    await assert.rejects(
      resolver.resolve('localnet', 'nvidia-4090'),
      (error: Error) => error instanceof UnknownMarketSlugError && /--market-directory-url localnet=URL/.test(error.message),
    );
  });

  test('keeps the list for its lifetime and serves it while the directory is down', async () => {
    directory.answer(200, markets);
    let clock = 0;
    const resolver = new MarketDirectory({ urls: { mainnet: directory.url() }, cacheTtlMs: 1_000, now: () => clock });
    const before = directory.requests();
    await resolver.resolve('mainnet', 'nvidia-4090');
    await resolver.resolve('mainnet', 'nvidia-a100');
    assert.equal(directory.requests() - before, 1);
    directory.answer(503, 'maintenance');
    clock = 2_000;
    assert.equal((await resolver.resolve('mainnet', 'nvidia-4090')).address, RTX_4090);
    assert.equal(directory.requests() - before, 2);
  });

  test('an unreachable or malformed directory is a transient error naming it', async () => {
    const cases: [number, unknown, RegExp][] = [
      [500, 'oops', /HTTP 500/],
      [200, 'not json', /not JSON/],
      [200, { markets }, /not a JSON array/],
    ];
    for (const [status, body, detail] of cases) {
      directory.answer(status, body);
      const resolver = new MarketDirectory({ urls: { devnet: directory.url() } });
      await assert.rejects(
        resolver.resolve('devnet', 'nvidia-4090'),
        (error: Error) =>
          error instanceof MarketDirectoryUnavailableError &&
          error.message.startsWith(`the market directory ${directory.url()} cannot be read`) &&
          detail.test(error.message),
      );
    }
    directory.answer(200, markets);
    const tooSmall = new MarketDirectory({ urls: { devnet: directory.url() }, maxBytes: 64 });
    await assert.rejects(tooSmall.resolve('devnet', 'nvidia-4090'), /larger than 64 bytes/);
    const closed = new MarketDirectory({ urls: { devnet: 'http://127.0.0.1:1/markets/' } });
    await assert.rejects(closed.resolve('devnet', 'nvidia-4090'), MarketDirectoryUnavailableError);
  });
});
