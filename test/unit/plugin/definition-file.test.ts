// The file `post` is given, checked before anything reaches a cluster: every way it can be wrong is
// a usage error (exit 2) naming the file and the line or JSON path of the problem.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { readDefinition } from '../../../src/plugin/definition-file.ts';
import { EXIT_USAGE } from '../../../src/plugin/errors.ts';

let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubectl-nosana-definition-'));
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function refusal(path: string, message: RegExp): Promise<void> {
  await assert.rejects(readDefinition(path), (error: Error & { exitCode?: number }) => {
    assert.equal(error.exitCode, EXIT_USAGE);
    assert.match(error.message, message);
    return true;
  });
}

describe('kubectl nosana post: the definition file', () => {
  test("the seeds' story job is taken as it is", async () => {
    const { definition, warnings } = await readDefinition(new URL('../../fixtures/story.json', import.meta.url).pathname);
    assert.equal((definition as { ops: { id: string }[] }).ops[0]?.id, 'tinyllama');
    assert.deepEqual(warnings, []);
  });

  test('a problem of the definition: its JSON path and what is wrong, for each one', async () => {
    const path = await file(
      'bad.json',
      JSON.stringify({ version: '0.1', type: 'container', ops: [{ id: 'a', type: 'container/run', args: { imag: 'ubuntu' } }] }),
    );
    await refusal(
      path,
      /bad\.json is not a valid Nosana job definition \(2 problems\):\n {2}ops\[0\]\.args\.imag: unknown key "imag"; did you mean "image"\?\n {2}ops\[0\]\.args\.image: required/,
    );
  });

  test('JSON that does not parse: the line and column', async () => {
    await refusal(
      await file('broken.json', '{\n  "version": "0.1",\n  "ops": [\n}'),
      /broken\.json cannot be parsed:\n {2}.*broken\.json:4:1: /,
    );
  });

  test('a NosanaJob manifest is sent to kubectl apply', async () => {
    await refusal(
      await file('job.yaml', 'apiVersion: nosana.io/v1alpha1\nkind: NosanaJob\nmetadata: { name: x }\n'),
      /is a Kubernetes manifest \(kind NosanaJob\), not a Nosana job definition: apply it with kubectl apply -f/,
    );
  });

  test('several documents, or no file at all', async () => {
    await refusal(await file('two.yaml', 'version: "0.1"\n---\nversion: "0.1"\n'), /expected one job definition, found 2 documents/);
    await refusal(join(dir, 'missing.json'), /missing\.json: cannot read file: ENOENT/);
  });
});
