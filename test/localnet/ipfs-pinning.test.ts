// The Pinata and Kubo clients against the localnet IPFS service, and against hand-written fake
// services for what the localnet never does (return a wrong CID, rate-limit), over loopback HTTP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import {
  CidMismatchError,
  IpfsAuthError,
  IpfsServiceError,
  KuboClient,
  PinataClient,
  computeCidV0,
  encodeJsonForPinning,
  type IpfsRequestEvent,
} from '../../src/ipfs/index.ts';
import { ContentStore, createIpfsServer, type IpfsServer } from '../../src/localnet/ipfs/index.ts';

const LIVENESS = { timeout: 30_000 };
const FAST_RETRY = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 };
const JWT = 'eyJhbGciOiJIUzI1NiJ9.localnet-test-token.signature';
const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

interface FakeService {
  url: string;
  requests: { method: string; path: string; authorization: string | undefined }[];
  close(): Promise<void>;
}

/** A one-off HTTP service; `answer` gets the request number (0-based) and the drained body. */
async function fakeService(answer: (index: number, request: IncomingMessage, response: ServerResponse) => void): Promise<FakeService> {
  const requests: FakeService['requests'] = [];
  const server = createServer((request, response) => {
    const index =
      requests.push({ method: request.method ?? '', path: request.url ?? '', authorization: request.headers.authorization }) - 1;
    request.resume();
    request.on('end', () => answer(index, request, response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function json(response: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(value));
}

describe('PinataClient against the localnet', () => {
  let open: IpfsServer;
  let guarded: IpfsServer;

  before(async () => {
    open = await createIpfsServer();
    guarded = await createIpfsServer({ requireJwt: JWT });
  });

  after(async () => {
    await Promise.all([open.close(), guarded.close()]);
  });

  test('pins bytes and JSON, returning the locally computed CIDv0', LIVENESS, async () => {
    const events: IpfsRequestEvent[] = [];
    const client = new PinataClient({ jwt: 'any', apiUrl: open.apiUrl, onRequest: (event) => events.push(event) });
    assert.equal(client.kind, 'pinata');
    const bytes = encode('hello world\n');
    assert.equal(await client.pinBytes(bytes, { name: 'hello.txt' }), 'QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o');

    const document = { status: 'success', opStates: [{ operationId: 'run', logs: [{ type: 'stdout', log: 'done\n' }] }] };
    const cid = await client.pinJson(document, { name: 'result.json' });
    assert.equal(cid, await computeCidV0(encodeJsonForPinning(document)));
    assert.equal(new TextDecoder().decode(open.store.get(cid)), JSON.stringify(document), 'the service stored the compact serialisation');

    const array = [1, 'two', { three: 3 }];
    assert.equal(
      await client.pinJson(array),
      await computeCidV0(encodeJsonForPinning(array)),
      'non-object JSON goes through pinFileToIPFS',
    );
    assert.deepEqual(
      events.map(({ operation, service, outcome }) => `${operation}/${service}/${outcome}`),
      Array(3).fill('pin/pinata/ok'),
    );
  });

  test('sends the JWT, and a rejected one gives an error that does not contain it', LIVENESS, async () => {
    const good = new PinataClient({ jwt: JWT, apiUrl: guarded.apiUrl });
    const cid = await good.pinJson({ authenticated: true });
    assert.ok(guarded.store.get(cid), 'pinned with the right token');

    const wrongToken = `${JWT}-revoked`;
    const bad = new PinataClient({ jwt: wrongToken, apiUrl: guarded.apiUrl, retry: FAST_RETRY });
    for (const attempt of [() => bad.pinJson({ a: 1 }), () => bad.pinBytes(encode('x'))]) {
      await assert.rejects(attempt(), (error: Error) => {
        assert.ok(error instanceof IpfsAuthError);
        assert.equal(error.status, 401);
        assert.match(error.message, new RegExp(`^pinata \\(${guarded.apiUrl}\\) rejected the credentials \\(HTTP 401\\)`));
        for (const shown of [error.message, inspect(error), JSON.stringify(error)]) {
          assert.ok(!shown.includes('localnet-test-token'), shown);
        }
        return true;
      });
    }
    assert.ok(!inspect(bad, { depth: 5, showHidden: true }).includes('localnet-test-token'), 'the client object does not show its token');
  });

  test('retries pin failures per policy, then reports how many attempts were made', LIVENESS, async () => {
    open.faults.pinErrorRate = 1;
    try {
      const events: IpfsRequestEvent[] = [];
      const client = new PinataClient({ jwt: 'any', apiUrl: open.apiUrl, retry: FAST_RETRY, onRequest: (event) => events.push(event) });
      await assert.rejects(client.pinJson({ retried: true }), (error: Error) => {
        assert.ok(error instanceof IpfsServiceError);
        assert.equal(error.status, 503);
        assert.match(error.message, /answered HTTP 503 .*pinErrorRate.*\(gave up after 3 attempts\)/);
        return true;
      });
      assert.deepEqual(
        events.map(({ outcome }) => outcome),
        ['error', 'error', 'error'],
      );
    } finally {
      open.faults.pinErrorRate = 0;
    }
  });

  test('an object beyond the store limit is refused with 413, not retried', LIVENESS, async () => {
    const small = await createIpfsServer({ store: await ContentStore.open({ maxObjectBytes: 1000, maxTotalBytes: 1500 }) });
    try {
      const events: IpfsRequestEvent[] = [];
      const client = new PinataClient({ jwt: 'any', apiUrl: small.apiUrl, retry: FAST_RETRY, onRequest: (event) => events.push(event) });
      await assert.rejects(client.pinBytes(new Uint8Array(1001)), (error: Error) => {
        assert.ok(error instanceof IpfsServiceError);
        assert.equal(error.status, 413);
        assert.match(error.message, /1001 bytes exceeds the localnet IPFS limit of 1000 bytes per object/);
        return true;
      });
      assert.equal(events.length, 1);
      await client.pinBytes(new Uint8Array(1000));
      await assert.rejects(
        client.pinBytes(new Uint8Array(1000).fill(1)),
        /the localnet IPFS store is full: 1000 of 1500 bytes used, 1000 more requested/,
      );
    } finally {
      await small.close();
    }
  });
});

describe('KuboClient against the localnet', () => {
  let server: IpfsServer;

  before(async () => {
    server = await createIpfsServer({ requireJwt: JWT });
  });

  after(async () => {
    await server.close();
  });

  test('adds bytes (several chunks) and JSON with CID version 0', LIVENESS, async () => {
    const client = new KuboClient({ apiUrl: `${server.kuboApiUrl}/api/v0`, authorization: `Bearer ${JWT}` });
    assert.equal(client.kind, 'kubo');
    const bytes = new Uint8Array(600_000).map((_, index) => (index * 7) % 251);
    const cid = await client.pinBytes(bytes);
    assert.equal(cid, await computeCidV0(bytes));
    assert.deepEqual(server.store.get(cid), bytes);
    const value = { kubo: true };
    assert.equal(await client.pinJson(value), await computeCidV0(encodeJsonForPinning(value)));
  });

  test('without the token it fails with an auth error naming kubo', LIVENESS, async () => {
    const client = new KuboClient({ apiUrl: server.kuboApiUrl });
    await assert.rejects(
      client.pinBytes(encode('x')),
      (error: Error) => error instanceof IpfsAuthError && /^kubo \(http:\/\/127\.0\.0\.1:\d+\) rejected/.test(error.message),
    );
  });
});

describe('pinning clients against misbehaving services', () => {
  test('a returned CID that is not the CID of what we sent is refused, naming both', LIVENESS, async () => {
    const wrongCid = await computeCidV0(encode('something else'));
    const service = await fakeService((_index, request, response) => {
      if (request.url?.startsWith('/api/v0/add')) json(response, 200, { Name: 'content', Hash: wrongCid, Size: '9' });
      else json(response, 200, { IpfsHash: wrongCid, PinSize: 9, Timestamp: new Date().toISOString() });
    });
    try {
      const bytes = encode('our bytes');
      const expected = await computeCidV0(bytes);
      for (const client of [new PinataClient({ jwt: JWT, apiUrl: service.url }), new KuboClient({ apiUrl: service.url })]) {
        await assert.rejects(client.pinBytes(bytes), (error: Error) => {
          assert.ok(error instanceof CidMismatchError);
          assert.equal(error.expectedCid, expected);
          assert.equal(error.returnedCid, wrongCid);
          assert.ok(error.message.includes(expected) && error.message.includes(wrongCid), error.message);
          return true;
        });
      }
      await assert.rejects(new PinataClient({ jwt: JWT, apiUrl: service.url }).pinJson({ a: 1 }), CidMismatchError);
      assert.deepEqual(
        service.requests.map(({ path }) => path.split('?')[0]),
        ['/pinning/pinFileToIPFS', '/api/v0/add', '/pinning/pinJSONToIPFS'],
      );
      assert.equal(service.requests[0]?.authorization, `Bearer ${JWT}`);
    } finally {
      await service.close();
    }
  });

  test('a 429 with Retry-After: 0 is retried at once and then succeeds', LIVENESS, async () => {
    const bytes = encode('rate limited');
    const cid = await computeCidV0(bytes);
    const service = await fakeService((index, _request, response) => {
      if (index === 0) json(response, 429, { error: 'slow down' }, { 'retry-after': '0' });
      else json(response, 200, { IpfsHash: cid, PinSize: bytes.length, Timestamp: new Date().toISOString() });
    });
    try {
      // Backoff alone could wait up to ten minutes, past this test's deadline: only honouring
      // Retry-After lets it finish.
      const client = new PinataClient({ jwt: JWT, apiUrl: service.url, retry: { attempts: 3, baseDelayMs: 600_000, maxDelayMs: 600_000 } });
      assert.equal(await client.pinBytes(bytes), cid);
      assert.equal(service.requests.length, 2);
    } finally {
      await service.close();
    }
  });

  test('a Retry-After longer than the policy allows ends the retries', LIVENESS, async () => {
    const service = await fakeService((_index, _request, response) => json(response, 429, { error: 'quota' }, { 'retry-after': '3600' }));
    try {
      const client = new PinataClient({ jwt: JWT, apiUrl: service.url, retry: { attempts: 5, baseDelayMs: 1, maxDelayMs: 1000 } });
      await assert.rejects(client.pinBytes(encode('x')), (error: Error) => {
        assert.ok(error instanceof IpfsServiceError);
        assert.equal(error.status, 429);
        assert.equal(error.retryAfterMs, 3_600_000);
        return true;
      });
      assert.equal(service.requests.length, 1);
    } finally {
      await service.close();
    }
  });

  test('a connection the service drops is a retryable error naming it', LIVENESS, async () => {
    const dropping = createServer();
    dropping.on('connection', (socket) => socket.destroy());
    await new Promise<void>((resolve) => dropping.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(dropping.address() as AddressInfo).port}`;
    try {
      const events: IpfsRequestEvent[] = [];
      const client = new KuboClient({
        apiUrl: url,
        retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
        onRequest: (event) => events.push(event),
      });
      await assert.rejects(client.pinBytes(encode('x')), (error: Error) => {
        assert.ok(error instanceof IpfsServiceError && error.retryable);
        assert.match(error.message, new RegExp(`^kubo \\(${url}\\) could not be reached: .*\\(gave up after 2 attempts\\)$`));
        return true;
      });
      assert.equal(events.length, 2);
    } finally {
      await new Promise((resolve) => dropping.close(resolve));
    }
  });
});

describe('localnet pinning endpoints', () => {
  let server: IpfsServer;

  before(async () => {
    server = await createIpfsServer({ requireJwt: JWT });
  });

  after(async () => {
    await server.close();
  });

  const authorized = { authorization: `Bearer ${JWT}` };

  test('say what they are and test authentication like Pinata', LIVENESS, async () => {
    const health = await fetch(`${server.apiUrl}/health`);
    assert.equal(health.headers.get('x-nosana-network'), 'localnet');
    assert.deepEqual(await health.json(), {
      status: 'ok',
      network: 'localnet',
      service: 'ipfs',
      objects: server.store.objectCount,
      bytes: server.store.totalBytes,
    });
    const denied = await fetch(`${server.apiUrl}/data/testAuthentication`);
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get('x-nosana-network'), 'localnet');
    assert.equal(((await denied.json()) as { error: { reason: string } }).error.reason, 'INVALID_CREDENTIALS');
    assert.equal((await fetch(`${server.apiUrl}/data/testAuthentication`, { headers: authorized })).status, 200);
  });

  test('refuse anything but CIDv0 with default import parameters, saying so', LIVENESS, async () => {
    const form = new FormData();
    form.set('file', new Blob(['x']), 'x');
    form.set('pinataOptions', JSON.stringify({ cidVersion: 1 }));
    const pinata = await fetch(`${server.apiUrl}/pinning/pinFileToIPFS`, { method: 'POST', headers: authorized, body: form });
    assert.equal(pinata.status, 400);
    assert.match(((await pinata.json()) as { error: { details: string } }).error.details, /CID version 0 only/);

    const kuboForm = new FormData();
    kuboForm.set('file', new Blob(['x']), 'x');
    const kubo = await fetch(`${server.kuboApiUrl}/api/v0/add?cid-version=1`, { method: 'POST', headers: authorized, body: kuboForm });
    assert.equal(kubo.status, 400);
    assert.match(((await kubo.json()) as { Message: string }).Message, /only adds with cid-version=0 \(got 1\)/);

    const notObject = await fetch(`${server.apiUrl}/pinning/pinJSONToIPFS`, {
      method: 'POST',
      headers: { ...authorized, 'content-type': 'application/json' },
      body: '{"pinataContent":[1]}',
    });
    assert.equal(notObject.status, 400);
  });

  test('answer wrong methods, unknown paths and malformed CIDs clearly', LIVENESS, async () => {
    const wrongMethod = await fetch(`${server.apiUrl}/pinning/pinFileToIPFS`, { headers: authorized });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'POST');
    await wrongMethod.body?.cancel();
    const unknown = await fetch(`${server.apiUrl}/pinning/unpin`);
    assert.equal(unknown.status, 404);
    await unknown.body?.cancel();
    const malformed = await fetch(`${server.gatewayUrl}Qm0000`);
    assert.equal(malformed.status, 400);
    assert.match(await malformed.text(), /not base58btc/);
  });
});
