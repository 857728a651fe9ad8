// The localnet IPFS content store: persistence across a restart of the service, limits, and
// refusal to serve a persisted file that does not match its CID.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayReader, KuboClient, PinataClient, computeCidV0 } from '../../src/ipfs/index.ts';
import { ContentStore, createIpfsServer } from '../../src/localnet/ipfs/index.ts';

const LIVENESS = { timeout: 30_000 };

describe('ContentStore persistence', () => {
  let directory: string;

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'nosana-localnet-ipfs-'));
  });

  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  test('content pinned before a restart is served after it', LIVENESS, async () => {
    const definition = { version: '0.1', type: 'container', ops: [{ id: 'hello', type: 'container/run', args: { image: 'ubuntu' } }] };
    const file = new Uint8Array(300_000).map((_, index) => index % 253);

    const firstRun = await createIpfsServer({ store: await ContentStore.open({ directory }) });
    let definitionCid: string;
    let fileCid: string;
    try {
      definitionCid = await new PinataClient({ jwt: 'any', apiUrl: firstRun.apiUrl }).pinJson(definition);
      fileCid = await new KuboClient({ apiUrl: firstRun.kuboApiUrl }).pinBytes(file);
    } finally {
      await firstRun.close();
    }
    assert.deepEqual((await readdir(directory)).sort(), [definitionCid, fileCid].sort(), 'one file per CID, nothing else');

    const restored = await ContentStore.open({ directory });
    assert.equal(restored.objectCount, 2);
    assert.equal(restored.totalBytes, file.length + JSON.stringify(definition).length);
    const secondRun = await createIpfsServer({ store: restored });
    try {
      const reader = new GatewayReader({ gateways: [secondRun.gatewayUrl] });
      assert.deepEqual((await reader.readJson(definitionCid)).value, definition);
      assert.deepEqual((await reader.read(fileCid)).bytes, file);
    } finally {
      await secondRun.close();
    }
  });

  test('a persisted file whose content does not match its name is refused at load', LIVENESS, async () => {
    const broken = await mkdtemp(join(tmpdir(), 'nosana-localnet-ipfs-'));
    try {
      const cid = await computeCidV0(new TextEncoder().encode('original'));
      await writeFile(join(broken, cid), 'tampered');
      await writeFile(join(broken, 'README'), 'not content: ignored');
      await assert.rejects(
        ContentStore.open({ directory: broken }),
        new RegExp(`file ${cid} holds content with CID Qm\\w+; remove or fix it`),
      );
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });
});

describe('ContentStore limits and duplicates', () => {
  test('concurrent adds of the same content store and count it once', async () => {
    const store = await ContentStore.open();
    const bytes = new TextEncoder().encode('same');
    const results = await Promise.all([store.add(bytes), store.add(bytes), store.add(bytes)]);
    assert.equal(new Set(results.map(({ cid }) => cid)).size, 1);
    assert.deepEqual(results.map(({ duplicate }) => duplicate).sort(), [false, true, true]);
    assert.equal(store.totalBytes, bytes.length);
    assert.equal(store.objectCount, 1);
  });

  test('limits must be positive integers', async () => {
    await assert.rejects(ContentStore.open({ maxObjectBytes: 0 }), /maxObjectBytes must be a positive integer, got 0/);
    await assert.rejects(ContentStore.open({ maxTotalBytes: 1.5 }), /maxTotalBytes must be a positive integer, got 1.5/);
  });

  test('fault settings refuse values that make no sense', async () => {
    await assert.rejects(createIpfsServer({ faults: { corruptRate: 2 } }), /corruptRate must be between 0 and 1, got 2/);
    const server = await createIpfsServer();
    try {
      assert.throws(() => {
        server.faults.gatewayDelayMs = -5;
      }, /gatewayDelayMs must be a finite number >= 0, got -5/);
      assert.throws(() => {
        server.faults.pinErrorRate = Number.NaN;
      }, /pinErrorRate must be between 0 and 1, got NaN/);
      assert.equal(server.faults.pinErrorRate, 0, 'a refused value leaves the setting unchanged');
    } finally {
      await server.close();
    }
  });
});
