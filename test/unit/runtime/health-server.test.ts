// The metrics and probe endpoints over real loopback sockets: status codes, bodies naming the
// failed checks, content types, one shared server for equal addresses, and address parsing.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Counter, Registry } from 'prom-client';
import { parseBindAddress, startHealthServers } from '../../../src/runtime/health-server.ts';
import { freePorts } from '../../../src/local-cluster/ports.ts';
import type { HealthCheck, HealthServers } from '../../../src/runtime/health-server.ts';

const started: HealthServers[] = [];
after(async () => {
  await Promise.all(started.map((servers) => servers.close()));
});

function registryWithOneCounter(): Registry {
  const registry = new Registry();
  new Counter({ name: 'demo_events_total', help: 'Events.', registers: [registry] }).inc(3);
  return registry;
}

async function start(
  readyz: Record<string, HealthCheck>,
  addresses = { metrics: '127.0.0.1:0', probe: '127.0.0.1:0' },
): Promise<HealthServers> {
  const servers = await startHealthServers({
    metricsAddress: addresses.metrics,
    probeAddress: addresses.probe,
    registry: registryWithOneCounter(),
    checks: { healthz: { ping: () => true }, readyz },
  });
  started.push(servers);
  return servers;
}

async function get(port: number, path: string, method = 'GET'): Promise<{ status: number; body: string; contentType: string | null }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: response.status, body: await response.text(), contentType: response.headers.get('content-type') };
}

describe('health servers', () => {
  test('/metrics serves the registry in the Prometheus text format on the metrics address only', async () => {
    const servers = await start({ synced: () => true });
    assert.notEqual(servers.metrics.port, servers.probe.port);
    const metrics = await get(servers.metrics.port, '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.contentType ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(metrics.body, /^demo_events_total 3$/m);
    assert.equal((await get(servers.probe.port, '/metrics')).status, 404);
    assert.equal((await get(servers.metrics.port, '/healthz')).status, 404);
  });

  test('/healthz and /readyz answer 200 "ok" when every check passes', async () => {
    const servers = await start({ synced: () => true, leader: async () => true });
    for (const path of ['/healthz', '/readyz']) {
      const response = await get(servers.probe.port, path);
      assert.equal(response.status, 200, path);
      assert.equal(response.body, 'ok');
    }
  });

  test('/readyz answers 500 naming each failing check; a throwing or rejecting check fails', async () => {
    const servers = await start({
      'informers-synced': () => false,
      leader: () => true,
      throws: () => {
        throw new Error('boom with detail');
      },
      rejects: () => Promise.reject(new Error('no')),
    });
    const response = await get(servers.probe.port, '/readyz');
    assert.equal(response.status, 500);
    assert.equal(response.body, '[-]informers-synced failed\n[-]throws failed\n[-]rejects failed\nreadyz check failed\n');
    assert.doesNotMatch(response.body, /boom/, 'check errors are not echoed');
    assert.equal((await get(servers.probe.port, '/healthz')).status, 200, 'liveness is judged separately');
  });

  test('?verbose lists the passing checks too', async () => {
    const servers = await start({ synced: () => true, leader: () => false });
    const response = await get(servers.probe.port, '/readyz?verbose');
    assert.equal(response.status, 500);
    assert.equal(response.body, '[+]synced ok\n[-]leader failed\nreadyz check failed\n');
    const healthy = await get(servers.probe.port, '/healthz?verbose');
    assert.equal(healthy.body, '[+]ping ok\nhealthz check passed\n');
  });

  test('methods other than GET and HEAD are refused', async () => {
    const servers = await start({ synced: () => true });
    assert.equal((await get(servers.probe.port, '/readyz', 'POST')).status, 405);
    assert.equal((await get(servers.probe.port, '/readyz', 'HEAD')).status, 200);
  });

  test('the same HOST:PORT for both shares one server serving every path; port 0 twice gets two', async () => {
    const [port] = await freePorts(1);
    const shared = await start({ synced: () => true }, { metrics: `127.0.0.1:${port}`, probe: `127.0.0.1:${port}` });
    assert.deepEqual(shared.metrics, { host: '127.0.0.1', port });
    assert.deepEqual(shared.probe, shared.metrics);
    for (const path of ['/metrics', '/healthz', '/readyz']) {
      assert.equal((await get(shared.metrics.port, path)).status, 200, path);
    }
    const ephemeral = await start({ synced: () => true }, { metrics: '127.0.0.1:0', probe: '127.0.0.1:0' });
    assert.notEqual(ephemeral.metrics.port, ephemeral.probe.port);
  });

  test('a port already in use is reported with the address, and nothing is left listening', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    const [metricsPort] = await freePorts(1);
    try {
      await assert.rejects(
        startHealthServers({
          metricsAddress: `127.0.0.1:${metricsPort}`,
          probeAddress: `127.0.0.1:${port}`,
          registry: new Registry(),
          checks: { healthz: {}, readyz: {} },
        }),
        new RegExp(`cannot listen on the health probe address 127\\.0\\.0\\.1:${port}: EADDRINUSE`),
      );
      await assert.rejects(fetch(`http://127.0.0.1:${metricsPort}/metrics`), 'the metrics server that did start was closed again');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  test('close can be called twice', async () => {
    const servers = await start({ synced: () => true });
    await servers.close();
    await servers.close();
    await assert.rejects(fetch(`http://127.0.0.1:${servers.probe.port}/healthz`));
  });
});

describe('bind addresses', () => {
  test('HOST:PORT, :PORT (every interface) and [IPv6]:PORT parse', () => {
    assert.deepEqual(parseBindAddress(':8080', '--metrics-bind-address'), { host: undefined, port: 8080 });
    assert.deepEqual(parseBindAddress('127.0.0.1:0', '--metrics-bind-address'), { host: '127.0.0.1', port: 0 });
    assert.deepEqual(parseBindAddress('localhost:9090', '--metrics-bind-address'), { host: 'localhost', port: 9090 });
    assert.deepEqual(parseBindAddress('[::1]:8081', '--health-probe-bind-address'), { host: '::1', port: 8081 });
  });

  test('anything else is refused, naming the flag and the value', () => {
    for (const bad of ['8080', 'host:', 'host:65536', 'a:b:1', ':-1', '::1:80', '']) {
      assert.throws(
        () => parseBindAddress(bad, '--health-probe-bind-address'),
        (error: Error) =>
          error.message.startsWith('--health-probe-bind-address must be HOST:PORT or :PORT') && error.message.includes(`"${bad}"`),
        bad,
      );
    }
  });
});
