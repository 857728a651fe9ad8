// `nosana-operator download` as the init container runs it: usage errors (exit 2), progress as
// JSON lines on stdout, failures named by resource on stderr (exit 1), and credentials that never
// reach either stream. The last tests start the real launcher as a separate process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runDownload } from '../../../src/cli/download.ts';
import { main } from '../../../src/cli/main.ts';
import { loopback, s3Server } from './loopback.ts';
import type { Loopback } from './loopback.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FAST = { retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 20 }, idleTimeoutMs: 5_000 };
const CREDENTIALS = { accessKeyId: 'AKIDPROCESSTEST', secretAccessKey: 'process-test/secret+value', region: 'eu-west-3' };
const IAM_ENV = {
  AWS_REGION: CREDENTIALS.region,
  AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
};

const servers: Loopback[] = [];
after(async () => Promise.all(servers.map((server) => server.close())));

async function destination(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'download-cli-')), 'resource');
}

async function runInProcess(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } };
  const code = await runDownload(args, io, { env, settings: FAST });
  return { code, stdout, stderr };
}

describe('nosana-operator download: usage', () => {
  const rows: { reason: string; args: string[]; want: RegExp }[] = [
    { reason: 'no resource type', args: ['--dest', '/tmp/x', '--resource', '{}'], want: /exactly one resource type/ },
    { reason: 'two resource types', args: ['S3', 'HF', '--dest', '/tmp/x', '--resource', '{}'], want: /exactly one resource type/ },
    {
      reason: 'an unknown resource type',
      args: ['IPFS', '--dest', '/tmp/x', '--resource', '{"type":"IPFS"}'],
      want: /unknown resource type "IPFS"/,
    },
    { reason: 'no --dest', args: ['S3', '--resource', '{"type":"S3","url":"https://x"}'], want: /--dest is required/ },
    { reason: 'no --resource', args: ['S3', '--dest', '/tmp/x'], want: /--resource is required/ },
    { reason: 'an unknown option', args: ['S3', '--dset', '/tmp/x'], want: /Unknown option '--dset'/ },
    {
      reason: 'credentials in --resource',
      args: [
        'S3',
        '--dest',
        '/tmp/x',
        '--resource',
        '{"type":"S3","url":"https://x","IAM":{"REGION":"r","ACCESS_KEY_ID":"k","SECRET_ACCESS_KEY":"s"}}',
      ],
      want: /must not have "IAM"/,
    },
    {
      reason: 'an Ollama registry that is not http(s)',
      args: ['Ollama', '--dest', '/tmp/x', '--resource', '{"type":"Ollama","model":"m"}', '--ollama-registry', 'file:///srv'],
      want: /--ollama-registry is refused: only http and https/,
    },
  ];
  for (const row of rows) {
    test(`exit 2: ${row.reason}`, async () => {
      const ran = await runInProcess(row.args);
      assert.equal(ran.code, 2);
      assert.match(ran.stderr, row.want);
      assert.equal(ran.stdout, '');
    });
  }

  test('--help prints the usage on stdout, exit 0; the command is listed by the top-level usage', async () => {
    const ran = await runInProcess(['--help']);
    assert.equal(ran.code, 0);
    assert.match(ran.stdout, /^Usage: nosana-operator download S3\|HF\|Ollama --dest DIR --resource JSON/);
    let top = '';
    await main(['--help'], { stdout: { write: (text: string) => (top += text) }, stderr: { write: () => true } });
    assert.match(top, /\n {2}download +fetch one resource/);
  });
});

