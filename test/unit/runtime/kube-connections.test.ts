import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { request } from 'undici';
import { generateClusterPki } from '../../../src/local-cluster/pki.ts';
import { authenticate, resetConnections } from '../../../src/runtime/kube-connections.ts';

function kubeConfigWith(user: { token?: string; certFile?: string; keyFile?: string }): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', caData: Buffer.from('not a real CA').toString('base64') }],
    users: [{ name: 'u', ...user }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kubeConfig;
}

async function authenticated(kubeConfig: KubeConfig): Promise<RequestContext> {
  const context = new RequestContext('https://127.0.0.1:6443/api', HttpMethod.GET);
  await authenticate(kubeConfig, context);
  return context;
}

test('requests made with one KubeConfig share one connection pool, and still carry their own headers', async () => {
  const kubeConfig = kubeConfigWith({ token: 'first' });
  const one = await authenticated(kubeConfig);
  (kubeConfig.users[0] as { token?: string }).token = 'second';
  const two = await authenticated(kubeConfig);
  assert.ok(one.getDispatcher() !== undefined, 'a TLS cluster gets a dispatcher');
  assert.equal(two.getDispatcher(), one.getDispatcher(), 'the same pool serves both requests');
  assert.equal(one.getHeaders()['Authorization'], 'Bearer first');
  assert.equal(two.getHeaders()['Authorization'], 'Bearer second', 'the token is read per request');
});

test('requests that arrive together before any pool exists end up sharing one', async () => {
  const kubeConfig = kubeConfigWith({ token: 'a' });
  const together = await Promise.all(Array.from({ length: 8 }, () => authenticated(kubeConfig)));
  const pools = new Set(together.map((context) => context.getDispatcher()));
  assert.equal(pools.size, 1, 'one pool for all of them');
  assert.equal((await authenticated(kubeConfig)).getDispatcher(), together[0]!.getDispatcher(), 'and it is the kept one');
});

test('two KubeConfigs never share a pool: each identity has its own connections', async () => {
  const one = await authenticated(kubeConfigWith({ token: 'a' }));
  const two = await authenticated(kubeConfigWith({ token: 'a' }));
  assert.notEqual(two.getDispatcher(), one.getDispatcher());
});

test('a rewritten client certificate file gets a new pool on the next request', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kube-connections-'));
  try {
    const certFile = join(dir, 'tls.crt');
    const keyFile = join(dir, 'tls.key');
    writeFileSync(certFile, 'cert one');
    writeFileSync(keyFile, 'key one');
    const kubeConfig = kubeConfigWith({ certFile, keyFile });
    const before = await authenticated(kubeConfig);
    const same = await authenticated(kubeConfig);
    assert.equal(same.getDispatcher(), before.getDispatcher(), 'unchanged files keep the pool');

    writeFileSync(certFile, 'cert two, rotated');
    utimesSync(certFile, new Date(), new Date(Date.now() + 5_000));
    const after = await authenticated(kubeConfig);
    assert.notEqual(after.getDispatcher(), before.getDispatcher(), 'the rotated certificate is used by a new pool');
    const next = await authenticated(kubeConfig);
    assert.equal(next.getDispatcher(), after.getDispatcher(), 'and that pool is kept from then on');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('after resetConnections the next request gets a new pool, which is kept from then on', async () => {
  const kubeConfig = kubeConfigWith({ token: 'a' });
  const before = await authenticated(kubeConfig);
  resetConnections(kubeConfig, before.getDispatcher());
  const after = await authenticated(kubeConfig);
  assert.notEqual(after.getDispatcher(), before.getDispatcher(), 'a suspect pool is not handed out again');
  const next = await authenticated(kubeConfig);
  assert.equal(next.getDispatcher(), after.getDispatcher());
});

test('a reset for a pool already replaced leaves the new pool alone: many timeouts on one dead connection replace it once', async () => {
  const kubeConfig = kubeConfigWith({ token: 'a' });
  const old = (await authenticated(kubeConfig)).getDispatcher();
  resetConnections(kubeConfig, old);
  const current = (await authenticated(kubeConfig)).getDispatcher();
  resetConnections(kubeConfig, old);
  assert.equal((await authenticated(kubeConfig)).getDispatcher(), current);
});

test('an idle connection outlives a 5 s poll: the request after it needs no new TLS handshake', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kube-connections-tls-'));
  const pki = await generateClusterPki(dir);
  let handshakes = 0;
  const server = createServer({ cert: readFileSync(pki.apiServer.cert), key: readFileSync(pki.apiServer.key) }, (_request, response) => {
    response.setHeader('content-type', 'application/json');
    // no "Keep-Alive: timeout" hint, as Go's server (kube-apiserver) sends none; the client decides
    response.setHeader('connection', 'keep-alive');
    response.end('{}');
  });
  // as kube-apiserver does (90 s); Node's own server would close it after 5 s
  server.keepAliveTimeout = 90_000;
  server.on('secureConnection', () => {
    handshakes += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: url.replace('/api', ''), caFile: pki.caCert }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const get = async (): Promise<void> => {
    const context = new RequestContext(url, HttpMethod.GET);
    const dispatcher = await authenticate(kubeConfig, context);
    const response = await request(url, { dispatcher: dispatcher as never, headers: context.getHeaders() });
    assert.equal(response.statusCode, 200);
    await response.body.text();
  };
  try {
    await get();
    // undici's own default closes an idle connection after 4 s; a node polls every 5 s
    await sleep(5_000);
    await get();
    assert.equal(handshakes, 1, 'the second request went over the first connection');
  } finally {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
