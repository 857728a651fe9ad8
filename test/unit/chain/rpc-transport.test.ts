// The RPC transport against a scripted loopback JSON-RPC server: retries on 429/5xx/timeouts,
// what the observer sees, what is not retried, the request budget, web3.js on top of it, and no
// credential of the RPC URL in what it throws. (Retry-After parsing: test/unit/http/retry-after.test.ts.)
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { RpcUnavailableError, createConnection, createRpcFetch } from '../../../src/chain/rpc-transport.ts';
import type { RpcRequestEvent } from '../../../src/chain/rpc-transport.ts';
import { createLogger } from '../../../src/runtime/logger.ts';
import { captureLogs } from '../runtime/log-capture.ts';

/** What the server does with the n-th request (0-based): answer with a status, or never answer. */
type Reply = { status: number; headers?: Record<string, string> } | 'hang';

interface ScriptedServer {
  url: string;
  /** JSON-RPC method of every request received, in order. */
  methods: string[];
  close(): Promise<void>;
}

const servers: ScriptedServer[] = [];
after(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

async function scriptedServer(replyTo: (index: number) => Reply): Promise<ScriptedServer> {
  const methods: string[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => {
      const parsed = JSON.parse(body) as { id?: unknown; method?: string };
      methods.push(parsed.method ?? '?');
      const reply = replyTo(methods.length - 1);
      if (reply === 'hang') return;
      response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      const ok = reply.status === 200;
      response.end(
        JSON.stringify(
          ok
            ? { jsonrpc: '2.0', id: parsed.id ?? null, result: 4242 }
            : { jsonrpc: '2.0', id: parsed.id ?? null, error: { code: -32000, message: `status ${reply.status}` } },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closed = false;
  const handle: ScriptedServer = {
    url: `http://127.0.0.1:${port}/`,
    methods,
    close: async () => {
      if (closed) return;
      closed = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  servers.push(handle);
  return handle;
}

function rpcBody(method: string): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: [] }),
  };
}

/** Observer events without their (timing-dependent) durations, after checking those are sane. */
function recorder(): { events: RpcRequestEvent[]; onRequest: (event: RpcRequestEvent) => void; summary: () => unknown[] } {
  const events: RpcRequestEvent[] = [];
  return {
    events,
    onRequest: (event) => events.push(event),
    summary: () =>
      events.map(({ seconds, ...rest }) => {
        assert.ok(Number.isFinite(seconds) && seconds >= 0, `duration ${seconds}`);
        return rest;
      }),
  };
}

// Small delays keep the tests quick; liveness deadlines (timeout) turn a hang into a failure.
const FAST = { baseDelayMs: 1, maxDelayMs: 20 };
const DEADLINE = { timeout: 10_000 };

describe('createRpcFetch retries', () => {
  test('429 with Retry-After: 0, then 200: one retry', DEADLINE, async () => {
    const server = await scriptedServer((index) => (index === 0 ? { status: 429, headers: { 'retry-after': '0' } } : { status: 200 }));
    const observed = recorder();
    const response = await createRpcFetch({ ...FAST, onRequest: observed.onRequest })(server.url, rpcBody('getSlot'));
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { jsonrpc: '2.0', id: 1, result: 4242 });
    assert.deepEqual(server.methods, ['getSlot', 'getSlot']);
    assert.deepEqual(observed.summary(), [
      { method: 'getSlot', outcome: 'retry', status: 429 },
      { method: 'getSlot', outcome: 'ok', status: 200 },
    ]);
  });

  test('503 twice, then 200', DEADLINE, async () => {
    const server = await scriptedServer((index) => ({ status: index < 2 ? 503 : 200 }));
    const observed = recorder();
    const response = await createRpcFetch({ ...FAST, onRequest: observed.onRequest })(server.url, rpcBody('getBalance'));
    assert.equal(response.status, 200);
    assert.equal(server.methods.length, 3);
    assert.deepEqual(
      observed.summary().map((event) => (event as RpcRequestEvent).outcome),
      ['retry', 'retry', 'ok'],
    );
  });

  test('a persistent 500 is returned after maxRetries, reported as an error', DEADLINE, async () => {
    const server = await scriptedServer(() => ({ status: 500 }));
    const observed = recorder();
    const response = await createRpcFetch({ ...FAST, maxRetries: 2, onRequest: observed.onRequest })(server.url, rpcBody('getAccountInfo'));
    assert.equal(response.status, 500);
    assert.equal(server.methods.length, 3, 'the first attempt and two retries');
    assert.deepEqual(observed.summary(), [
      { method: 'getAccountInfo', outcome: 'retry', status: 500 },
      { method: 'getAccountInfo', outcome: 'retry', status: 500 },
      { method: 'getAccountInfo', outcome: 'error', status: 500 },
    ]);
  });

  test('a server that never answers: RpcUnavailableError naming the method, after the retries', DEADLINE, async () => {
    const server = await scriptedServer(() => 'hang');
    const observed = recorder();
    const rpcFetch = createRpcFetch({ ...FAST, timeoutMs: 100, maxRetries: 1, onRequest: observed.onRequest });
    await assert.rejects(rpcFetch(server.url, rpcBody('getSignatureStatuses')), (error: unknown) => {
      assert.ok(error instanceof RpcUnavailableError);
      assert.equal(error.method, 'getSignatureStatuses');
      assert.match(error.message, /getSignatureStatuses/);
      assert.match(error.message, /100 ms/);
      assert.match(error.message, /2 attempts/);
      return true;
    });
    assert.equal(server.methods.length, 2);
    assert.deepEqual(observed.summary(), [
      { method: 'getSignatureStatuses', outcome: 'retry' },
      { method: 'getSignatureStatuses', outcome: 'error' },
    ]);
  });

  test('a refused connection is retried, then reported as RpcUnavailableError', DEADLINE, async () => {
    const server = await scriptedServer(() => ({ status: 200 }));
    await server.close();
    const observed = recorder();
    await assert.rejects(
      createRpcFetch({ ...FAST, maxRetries: 2, onRequest: observed.onRequest })(server.url, rpcBody('getSlot')),
      (error: unknown) => error instanceof RpcUnavailableError && error.method === 'getSlot',
    );
    assert.deepEqual(
      observed.summary().map((event) => (event as RpcRequestEvent).outcome),
      ['retry', 'retry', 'error'],
    );
  });

  test('400 is not retried', DEADLINE, async () => {
    const server = await scriptedServer(() => ({ status: 400 }));
    const observed = recorder();
    const response = await createRpcFetch({ ...FAST, onRequest: observed.onRequest })(server.url, rpcBody('sendTransaction'));
    assert.equal(response.status, 400);
    assert.equal(server.methods.length, 1);
    assert.deepEqual(observed.summary(), [{ method: 'sendTransaction', outcome: 'error', status: 400 }]);
  });

  test('a Retry-After within maxDelayMs is waited for; one beyond it ends the retries with an error', DEADLINE, async () => {
    const patient = await scriptedServer((index) => (index === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }));
    const started = performance.now();
    const response = await createRpcFetch({ baseDelayMs: 1, maxDelayMs: 2_000 })(patient.url, rpcBody('getSlot'));
    assert.equal(response.status, 200);
    assert.equal(patient.methods.length, 2);
    assert.ok(performance.now() - started >= 990, 'the server asked for one second');

    // Retrying after maxDelayMs, sooner than asked, is what gets a key throttled harder.
    const throttling = await scriptedServer(() => ({ status: 429, headers: { 'retry-after': '3600' } }));
    const observed = recorder();
    await assert.rejects(
      createRpcFetch({ ...FAST, onRequest: observed.onRequest })(throttling.url, rpcBody('getSlot')),
      (error: unknown) => {
        assert.ok(error instanceof RpcUnavailableError);
        assert.equal(error.method, 'getSlot');
        assert.match(error.message, /Retry-After of 3600000 ms, longer than the 20 ms this transport waits \(after 1 attempts\)/);
        return true;
      },
    );
    assert.equal(throttling.methods.length, 1, 'the server is not asked again');
    assert.deepEqual(observed.summary(), [{ method: 'getSlot', outcome: 'error', status: 429 }]);
  });

  test('an unreadable Retry-After ("0x10" is not 16 s) falls back to the backoff', DEADLINE, async () => {
    const server = await scriptedServer((index) => (index === 0 ? { status: 429, headers: { 'retry-after': '0x10' } } : { status: 200 }));
    const started = performance.now();
    const response = await createRpcFetch({ baseDelayMs: 1, maxDelayMs: 60_000 })(server.url, rpcBody('getSlot'));
    assert.equal(response.status, 200);
    assert.equal(server.methods.length, 2);
    assert.ok(performance.now() - started < 5_000, 'waited the backoff, not 16 s');
  });

  test('a batch reports its methods joined', DEADLINE, async () => {
    const observed = recorder();
    const fakeFetch: typeof fetch = async () => new Response('[]', { status: 200 });
    const body = JSON.stringify([
      { jsonrpc: '2.0', id: 1, method: 'getSlot' },
      { jsonrpc: '2.0', id: 2, method: 'getBalance' },
    ]);
    await createRpcFetch({ fetch: fakeFetch, onRequest: observed.onRequest })('http://rpc.invalid/', { method: 'POST', body });
    assert.deepEqual(observed.summary(), [{ method: 'getSlot,getBalance', outcome: 'ok', status: 200 }]);
  });
});

describe('request budget', () => {
  test('requests beyond the burst wait for the bucket to refill', DEADLINE, async () => {
    const sentAt: number[] = [];
    const fakeFetch: typeof fetch = async () => {
      sentAt.push(performance.now());
      return new Response('{}', { status: 200 });
    };
    const rpcFetch = createRpcFetch({ fetch: fakeFetch, requestsPerSecond: 10 });
    const started = performance.now();
    const all = Promise.all(Array.from({ length: 20 }, () => rpcFetch('http://rpc.invalid/', rpcBody('getSlot'))));
    // Only an upper bound is asserted: a slow machine sends fewer, never more. A burst of 10 plus
    // at most one refilled token fits in the first 50 ms.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const early = sentAt.filter((time) => time - started <= 50).length;
    assert.ok(early <= 11, `${early} requests left within 50 ms at 10 requests per second`);
    const responses = await all;
    assert.equal(responses.length, 20);
    assert.equal(sentAt.length, 20, 'every request is eventually sent');
  });

  // Run in a child process: a budget that never grants would otherwise keep this process alive.
  test('a budget below one request per second still lets requests through', DEADLINE, async () => {
    const transport = new URL('../../../src/chain/rpc-transport.ts', import.meta.url).href;
    const script = `
      const { createRpcFetch } = await import(${JSON.stringify(transport)});
      const rpcFetch = createRpcFetch({ requestsPerSecond: 0.5, fetch: async () => new Response('{}', { status: 200 }) });
      const response = await rpcFetch('http://rpc.invalid/', { method: 'POST', body: '{"method":"getSlot"}' });
      console.log('status', response.status);
    `;
    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 6_000 }).catch((error: unknown) => {
      throw new Error(`a request at 0.5 requests per second did not complete within 6 s: ${(error as Error).message.split('\n')[0]}`);
    });
    assert.match(stdout, /status 200/);
  });
});

