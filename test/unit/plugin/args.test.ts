// The plugin's command lines before any cluster is involved: the flags kubectl users type parse as
// kubectl parses them, and every mistake is a usage error (exit 2) naming what is wrong; the entry
// point turns failures into one line and the documented exit code.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  ALL_NAMESPACES_OPTION,
  COMMON_OPTIONS,
  OUTPUT_OPTION,
  outputFormat,
  parseCommandArgs,
  positionalArguments,
} from '../../../src/plugin/args.ts';
import { EXIT_UNAVAILABLE, EXIT_USAGE, PluginError } from '../../../src/plugin/errors.ts';
import { checkObjectName, generatedJobName, maxCostFlag, nosanaJobManifest, timeoutFlag } from '../../../src/plugin/job-manifest.ts';
import { kindNamed } from '../../../src/plugin/kinds.ts';
import { runPlugin } from '../../../src/plugin/main.ts';
import type { PluginIo } from '../../../src/plugin/command.ts';
import { parseWaitTarget } from '../../../src/plugin/wait-condition.ts';

/** A command's surroundings with its output captured and an environment of the test's choosing. */
function capturedIo(env: NodeJS.ProcessEnv = {}): { io: PluginIo; stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: { write: (text: string) => (out += text) },
      stderr: { write: (text: string) => (err += text) },
      env,
      signal: new AbortController().signal,
      now: () => Date.parse('2026-05-01T12:00:00Z'),
    },
    stdout: () => out,
    stderr: () => err,
  };
}

/** A kubeconfig naming a server where nothing listens: a port that was free a moment ago. */
async function unreachableKubeconfig(): Promise<{ path: string; server: string }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  const path = join(await mkdtemp(join(tmpdir(), 'kubectl-nosana-')), 'kubeconfig');
  await writeFile(
    path,
    `apiVersion: v1
kind: Config
clusters: [{ name: nowhere, cluster: { server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true } }]
users: [{ name: nobody, user: { token: t } }]
contexts: [{ name: nowhere, context: { cluster: nowhere, user: nobody, namespace: team } }]
current-context: nowhere
`,
  );
  return { path, server: `https://127.0.0.1:${port}` };
}

const OPTIONS = { ...COMMON_OPTIONS, ...ALL_NAMESPACES_OPTION, ...OUTPUT_OPTION, watch: { type: 'boolean', short: 'w' } } as const;

function usageFailure(run: () => unknown, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof PluginError, `a PluginError, not ${String(error)}`);
    assert.equal(error.exitCode, EXIT_USAGE);
    assert.match(error.message, message);
    return true;
  });
}

