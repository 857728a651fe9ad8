// Fetching one file: retries with backoff (and the server's Retry-After), answers that are not
// retried, a body cut short and resumed with a Range request, redirects held to http(s), and the
// rule that a file appears under its name only when it is complete.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CacheLayout } from '../../../src/download/cache-layout.ts';
import { fetchFile } from '../../../src/download/file-fetch.ts';
import type { HttpRequest } from '../../../src/download/fetch-retry.ts';
import type { FileToFetch } from '../../../src/download/file-fetch.ts';
import { loopback, sendBytes, sha256Hex } from './loopback.ts';
import type { Handler, Loopback } from './loopback.ts';

const FAST = { retry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 2_000 }, idleTimeoutMs: 5_000 };
const BODY = Buffer.from('0123456789'.repeat(100));

const servers: Loopback[] = [];
after(async () => Promise.all(servers.map((server) => server.close())));
async function serve(handler: Handler): Promise<Loopback> {
  const server = await loopback(handler);
  servers.push(server);
  return server;
}

async function layout(): Promise<CacheLayout> {
  return CacheLayout.open(join(await mkdtemp(join(tmpdir(), 'download-fetch-')), 'cache'));
}

function file(url: string, extra: Partial<FileToFetch> = {}): FileToFetch {
  return {
    path: 'model.bin',
    size: BODY.length,
    digest: { algorithm: 'sha256', hex: sha256Hex(BODY) },
    request: (fromByte): HttpRequest => ({ url: `${url}/model.bin`, headers: rangeHeaders(fromByte) }),
    ...extra,
  };
}

function rangeHeaders(fromByte: number | undefined): Record<string, string> {
  return fromByte === undefined ? {} : { range: `bytes=${fromByte}-` };
}

/** Answers with the statuses in `sequence` first, then the body. */
function failingFirst(sequence: { status: number; headers?: Record<string, string> }[]): Handler {
  let calls = 0;
  return (request, response) => {
    const failure = sequence[calls++];
    if (failure !== undefined) response.writeHead(failure.status, failure.headers ?? {}).end('busy');
    else sendBytes(request, response, BODY);
  };
}

describe('fetching a file: what is retried', () => {
  const rows = [
    { reason: '503 twice, then the file: retried until it arrives', sequence: [{ status: 503 }, { status: 503 }], requests: 3 },
    { reason: '429 with Retry-After: 0 is retried', sequence: [{ status: 429, headers: { 'retry-after': '0' } }], requests: 2 },
    { reason: '500 then the file', sequence: [{ status: 500 }], requests: 2 },
  ];
  for (const row of rows) {
    test(row.reason, async () => {
      const server = await serve(failingFirst(row.sequence));
      const cache = await layout();
      const fetched = await fetchFile(cache, file(server.url), FAST);
      assert.equal(fetched.bytes, BODY.length);
      assert.equal(server.requests.length, row.requests);
      assert.deepEqual(await readFile(join(cache.root, 'model.bin')), BODY);
    });
  }

  const final = [
    { reason: '404 is an answer: not retried', status: 404, want: /HTTP 404 \(not found\)/ },
    { reason: '403 is an answer: not retried', status: 403, want: /HTTP 403 \(access refused\)/ },
    { reason: '400 is an answer: not retried', status: 400, want: /HTTP 400/ },
  ];
  for (const row of final) {
    test(row.reason, async () => {
      const server = await serve(failingFirst([{ status: row.status }]));
      await assert.rejects(fetchFile(await layout(), file(server.url), FAST), row.want);
      assert.equal(server.requests.length, 1);
    });
  }

  test('a Retry-After longer than the policy allows ends the retries at once', async () => {
    const server = await serve(failingFirst([{ status: 503, headers: { 'retry-after': '3600' } }]));
    await assert.rejects(fetchFile(await layout(), file(server.url), FAST), /HTTP 503/);
    assert.equal(server.requests.length, 1);
  });

  test("a server that keeps failing is given up on after the policy's attempts, and says so", async () => {
    const server = await serve((_request, response) => response.writeHead(502).end());
    await assert.rejects(fetchFile(await layout(), file(server.url), FAST), /HTTP 502.*\(gave up after 4 attempts\)/);
    assert.equal(server.requests.length, 4);
  });

  test('a Retry-After of one second is waited for', async () => {
    const server = await serve(failingFirst([{ status: 503, headers: { 'retry-after': '1' } }]));
    const started = Date.now();
    await fetchFile(await layout(), file(server.url), FAST);
    assert.ok(Date.now() - started >= 950, 'waited about a second');
  });
});