describe('no credential of the RPC URL in what the transport throws', () => {
  // Port 1 is never listening; fetch refuses a URL with userinfo outright, quoting all of it.
  const SECRET_URL = 'http://user:secretpass@127.0.0.1:1/?api-key=SECRETKEY';

  function assertRedacted(text: string, what: string): void {
    assert.equal(text.includes('secretpass'), false, `${what} leaks the password: ${text}`);
    assert.equal(text.includes('SECRETKEY'), false, `${what} leaks the API key: ${text}`);
  }

  function assertNothingLeaks(error: unknown): void {
    assert.ok(error instanceof Error);
    assertRedacted(error.message, 'the message');
    assertRedacted(String(error), 'String(error)');
    assertRedacted(error.stack ?? '', 'the stack');
    const capture = captureLogs();
    createLogger({ level: 'info', destination: capture.destination }).error({ err: error }, 'rpc failed');
    assertRedacted(capture.text(), 'the log line');
  }

  const failure = (promise: Promise<unknown>): Promise<unknown> =>
    promise.then(
      () => undefined,
      (error: unknown) => error,
    );

  test('an unreachable URL with user:pass and ?api-key=: redacted, the host kept', DEADLINE, async () => {
    const error = await failure(createRpcFetch({ ...FAST, maxRetries: 1 })(SECRET_URL, rpcBody('getSlot')));
    assert.ok(error instanceof RpcUnavailableError, String(error));
    assertNothingLeaks(error);
    assert.match(error.message, /127\.0\.0\.1:1/, 'the host is what one needs to debug');
  });

  test('a fetch failure that quotes the URL and an Authorization header', DEADLINE, async () => {
    const echoing: typeof fetch = async (input) => {
      throw new TypeError(`request to ${String(input)} failed`, {
        cause: new Error('socket hang up (sent Authorization: Bearer SECRETKEY)'),
      });
    };
    const error = await failure(
      createRpcFetch({ ...FAST, maxRetries: 0, fetch: echoing })(
        'https://rpc.example/v2/SECRETKEY0123456789abcdefXYZ?api-key=SECRETKEY',
        rpcBody('getSlot'),
      ),
    );
    assertNothingLeaks(error);
    assert.match((error as Error).message, /rpc\.example/);
  });

  test('through web3.js: Connection.getSlot', DEADLINE, async () => {
    assertNothingLeaks(await failure(createConnection(SECRET_URL, { ...FAST, maxRetries: 1 }).getSlot()));
  });
});

describe('createConnection (web3.js on the transport)', () => {
  test('getSlot succeeds through one 429: the transport retries, web3.js does not retry again', DEADLINE, async () => {
    const server = await scriptedServer((index) => (index === 0 ? { status: 429, headers: { 'retry-after': '0' } } : { status: 200 }));
    const observed = recorder();
    const connection = createConnection(server.url, { ...FAST, onRequest: observed.onRequest });
    assert.equal(await connection.getSlot(), 4242);
    assert.deepEqual(server.methods, ['getSlot', 'getSlot']);
    assert.deepEqual(
      observed.summary().map((event) => (event as RpcRequestEvent).outcome),
      ['retry', 'ok'],
    );
  });

  test('the connection defaults to confirmed commitment', () => {
    assert.equal(createConnection('http://127.0.0.1:1/').commitment, 'confirmed');
  });
});
