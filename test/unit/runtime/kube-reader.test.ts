// A Secret or ConfigMap name is set by a tenant (a walletSecretRef, a keySecretRef). Names that a
// URL reads as "this folder" or "its parent" must find nothing rather than reach another path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { ApiKubeReader } from '../../../src/runtime/kube-reader.ts';

function readerOfNoServer(): ApiKubeReader {
  const kubeConfig = new KubeConfig();
  // port 9 (discard) on loopback: any request that is really sent fails with a connection error
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:9', skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return new ApiKubeReader(kubeConfig);
}

test('a Secret or ConfigMap named . or .. (or in a namespace so named) is not found, and nothing is requested', async () => {
  const reader = readerOfNoServer();
  for (const key of [
    { namespace: 'team-a', name: '.' },
    { namespace: 'team-a', name: '..' },
    { namespace: '..', name: 'wallet' },
    { namespace: '.', name: 'wallet' },
  ]) {
    assert.equal(await reader.getSecret(key), undefined, `Secret ${key.namespace}/${key.name}`);
    assert.equal(await reader.getConfigMap(key), undefined, `ConfigMap ${key.namespace}/${key.name}`);
  }
});

test('an ordinary name is requested (here it fails to connect, so the guard above is what answered)', async () => {
  await assert.rejects(readerOfNoServer().getSecret({ namespace: 'team-a', name: 'wallet' }));
});
