// Wallets, node keys and tokens are read by the operator and must never come back out: not in a
// log line, an Event, a status, a ConfigMap, a metric, a pinned document or an error message.
// This file drives the whole loop with secrets of its own (a job posted with a wallet and a
// pinning token, run by a node whose key is stored in base58, a cancel), then the paths most
// likely to quote a secret: malformed wallets and node keys, whose errors must name the Secret
// and field but not the bytes, and a token Secret refused for lacking its label. Last, everything
// the operator wrote is swept for every encoding of every secret (test/harness/secret-scan.ts).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { V1Secret } from '@kubernetes/client-node';
import type { Keypair } from '@solana/web3.js';
import bs58 from 'bs58';
import { SECRET_USE_LABEL } from '../../src/api/annotations.ts';
import type { SimulationRule } from '../../src/local-cluster/simulation.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';
import { conditionOf, simpleDefinition, WALLET_KEY, type NosanaJobSpecInput } from '../harness/nosana-fixtures.ts';
import { fundedWallet } from '../harness/nosana-ledger.ts';
import { useNodeScene } from '../harness/node-scene.ts';
import { collectOperatorOutput, describeLeaks, SecretScanner, type ScannedSource, type SecretMaterial } from '../harness/secret-scan.ts';

const SETTINGS = { price: 10n, timeout: 600n };
const RULES: SimulationRule[] = [
  // simpleDefinition() runs ubuntu:24.04; a string matches the image exactly, so a tag needs a RegExp.
  {
    name: 'ubuntu',
    match: { image: /^ubuntu:/ },
    then: { exitCode: 0, runFor: '500ms', logs: [{ stream: 'stdout', text: 'Hello World' }] },
  },
  // A server: runs until it is stopped, so the poster has something to cancel.
  { name: 'forever', match: { image: 'forever' }, then: {} },
];
const FOREVER: NosanaJobSpecInput['definition'] = {
  version: '0.1',
  type: 'container',
  ops: [{ id: 'serve', type: 'container/run', args: { image: 'forever', gpu: true } }],
};

/** A secret of this file and the Secret it is stored in, so the sweep can prove it would see it. */
interface StoredSecret extends SecretMaterial {
  secretName: string;
}

