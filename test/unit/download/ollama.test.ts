// Ollama resources against a loopback registry: the manifest and its blobs, laid out as Ollama's
// models directory holds them, every blob checked against its digest.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { downloadResource } from '../../../src/download/download.ts';
import { registryServer, sha256Hex } from './loopback.ts';
import type { Loopback } from './loopback.ts';

const FAST = { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 20 }, idleTimeoutMs: 5_000 };
const CONFIG = '{"model_format":"gguf","model_family":"llama"}';
const WEIGHTS = 'GGUF weights of a very small model';
const TEMPLATE = '{{ .Prompt }}';

const servers: Loopback[] = [];
after(async () => Promise.all(servers.map((server) => server.close())));

async function destination(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'download-ollama-')), 'models');
}

describe('Ollama: a model from the registry', () => {
  test('writes manifests/<host>/<namespace>/<model>/<tag> as served and blobs/sha256-<hex> for the config and each layer', async () => {
    const registry = await registryServer({ repository: 'library/llama3', tag: '8b', config: CONFIG, layers: [WEIGHTS, TEMPLATE] });
    servers.push(registry);
    const dest = await destination();
    const outcome = await downloadResource(
      { type: 'Ollama', model: 'llama3:8b' },
      { dest, env: {}, ollamaRegistry: registry.url, settings: FAST },
    );

    // The path keeps the model's own host, registry.ollama.ai, though the bytes came from the loopback.
    assert.equal(await readFile(join(dest, 'manifests/registry.ollama.ai/library/llama3/8b'), 'utf8'), registry.manifest);
    for (const content of [CONFIG, WEIGHTS, TEMPLATE]) {
      assert.equal(await readFile(join(dest, 'blobs', `sha256-${sha256Hex(content)}`), 'utf8'), content);
    }
    assert.deepEqual((await readdir(join(dest, 'blobs'))).length, 3);
    assert.equal(outcome.files, 4, 'three blobs and the manifest');
    const manifestRequest = registry.requests.find((request) => request.target === '/v2/library/llama3/manifests/8b');
    assert.equal(manifestRequest?.headers.accept, 'application/vnd.docker.distribution.manifest.v2+json');
  });

  test('the registry can come from NOSANA_OLLAMA_REGISTRY; a namespaced model keeps its namespace', async () => {
    const registry = await registryServer({ repository: 'someone/tiny', tag: 'latest', config: CONFIG, layers: [WEIGHTS] });
    servers.push(registry);
    const dest = await destination();
    await downloadResource(
      { type: 'Ollama', model: 'someone/tiny' },
      { dest, env: { NOSANA_OLLAMA_REGISTRY: registry.url }, settings: FAST },
    );
    await stat(join(dest, 'manifests/registry.ollama.ai/someone/tiny/latest'));
  });

  test('two models share one store (as two Ollama resources at one target do): each has its own marker, and each is found cached afterwards', async () => {
    const first = await registryServer({ repository: 'library/gemma3', tag: '4b', config: CONFIG, layers: [WEIGHTS] });
    const second = await registryServer({ repository: 'library/gpt-oss', tag: '20b', config: CONFIG, layers: [TEMPLATE] });
    servers.push(first, second);
    const dest = await destination();
    const gemma = { type: 'Ollama' as const, model: 'gemma3:4b' };
    const gpt = { type: 'Ollama' as const, model: 'gpt-oss:20b' };
    assert.equal((await downloadResource(gemma, { dest, env: {}, ollamaRegistry: first.url, settings: FAST })).outcome, 'downloaded');
    assert.equal((await downloadResource(gpt, { dest, env: {}, ollamaRegistry: second.url, settings: FAST })).outcome, 'downloaded');
    await stat(join(dest, 'manifests/registry.ollama.ai/library/gemma3/4b'));
    await stat(join(dest, 'manifests/registry.ollama.ai/library/gpt-oss/20b'));
    assert.equal((await downloadResource(gemma, { dest, env: {}, ollamaRegistry: first.url, settings: FAST })).outcome, 'cached');
    assert.equal((await downloadResource(gpt, { dest, env: {}, ollamaRegistry: second.url, settings: FAST })).outcome, 'cached');
    await assert.rejects(
      downloadResource({ type: 'S3', url: 'http://127.0.0.1:9/m' }, { dest, env: {}, settings: FAST }),
      /already holds another resource/,
      'any other resource is still kept out of a model store',
    );
  });

  test('a blob whose bytes do not match its digest is refused, not kept, and the manifest is not written', async () => {
    // Same length as the real layer, different bytes: only the digest can tell.
    const tampered = WEIGHTS.replace('small', 'EVILS');
    const registry = await registryServer({
      repository: 'library/llama3',
      tag: '8b',
      config: CONFIG,
      layers: [WEIGHTS],
      tamperedFirstLayer: tampered,
    });
    servers.push(registry);
    const dest = await destination();
    await assert.rejects(
      downloadResource({ type: 'Ollama', model: 'llama3:8b' }, { dest, env: {}, ollamaRegistry: registry.url, settings: FAST }),
      new RegExp(
        `file "blobs/sha256-${sha256Hex(WEIGHTS)}": its sha256 is ${sha256Hex(tampered)}, not the ${sha256Hex(WEIGHTS)} announced`,
      ),
    );
    await assert.rejects(stat(join(dest, 'blobs', `sha256-${sha256Hex(WEIGHTS)}`)), { code: 'ENOENT' });
    await assert.rejects(stat(join(dest, 'manifests')), { code: 'ENOENT' });
  });

  test('an unknown model is a 404 that names the manifest', async () => {
    const registry = await registryServer({ repository: 'library/llama3', tag: '8b', config: CONFIG, layers: [WEIGHTS] });
    servers.push(registry);
    await assert.rejects(
      downloadResource(
        { type: 'Ollama', model: 'llama3:70b' },
        { dest: await destination(), env: {}, ollamaRegistry: registry.url, settings: FAST },
      ),
      /manifest of llama3:70b: HTTP 404 \(not found\)/,
    );
  });
});