describe('fetching a file: a body cut short', () => {
  test('is resumed from the byte it stopped at with a Range request (206), and the whole file verifies', async () => {
    let calls = 0;
    const server = await serve((request, response) => {
      calls += 1;
      if (calls === 1) {
        response.writeHead(200, { 'content-length': BODY.length });
        response.write(BODY.subarray(0, 400), () => response.destroy());
        return;
      }
      sendBytes(request, response, BODY);
    });
    const cache = await layout();
    await fetchFile(cache, file(server.url), FAST);
    assert.deepEqual(await readFile(join(cache.root, 'model.bin')), BODY);
    assert.equal(server.requests.length, 2);
    assert.equal(server.requests[1]?.headers.range, 'bytes=400-');
  });

  test('when the server ignores the Range (200, whole body), the file starts over and is still right', async () => {
    let calls = 0;
    const server = await serve((_request, response) => {
      calls += 1;
      response.writeHead(200, { 'content-length': BODY.length });
      if (calls === 1) response.write(BODY.subarray(0, 300), () => response.destroy());
      else response.end(BODY);
    });
    const cache = await layout();
    await fetchFile(cache, file(server.url), FAST);
    assert.deepEqual(await readFile(join(cache.root, 'model.bin')), BODY);
  });

  test('a body that stops arriving is aborted after the idle timeout and retried', async () => {
    let calls = 0;
    const server = await serve((request, response) => {
      calls += 1;
      if (calls === 1) {
        response.writeHead(200, { 'content-length': BODY.length });
        response.write(BODY.subarray(0, 100)); // then silence
        return;
      }
      sendBytes(request, response, BODY);
    });
    const cache = await layout();
    await fetchFile(cache, file(server.url), { ...FAST, idleTimeoutMs: 200 });
    assert.deepEqual(await readFile(join(cache.root, 'model.bin')), BODY);
    assert.equal(server.requests[1]?.headers.range, 'bytes=100-');
  });

  test('while a file is incomplete it exists only under a partial name, never under its own', async () => {
    let release: () => void = () => undefined;
    const halfway = new Promise<void>((resolve) => (release = resolve));
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-length': BODY.length });
      response.write(BODY.subarray(0, 500), () => release());
      setTimeout(() => response.end(BODY.subarray(500)), 300);
    });
    const cache = await layout();
    const fetching = fetchFile(cache, file(server.url), FAST);
    await halfway;
    await assert.rejects(stat(join(cache.root, 'model.bin')), { code: 'ENOENT' });
    assert.equal((await readdir(cache.partialDirectory)).length, 1);
    await fetching;
    assert.equal((await stat(join(cache.root, 'model.bin'))).size, BODY.length);
    assert.deepEqual(await readdir(cache.partialDirectory), []);
  });
});

describe('fetching a file: redirects', () => {
  test('a redirect to file:// is refused, not followed', async () => {
    const server = await serve((_request, response) => response.writeHead(302, { location: 'file:///etc/passwd' }).end());
    await assert.rejects(
      fetchFile(await layout(), file(server.url), FAST),
      /a redirect is refused: only http and https URLs are fetched, not file:/,
    );
  });

  test('a redirect loop ends after ten hops', async () => {
    const server = await serve((request, response) => response.writeHead(302, { location: `${request.url ?? '/'}x` }).end());
    await assert.rejects(fetchFile(await layout(), file(server.url), FAST), /more than 10 redirects/);
    assert.equal(server.requests.length, 11);
  });

  test('a same-origin redirect keeps the Authorization header (the Hub redirects within itself too)', async () => {
    const server = await serve((request, response) => {
      if (request.url === '/model.bin') response.writeHead(307, { location: '/real/model.bin' }).end();
      else sendBytes(request, response, BODY);
    });
    const withToken = file(server.url, { request: () => ({ url: `${server.url}/model.bin`, headers: { authorization: 'Bearer t0ken' } }) });
    await fetchFile(await layout(), withToken, FAST);
    assert.equal(server.requests[1]?.headers.authorization, 'Bearer t0ken');
  });
});

describe('fetching a file: what is already there', () => {
  test('a complete file under its final name with the announced size is kept without a request', async () => {
    const server = await serve((request, response) => sendBytes(request, response, BODY));
    const cache = await layout();
    await fetchFile(cache, file(server.url), FAST);
    const again = await fetchFile(cache, file(server.url), FAST);
    assert.deepEqual(again, { path: 'model.bin', bytes: BODY.length, present: true });
    assert.equal(server.requests.length, 1);
  });

  test('partial directories are swept by a later run once nothing in them changed for an hour, and left alone before that', async () => {
    const root = join(await mkdtemp(join(tmpdir(), 'download-sweep-')), 'cache');
    const crashed = await CacheLayout.open(root);
    const live = await CacheLayout.open(root);
    // A run two hours later sees the crashed run's directory as stale (nothing changed since).
    await CacheLayout.open(root, Date.now() + 2 * 60 * 60 * 1000);
    await assert.rejects(stat(crashed.partialDirectory), { code: 'ENOENT' });
    await assert.rejects(stat(live.partialDirectory), { code: 'ENOENT' });
    // A run now leaves the others alone.
    const first = await CacheLayout.open(root);
    await CacheLayout.open(root);
    await stat(first.partialDirectory);
  });
});
