// Hugging Face resources against a loopback Hub: the recursive tree page after page (Link
// header), resolve URLs that redirect to a CDN, a private repository behind HF_TOKEN, digests
// checked against the tree, and the token kept to the Hub's own origin.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { downloadResource } from '../../../src/download/download.ts';
import type { DownloadOptions } from '../../../src/download/download.ts';
import { hfEndpointFromEnv, nextLink } from '../../../src/download/huggingface.ts';
import type { HuggingFaceDownloadSpec } from '../../../src/download/resource-spec.ts';
import { cdnServer, hubServer, sha256Hex } from './loopback.ts';
import type { HubFile, Loopback } from './loopback.ts';

const FAST = { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 20 }, idleTimeoutMs: 5_000 };
const TOKEN = 'hf_loopbackTokenForTests0123456789';

const servers: Loopback[] = [];
after(async () => Promise.all(servers.map((server) => server.close())));
async function keep<T extends Loopback>(server: Promise<T>): Promise<T> {
  const started = await server;
  servers.push(started);
  return started;
}

async function destination(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'download-hf-')), 'cache');
}

async function download(spec: HuggingFaceDownloadSpec, dest: string, env: DownloadOptions['env']) {
  return downloadResource(spec, { dest, env, settings: FAST });
}

const WAN_FILES: HubFile[] = [
  { path: 'config.json', content: '{"model_type":"wan"}' },
  { path: 'split_files/diffusion_models/wan2.2_t2v.safetensors', content: 'diffusion weights', lfs: true },
  { path: 'split_files/vae/wan_2.1_vae.safetensors', content: 'vae weights', lfs: true },
  { path: 'split_files/text_encoders/umt5.safetensors', content: 'text encoder', lfs: true },
  { path: 'README.md', content: '# model card' },
];

