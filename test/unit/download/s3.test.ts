// S3 resources against a loopback S3: listing page after page, GetObject per key, `files`,
// the three shapes, SigV4 when IAM credentials are in the environment (checked by the server with
// its own verifier), and listings written by an attacker.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { downloadResource } from '../../../src/download/download.ts';
import type { DownloadOptions, ProgressEvent } from '../../../src/download/download.ts';
import type { S3DownloadSpec } from '../../../src/download/resource-spec.ts';
import { s3Server } from './loopback.ts';
import type { Loopback } from './loopback.ts';

const FAST = { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 20 }, idleTimeoutMs: 5_000 };
const CREDENTIALS = { accessKeyId: 'AKIDLOOPBACKTEST', secretAccessKey: 'loopback/secret+key/for-tests-only', region: 'eu-central-1' };
const IAM_ENV = {
  AWS_REGION: CREDENTIALS.region,
  AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
};

const servers: Loopback[] = [];
after(async () => Promise.all(servers.map((server) => server.close())));

async function serve(options: Parameters<typeof s3Server>[0]): Promise<Loopback> {
  const server = await s3Server(options);
  servers.push(server);
  return server;
}

async function destination(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'download-s3-')), 'cache');
}

async function download(spec: S3DownloadSpec, dest: string, env: DownloadOptions['env'] = {}) {
  const events: ProgressEvent[] = [];
  const outcome = await downloadResource(spec, { dest, env, settings: FAST, onProgress: (event) => events.push(event) });
  return { outcome, events };
}

/** Every regular file under `root`, relative, without the downloader's own files. */
async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1))
    .filter((path) => !path.startsWith('.nosana-'))
    .sort();
}

const MODEL_OBJECTS = {
  'flux/schnell/model.safetensors': 'weights of the model',
  'flux/schnell/vae/ae.safetensors': 'the autoencoder',
  'flux/schnell/text encoders/t5 ü+x.bin': 'a key that needs encoding',
  'flux/schnell/vae/': '',
  'flux/schnell/README.md': 'readme',
  'flux/schnell/LICENSE': 'license',
  'flux/schnell-fp8/model.safetensors': 'another model that shares the prefix text',
};

