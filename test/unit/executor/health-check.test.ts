// One attempt of a runner-performed health check against loopback servers: an HTTP server that
// records what it was sent, and a minimal websocket server (RFC 6455 handshake and unmasked text
// frames, which is all a server needs to send). The address reaches them through the same
// resolver type the runner injects, so these are the checks as the runner performs them.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { HealthCheck } from '../../../src/api/job-definition/index.ts';
import type { CheckAddress, CheckTargetResolver } from '../../../src/executor/check-target.ts';
import { checkTarget } from '../../../src/executor/check-target.ts';
import { performHealthCheck } from '../../../src/executor/health-check.ts';
import type { CheckTimeouts } from '../../../src/executor/health-check.ts';

const QUICK: CheckTimeouts = { connectMs: 1_000, totalMs: 400 };

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A loopback HTTP server: `answer` picks the response per path; every request is recorded. */
async function httpServer(answer: (request: IncomingMessage, response: ServerResponse) => void): Promise<{
  server: Server;
  port: number;
  received: Received[];
}> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString(),
      });
      answer(request, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, received };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** The runner's resolver, pointed at loopback. */
const loopback: CheckTargetResolver = (target) => Promise.resolve({ host: '127.0.0.1', port: target.port });

async function addressOf(port: number): Promise<CheckAddress> {
  return loopback(checkTarget({ namespace: 'jobs', jobId: 'job', opIndex: 0 }, port));
}

const http = (extra: Partial<Extract<HealthCheck, { type: 'http' }>>): HealthCheck => ({
  type: 'http',
  path: '/health',
  method: 'GET',
  expected_status: 200,
  continuous: false,
  ...extra,
});

// ---------------------------------------------------------------------------------------------
// HTTP

