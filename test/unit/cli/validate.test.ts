import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../../src/cli/main.ts';
import { runValidate } from '../../../src/cli/validate.ts';
import type { CommandIo } from '../../../src/cli/io.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Captured {
  io: CommandIo;
  stdout: () => string[];
  stderr: () => string[];
}

function capture(): Captured {
  let out = '';
  let err = '';
  const lines = (text: string) => text.split('\n').filter((line) => line !== '');
  return {
    io: { stdout: { write: (text: string) => (out += text) }, stderr: { write: (text: string) => (err += text) } },
    stdout: () => lines(out),
    stderr: () => lines(err),
  };
}

const validDefinition = {
  version: '0.1',
  type: 'container',
  meta: { trigger: 'cli' },
  ops: [{ type: 'container/run', id: 'hello', args: { image: 'ubuntu', cmd: 'echo hello', gpu: true } }],
};

const manifests = `apiVersion: nosana.io/v1alpha1
kind: NosanaJob
metadata:
  name: whisper
spec:
  definition:
    version: "0.1"
    type: container
    ops:
      - type: container/run
        id: whisper
        args:
          cmd: [python, whisper.py]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: job-definitions
data: {}
---
apiVersion: nosana.io/v1alpha1
kind: NosanaJob
metadata:
  name: from-config-map
spec:
  definitionFrom:
    configMapKeyRef: { name: job-definitions, key: job.json }
`;

const validManifest = `apiVersion: nosana.io/v1alpha1
kind: NosanaJob
metadata:
  name: hello
spec:
  definition:
    version: "0.1"
    type: container
    ops:
      - type: container/run
        id: hello
        args: { image: ubuntu, cmd: echo hello }
`;

let directory = '';
function file(name: string, content: string): string {
  const path = join(directory, name);
  writeFileSync(path, content);
  return path;
}

before(() => {
  directory = mkdtempSync(join(tmpdir(), 'nosana-validate-'));
});

after(() => {
  rmSync(directory, { recursive: true, force: true });
});