describe('S3: an anonymous public prefix', () => {
  test('lists every page (continuation tokens), fetches each object under the prefix, writes them relative to it', async () => {
    const server = await serve({ objects: MODEL_OBJECTS, pageSize: 2 });
    const dest = await destination();
    const { outcome, events } = await download({ type: 'S3', url: `${server.url}/flux/schnell` }, dest);

    assert.deepEqual(await filesUnder(dest), [
      'LICENSE',
      'README.md',
      'model.safetensors',
      'text encoders/t5 ü+x.bin',
      'vae/ae.safetensors',
    ]);
    assert.equal(await readFile(join(dest, 'text encoders/t5 ü+x.bin'), 'utf8'), 'a key that needs encoding');
    assert.equal(await readFile(join(dest, 'vae/ae.safetensors'), 'utf8'), 'the autoencoder');
    assert.deepEqual(outcome, { outcome: 'downloaded', files: 5, bytes: 20 + 15 + 25 + 6 + 7 });

    const listings = server.requests.filter((request) => request.target.includes('list-type=2'));
    // 7 keys start with "flux/schnell" (the fp8 sibling too), 2 per page: 4 pages.
    assert.equal(listings.length, 4);
    assert.ok(listings.every((request) => request.target.includes('prefix=flux%2Fschnell')));
    assert.ok(listings.slice(1).every((request) => request.target.includes('continuation-token=')));
    const gets = server.requests.filter((request) => !request.target.includes('list-type'));
    assert.equal(gets.length, 5, 'the folder placeholder and the sibling prefix are not fetched');
    assert.ok(
      gets.every((request) => request.headers.authorization === undefined),
      'anonymous',
    );

    const statuses = events.filter((event) => event.event === 'status');
    assert.equal(statuses.length, 5, 'one progress line per file');
    assert.deepEqual(statuses.at(-1)?.count, { current: 5, total: 5 });
    assert.deepEqual(statuses.at(-1)?.size, { current: 73, total: 73 });
    assert.deepEqual(events.at(-1), { event: 'done', resource: `S3 ${server.url}/flux/schnell`, files: 5, bytes: 73 });
    assert.deepEqual(
      (await readdir(dest)).sort(),
      ['.nosana-resource.json', 'LICENSE', 'README.md', 'model.safetensors', 'text encoders', 'vae'],
      'nothing of the downloader is left but its marker',
    );
  });

  test('files keeps the named objects, and a directory entry keeps what is under it', async () => {
    const server = await serve({ objects: MODEL_OBJECTS });
    const dest = await destination();
    await download({ type: 'S3', url: `${server.url}/flux/schnell/`, files: ['model.safetensors', 'vae/'] }, dest);
    assert.deepEqual(await filesUnder(dest), ['model.safetensors', 'vae/ae.safetensors']);
  });

  test('a files entry that matches no object fails the download and names the entry', async () => {
    const server = await serve({ objects: MODEL_OBJECTS });
    await assert.rejects(
      download({ type: 'S3', url: `${server.url}/flux/schnell`, files: ['model.safetensors', 'clip_l.safetensors'] }, await destination()),
      /no object at "clip_l\.safetensors"/,
    );
  });

  test('a URL that is a single object downloads that file under its name', async () => {
    const server = await serve({ objects: MODEL_OBJECTS });
    const dest = await destination();
    await download({ type: 'S3', url: `${server.url}/flux/schnell/model.safetensors` }, dest);
    assert.deepEqual(await filesUnder(dest), ['model.safetensors']);
  });

  test('an empty prefix is an error, not an empty model', async () => {
    const server = await serve({ objects: MODEL_OBJECTS });
    await assert.rejects(
      download({ type: 'S3', url: `${server.url}/flux/dev` }, await destination()),
      /no objects under the resource's URL/,
    );
  });

  test('buckets: every URL is listed and fetched into the one destination', async () => {
    const first = await serve({ objects: { 'a/one.bin': '1' } });
    const second = await serve({ objects: { 'b/two.bin': '22', 'b/skip.bin': 'x' } });
    const dest = await destination();
    await download({ type: 'S3', buckets: [{ url: `${first.url}/a` }, { url: `${second.url}/b`, files: ['two.bin'] }] }, dest);
    assert.deepEqual(await filesUnder(dest), ['one.bin', 'two.bin']);
  });
});