describe('kubectl nosana: flags', () => {
  const cases: { reason: string; args: string[]; want: Record<string, unknown>; positionals: string[] }[] = [
    {
      reason: 'short flags as kubectl spells them',
      args: ['jobs', '-n', 'team', '-o', 'wide', '-w'],
      want: { namespace: 'team', output: 'wide', watch: true },
      positionals: ['jobs'],
    },
    {
      reason: 'long flags with =',
      args: ['--namespace=team', '--output=json', 'nodes'],
      want: { namespace: 'team', output: 'json' },
      positionals: ['nodes'],
    },
    { reason: '-A and a glued -o value', args: ['-A', '-oyaml'], want: { 'all-namespaces': true, output: 'yaml' }, positionals: [] },
    { reason: '--kubeconfig', args: ['--kubeconfig', '/tmp/k', 'markets'], want: { kubeconfig: '/tmp/k' }, positionals: ['markets'] },
  ];
  for (const { reason, args, want, positionals } of cases) {
    test(reason, () => {
      const parsed = parseCommandArgs(args, OPTIONS);
      assert.deepEqual({ ...parsed.values }, want);
      assert.deepEqual(parsed.positionals, positionals);
    });
  }

  test('an unknown flag, a missing value or a value for a boolean are usage errors', () => {
    usageFailure(() => parseCommandArgs(['--bogus'], OPTIONS), /Unknown option '--bogus'$/);
    usageFailure(() => parseCommandArgs(['-n'], OPTIONS), /--namespace/);
    usageFailure(() => parseCommandArgs(['--watch=yes'], OPTIONS), /--watch/);
  });

  test('positional arguments: each required one named when missing, an extra one named', () => {
    assert.deepEqual(positionalArguments(['story'], ['JOB']), ['story']);
    assert.deepEqual(positionalArguments(['jobs'], [], ['KIND', 'NAME']), ['jobs', undefined]);
    usageFailure(() => positionalArguments([], ['JOB']), /^missing JOB$/);
    usageFailure(() => positionalArguments(['a', 'b'], ['JOB']), /unexpected argument "b"/);
  });

  test('-o: only the formats the command prints', () => {
    assert.equal(outputFormat(undefined, ['json']), 'text');
    assert.equal(outputFormat('yaml', ['json', 'yaml']), 'yaml');
    assert.throws(() => outputFormat('wide', ['json', 'yaml']), /-o wide: this command prints json, yaml/);
  });

  test('kinds by every name kubectl knows them by', () => {
    for (const word of ['jobs', 'job', 'nj', 'NosanaJobs', 'nosanajob']) assert.equal(kindNamed(word)?.kind, 'NosanaJob', word);
    for (const word of ['markets', 'nmkt', 'nosanamarkets']) assert.equal(kindNamed(word)?.kind, 'NosanaMarket', word);
    for (const word of ['nodes', 'nnode', 'nosananode']) assert.equal(kindNamed(word)?.kind, 'NosanaNode', word);
    assert.equal(kindNamed('pods'), undefined);
  });

  test('--for: conditions (any case), phase=, delete; anything else named', () => {
    assert.deepEqual(parseWaitTarget('Completed'), { condition: 'Completed' });
    assert.deepEqual(parseWaitTarget('condition=ready'), { condition: 'Ready' });
    assert.deepEqual(parseWaitTarget('phase=running'), { phase: 'Running' });
    assert.deepEqual(parseWaitTarget('delete'), { deleted: true });
    assert.throws(() => parseWaitTarget('Done'), /--for Done: a NosanaJob's conditions are Completed, Ready/);
    assert.throws(() => parseWaitTarget('phase=Finished'), /phase is one of Pending, Posting/);
    assert.throws(() => parseWaitTarget('jsonpath={.x}'), /expected a condition/);
  });
});

describe('kubectl nosana post: what is applied', () => {
  test('the definition wrapped as spec.definition with the flags, and nothing the flags did not set', () => {
    const definition = { version: '0.1', type: 'container', ops: [] };
    assert.deepEqual(nosanaJobManifest(definition, { name: 'story-abcde', namespace: 'team', market: 'gpu' }), {
      apiVersion: 'nosana.io/v1alpha1',
      kind: 'NosanaJob',
      metadata: { name: 'story-abcde', namespace: 'team' },
      spec: { market: 'gpu', definition },
    });
    const full = nosanaJobManifest(definition, {
      name: 'x',
      namespace: 'team',
      market: 'gpu',
      timeoutSeconds: 1800,
      walletSecret: 'poster',
      maxCost: '0.75',
    });
    assert.deepEqual(full.spec, {
      market: 'gpu',
      definition,
      timeout: 1800,
      maxCost: '0.75',
      walletSecretRef: { name: 'poster', key: 'keypair' },
    });
  });

  test('--timeout in whole seconds, rounded up; --max-cost as a NOS amount; both refused by name when wrong', () => {
    assert.equal(timeoutFlag('30m'), 1800);
    assert.equal(timeoutFlag('1h30m'), 5400);
    assert.equal(timeoutFlag('1.5s'), 2);
    assert.throws(() => timeoutFlag('soon'), /--timeout must be a number of seconds or a duration/);
    assert.throws(() => timeoutFlag('0s'), /--timeout must be longer than zero/);
    assert.equal(maxCostFlag('0.750'), '0.75');
    assert.equal(maxCostFlag('2'), '2');
    assert.throws(() => maxCostFlag('-1'), /--max-cost: "-1" is not a NOS amount/);
    assert.throws(() => maxCostFlag('0.0000001'), /at most 6 decimals/);
  });

  test('names: generated from the file like generateName, given ones checked', () => {
    const fixed = () => Buffer.from([0, 1, 2, 3, 4]);
    assert.equal(generatedJobName('/jobs/Story Job.json', fixed), 'story-job-bcdfg');
    assert.equal(generatedJobName('___.json', fixed), 'job-bcdfg');
    assert.match(generatedJobName('story.json'), /^story-[a-z0-9]{5}$/);
    assert.notEqual(generatedJobName('story.json'), generatedJobName('story.json'), 'two posts of one file get two names');
    assert.equal(checkObjectName('story-1', '--name'), 'story-1');
    assert.throws(() => checkObjectName('Story', '--name'), /--name "Story": a Kubernetes name is lower-case/);
    assert.throws(() => checkObjectName('-x', '--wallet'), /--wallet "-x"/);
  });
});

describe('kubectl nosana: the entry point', () => {
  test('no command: the usage on stderr, exit 2; --help: on stdout, exit 0; an unknown command is named', async () => {
    const none = capturedIo();
    assert.equal(await runPlugin([], none.io), EXIT_USAGE);
    assert.match(none.stderr(), /Usage: kubectl nosana <command>/);
    const help = capturedIo();
    assert.equal(await runPlugin(['--help'], help.io), 0);
    for (const command of ['get', 'logs', 'result', 'post', 'stop', 'extend', 'markets', 'wait']) {
      assert.match(help.stdout(), new RegExp(`\\n  ${command} +\\S`), `the usage lists ${command}`);
    }
    const unknown = capturedIo();
    assert.equal(await runPlugin(['apply'], unknown.io), EXIT_USAGE);
    assert.match(unknown.stderr(), /unknown command "apply"/);
  });

  test('every command has a --help that needs no cluster', async () => {
    for (const command of ['get', 'logs', 'result', 'post', 'stop', 'extend', 'markets', 'wait']) {
      const run = capturedIo();
      assert.equal(await runPlugin([command, '--help'], run.io), 0, command);
      assert.match(run.stdout(), new RegExp(`^Usage: kubectl nosana ${command}`), command);
      assert.match(run.stdout(), /--namespace/, `${command} documents -n`);
    }
  });

  test('logs --help says that live logs from Nosana nodes outside this cluster are later work', async () => {
    const run = capturedIo();
    await runPlugin(['logs', '--help'], run.io);
    assert.match(run.stdout().replace(/\s+/g, ' '), /Live logs of a job run by a Nosana node outside this cluster are later work/);
  });

  test('a usage error: one line naming it and where the help is, exit 2', async () => {
    const run = capturedIo();
    assert.equal(await runPlugin(['wait'], run.io), EXIT_USAGE);
    assert.equal(run.stderr(), 'kubectl nosana wait: missing JOB\nRun "kubectl nosana wait --help" for usage.\n');
  });

  test('no kubeconfig to be found: exit 3 saying so', async () => {
    const run = capturedIo({ HOME: '/nonexistent' });
    assert.equal(await runPlugin(['get', 'jobs'], run.io), EXIT_UNAVAILABLE);
    assert.match(run.stderr(), /^kubectl nosana get: cannot load the kubeconfig: no cluster to talk to/);
  });

  test('a cluster that does not answer: exit 3 naming its address', async () => {
    const run = capturedIo({ HOME: '/nonexistent' });
    const { path, server } = await unreachableKubeconfig();
    assert.equal(await runPlugin(['get', 'jobs', '--kubeconfig', path], run.io), EXIT_UNAVAILABLE);
    assert.equal(run.stderr(), `kubectl nosana get: cannot reach the cluster at ${server}: fetch failed (ECONNREFUSED)\n`);
  });
});