describe('validate command', () => {
  test('a valid JSON definition: exit 0 and one "valid" line', async () => {
    const path = file('good.json', JSON.stringify(validDefinition, null, 2));
    const out = capture();
    assert.equal(await runValidate([path], out.io), 0);
    assert.deepEqual(out.stdout(), [`${path}: valid`]);
    assert.deepEqual(out.stderr(), []);
  });

  test('warnings do not fail the file', async () => {
    const path = file('old-version.json', JSON.stringify({ ...validDefinition, version: '1.0' }));
    const out = capture();
    assert.equal(await runValidate([path], out.io), 0);
    const lines = out.stdout();
    assert.equal(lines.filter((line) => line === `${path}: valid`).length, 1);
    assert.ok(
      lines.some((line) => line.startsWith(`${path}: warning: version: "1.0" is not "0.1"`)),
      lines.join('\n'),
    );
  });

  test('an invalid definition: exit 1 and one line per problem', async () => {
    const path = file(
      'bad.json',
      JSON.stringify({ version: '0.1', type: 'container', ops: [{ type: 'container/run', id: 'a', args: { cmd: 5, expose: ['80a'] } }] }),
    );
    const out = capture();
    assert.equal(await runValidate([path], out.io), 1);
    assert.deepEqual(out.stdout(), [
      `${path}: ops[0].args.cmd: expected a string or an array of strings, got number 5`,
      `${path}: ops[0].args.expose[0]: expected a port number, an exposed-port object {"port": …}, a literal "%%…%%" string or a {"__spread__": "%%…%%"} marker, got "80a"`,
      `${path}: ops[0].args.image: required: container/run needs args.image (global.image is not used by nodes)`,
    ]);
  });

  test('unparsable JSON: exit 2 with line and column', async () => {
    const path = file('broken.json', '{\n  "version": "0.1",\n  "ops": [1, 2,]\n}\n');
    const out = capture();
    assert.equal(await runValidate([path], out.io), 2);
    assert.deepEqual(out.stderr(), [`${path}:3:15: trailing comma before "]"`]);
    assert.deepEqual(out.stdout(), []);
  });

  test('an unreadable file: exit 2, no stack trace', async () => {
    const path = join(directory, 'missing.json');
    const out = capture();
    assert.equal(await runValidate([path], out.io), 2);
    const [line, ...rest] = out.stderr();
    assert.match(line ?? '', new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read file: ENOENT`));
    assert.deepEqual(rest, []);
  });

  test('NosanaJob YAML: paths inside spec.definition, other kinds ignored, definitionFrom noted', async () => {
    const path = file('jobs.yaml', manifests);
    const out = capture();
    assert.equal(await runValidate([path], out.io), 1);
    assert.deepEqual(out.stdout(), [
      `${path}: nosanajob/whisper: spec.definition.ops[0].args.image: required: container/run needs args.image (global.image is not used by nodes)`,
      `${path}: configmap/job-definitions: ignored (not a NosanaJob)`,
      `${path}: nosanajob/from-config-map: spec.definitionFrom refers to a ConfigMap; its definition is checked when the resource is applied`,
    ]);
  });

  test('a valid NosanaJob YAML', async () => {
    const path = file('hello.yaml', validManifest);
    const out = capture();
    assert.equal(await runValidate([path], out.io), 0);
    assert.deepEqual(out.stdout(), [`${path}: valid`]);
  });

  test('a NosanaJob without a definition', async () => {
    const path = file('empty.yaml', 'apiVersion: nosana.io/v1alpha1\nkind: NosanaJob\nmetadata:\n  name: empty\nspec: {}\n');
    const out = capture();
    assert.equal(await runValidate([path], out.io), 1);
    assert.deepEqual(out.stdout(), [
      `${path}: nosanajob/empty: spec.definition: required: expected a job definition object (or spec.definitionFrom naming a ConfigMap)`,
    ]);
  });

  test('unparsable YAML: exit 2 with line and column', async () => {
    const path = file('broken.yaml', 'kind: NosanaJob\nspec:\n  definition: [1,\n');
    const out = capture();
    assert.equal(await runValidate([path], out.io), 2);
    const [line] = out.stderr();
    assert.match(line ?? '', /broken\.yaml:\d+:\d+: \S/);
  });

  test('--lenient turns unknown keys into warnings', async () => {
    const path = file('newer.json', JSON.stringify({ ...validDefinition, priority: 'high' }));
    const strict = capture();
    assert.equal(await runValidate([path], strict.io), 1);
    assert.deepEqual(strict.stdout(), [`${path}: priority: unknown key "priority"`]);
    const lenient = capture();
    assert.equal(await runValidate(['--lenient', path], lenient.io), 0);
    assert.deepEqual(lenient.stdout(), [`${path}: warning: priority: unknown key "priority"`, `${path}: valid`]);
  });

  test('several files: one verdict each, the worst exit code wins', async () => {
    const good = file('a.json', JSON.stringify(validDefinition));
    const bad = file('b.json', JSON.stringify({ ...validDefinition, type: 'vm' }));
    const out = capture();
    assert.equal(await runValidate([good, bad, join(directory, 'missing.json')], out.io), 2);
    assert.deepEqual(out.stdout(), [`${good}: valid`, `${bad}: type: expected "container", got "vm"`]);
  });

  test('usage errors: exit 2 with usage on stderr', async () => {
    for (const args of [[], ['--nope', 'x.json']]) {
      const out = capture();
      assert.equal(await runValidate(args, out.io), 2);
      assert.ok(out.stderr().some((line) => line.startsWith('Usage: nosana-operator validate')));
      assert.deepEqual(out.stdout(), []);
    }
  });
});

describe('nosana-operator main', () => {
  test('--help prints the commands', async () => {
    const out = capture();
    assert.equal(await main(['--help'], out.io), 0);
    assert.ok(out.stdout().some((line) => line.trim().startsWith('validate')));
  });

  test('an unknown subcommand: usage on stderr, exit 2', async () => {
    const out = capture();
    assert.equal(await main(['deploy'], out.io), 2);
    assert.equal(out.stderr()[0], 'nosana-operator: unknown command "deploy"');
    assert.ok(out.stderr().some((line) => line.startsWith('Usage: nosana-operator')));
  });

  test('no subcommand: usage on stderr, exit 2', async () => {
    const out = capture();
    assert.equal(await main([], out.io), 2);
    assert.ok(out.stderr().some((line) => line.startsWith('Usage: nosana-operator')));
  });
});

describe('the real launcher', () => {
  const node = join(REPO_ROOT, 'node_modules', '.bin', 'node');
  const launcher = join(REPO_ROOT, 'bin', 'nosana-operator.js');
  const launch = (...args: string[]) => spawnSync(node, [launcher, ...args], { cwd: directory, encoding: 'utf8', timeout: 30_000 });

  test('validate: exit codes and output lines', () => {
    file('ok.json', JSON.stringify(validDefinition));
    file(
      'wrong.json',
      JSON.stringify({ ...validDefinition, ops: [{ type: 'container/run', id: 'x', args: { image: 'ubuntu', gpu: 'yes' } }] }),
    );

    const good = launch('validate', 'ok.json');
    assert.equal(good.status, 0, good.stderr);
    assert.equal(good.stdout, 'ok.json: valid\n');
    assert.equal(good.stderr, '');

    const mixed = launch('validate', 'ok.json', 'wrong.json');
    assert.equal(mixed.status, 1, mixed.stderr);
    assert.equal(mixed.stdout, 'ok.json: valid\nwrong.json: ops[0].args.gpu: expected a boolean (true or false), got "yes"\n');

    const missing = launch('validate', 'nothing-here.json');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^nothing-here\.json: cannot read file: ENOENT/);
    assert.doesNotMatch(missing.stderr, /\n\s+at /, 'no stack trace');

    const unknown = launch('frobnicate');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
  });
});
