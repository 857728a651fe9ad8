// The NosanaDeployment prober against loopback servers. A service URL's host is one a tenant may
// choose, so what matters most is what the prober refuses: every private, loopback, link-local or
// metadata address, before anything is sent, and every redirect. The loopback servers are reached
// the only way a tenant's URL may reach such an address: through a gateway the operator configured.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { HttpHealthCheck } from '../../../src/api/job-definition/index.ts';
import { HttpProber } from '../../../src/controllers/nosana-deployment/prober.ts';
import { AddressGuard } from '../../../src/http/address-guard.ts';
import { loopback } from '../download/loopback.ts';
import type { Loopback } from '../download/loopback.ts';

const DOMAIN = 'node.svc.test';
const SERVICE_URL = `https://replica-1.${DOMAIN}`;

function check(fields: Partial<HttpHealthCheck> = {}): HttpHealthCheck {
  return { type: 'http', method: 'GET', path: '/health', expected_status: 200, continuous: true, ...fields };
}

/** A server answering every request with `status`, recording the bodies it was sent. */
async function answering(status: number, headers: Record<string, string> = {}): Promise<Loopback & { bodies: string[] }> {
  const bodies: string[] = [];
  const server = await loopback(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    bodies.push(Buffer.concat(chunks).toString('utf8'));
    response.writeHead(status, headers).end();
  });
  return { ...server, bodies };
}

