// `nosana-operator run` before it needs a cluster: usage errors name what is wrong, and a definition
// that cannot run is a failed result document (validation-error or init error), not a crash.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { main } from '../../../src/cli/main.ts';

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['run', ...args], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

async function file(content: unknown): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'run-cli-')), 'job.json');
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('nosana-operator run: what it refuses before touching a cluster', () => {
  const rows: { reason: string; args: () => Promise<string[]>; stderr: RegExp }[] = [
    { reason: 'no file', args: async () => [], stderr: /exactly one job definition file/ },
    { reason: 'an unknown output format', args: async () => ['--output', 'yaml', await file({})], stderr: /--output must be text or json/ },
    {
      reason: 'a timeout that is not a duration',
      args: async () => ['--timeout', 'soon', await file({})],
      stderr: /--timeout: "soon" is not a duration/,
    },
    {
      reason: 'a GPU count that is not a whole number',
      args: async () => ['--gpus-per-job', '1.5', await file({})],
      stderr: /--gpus-per-job/,
    },
    {
      reason: 'an exposure kind there is none of',
      args: async () => ['--expose-kind', 'nodeport', await file({})],
      stderr: /--expose-kind/,
    },
    {
      reason: 'a gateway without its namespace',
      args: async () => ['--gateway', 'public', await file({})],
      stderr: /--gateway must be NAMESPACE\/NAME/,
    },
    {
      reason: 'HTTPRoutes without a gateway to attach to',
      args: async () => ['--expose-domain', 'example.test', '--expose-kind', 'httproute', await file({})],
      stderr: /needs --gateway/,
    },
    { reason: 'a file that is not JSON', args: async () => [await file('{ nope')], stderr: /job\.json: .*JSON/ },
  ];
  for (const row of rows) {
    test(`usage error: ${row.reason}`, async () => {
      const ran = await run(await row.args());
      assert.equal(ran.code, 2);
      assert.match(ran.stderr, row.stderr);
    });
  }

  test('an invalid definition prints a validation-error result naming the field, exit 1', async () => {
    const ran = await run([
      '--output',
      'json',
      await file({ version: '0.1', type: 'container', ops: [{ type: 'container/run', id: 'a', args: {} }] }),
    ]);
    assert.equal(ran.code, 1);
    const flow = JSON.parse(ran.stdout) as { status: string; opStates: unknown[]; errors: string[] };
    assert.equal(flow.status, 'validation-error');
    assert.deepEqual(flow.opStates, []);
    assert.match(flow.errors.join('\n'), /ops\[0\]\.args.*image/);
  });

  test("a dependency the node would refuse at bootstrap is an 'init error' result, exit 1", async () => {
    const ran = await run([
      '--output',
      'json',
      await file({
        version: '0.1',
        type: 'container',
        ops: [
          { type: 'container/run', id: 'a', args: { image: 'ubuntu' }, execution: { group: 'one', depends_on: ['b'] } },
          { type: 'container/run', id: 'b', args: { image: 'ubuntu' }, execution: { group: 'two' } },
        ],
      }),
    ]);
    assert.equal(ran.code, 1);
    assert.equal((JSON.parse(ran.stdout) as { status: string }).status, 'init error');
  });
});