describe('no wallet, node key or token reaches a log, Event, status, ConfigMap, metric or error message', () => {
  const scene = useNodeScene({ prefix: 'leaks', rules: RULES });
  const stored: StoredSecret[] = [];

  async function storeSecret(name: string, data: Record<string, string>, material: SecretMaterial, labels?: Record<string, string>) {
    const { ns, ctx } = scene().jobs;
    await ctx.core.createNamespacedSecret({
      namespace: ns.name,
      body: { metadata: { name, ...(labels === undefined ? {} : { labels }) }, stringData: data },
    });
    stored.push({ ...material, secretName: name });
  }

  function rememberWallet(secretName: string, wallet: Keypair): void {
    stored.push({ label: `wallet Secret ${secretName}`, secretKey: wallet.secretKey, secretName });
  }

  async function readyMessage(kind: 'NosanaMarket' | 'NosanaNode', name: string, reason: string): Promise<string> {
    const { ns, ctx } = scene().jobs;
    return waitFor(
      async () => {
        const object = await ctx.objects.read({ apiVersion: 'nosana.io/v1alpha1', kind, metadata: { name, namespace: ns.name } });
        const ready = conditionOf(object as never, 'Ready');
        if (ready?.reason === reason) return ready.message ?? '';
        throw new Error(`Ready reason ${ready?.reason ?? '?'}: ${ready?.message ?? ''}`);
      },
      { what: `${kind} ${ns.name}/${name} to be refused with ${reason}`, timeoutMs: 60_000, intervalMs: 250 },
    );
  }

  test('a job posted with a wallet and a pinning token runs on a node whose key is stored in base58; another is cancelled while it runs', async (t) => {
    const node = scene();
    const { ns, localnet } = node.jobs;
    try {
      const pinningToken = `pin_${randomBytes(24).toString('hex')}`;
      const rpcToken = `rpc_${randomBytes(24).toString('hex')}`;
      await storeSecret(
        'leak-pinning',
        { jwt: pinningToken },
        { label: 'pinning token', strings: [pinningToken] },
        { [SECRET_USE_LABEL]: 'pinning' },
      );
      await storeSecret(
        'leak-rpc-headers',
        { headers: JSON.stringify({ 'x-api-key': rpcToken }) },
        { label: 'RPC header token', strings: [rpcToken] },
        { [SECRET_USE_LABEL]: 'rpc-headers' },
      );
      const { wallet, walletSecretRef } = await ns.stage('leak', {
        settings: SETTINGS,
        spec: {
          rpc: { url: localnet.info.rpcUrl, headersSecretRef: { name: 'leak-rpc-headers', key: 'headers' } },
          ipfs: {
            pinning: { provider: 'pinata', url: localnet.info.ipfsApiUrl, credentialsSecretRef: { name: 'leak-pinning', key: 'jwt' } },
          },
        },
      });
      rememberWallet(walletSecretRef.name, wallet);
      // Phantom and most wallets export base58; the Solana CLI writes the JSON array (the poster's form).
      const nodeKey = fundedWallet(localnet, { sol: 1n });
      await storeSecret(
        'leak-node-key',
        { [WALLET_KEY]: bs58.encode(nodeKey.secretKey) },
        { label: 'node key Secret leak-node-key', secretKey: nodeKey.secretKey },
      );
      await node.createNode('leak-node', { market: 'leak', keySecret: 'leak-node-key' });
      const queued = await node.waitForNodePhase('leak-node', 'Queued', undefined, 60_000);
      assert.equal(queued.status?.nodeAddress, nodeKey.publicKey.toBase58(), 'the base58 key was read');

      await ns.createJob('leak-done', { market: 'leak', timeout: 600, walletSecretRef, definition: simpleDefinition() });
      const done = await ns.waitForPhase('leak-done', 'Succeeded', undefined, 60_000);
      assert.ok(done.status?.ipfsResult, 'the node pinned a result');
      assert.ok(done.status?.logsConfigMap, 'the logs went to a ConfigMap');
      await node.waitForNode(
        'leak-node',
        'to count the job and queue again',
        (n) => n.status?.jobsCompleted === 1 && n.status.phase === 'Queued',
      );

      await ns.createJob('leak-cancel', { market: 'leak', timeout: 600, walletSecretRef, definition: FOREVER });
      await ns.waitForPhase('leak-cancel', 'Running');
      await waitFor(
        async () => (await node.jobPods()).some((pod) => pod.status?.phase === 'Running') || Promise.reject(new Error('no Pod runs')),
        {
          what: 'the job Pod to run',
          timeoutMs: 30_000,
          intervalMs: 100,
        },
      );
      await ns.deleteJob('leak-cancel');
      await ns.waitForJobGone('leak-cancel', 60_000);
    } catch (error) {
      t.diagnostic(node.agent.diagnostics(40));
      throw error;
    }
  });

  test('malformed wallets and node keys, and an unlabelled token, are refused naming the Secret and field', async () => {
    const node = scene();
    const { ns, localnet } = node.jobs;
    const valid = fundedWallet(localnet, { sol: 1n, nos: 10_000_000n });
    // One byte of the seed changed: still 64 numbers, but the halves no longer match.
    const flipped = Uint8Array.from(valid.secretKey);
    flipped[5] = (flipped[5]! + 1) % 256;
    const short = valid.secretKey.subarray(0, 63);
    // One base58 character changed: a typo made while pasting a Phantom export.
    const base58 = bs58.encode(valid.secretKey);
    const typo = `${base58.slice(0, 10)}${base58[10] === 'A' ? 'B' : 'A'}${base58.slice(11)}`;
    const malformedWallets: { name: string; text: string; bytes: Uint8Array }[] = [
      { name: 'wallet-flipped', text: JSON.stringify([...flipped]), bytes: flipped },
      { name: 'wallet-short', text: JSON.stringify([...short]), bytes: short },
      { name: 'wallet-typo', text: typo, bytes: bs58.decode(typo) },
    ];
    for (const { name, text, bytes } of malformedWallets) {
      await storeSecret(name, { [WALLET_KEY]: text }, { label: `malformed wallet Secret ${name}`, secretKey: bytes });
      await ns.createJob(name, { market: 'leak', walletSecretRef: { name, key: WALLET_KEY }, definition: simpleDefinition() });
    }
    for (const { name } of malformedWallets) {
      const job = await ns.waitForJob(
        name,
        'to refuse its wallet',
        (object) => conditionOf(object, 'Ready')?.reason === 'WalletUnavailable',
      );
      const message = conditionOf(job, 'Ready')?.message ?? '';
      assert.ok(message.includes(`${ns.name}/${name}`) && message.includes(WALLET_KEY), `the Secret and key are named: ${message}`);
    }

    await storeSecret(
      'node-key-short',
      { [WALLET_KEY]: JSON.stringify([...short]) },
      { label: 'malformed node key Secret node-key-short', secretKey: short },
    );
    await node.createNode('broken-node', { market: 'leak', keySecret: 'node-key-short' });
    const nodeMessage = await readyMessage('NosanaNode', 'broken-node', 'KeyUnavailable');
    assert.match(nodeMessage, /63 bytes/, `the shape is described: ${nodeMessage}`);
    assert.ok(nodeMessage.includes(`${ns.name}/node-key-short`), `the Secret is named: ${nodeMessage}`);

    const unlabelledToken = `pin_${randomBytes(24).toString('hex')}`;
    await storeSecret('unlabelled-pinning', { jwt: unlabelledToken }, { label: 'unlabelled pinning token', strings: [unlabelledToken] });
    await ns.market('unlabelled', {
      waitReady: false,
      spec: {
        ipfs: {
          pinning: { provider: 'pinata', url: localnet.info.ipfsApiUrl, credentialsSecretRef: { name: 'unlabelled-pinning', key: 'jwt' } },
        },
      },
    });
    const marketMessage = await readyMessage('NosanaMarket', 'unlabelled', 'SettingsInvalid');
    assert.ok(marketMessage.includes(`${SECRET_USE_LABEL}=pinning`), `the missing label is named: ${marketMessage}`);
  });

  test('while the jobs and nodes exist and after they are deleted and drained, no secret is found anywhere the operator writes', async () => {
    const node = scene();
    const { ns, ctx, localnet } = node.jobs;
    const scanner = new SecretScanner(stored);
    // The sweep proves it could see each secret: the Secret it is stored in is flagged.
    for (const secret of stored) {
      const object: V1Secret = await ctx.core.readNamespacedSecret({ namespace: ns.name, name: secret.secretName });
      const found = scanner.scan(JSON.stringify(object.data)).map((finding) => finding.secret);
      assert.ok(found.includes(secret.label), `the scanner recognises ${secret.label} as stored`);
    }
    const sweep = async (when: string) =>
      (await collectOperatorOutput({ ctx, processes: [node.jobs.controller, node.agent], ipfs: localnet.ipfs.store })).map((source) => ({
        ...source,
        where: `${source.where} [${when}]`,
      }));
    const seen = (sources: readonly ScannedSource[], prefix: string) =>
      sources.filter((source) => source.where.startsWith(prefix) && source.text.length > 2).length;

    // Statuses, the documents they name and the logs ConfigMap go with the objects: read them first.
    const whileHeld = await sweep('while held');
    for (const name of ['leak-done', ...['flipped', 'short', 'typo'].map((kind) => `wallet-${kind}`)])
      assert.equal(seen(whileHeld, `NosanaJob ${ns.name}/${name} status`), 1, `NosanaJob ${name}'s status was read`);
    for (const name of ['leak-node', 'broken-node'])
      assert.equal(seen(whileHeld, `NosanaNode ${ns.name}/${name} status`), 1, `NosanaNode ${name}'s status was read`);
    assert.ok(seen(whileHeld, 'NosanaMarket ') >= 2, 'the markets were read');
    assert.ok(seen(whileHeld, 'IPFS ') >= 2, 'the pinned definition and result were read');
    assert.ok(
      whileHeld.some((source) => source.where.startsWith('ConfigMap ') && source.text.includes('Hello World')),
      "the job's logs ConfigMap was read",
    );

    // What the file's teardown would do, done here so its logs are swept too.
    assert.deepEqual(await ns.releaseJobs(30_000), [], 'every job was cancelled and went');
    const nodes = await ctx.objects.list('nosana.io/v1alpha1', 'NosanaNode', ns.name);
    for (const object of nodes.items) {
      await ctx.objects.delete({
        apiVersion: 'nosana.io/v1alpha1',
        kind: 'NosanaNode',
        metadata: { name: object.metadata?.name ?? '', namespace: ns.name },
      });
    }
    await waitFor(
      async () =>
        (await ctx.objects.list('nosana.io/v1alpha1', 'NosanaNode', ns.name)).items.length === 0 ||
        Promise.reject(new Error('NosanaNodes remain')),
      { what: 'the NosanaNodes to drain and go', timeoutMs: 60_000, intervalMs: 250 },
    );
    await waitFor(
      async () =>
        (await ctx.core.listNamespacedPod({ namespace: node.jobNamespace })).items.length === 0 ||
        Promise.reject(new Error('job Pods remain')),
      { what: 'the job Pods to go', timeoutMs: 30_000, intervalMs: 250 },
    );

    const afterDrain = await sweep('after the drain');
    assert.ok(seen(afterDrain, 'controller stdout') === 1 && seen(afterDrain, 'node-agent stdout') === 1, 'both processes logged');
    assert.ok(
      seen(afterDrain, 'controller /metrics') === 1 && seen(afterDrain, 'node-agent /metrics') === 1,
      'both processes served metrics',
    );
    assert.ok(seen(afterDrain, 'Event ') > 10, 'Events were recorded');
    const leaks = scanner.scanAll([...whileHeld, ...afterDrain]);
    assert.equal(leaks.length, 0, `secrets found in what the operator wrote:\n${describeLeaks(leaks)}`);
  });
});