describe('an HTTP check', () => {
  let served: Awaited<ReturnType<typeof httpServer>>;
  before(async () => {
    served = await httpServer((request, response) => {
      const match = /^\/status\/(\d{3})/.exec(request.url ?? '');
      if (request.url === '/redirect') {
        response.writeHead(302, { location: '/status/200' }).end();
        return;
      }
      if (request.url === '/hang') return; // never answers
      response.writeHead(match === null ? 200 : Number(match[1])).end('body');
    });
  });
  after(() => close(served.server));

  const rows: {
    reason: string;
    check: Partial<Extract<HealthCheck, { type: 'http' }>>;
    want: { ok: boolean; detail: RegExp; sent?: Partial<Received>; headers?: Record<string, string | undefined> };
  }[] = [
    {
      reason: 'the expected status passes',
      check: { path: '/status/200' },
      want: { ok: true, detail: /^GET \/status\/200: answered 200$/, sent: { method: 'GET', url: '/status/200', body: '' } },
    },
    {
      reason: 'another status fails, and the detail says what was answered and what was expected',
      check: { path: '/status/503' },
      want: { ok: false, detail: /^GET \/status\/503: answered 503, expected 200$/ },
    },
    {
      reason: 'the status is compared exactly: a 204 is not the 200 expected, though both are success',
      check: { path: '/status/204' },
      want: { ok: false, detail: /answered 204, expected 200/ },
    },
    {
      reason: 'an error status passes when it is the one expected (what no probe can express)',
      check: { path: '/status/404', expected_status: 404 },
      want: { ok: true, detail: /answered 404$/ },
    },
    {
      reason: 'a redirect is not followed, as curl without -L does not: its status is the answer',
      check: { path: '/redirect' },
      want: { ok: false, detail: /answered 302, expected 200/, sent: { url: '/redirect' } },
    },
    {
      reason: 'POST sends the body as written and the headers given; a JSON content type is kept',
      check: {
        path: '/status/200',
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Model': 'deepseek' },
        body: '{"model":"m","stream":false}',
      },
      want: {
        ok: true,
        detail: /^POST \/status\/200: answered 200$/,
        sent: { method: 'POST', body: '{"model":"m","stream":false}' },
        headers: { 'content-type': 'application/json', 'x-model': 'deepseek', 'content-length': '28' },
      },
    },
    {
      reason: 'a body without a content type is sent as curl --data sends it: form-encoded',
      check: { path: '/status/200', method: 'PUT', body: 'a=1' },
      want: {
        ok: true,
        detail: /^PUT /,
        sent: { method: 'PUT', body: 'a=1' },
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
    },
    {
      reason: "DELETE's body is not sent: Nosana's node sends a body with POST and PUT only",
      check: { path: '/status/200', method: 'DELETE', body: 'ignored' },
      want: { ok: true, detail: /^DELETE /, sent: { method: 'DELETE', body: '' }, headers: { 'content-type': undefined } },
    },
    {
      reason: 'the query is sent, but left out of the detail (queries carry tokens)',
      check: { path: '/status/500?token=s3cr3t', expected_status: 200 },
      want: { ok: false, detail: /^GET \/status\/500: answered 500, expected 200$/, sent: { url: '/status/500?token=s3cr3t' } },
    },
    {
      reason: 'a service that never answers fails at the bound of the attempt',
      check: { path: '/hang' },
      want: { ok: false, detail: /^GET \/hang: no answer within 0\.4 s$/ },
    },
  ];
  for (const row of rows) {
    test(row.reason, async () => {
      const before = served.received.length;
      const outcome = await performHealthCheck(http(row.check), await addressOf(served.port), QUICK);
      assert.equal(outcome.ok, row.want.ok, outcome.detail);
      assert.match(outcome.detail, row.want.detail);
      const sent = served.received.slice(before);
      if (row.want.sent !== undefined || row.want.headers !== undefined) {
        assert.equal(sent.length, 1, 'exactly one request per attempt');
        const request = sent[0] as Received;
        for (const [field, value] of Object.entries(row.want.sent ?? {})) assert.equal(request[field as keyof Received], value, field);
        for (const [name, value] of Object.entries(row.want.headers ?? {})) assert.equal(request.headers[name], value, name);
      }
    });
  }

  test('header values never reach the detail, whether the check fails or cannot be sent', async () => {
    const token = 'Bearer tok-9f8e7d';
    const failing = await performHealthCheck(
      http({ path: '/status/401', headers: { Authorization: token } }),
      await addressOf(served.port),
      QUICK,
    );
    assert.equal(failing.ok, false);
    assert.equal(served.received.at(-1)?.headers.authorization, token, 'the header was sent');
    const unsendable = await performHealthCheck(
      http({ path: '/status/200', headers: { Authorization: `${token}\r\nX-Injected: 1` } }),
      await addressOf(served.port),
      QUICK,
    );
    assert.equal(unsendable.ok, false);
    assert.match(unsendable.detail, /a header cannot be sent/);
    for (const detail of [failing.detail, unsendable.detail]) assert.doesNotMatch(detail, /tok-9f8e7d|Injected/);
  });

  test('a path that would name another host is refused before any connection is made', async () => {
    const before = served.received.length;
    for (const path of ['@evil.invalid/', ':1@evil.invalid/', 'health']) {
      const outcome = await performHealthCheck(http({ path }), await addressOf(served.port), QUICK);
      assert.equal(outcome.ok, false, path);
      assert.match(outcome.detail, /does not make a URL on the op's port/, path);
    }
    assert.equal(served.received.length, before);
  });

  test('each attempt opens a connection of its own (nothing pooled outlives a restarted container)', async () => {
    const connections: Socket[] = [];
    served.server.on('connection', (socket: Socket) => connections.push(socket));
    const address = await addressOf(served.port);
    await performHealthCheck(http({ path: '/status/200' }), address, QUICK);
    await performHealthCheck(http({ path: '/status/200' }), address, QUICK);
    assert.equal(connections.length, 2);
  });
});

describe('an HTTP check to an IPv6 address', () => {
  test('reaches a Pod IP that is an IPv6 address (bracketed in the URL, bare on the wire)', async (context) => {
    const received: string[] = [];
    const server = createServer((request, response) => {
      received.push(request.url ?? '');
      response.writeHead(200).end();
    });
    const listening = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(0, '::1', () => resolve(true));
    });
    if (!listening) {
      context.skip('no IPv6 loopback here');
      return;
    }
    try {
      const outcome = await performHealthCheck(
        http({ path: '/ready' }),
        { host: '::1', port: (server.address() as AddressInfo).port },
        QUICK,
      );
      assert.deepEqual(outcome, { ok: true, detail: 'GET /ready: answered 200' });
      assert.deepEqual(received, ['/ready']);
    } finally {
      await close(server);
    }
  });
});