describe('nosana-operator download: in process', () => {
  test('one JSON line per file, then "done"; exit 0', async () => {
    const server = await s3Server({ objects: { 'm/a.bin': 'aaa', 'm/b.bin': 'bb' } });
    servers.push(server);
    const dest = await destination();
    const ran = await runInProcess(['S3', '--dest', dest, '--resource', JSON.stringify({ type: 'S3', url: `${server.url}/m` })]);
    assert.equal(ran.code, 0, ran.stderr);
    const lines = ran.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(lines.length, 3);
    assert.deepEqual(
      lines
        .slice(0, 2)
        .map((line) => [line.event, line.file])
        .sort(),
      [
        ['status', 'a.bin'],
        ['status', 'b.bin'],
      ],
    );
    assert.deepEqual(lines[2], { event: 'done', resource: `S3 ${server.url}/m`, files: 2, bytes: 5 });
    assert.equal(ran.stderr, '');
  });

  test('a failure is one stderr line naming the resource, exit 1', async () => {
    const server = await s3Server({ objects: {} });
    servers.push(server);
    const ran = await runInProcess([
      'S3',
      '--dest',
      await destination(),
      '--resource',
      JSON.stringify({ type: 'S3', url: `${server.url}/nothing` }),
    ]);
    assert.equal(ran.code, 1);
    assert.equal(
      ran.stderr,
      `nosana-operator download: S3 ${server.url}/nothing: no objects under the resource's URL: check the URL and that the bucket allows listing\n`,
    );
  });
});

/** Runs the real launcher with `env` only (plus PATH), without blocking this process's loopback servers. */
function launch(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(REPO_ROOT, 'node_modules', '.bin', 'node'), [join(REPO_ROOT, 'bin', 'nosana-operator.js'), ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('nosana-operator download: the real process', () => {
  test('an S3 resource with IAM credentials in the environment, signed, into --dest; a second run finds the cache', async () => {
    const server = await s3Server({
      objects: { 'weights/model.safetensors': 'the weights', 'weights/config.json': '{}' },
      credentials: CREDENTIALS,
      bucket: 'models',
    });
    servers.push(server);
    const dest = await destination();
    const args = [
      'download',
      'S3',
      '--dest',
      dest,
      '--resource',
      JSON.stringify({ type: 'S3', url: `${server.url}/models/weights`, bucket: 'models' }),
    ];

    const first = await launch(args, IAM_ENV);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stderr, '');
    const events = first.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; file?: string });
    assert.deepEqual(
      events
        .filter((event) => event.event === 'status')
        .map((event) => event.file)
        .sort(),
      ['config.json', 'model.safetensors'],
    );
    assert.equal(events.at(-1)?.event, 'done');
    assert.equal(await readFile(join(dest, 'model.safetensors'), 'utf8'), 'the weights');
    assert.ok(server.requests.every((request) => request.headers.authorization?.includes('Credential=AKIDPROCESSTEST/')));

    const second = await launch(args, IAM_ENV);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(JSON.parse(second.stdout).event, 'cached');
  });

  test('a refusal that echoes the credentials back: exit 1, the resource named, no credential on stdout or stderr', async () => {
    // A hostile (or careless) endpoint that puts the caller's Authorization and secret in its error.
    const server = await loopback((request, response) => {
      response.writeHead(403, { 'content-type': 'application/xml' });
      response.end(
        `<Error><Code>AccessDenied</Code><Message>denied to ${CREDENTIALS.accessKeyId} with ${CREDENTIALS.secretAccessKey}</Message><Authorization>${request.headers.authorization ?? ''}</Authorization></Error>`,
      );
    });
    servers.push(server);
    const ran = await launch(
      ['download', 'S3', '--dest', await destination(), '--resource', JSON.stringify({ type: 'S3', url: `${server.url}/x` })],
      IAM_ENV,
    );
    assert.equal(ran.code, 1);
    assert.match(
      ran.stderr,
      new RegExp(`^nosana-operator download: S3 ${server.url}/x: listing .* HTTP 403 \\(access refused\\): AccessDenied`),
    );
    for (const secret of [CREDENTIALS.secretAccessKey, CREDENTIALS.accessKeyId]) {
      assert.ok(!ran.stderr.includes(secret) && !ran.stdout.includes(secret), `${secret.slice(0, 4)}… leaked`);
    }
    assert.match(ran.stderr, /\[redacted\]/);
  });
});