/** A port nothing listens on (a server was there a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('HttpProber through an operator-configured gateway', () => {
  let ok: Awaited<ReturnType<typeof answering>>;
  let failing: Loopback;
  let redirecting: Loopback;
  let target: Loopback;
  let silent: Loopback;

  before(async () => {
    ok = await answering(200);
    failing = await answering(500);
    target = await answering(200);
    redirecting = await answering(302, { location: `${target.url}/elsewhere` });
    silent = await loopback(() => undefined);
  });
  after(async () => {
    for (const server of [ok, failing, redirecting, target, silent]) await server.close();
  });

  const through = (gateway: Loopback, timeoutMs = 2_000) => new HttpProber({ gateways: new Map([[DOMAIN, gateway.url]]), timeoutMs });

  test("a 200 is ready; the gateway is sent the probe's path with the service's host, whatever Host the check sets", async () => {
    const headers = { 'x-probe': 'yes', Host: 'metadata.google.internal' };
    const outcome = await through(ok).probe(SERVICE_URL, check({ path: '/health?token=secret', headers }));
    assert.deepEqual(outcome, { ok: true, detail: 'GET /health: answered 200' }, 'the query (it may hold a secret) is not shown');
    const sent = ok.requests.at(-1);
    assert.equal(sent?.target, '/health?token=secret');
    assert.equal(sent?.headers.host, `replica-1.${DOMAIN}`, 'the gateway routes by the Host header: a tenant may not choose it');
    assert.equal(sent?.headers['x-probe'], 'yes');
  });

  test('a subdomain of the gateway domain at any depth, and the domain itself, go through the gateway', async () => {
    const before = ok.requests.length;
    for (const url of [`http://a.b.${DOMAIN}:8080/`, `https://${DOMAIN}`]) {
      assert.equal((await through(ok).probe(url, check())).ok, true, url);
    }
    assert.equal(ok.requests.length, before + 2);
    assert.equal(ok.requests.at(-2)?.headers.host, `a.b.${DOMAIN}:8080`);
  });

  test('a POST or PUT sends its body; a GET never does', async () => {
    await through(ok).probe(SERVICE_URL, check({ method: 'POST', body: '{"ping":1}' }));
    await through(ok).probe(SERVICE_URL, check({ method: 'GET', body: 'ignored' }));
    assert.deepEqual(ok.bodies.slice(-2), ['{"ping":1}', '']);
  });

  test('another status than the expected one is not ready, and says which', async () => {
    assert.deepEqual(await through(failing).probe(SERVICE_URL, check()), { ok: false, detail: 'GET /health: answered 500, expected 200' });
    assert.deepEqual(await through(failing).probe(SERVICE_URL, check({ expected_status: 500 })), {
      ok: true,
      detail: 'GET /health: answered 500',
    });
  });

  test("a definition's framing headers are dropped: its body cannot carry a second request through the gateway", async () => {
    const before = ok.requests.length;
    const smuggled = 'GET /admin HTTP/1.1\r\nHost: internal-admin\r\n\r\n';
    const headers = {
      'Content-Length': '0',
      Connection: 'keep-alive',
      'Transfer-Encoding': 'identity',
      'Proxy-Authorization': 'x',
      'x-kept': '1',
    };
    assert.equal((await through(ok).probe(SERVICE_URL, check({ method: 'POST', body: smuggled, headers }))).ok, true);
    await new Promise((resolve) => setTimeout(resolve, 100)); // a second request, if any, would arrive now
    assert.equal(ok.requests.length, before + 1, 'one request reached the gateway');
    const sent = ok.requests.at(-1)!;
    assert.equal(sent.headers['content-length'], String(Buffer.byteLength(smuggled)), 'Node framed the body itself');
    assert.equal(sent.headers['proxy-authorization'], undefined);
    assert.equal(sent.headers['x-kept'], '1');
    assert.equal(ok.bodies.at(-1), smuggled, 'the body arrived as a body');
  });

  test('a probe detail is kept short enough for the status, whatever the definition says', async () => {
    const outcome = await through(failing).probe(
      SERVICE_URL,
      check({ method: 'GET'.padEnd(600, 'X') as HttpHealthCheck['method'], path: `/${'p'.repeat(600)}` }),
    );
    assert.equal(outcome.ok, false);
    assert.ok(outcome.detail.length <= 200, `${outcome.detail.length} characters`);
  });

  test('a redirect is an answer, never followed', async () => {
    const outcome = await through(redirecting).probe(SERVICE_URL, check());
    assert.deepEqual(outcome, { ok: false, detail: 'GET /health: answered 302, expected 200' });
    assert.equal(redirecting.requests.length, 1);
    assert.equal(target.requests.length, 0, 'nothing was sent where the redirect pointed');
  });

  test('no answer within the timeout is not ready', async () => {
    const started = Date.now();
    const outcome = await through(silent, 150).probe(SERVICE_URL, check());
    assert.deepEqual(outcome, { ok: false, detail: 'GET /health: no answer within 0.15s' });
    assert.ok(Date.now() - started < 1_500, 'the probe gave up at its timeout');
    assert.equal(silent.requests.length, 1);
  });

  test('an answer trickled in byte by byte is cut off at the timeout, not when it ends', async () => {
    // A tenant's server that keeps the socket busy must not hold the reconcile that probes it.
    const sockets = new Set<Socket>();
    const trickler = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.write('HTTP/1.1 200 OK\r\n');
      let lines = 0;
      const timer = setInterval(() => {
        lines += 1;
        socket.write(lines < 30 ? 'x-pad: 1\r\n' : 'content-length: 0\r\n\r\n');
        if (lines >= 30) clearInterval(timer);
      }, 50);
      socket.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => trickler.listen(0, '127.0.0.1', resolve));
    try {
      const prober = new HttpProber({
        gateways: new Map([[DOMAIN, `http://127.0.0.1:${(trickler.address() as AddressInfo).port}`]]),
        timeoutMs: 200,
      });
      const started = Date.now();
      const outcome = await prober.probe(SERVICE_URL, check());
      assert.deepEqual(outcome, { ok: false, detail: 'GET /health: no answer within 0.2s' });
      assert.ok(Date.now() - started < 1_000, `gave up after ${Date.now() - started} ms`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => trickler.close(() => resolve()));
    }
  });

  test('a refused connection is not ready, with its code', async () => {
    const port = await closedPort();
    const prober = new HttpProber({ gateways: new Map([[DOMAIN, `http://127.0.0.1:${port}`]]) });
    assert.deepEqual(await prober.probe(SERVICE_URL, check()), { ok: false, detail: 'GET /health: ECONNREFUSED' });
  });

  test('a gateway at an IPv6 address is reached', async (context) => {
    const server = createServer((_request, response) => response.writeHead(204).end());
    const listening = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(0, '::1', () => resolve(true));
    });
    if (!listening) {
      context.skip('no IPv6 loopback here');
      return;
    }
    try {
      const prober = new HttpProber({ gateways: new Map([[DOMAIN, `http://[::1]:${(server.address() as AddressInfo).port}`]]) });
      assert.deepEqual(await prober.probe(SERVICE_URL, check({ expected_status: 204 })), { ok: true, detail: 'GET /health: answered 204' });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test("a check Node cannot send (a definition's path, method, header or body) is a failed probe, not an exception", async () => {
    const before = ok.requests.length;
    const unsendable = [
      check({ path: '/health check' }),
      check({ method: 'GE T' as HttpHealthCheck['method'] }),
      check({ headers: { 'x-probe': 'a\r\nInjected: yes' } }),
      check({ headers: { 'not a token': 'x' } }),
      check({ method: 'POST', body: { ping: 1 } as unknown as string }),
    ];
    for (const bad of unsendable) {
      const outcome = await through(ok).probe(SERVICE_URL, bad);
      assert.equal(outcome.ok, false, JSON.stringify(bad));
      assert.match(outcome.detail, /^(GET|GE T|POST) \/health( check)?: ERR_[A-Z_]+$/);
    }
    assert.equal(ok.requests.length, before, 'nothing was sent');
  });
});

describe("HttpProber's address guard: a tenant's URL never reaches what only the cluster may", () => {
  let server: Loopback;
  before(async () => {
    server = await answering(200);
  });
  after(() => server.close());

  test('a direct URL to the loopback server is refused before anything is sent, gateway or not', async () => {
    const port = new URL(server.url).port;
    const probers = [new HttpProber({ timeoutMs: 300 }), new HttpProber({ gateways: new Map([[DOMAIN, server.url]]), timeoutMs: 300 })];
    for (const prober of probers) {
      for (const url of [server.url, `http://localhost:${port}/`, `http://[::ffff:127.0.0.1]:${port}/`, `http://2130706433:${port}/`]) {
        const outcome = await prober.probe(url, check());
        assert.equal(outcome.ok, false, url);
        assert.match(outcome.detail, /^GET \/health: .* inside a range the node may not reach$/, url);
      }
    }
    assert.equal(server.requests.length, 0, 'no request reached the server');
  });

  test('private, link-local, metadata, unique-local and this-host addresses are refused', async () => {
    const prober = new HttpProber({ timeoutMs: 300 });
    const urls = [
      'http://169.254.169.254/latest/meta-data/',
      'http://168.63.129.16/machine?comp=goalstate',
      'http://[::ffff:169.254.169.254]/',
      'http://10.0.0.1/',
      'http://10.96.0.1:443/',
      'http://172.16.5.4/',
      'http://192.168.1.1/',
      'http://100.64.0.1/',
      'http://127.0.0.1/',
      'http://127.1.2.3/',
      'http://0.0.0.0/',
      'http://[::1]/',
      'http://[::]/',
      'http://[fd00::1]/',
      'http://[fe80::1]/',
      'http://[64:ff9b::a00:1]/',
    ];
    for (const url of urls) {
      const outcome = await prober.probe(url, check());
      assert.equal(outcome.ok, false, url);
      assert.match(outcome.detail, /inside a range the node may not reach$/, url);
    }
  });

  test("the cluster's own ranges the operator denies are refused too", async () => {
    const prober = new HttpProber({ deniedCidrs: ['203.0.113.0/24'], timeoutMs: 300 });
    const outcome = await prober.probe('http://203.0.113.7/', check());
    assert.match(outcome.detail, /203\.0\.113\.7 is inside a range the node may not reach$/);
  });

  test("a host that only ends like the gateway's domain is not the gateway's", async () => {
    const port = new URL(server.url).port;
    const prober = new HttpProber({ gateways: new Map([['host', server.url]]), timeoutMs: 300 });
    const outcome = await prober.probe(`http://localhost:${port}/`, check());
    assert.match(outcome.detail, /localhost is resolved to .*, inside a range the node may not reach$/);
    assert.equal(server.requests.length, 0);
  });

  test('what is not a URL is not probed', async () => {
    assert.deepEqual(await new HttpProber().probe('not a url', check()), { ok: false, detail: 'GET /health: not a URL' });
  });
});

describe('AddressGuard.lookup: the address connected to is the address checked', () => {
  // What the prober passes to node:http, so a name that resolves to a public address when checked
  // and to a private one a moment later (DNS rebinding) is refused at connection time.
  const resolve = (hostname: string, options: { all?: boolean }) =>
    new Promise<{ error: NodeJS.ErrnoException | null; address: unknown }>((settle) =>
      new AddressGuard([]).lookup(hostname, { family: 0, ...options }, (error, address) => settle({ error, address })),
    );

  test('a name resolving into a denied range fails the connection, with a code saying why', async () => {
    for (const all of [false, true]) {
      const { error, address } = await resolve('localhost', { all });
      assert.equal(error?.code, 'EADDRNOTALLOWED', `all=${all}`);
      assert.match(error?.message ?? '', /^localhost resolved to (127\.0\.0\.1|::1), inside a range the operator may not reach$/);
      assert.equal(address, '');
    }
  });

  test('a name that does not resolve fails with the resolver’s error', async () => {
    const { error } = await resolve('no-such-host.invalid', {});
    assert.ok(error !== null && error.code !== 'EADDRNOTALLOWED', `the resolver's own error: ${error?.code}`);
  });
});
