import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
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
