// The node's key from the Secret its spec names: always in the NosanaNode's own namespace, and
// whatever is wrong is said by naming the Secret and key, never by quoting what the Secret holds.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1Secret } from '@kubernetes/client-node';
import { Keypair } from '@solana/web3.js';
import bs58 from 'bs58';
import type { NosanaNodeObject } from '../../../src/api/crds/nosana-node.ts';
import { nosanaNodeSpec } from '../../../src/api/crds/nosana-node.ts';
import { serializeWallet } from '../../../src/chain/wallet.ts';
import { loadNodeKey } from '../../../src/controllers/nosana-node/node-key.ts';
import type { ObjectKey } from '../../../src/runtime/types.ts';

const NAMESPACE = 'gpu-nodes';
const WHERE = 'Secret gpu-nodes/node-key key "keypair" (spec.keySecretRef)';

function nosanaNode(keySecretRef: { name: string; key?: string } = { name: 'node-key' }): NosanaNodeObject {
  return {
    apiVersion: 'nosana.io/v1alpha1',
    kind: 'NosanaNode',
    metadata: { namespace: NAMESPACE, name: 'rack-1' },
    spec: nosanaNodeSpec.parse({ market: 'gpu-market', keySecretRef }),
  };
}

function secret(namespace: string, name: string, data: Record<string, string>): V1Secret {
  const encoded = Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString('base64')]));
  return { apiVersion: 'v1', kind: 'Secret', metadata: { namespace, name }, data: encoded };
}

/** Secrets by namespace/name; logs every key asked for. */
function reader(...secrets: V1Secret[]): { getSecret: (key: ObjectKey) => Promise<V1Secret | undefined>; asked: ObjectKey[] } {
  const asked: ObjectKey[] = [];
  return {
    asked,
    getSecret: async (key) => {
      asked.push(key);
      return secrets.find((entry) => entry.metadata?.namespace === key.namespace && entry.metadata?.name === key.name);
    },
  };
}

describe('loadNodeKey', () => {
  test("a Solana CLI keypair file: the key, read from the NosanaNode's own namespace", async () => {
    const keypair = Keypair.generate();
    const secrets = reader(secret(NAMESPACE, 'node-key', { keypair: serializeWallet(keypair) }));
    const loaded = await loadNodeKey(secrets, nosanaNode());
    assert.ok('keypair' in loaded, JSON.stringify(loaded));
    assert.ok(loaded.keypair.publicKey.equals(keypair.publicKey));
    assert.deepEqual(secrets.asked, [{ namespace: NAMESPACE, name: 'node-key' }]);
  });

  test('a base58 secret key under another key name: the key', async () => {
    const keypair = Keypair.generate();
    const secrets = reader(secret(NAMESPACE, 'wallet', { 'id.b58': bs58.encode(keypair.secretKey) }));
    const loaded = await loadNodeKey(secrets, nosanaNode({ name: 'wallet', key: 'id.b58' }));
    assert.ok('keypair' in loaded && loaded.keypair.publicKey.equals(keypair.publicKey));
  });

  test('no such Secret: the problem names it', async () => {
    assert.deepEqual(await loadNodeKey(reader(), nosanaNode()), { problem: `${WHERE}: the Secret does not exist` });
  });

  test('a Secret of that name in another namespace is never read: still missing', async () => {
    const elsewhere = reader(secret('other-team', 'node-key', { keypair: serializeWallet(Keypair.generate()) }));
    assert.deepEqual(await loadNodeKey(elsewhere, nosanaNode()), { problem: `${WHERE}: the Secret does not exist` });
    assert.deepEqual(elsewhere.asked, [{ namespace: NAMESPACE, name: 'node-key' }]);
  });

  test('the Secret without the key: the problem names Secret and key', async () => {
    const secrets = reader(secret(NAMESPACE, 'node-key', { 'id.json': serializeWallet(Keypair.generate()) }));
    assert.deepEqual(await loadNodeKey(secrets, nosanaNode()), { problem: `${WHERE}: the Secret has no such key` });
  });

  test('a Secret with no data at all: no such key', async () => {
    const empty: V1Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { namespace: NAMESPACE, name: 'node-key' } };
    assert.deepEqual(await loadNodeKey(reader(empty), nosanaNode()), { problem: `${WHERE}: the Secret has no such key` });
  });

  const secretBytes = [...Keypair.generate().secretKey];
  const malformed: { reason: string; content: string; quoted: string }[] = [
    { reason: 'JSON cut short', content: JSON.stringify(secretBytes).slice(0, 120), quoted: JSON.stringify(secretBytes).slice(1, 40) },
    { reason: '63 bytes', content: JSON.stringify(secretBytes.slice(1)), quoted: secretBytes.slice(1, 12).join(',') },
    {
      reason: 'a public half that does not match',
      content: JSON.stringify([...secretBytes.slice(0, 32), ...Keypair.generate().publicKey.toBytes()]),
      quoted: secretBytes.slice(0, 12).join(','),
    },
    { reason: 'a word that is neither JSON nor base58', content: 'hunter2-is-my-passphrase-0OIl', quoted: 'hunter2' },
    {
      reason: 'base58 of the wrong length',
      content: bs58.encode(Uint8Array.from(secretBytes.slice(0, 40))),
      quoted: bs58.encode(Uint8Array.from(secretBytes.slice(0, 40))),
    },
  ];
  for (const { reason, content, quoted } of malformed) {
    test(`malformed content (${reason}): a problem naming Secret and key, quoting none of it`, async () => {
      const loaded = await loadNodeKey(reader(secret(NAMESPACE, 'node-key', { keypair: content })), nosanaNode());
      assert.ok('problem' in loaded, 'refused');
      assert.ok(loaded.problem.startsWith(WHERE), loaded.problem);
      assert.ok(!loaded.problem.includes(quoted), `the problem quotes the Secret: ${loaded.problem}`);
      assert.ok(!loaded.problem.includes(content), `the problem quotes the Secret: ${loaded.problem}`);
    });
  }

  test('an error reading the Secret is not turned into a problem: it is thrown, to be retried', async () => {
    const failing = { getSecret: async () => Promise.reject(new Error('secrets is forbidden')) };
    await assert.rejects(loadNodeKey(failing, nosanaNode()), /secrets is forbidden/);
  });
});
