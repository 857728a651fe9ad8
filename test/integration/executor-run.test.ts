// `nosana-operator run` end to end on the local cluster: the real scheduler places the job's Pods
// on KWOK GPU nodes, and what each simulated container does is decided by this test's rules from
// what the Pod is (its image and command), never by the executor. The result document is checked
// against the reference node's semantics.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { SimulationWatcher } from '../../src/local-cluster/simulation.ts';
import type { SimulationRule } from '../../src/local-cluster/simulation.ts';
import { useCluster } from '../harness/fixture.ts';
import { runDefinition } from '../harness/run-command.ts';
import type { Ran } from '../harness/run-command.ts';
import type { ClusterContext } from '../harness/fixture.ts';
import { jobExamples, seedDefinitions, sharedMissingReason } from '../unit/job-definition/reference-definitions.ts';

const STORY = 'Once upon a time, Tony the tiny hawk learned to fly. (canned by the test)';

const RULES: SimulationRule[] = [
  {
    name: 'story',
    match: { image: 'docker.io/jeisses/tinyllama:v4' },
    then: { exitCode: 0, runFor: '300ms', logs: [{ stream: 'stdout', text: STORY }] },
  },
  {
    name: 'volume writer',
    match: { image: 'ubuntu', commandLine: /test\.txt/ },
    then: {
      exitCode: 0,
      runFor: '200ms',
      logs: [
        { stream: 'stdout', text: 'test.txt' },
        { stream: 'stdout', text: '/home/podman' },
      ],
    },
  },
  {
    name: 'hello',
    match: { image: 'ubuntu', commandLine: /echo Hello World; ls; pwd;/ },
    then: { exitCode: 0, runFor: '200ms', logs: [{ stream: 'stdout', text: 'Hello World' }] },
  },
  {
    name: 'benchmark',
    match: { image: 'bench' },
    then: {
      exitCode: 3,
      runFor: '200ms',
      logs: [
        { stream: 'stdout', text: 'tokens_per_second=41.5' },
        { stream: 'stdout', text: 'crashed' },
      ],
    },
  },
  { name: 'private', match: { image: /^private\.example\// }, then: { pullError: 'pull access denied' } },
  {
    name: 'gpu report',
    match: { image: 'ubuntu', commandLine: /Device 0: NVIDIA GeForce RTX 3070/ },
    then: {
      exitCode: 0,
      runFor: '200ms',
      logs: [
        { stream: 'stdout', text: 'running ubuntu' },
        { stream: 'stderr', text: 'Device 0: NVIDIA GeForce RTX 3070, compute capability 8.6, VMM: yes' },
        { stream: 'stdout', text: 'Device 1: NVIDIA GeForce RTX 3080, compute capability 8.6, VMM: yes' },
      ],
    },
  },
];

describe('nosana-operator run on the local cluster', { skip: sharedMissingReason }, () => {
  let ctx: ClusterContext;
  let namespace: string;
  let watcher: SimulationWatcher;
  let dir: string;

  before(async () => {
    ctx = await useCluster();
    namespace = await ctx.freshNamespace('run');
    dir = await mkdtemp(join(tmpdir(), 'nosana-run-'));
    watcher = new SimulationWatcher({
      kubeConfig: ctx.kubeConfig,
      logsDir: ctx.handle.kwokLogsDir,
      rules: RULES,
      namespaces: [namespace],
      log: pino({ level: 'silent' }),
    });
    await watcher.start();
  });

  after(async () => {
    await watcher.stop();
  });

  function run(name: string, definition: unknown, extra: string[] = []): Promise<Ran> {
    return runDefinition({ kubeconfigPath: ctx.handle.kubeconfigPath, namespace, dir }, name, definition, extra);
  }

  async function leftovers(): Promise<string[]> {
    const pods = await ctx.core.listNamespacedPod({ namespace });
    return (pods.items ?? []).filter((pod) => pod.metadata?.deletionTimestamp === undefined).map((pod) => pod.metadata?.name ?? '');
  }

  test("the docs' story job: one GPU Pod placed by the scheduler, its log in the result, success", async (t) => {
    const story = seedDefinitions().find((seed) => seed.opIds.includes('tinyllama'));
    assert.ok(story, 'the story example is among the seed definitions');
    const ran = await run('story', story.definition);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.flow.status, 'success');
    const [op] = ran.flow.opStates;
    assert.equal(op?.operationId, 'tinyllama');
    assert.equal(op?.status, 'success');
    assert.equal(op?.exitCode, 0);
    assert.deepEqual(
      op?.logs.map((entry) => entry.log),
      [`${STORY}\n`],
    );
    assert.ok(typeof op?.startTime === 'number' && typeof op.endTime === 'number' && op.endTime >= op.startTime);
    assert.match(ran.stderr, /tinyllama: (launched|running|ready)/, 'progress went to stderr');
    // From the command to the op's Pod running, as the progress lines measured it.
    const running = /\[(\d+\.\d)s\] tinyllama: (running|ready)/.exec(ran.stderr);
    if (running !== null) t.diagnostic(`command to first Pod running: ${running[1]} s`);
    assert.deepEqual(await leftovers(), [], 'the run removed its Pods');
  });

  test("the docs' multi-op job: a volume and two ops in order, each with its log", async (t) => {
    const multi = seedDefinitions().find((seed) => seed.opIds.includes('create-volume'));
    assert.ok(multi, 'the multi-op example is among the seed definitions');
    const ran = await run('multi', multi.definition);
    assert.equal(ran.code, 0, ran.stderr);
    assert.deepEqual(
      ran.flow.opStates.map((op) => [op.operationId, op.status, op.exitCode]),
      [
        ['create-volume', 'success', 0],
        ['run-from-cli', 'success', 0],
        ['run-from-cli-2', 'success', 0],
      ],
    );
    if (process.env['NOSANA_PRINT_FLOW'] === '1') t.diagnostic(JSON.stringify(ran.flow));
    const [, writer, hello] = ran.flow.opStates;
    assert.deepEqual(
      writer?.logs.map((entry) => entry.log),
      ['test.txt\n', '/home/podman\n'],
    );
    assert.deepEqual(
      hello?.logs.map((entry) => entry.log),
      ['Hello World\n'],
    );
    // Ungrouped ops run one after another, in order.
    assert.ok((writer?.endTime ?? 0) <= (hello?.startTime ?? 0), 'the second op started after the first ended');
  });

  test('a failing op fails the flow with its exit code and results; a pull error fails its op with the reason', async () => {
    const ran = await run(
      'failing',
      {
        version: '0.1',
        type: 'container',
        ops: [
          { type: 'container/run', id: 'bench', args: { image: 'bench' }, results: { tps: 'tokens_per_second=([0-9.]+)' } },
          { type: 'container/run', id: 'private', args: { image: 'private.example/model:1' } },
        ],
      },
      ['--image-pull-timeout', '2s'],
    );
    assert.equal(ran.code, 1);
    assert.equal(ran.flow.status, 'failed');
    const [bench, pulled] = ran.flow.opStates;
    assert.deepEqual([bench?.status, bench?.exitCode], ['failed', 3]);
    assert.deepEqual(bench?.results, { tps: ['tokens_per_second=41.5', '41.5'] });
    assert.equal(pulled?.status, 'failed');
    assert.equal(pulled?.errors[0]?.event, 'image-pull-error');
    assert.match(pulled?.errors[0]?.message ?? '', /pull access denied/);
  });

  test('cli-result-extracting: each results regex over the op log, as the node applies them', async () => {
    const example = jobExamples().find((entry) => entry.name === 'job-examples/cli-result-extracting.json');
    assert.ok(example);
    const ran = await run('results', example.definition);
    assert.equal(ran.code, 0, ran.stderr);
    const results = ran.flow.opStates[0]?.results ?? {};
    // No g flag: one match (with its groups) per matching line, accumulated over the lines.
    assert.deepEqual(results['detected-gpu-all-std'], [
      'Device 0: NVIDIA GeForce RTX 3070, compute capability 8.6, VMM: yes',
      'Device 1: NVIDIA GeForce RTX 3080, compute capability 8.6, VMM: yes',
    ]);
    assert.deepEqual(results['empty-result'], []);
    // An invalid regex makes the value the error text.
    assert.equal(typeof results['throw-error'], 'string');
    assert.match(String(results['throw-error']), /regular expression/i);
    // Whether the stderr line is tagged stderr depends on the kubelet splitting streams; KWOK does
    // not (log-streams.ts reads such a log as all stdout), so only the shape is checked here.
    assert.ok(Array.isArray(results['detected-gpu-stderr']));
  });

  test('an invalid definition is a failed result naming the problem, not a crash; nothing is created', async () => {
    const ran = await run('invalid', { version: '0.1', type: 'container', ops: [{ type: 'container/run', id: 'x', args: {} }] });
    assert.equal(ran.code, 1);
    assert.equal(ran.flow.status, 'validation-error');
    assert.match(ran.stderr, /ops\[0\]\.args.*image/);
  });
});
