// The destination as a cache shared by jobs: a completed download leaves a marker, a second run
// for the same resource only checks it, a marker for another resource is refused, and a download
// that failed halfway leaves no marker and resumes with the files it already has.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { downloadResource } from '../../../src/download/download.ts';
import type { ProgressEvent } from '../../../src/download/download.ts';
import type { DownloadSpec } from '../../../src/download/resource-spec.ts';
import { MARKER_FILE } from '../../../src/download/safe-path.ts';
import { hubServer, loopback, s3Server } from './loopback.ts';
import type { Loopback } from './loopback.ts';

const FAST = { retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 20 }, idleTimeoutMs: 5_000 };
const OBJECTS = { 'm/model.bin': 'weights', 'm/config.json': '{}', 'm/tokenizer.json': '{"v":1}' };

const servers: Loopback[] = [];
after(async () => Promise.all(servers.map((server) => server.close())));
async function keep(server: Promise<Loopback>): Promise<Loopback> {
  const started = await server;
  servers.push(started);
  return started;
}

async function destination(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'download-cache-')), 'cache');
}

async function download(spec: DownloadSpec, dest: string, env: Record<string, string> = {}) {
  const events: ProgressEvent[] = [];
  const outcome = await downloadResource(spec, { dest, env, settings: FAST, onProgress: (event) => events.push(event) });
  return { outcome, events };
}

describe('the cache marker', () => {
  test('a completed download records the resource and its files; running again makes no request', async () => {
    const server = await keep(s3Server({ objects: OBJECTS }));
    const dest = await destination();
    const spec: DownloadSpec = { type: 'S3', url: `${server.url}/m` };
    await download(spec, dest);
    const marker = JSON.parse(await readFile(join(dest, MARKER_FILE), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(marker.resource, { type: 'S3', url: `${server.url}/m`, files: null, bucket: null, buckets: null });
    assert.deepEqual(marker.files, [
      { path: 'config.json', size: 2 },
      { path: 'model.bin', size: 7 },
      { path: 'tokenizer.json', size: 7 },
    ]);

    const requestsBefore = server.requests.length;
    const again = await download(spec, dest);
    assert.deepEqual(again.outcome, { outcome: 'cached', files: 3, bytes: 16 });
    assert.deepEqual(again.events, [{ event: 'cached', resource: `S3 ${server.url}/m`, files: 3, bytes: 16 }]);
    assert.equal(server.requests.length, requestsBefore, 'not even a listing');
  });

  test('a spec that differs only by a default (HF revision "main") is the same resource', async () => {
    const hub = await keep(hubServer({ repo: 'org/m', revision: 'main', files: [{ path: 'a.json', content: '{}' }] }));
    const dest = await destination();
    await download({ type: 'HF', repo: 'org/m' }, dest, { HF_ENDPOINT: hub.url });
    const again = await download({ type: 'HF', repo: 'org/m', revision: 'main' }, dest, { HF_ENDPOINT: hub.url });
    assert.equal(again.outcome.outcome, 'cached');
  });

  test('a destination holding another resource is refused, naming what it holds; nothing is fetched or changed', async () => {
    const server = await keep(s3Server({ objects: OBJECTS }));
    const dest = await destination();
    await download({ type: 'S3', url: `${server.url}/m`, files: ['model.bin'] }, dest);
    const markerBefore = await readFile(join(dest, MARKER_FILE), 'utf8');
    const requestsBefore = server.requests.length;
    await assert.rejects(
      download({ type: 'S3', url: `${server.url}/m` }, dest),
      /the destination already holds another resource \(S3 .*"files":\["model\.bin"\].*\); refusing to mix two resources in one cache/,
    );
    await assert.rejects(download({ type: 'Ollama', model: 'llama3' }, dest), /already holds another resource/);
    assert.equal(server.requests.length, requestsBefore);
    assert.equal(await readFile(join(dest, MARKER_FILE), 'utf8'), markerBefore);
  });

  test('a marker that is not one this downloader wrote is refused rather than trusted or overwritten', async () => {
    const dest = await destination();
    await download({ type: 'S3', url: `${(await keep(s3Server({ objects: OBJECTS }))).url}/m` }, dest);
    await writeFile(
      join(dest, MARKER_FILE),
      '{"version":1,"resource":{"type":"S3"},"files":[{"path":"../../etc/passwd","size":1}],"completedAt":"x"}',
    );
    await assert.rejects(download({ type: 'S3', url: 'http://127.0.0.1:9/m' }, dest), /cache marker that cannot be trusted/);
    await writeFile(join(dest, MARKER_FILE), 'not json');
    await assert.rejects(download({ type: 'S3', url: 'http://127.0.0.1:9/m' }, dest), /cannot be trusted \(not JSON/);
  });

  test('a marked file that went missing means the download runs again, fetching only what is missing', async () => {
    const server = await keep(s3Server({ objects: OBJECTS }));
    const dest = await destination();
    const spec: DownloadSpec = { type: 'S3', url: `${server.url}/m` };
    await download(spec, dest);
    await rm(join(dest, 'tokenizer.json'));
    const requestsBefore = server.requests.length;
    const again = await download(spec, dest);
    assert.equal(again.outcome.outcome, 'downloaded');
    const newRequests = server.requests.slice(requestsBefore).filter((request) => !request.target.includes('list-type'));
    assert.deepEqual(
      newRequests.map((request) => request.target),
      ['/m/tokenizer.json'],
    );
    assert.equal(await readFile(join(dest, 'tokenizer.json'), 'utf8'), '{"v":1}');
    const present = again.events.filter((event) => event.event === 'status' && event.present).length;
    assert.equal(present, 2);
  });
});

describe('a download that fails halfway', () => {
  test('leaves no marker; the next run keeps the complete files and fetches the rest', async () => {
    let broken = true;
    const s3 = await keep(s3Server({ objects: OBJECTS }));
    // In front of the S3 stand-in: model.bin fails with 404 until the fault is repaired.
    const proxy = await keep(
      loopback(async (request, response) => {
        if (broken && request.url === '/m/model.bin') {
          response.writeHead(404).end('<Error><Code>NoSuchKey</Code></Error>');
          return;
        }
        const upstream = await fetch(`${s3.url}${request.url ?? '/'}`);
        response.writeHead(upstream.status, Object.fromEntries(upstream.headers));
        response.end(Buffer.from(await upstream.arrayBuffer()));
      }),
    );
    const dest = await destination();
    const spec: DownloadSpec = { type: 'S3', url: `${proxy.url}/m` };
    await assert.rejects(downloadResource(spec, { dest, env: {}, settings: FAST, concurrency: 1 }), /file "model\.bin": HTTP 404/);
    await assert.rejects(readFile(join(dest, MARKER_FILE)), { code: 'ENOENT' });
    assert.equal(await readFile(join(dest, 'config.json'), 'utf8'), '{}', 'the file fetched before the failure is kept');

    broken = false;
    const fileRequestsBefore = proxy.requests.filter((request) => !request.target.includes('list-type')).length;
    await downloadResource(spec, { dest, env: {}, settings: FAST, concurrency: 1 });
    const fileRequests = proxy.requests.filter((request) => !request.target.includes('list-type')).slice(fileRequestsBefore);
    assert.ok(!fileRequests.some((request) => request.target === '/m/config.json'), 'config.json was already complete');
    assert.equal(await readFile(join(dest, 'model.bin'), 'utf8'), 'weights');
    await readFile(join(dest, MARKER_FILE));
  });
});