describe('HF: a public repository', () => {
  test('lists the whole tree across pages and writes each file at its repository path', async () => {
    const hub = await keep(hubServer({ repo: 'Comfy-Org/Wan_2.2', revision: 'main', files: WAN_FILES, pageSize: 2 }));
    const dest = await destination();
    const outcome = await download({ type: 'HF', repo: 'Comfy-Org/Wan_2.2' }, dest, { HF_ENDPOINT: hub.url });
    assert.equal(outcome.files, 5);
    for (const file of WAN_FILES) assert.equal(await readFile(join(dest, file.path), 'utf8'), String(file.content));
    const treePages = hub.requests.filter((request) => request.target.startsWith('/api/models/Comfy-Org/Wan_2.2/tree/main?recursive=true'));
    assert.equal(treePages.length, 3, 'five files, two per page: three pages');
    assert.ok(hub.requests.some((request) => request.target === '/Comfy-Org/Wan_2.2/resolve/main/split_files/vae/wan_2.1_vae.safetensors'));
    assert.ok(
      hub.requests.every((request) => request.headers.authorization === undefined),
      'no token, no header',
    );
  });

  test('files keeps those paths (a directory entry keeps what is under it); the revision is used as given', async () => {
    const hub = await keep(hubServer({ repo: 'org/model', revision: 'refs/pr/1', files: WAN_FILES }));
    const dest = await destination();
    await download({ type: 'HF', repo: 'org/model', revision: 'refs/pr/1', files: ['split_files/vae', 'config.json'] }, dest, {
      HF_ENDPOINT: hub.url,
    });
    const written = (await readdir(dest, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile() && !join(entry.parentPath, entry.name).includes('.nosana-'))
      .map((entry) => join(entry.parentPath, entry.name).slice(dest.length + 1))
      .sort();
    assert.deepEqual(written, ['config.json', 'split_files/vae/wan_2.1_vae.safetensors']);
    assert.ok(hub.requests.some((request) => request.target.startsWith('/api/models/org/model/tree/refs%2Fpr%2F1?')));
  });

  test('a files entry the repository does not have fails and is named', async () => {
    const hub = await keep(hubServer({ repo: 'org/model', revision: 'main', files: WAN_FILES }));
    await assert.rejects(
      download({ type: 'HF', repo: 'org/model', files: ['config.json', 'tokenizer.json'] }, await destination(), { HF_ENDPOINT: hub.url }),
      /org\/model@main has no "tokenizer\.json"/,
    );
  });
});

describe('HF: a private repository', () => {
  test('without HF_TOKEN the Hub answers 401 and the error says a token is needed', async () => {
    const hub = await keep(hubServer({ repo: 'org/private', revision: 'main', files: WAN_FILES, token: TOKEN }));
    await assert.rejects(
      download({ type: 'HF', repo: 'org/private' }, await destination(), { HF_ENDPOINT: hub.url }),
      /HTTP 401 \(access refused\).*needs an accessToken/,
    );
  });

  test('with HF_TOKEN every Hub request carries the Bearer token, and the files arrive', async () => {
    const hub = await keep(hubServer({ repo: 'org/private', revision: 'main', files: WAN_FILES, token: TOKEN, pageSize: 3 }));
    const dest = await destination();
    await download({ type: 'HF', repo: 'org/private' }, dest, { HF_ENDPOINT: hub.url, HF_TOKEN: TOKEN });
    assert.equal(await readFile(join(dest, 'README.md'), 'utf8'), '# model card');
    assert.ok(hub.requests.every((request) => request.headers.authorization === `Bearer ${TOKEN}`));
  });

  test('a redirect to a CDN (another origin) is followed without the token', async () => {
    const cdn = await keep(cdnServer(WAN_FILES.map((file) => file.content)));
    const hub = await keep(hubServer({ repo: 'org/private', revision: 'main', files: WAN_FILES, token: TOKEN, cdn: cdn.url }));
    const dest = await destination();
    await download({ type: 'HF', repo: 'org/private' }, dest, { HF_ENDPOINT: hub.url, HF_TOKEN: TOKEN });
    assert.equal(await readFile(join(dest, 'split_files/vae/wan_2.1_vae.safetensors'), 'utf8'), 'vae weights');
    assert.equal(cdn.requests.length, WAN_FILES.length);
    assert.ok(
      cdn.requests.every((request) => request.headers.authorization === undefined),
      'the token stays with the Hub',
    );
  });

  test('a next-page link to another origin is refused (the token would follow it)', async () => {
    const elsewhere = await keep(hubServer({ repo: 'org/private', revision: 'main', files: WAN_FILES }));
    const hub = await keep(
      hubServer({ repo: 'org/private', revision: 'main', files: WAN_FILES, token: TOKEN, pageSize: 2, nextPageOrigin: elsewhere.url }),
    );
    await assert.rejects(
      download({ type: 'HF', repo: 'org/private' }, await destination(), { HF_ENDPOINT: hub.url, HF_TOKEN: TOKEN }),
      /the next page is on another origin/,
    );
    assert.equal(elsewhere.requests.length, 0);
  });
});

describe('HF: what the tree promises is checked', () => {
  test('an LFS file whose sha256 differs from the tree is refused and not kept', async () => {
    const files: HubFile[] = [
      { path: 'model.safetensors', content: 'tampered bytes', lfs: true, announcedSha256: sha256Hex('genuine bytes!') },
    ];
    const hub = await keep(hubServer({ repo: 'org/model', revision: 'main', files }));
    const dest = await destination();
    await assert.rejects(
      download({ type: 'HF', repo: 'org/model' }, dest, { HF_ENDPOINT: hub.url }),
      /file "model\.safetensors": its sha256 is [0-9a-f]{64}, not the [0-9a-f]{64} announced; refusing it/,
    );
    await assert.rejects(stat(join(dest, 'model.safetensors')), { code: 'ENOENT' });
  });

  test('a tree path that climbs out of the destination is refused before any file is fetched', async () => {
    const hub = await keep(
      hubServer({ repo: 'org/model', revision: 'main', files: [{ path: '../../../etc/cron.d/job', content: '* * * * * root x' }] }),
    );
    await assert.rejects(
      download({ type: 'HF', repo: 'org/model' }, await destination(), { HF_ENDPOINT: hub.url }),
      /path in org\/model@main "\.\.\/\.\.\/\.\.\/etc\/cron\.d\/job" is refused: it climbs out/,
    );
    assert.ok(hub.requests.every((request) => request.target.startsWith('/api/')));
  });

  test('a repository id that is not one is refused without a request', async () => {
    await assert.rejects(
      download({ type: 'HF', repo: '../admin' }, await destination(), { HF_ENDPOINT: 'http://127.0.0.1:9' }),
      /not a Hugging Face repository id/,
    );
  });
});

describe('HF: endpoint and paging details', () => {
  const endpoints = [
    { reason: 'unset: the public Hub', env: {}, want: 'https://huggingface.co' },
    { reason: 'a mirror, trailing slash dropped', env: { HF_ENDPOINT: 'https://hf-mirror.com/' }, want: 'https://hf-mirror.com' },
    { reason: 'a mirror under a path keeps the path', env: { HF_ENDPOINT: 'http://mirror.local/hf' }, want: 'http://mirror.local/hf' },
  ];
  for (const row of endpoints) test(`HF_ENDPOINT ${row.reason}`, () => assert.equal(hfEndpointFromEnv(row.env), row.want));
  test('HF_ENDPOINT must be http(s)', () => assert.throws(() => hfEndpointFromEnv({ HF_ENDPOINT: 'ftp://mirror' }), /only http and https/));

  const links = [
    {
      reason: 'the next link of a Hub answer',
      header: '<https://huggingface.co/api/models/a/b/tree/main?recursive=true&cursor=abc>; rel="next"',
      want: 'https://huggingface.co/api/models/a/b/tree/main?recursive=true&cursor=abc',
    },
    { reason: 'next among other relations', header: '<https://x/prev>; rel="prev", <https://x/next>; rel="next"', want: 'https://x/next' },
    { reason: 'no next relation', header: '<https://x/prev>; rel="prev"', want: undefined },
    { reason: 'no header', header: null, want: undefined },
  ];
  for (const row of links) test(`Link: ${row.reason}`, () => assert.equal(nextLink(row.header), row.want));
});