describe('S3: IAM credentials sign every request (SigV4)', () => {
  test('a private bucket accepts the signed listing and GETs; the signature covers keys that need encoding', async () => {
    const server = await serve({ objects: MODEL_OBJECTS, pageSize: 3, credentials: CREDENTIALS });
    const dest = await destination();
    await download({ type: 'S3', url: `${server.url}/flux/schnell` }, dest, IAM_ENV);
    assert.equal((await filesUnder(dest)).length, 5);
    assert.ok(
      server.requests.every((request) => request.headers.authorization?.startsWith('AWS4-HMAC-SHA256 Credential=AKIDLOOPBACKTEST/')),
    );
  });

  test('path-style with a bucket (as on R2): /<bucket>/<prefix>, signed', async () => {
    const server = await serve({ objects: { 'entrypoint/run.sh': 'echo hi' }, credentials: CREDENTIALS, bucket: 'ai-model' });
    const dest = await destination();
    await download({ type: 'S3', url: `${server.url}/ai-model/entrypoint`, bucket: 'ai-model' }, dest, IAM_ENV);
    assert.equal(await readFile(join(dest, 'run.sh'), 'utf8'), 'echo hi');
    assert.ok(server.requests.some((request) => request.target.startsWith('/ai-model?list-type=2')));
    assert.ok(server.requests.some((request) => request.target === '/ai-model/entrypoint/run.sh'));
  });

  test('without credentials the private bucket refuses, and the error says so', async () => {
    const server = await serve({ objects: MODEL_OBJECTS, credentials: CREDENTIALS });
    await assert.rejects(
      download({ type: 'S3', url: `${server.url}/flux/schnell` }, await destination()),
      /HTTP 403 \(access refused\): AccessDenied/,
    );
  });

  test('a wrong secret is refused by the signature check, and the secret is not in the error', async () => {
    const server = await serve({ objects: MODEL_OBJECTS, credentials: CREDENTIALS });
    const wrong = { ...IAM_ENV, AWS_SECRET_ACCESS_KEY: 'not-the-secret-but-still-secret' };
    await assert.rejects(download({ type: 'S3', url: `${server.url}/flux/schnell` }, await destination(), wrong), (error: Error) => {
      assert.match(error.message, /SignatureDoesNotMatch/);
      assert.doesNotMatch(error.message, /not-the-secret/);
      return true;
    });
  });

  test('half a credential set is an error, not an anonymous download', async () => {
    const server = await serve({ objects: MODEL_OBJECTS });
    await assert.rejects(
      download({ type: 'S3', url: `${server.url}/flux/schnell` }, await destination(), { AWS_ACCESS_KEY_ID: 'AKID' }),
      /AWS_SECRET_ACCESS_KEY is empty/,
    );
    assert.equal(server.requests.length, 0);
  });
});

describe('S3: listings written by an attacker', () => {
  test('a key that climbs out with ../ is refused by name, before anything is fetched or written', async () => {
    const server = await serve({ objects: { 'model.bin': 'ok', '../../etc/passwd': 'root::0:0' } });
    const parent = await mkdtemp(join(tmpdir(), 'download-attack-'));
    const dest = join(parent, 'a', 'cache');
    await assert.rejects(
      download({ type: 'S3', url: server.url }, dest),
      /key of .* "\.\.\/\.\.\/etc\/passwd" is refused: it climbs out of the destination/,
    );
    assert.equal(server.requests.filter((request) => !request.target.includes('list-type')).length, 0, 'no object was fetched');
    await assert.rejects(stat(join(parent, 'etc')), { code: 'ENOENT' });
    assert.deepEqual(await filesUnder(dest), []);
  });

  test('an odd key outside `files` is not judged: only keys that would be written are', async () => {
    const server = await serve({ objects: { 'm/ok.bin': 'ok', 'm/../../escape': 'x', 'm/odd//key': 'y' } });
    const dest = await destination();
    await download({ type: 'S3', url: `${server.url}/m`, files: ['ok.bin'] }, dest);
    assert.deepEqual(await filesUnder(dest), ['ok.bin']);
  });

  test('an absolute key and a NUL in a key are refused too, each with its reason', async () => {
    for (const [key, reason] of [
      ['/etc/shadow', /absolute path/],
      ['model\u0000.bin', /NUL byte/],
    ] as const) {
      const server = await serve({ objects: { [key]: 'x' } });
      await assert.rejects(download({ type: 'S3', url: server.url }, await destination()), reason);
    }
  });

  test('an object larger than its listed size is cut off and refused; no file appears under its name', async () => {
    // The listing says 10 bytes; GetObject serves 1000.
    const server = await serve({ objects: { 'm/model.bin': 'x'.repeat(1000) }, listedOnly: { 'm/model.bin': 10 } });
    const dest = await destination();
    await assert.rejects(download({ type: 'S3', url: `${server.url}/m` }, dest), /sent more than the 10 bytes announced/);
    await assert.rejects(stat(join(dest, 'model.bin')), { code: 'ENOENT' });
    assert.deepEqual(await filesUnder(dest), []);
  });

  test('a file:// URL is refused before any request', async () => {
    await assert.rejects(
      download({ type: 'S3', url: 'file:///etc/passwd' }, await destination()),
      /only http and https URLs are fetched, not file:/,
    );
  });
});