describe('an HTTP check that cannot connect', () => {
  test('a closed port fails with "connection refused"', async () => {
    const { server, port } = await httpServer(() => undefined);
    await close(server);
    const outcome = await performHealthCheck(http({}), await addressOf(port), QUICK);
    assert.deepEqual(outcome, { ok: false, detail: 'GET /health: connection refused' });
  });

  test('an abort ends the attempt at once', async () => {
    const served = await httpServer(() => undefined);
    try {
      const controller = new AbortController();
      const started = Date.now();
      const attempt = performHealthCheck(http({}), await addressOf(served.port), { connectMs: 5_000, totalMs: 5_000 }, controller.signal);
      setTimeout(() => controller.abort(), 50);
      const outcome = await attempt;
      assert.deepEqual(outcome, { ok: false, detail: 'GET /health: cancelled' });
      assert.ok(Date.now() - started < 2_000);
    } finally {
      await close(served.server);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// WebSocket

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A server text frame: FIN + opcode 1, unmasked, short payload. */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  if (payload.length < 126) return Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
  const length = Buffer.alloc(8);
  length.writeBigUInt64BE(BigInt(payload.length));
  return Buffer.concat([Buffer.from([0x81, 127]), length, payload]);
}
/** Only the header of a text frame announcing `length` bytes (a service that never sends them). */
function announcedFrame(length: bigint): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(length);
  return Buffer.concat([Buffer.from([0x81, 127]), bytes]);
}
const CLOSE_FRAME = Buffer.from([0x88, 0x00]);

type WebsocketBehaviour =
  | { kind: 'send'; messages: string[] }
  | { kind: 'send-then-close'; messages: string[] }
  | { kind: 'silent' }
  | { kind: 'refuse-upgrade' }
  | { kind: 'raw'; bytes: Buffer };

/** A loopback websocket server whose behaviour is picked by the request path. */
async function websocketServer(
  behaviours: Record<string, WebsocketBehaviour>,
): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((_request, response) => response.writeHead(426).end());
  server.on('upgrade', (request: IncomingMessage, socket: Socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    const behaviour = behaviours[request.url ?? ''] ?? behaviours['*'] ?? { kind: 'silent' };
    if (behaviour.kind === 'refuse-upgrade') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const accept = createHash('sha1')
      .update(`${String(request.headers['sec-websocket-key'])}${WEBSOCKET_GUID}`)
      .digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    if (behaviour.kind === 'silent') return;
    if (behaviour.kind === 'raw') {
      socket.write(behaviour.bytes);
      return;
    }
    for (const message of behaviour.messages) socket.write(textFrame(message));
    if (behaviour.kind === 'send-then-close') socket.end(CLOSE_FRAME);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, sockets };
}

const websocket = (expected_response: string): HealthCheck => ({ type: 'websocket', expected_response, continuous: true });

describe('a websocket check', () => {
  const rows: { reason: string; behaviour: WebsocketBehaviour; expected: string; want: { ok: boolean; detail: RegExp } }[] = [
    {
      reason: 'passes when a message contains the expected response',
      behaviour: { kind: 'send', messages: ['{"status":"ready"}'] },
      expected: 'ready',
      want: { ok: true, detail: /^websocket: received the expected response$/ },
    },
    {
      reason: 'passes when the expected response arrives split over messages: the node reads them as one output',
      behaviour: { kind: 'send', messages: ['hello, re', 'ady now'] },
      expected: 'ready',
      want: { ok: true, detail: /received the expected response/ },
    },
    {
      reason: 'fails at the bound when what arrives never contains the expected response',
      behaviour: { kind: 'send', messages: ['starting', 'loading'] },
      expected: 'ready',
      want: { ok: false, detail: /^websocket: the expected response did not arrive within 0\.4 s$/ },
    },
    {
      reason: 'fails at the bound when the service sends nothing',
      behaviour: { kind: 'silent' },
      expected: 'ready',
      want: { ok: false, detail: /did not arrive within/ },
    },
    {
      reason: 'fails at once when the service closes before sending the expected response',
      behaviour: { kind: 'send-then-close', messages: ['bye'] },
      expected: 'ready',
      want: { ok: false, detail: /^websocket: closed by the service before the expected response$/ },
    },
    {
      reason: 'fails when the port does not speak websocket (the upgrade is refused)',
      behaviour: { kind: 'refuse-upgrade' },
      expected: 'ready',
      want: { ok: false, detail: /^websocket: could not connect/ },
    },
    {
      reason: 'a service that streams more than a check reads without the expected response fails: the runner holds none of it',
      behaviour: { kind: 'send', messages: ['x'.repeat(600_000), 'y'.repeat(600_000)] },
      expected: 'ready',
      want: { ok: false, detail: /^websocket: more than 1048576 bytes arrived without the expected response$/ },
    },
    {
      reason: 'a frame announcing gigabytes fails at once',
      behaviour: { kind: 'raw', bytes: announcedFrame(8n * 1024n ** 3n) },
      expected: 'ready',
      want: { ok: false, detail: /^websocket: a frame of 8589934592 bytes is more than a check reads$/ },
    },
    {
      reason: 'the expected response at the end of a long frame is found (read as it streams in)',
      behaviour: { kind: 'send', messages: [`${'z'.repeat(200_000)}ready`] },
      expected: 'ready',
      want: { ok: true, detail: /received the expected response/ },
    },
    {
      reason: 'an empty expected response passes once connected: any output contains it',
      behaviour: { kind: 'silent' },
      expected: '',
      want: { ok: true, detail: /^websocket: connected$/ },
    },
  ];
  for (const row of rows) {
    test(row.reason, async () => {
      const served = await websocketServer({ '*': row.behaviour });
      try {
        const outcome = await performHealthCheck(websocket(row.expected), await addressOf(served.port), QUICK);
        assert.equal(outcome.ok, row.want.ok, outcome.detail);
        assert.match(outcome.detail, row.want.detail);
        assert.ok(served.sockets.length >= 1, 'the check reached the server');
      } finally {
        served.sockets.forEach((socket) => socket.destroy());
        await close(served.server);
      }
    });
  }

  test('nothing listening: could not connect', async () => {
    const { server, port } = await httpServer(() => undefined);
    await close(server);
    const outcome = await performHealthCheck(websocket('ready'), await addressOf(port), QUICK);
    assert.equal(outcome.ok, false);
    assert.match(outcome.detail, /^websocket: could not connect/);
  });
});
