// The execution plan: every real job definition plans as NODE.md describes it (groups in order of
// first appearance, ungrouped ops alone, GPUs from the op or global), and the node's bootstrap
// rules (§1.8) turn a valid definition into an `init error` while a definition that does not
// validate stays a validation failure (§2.1.2).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { executionPlanProblems, isPlan, planJob } from '../../../src/executor/plan.ts';
import type { Plan, PlanOutcome } from '../../../src/executor/plan.ts';
import { jobExamples, seedDefinitions, sharedMissingReason } from '../job-definition/reference-definitions.ts';

const JOB = 'Job1111111111111111111111111111111111111111';

function planned(outcome: PlanOutcome, name: string): Plan {
  assert.ok(isPlan(outcome), `${name} should plan, got ${JSON.stringify(outcome)}`);
  return outcome;
}

/** What each file must plan to, written from the file and NODE.md, not from the planner's output. */
interface ExpectedPlan {
  groups: [name: string, opIds: string[]][];
  /** Ids of the ops that get GPUs. */
  gpu: string[];
  exposes?: string[];
  healthChecked?: string[];
  resolvedAtLaunch?: string[];
  volumes?: string[];
  timeouts?: Record<string, number>;
  dependsOn?: Record<string, string[]>;
}

const EXAMPLES: Record<string, ExpectedPlan> = {
  'ComfyUI-flux.json': { groups: [['Flux-comfy', ['Flux-comfy']]], gpu: ['Flux-comfy'], exposes: ['Flux-comfy'] },
  'Cosmos3-Nano.json': {
    groups: [['cosmos3-nano-vllm-omni', ['cosmos3-nano-vllm-omni']]],
    gpu: ['cosmos3-nano-vllm-omni'],
    exposes: ['cosmos3-nano-vllm-omni'],
    healthChecked: ['cosmos3-nano-vllm-omni'],
  },
  'FoldingAtHome.json': { groups: [['foldingathome', ['foldingathome']]], gpu: ['foldingathome'] },
  // global.gpu reaches the container/run op; a create-volume op has no container to give GPUs to.
  'MatLab-Studio.json': {
    groups: [
      ['matlab-data', ['matlab-data']],
      ['matlab-browser', ['matlab-browser']],
    ],
    gpu: ['matlab-browser'],
    exposes: ['matlab-browser'],
    volumes: ['matlab-data'],
  },
  'Pytorch-jupyter-notebook.json': { groups: [['Pytorch', ['Pytorch']]], gpu: ['Pytorch'], exposes: ['Pytorch'] },
  // The confidential envelope: no ops, nothing to run.
  'cli-confidential.json': { groups: [], gpu: [] },
  'cli-create-volume.json': {
    groups: [
      ['create-volume', ['create-volume']],
      ['run-from-cli', ['run-from-cli']],
      ['run-from-cli-2', ['run-from-cli-2']],
    ],
    gpu: [],
    volumes: ['random-id-volume'],
  },
  // The exposed ports come partly from a spread: health checks are known only at launch.
  'cli-job-literals.json': {
    groups: [
      ['pre', ['literal-setter']],
      ['main', ['run-selected-job']],
    ],
    gpu: ['run-selected-job'],
    exposes: ['run-selected-job'],
    resolvedAtLaunch: ['run-selected-job'],
  },
  'cli-nginx-multi-ops.json': {
    groups: [
      ['run', ['nginx-1', 'nginx-2']],
      ['run2', ['nginx-3']],
    ],
    gpu: [],
    exposes: ['nginx-1', 'nginx-2', 'nginx-3'],
    healthChecked: ['nginx-1', 'nginx-2', 'nginx-3'],
    dependsOn: { 'nginx-1': [], 'nginx-2': ['nginx-1'], 'nginx-3': [] },
  },
  'cli-nginx-multiple-expose.json': {
    groups: [['nosana-chat-bot', ['nosana-chat-bot']]],
    gpu: ['nosana-chat-bot'],
    exposes: ['nosana-chat-bot'],
  },
  'cli-private-docker.json': { groups: [['hello-world', ['hello-world']]], gpu: [] },
  'cli-result-extracting.json': { groups: [['hello-world', ['hello-world']]], gpu: [] },
  'cli-s3-bucket-iam.json': { groups: [['huggingface', ['huggingface']]], gpu: ['huggingface'] },
  'hello-world.json': { groups: [['Hello-world', ['Hello-world']]], gpu: ['Hello-world'] },
  'node-health-check-restart.json': {
    groups: [['health-check-restart-test', ['health-check-restart-test']]],
    gpu: [],
    exposes: ['health-check-restart-test'],
    healthChecked: ['health-check-restart-test'],
    timeouts: { 'health-check-restart-test': 600 },
  },
};

const SEEDS: Record<string, ExpectedPlan> = {
  tinyllama: { groups: [['tinyllama', ['tinyllama']]], gpu: ['tinyllama'] },
  // Two ungrouped ops: two groups, run one after the other.
  'gpu-stats,run-whisper': {
    groups: [
      ['gpu-stats', ['gpu-stats']],
      ['run-whisper', ['run-whisper']],
    ],
    gpu: ['gpu-stats', 'run-whisper'],
  },
  'create-volume,run-from-cli,run-from-cli-2': {
    groups: [
      ['create-volume', ['create-volume']],
      ['run-from-cli', ['run-from-cli']],
      ['run-from-cli-2', ['run-from-cli-2']],
    ],
    gpu: [],
    volumes: ['random-id-volume'],
  },
};

function assertPlan(plan: Plan, expected: ExpectedPlan, name: string): void {
  assert.equal(plan.jobId, JOB);
  assert.deepEqual(
    plan.groups.map((group) => [group.name, group.opIds]),
    expected.groups,
    `${name}: groups`,
  );
  const ids = (pick: (op: Plan['ops'][number]) => boolean) => plan.ops.filter(pick).map((op) => op.id);
  assert.deepEqual(
    ids(() => true),
    expected.groups.flatMap(([, opIds]) => opIds),
    `${name}: ops in ops order`,
  );
  assert.deepEqual(
    plan.ops.map((op) => op.index),
    plan.ops.map((_, index) => index),
    `${name}: indices`,
  );
  assert.deepEqual(
    ids((op) => op.gpu),
    expected.gpu,
    `${name}: gpu`,
  );
  assert.deepEqual(
    ids((op) => op.exposes),
    expected.exposes ?? [],
    `${name}: exposes`,
  );
  assert.deepEqual(
    ids((op) => op.hasHealthChecks),
    expected.healthChecked ?? [],
    `${name}: health checks`,
  );
  assert.deepEqual(
    ids((op) => op.exposeResolvedAtLaunch),
    expected.resolvedAtLaunch ?? [],
    `${name}: expose resolved at launch`,
  );
  assert.deepEqual(plan.volumes, expected.volumes ?? [], `${name}: volumes`);
  const timeouts = Object.fromEntries(plan.ops.flatMap((op) => (op.timeoutSeconds === undefined ? [] : [[op.id, op.timeoutSeconds]])));
  assert.deepEqual(timeouts, expected.timeouts ?? {}, `${name}: timeouts`);
  if (expected.dependsOn !== undefined) {
    assert.deepEqual(Object.fromEntries(plan.ops.map((op) => [op.id, op.dependsOn])), expected.dependsOn, `${name}: depends_on`);
  }
  for (const op of plan.ops) {
    assert.equal(op.args, plan.definition.ops[op.index]?.args, `${name}: ${op.id} keeps the args as written`);
    assert.equal(op.stopIfDependentStops, false, `${name}: no example uses stop_if_dependent_stops`);
  }
}

describe('every real job definition plans as NODE.md says', { skip: sharedMissingReason ?? false }, () => {
  test('job-examples: each file has an expectation, and plans to it', () => {
    const examples = jobExamples();
    assert.deepEqual(
      examples.map(({ name }) => name.replace('job-examples/', '')),
      Object.keys(EXAMPLES).sort(),
      'a new example needs its expected plan here',
    );
    for (const { name, definition } of examples) {
      const expected = EXAMPLES[name.replace('job-examples/', '')];
      assert.ok(expected !== undefined);
      assertPlan(planned(planJob(definition, JOB), name), expected, name);
    }
  });

  test('the seed documents: each definition has an expectation, and plans to it', () => {
    const seeds = seedDefinitions();
    assert.ok(seeds.length >= 3, `expected the seed definitions, found ${seeds.length}`);
    for (const seed of seeds) {
      const expected = SEEDS[seed.opIds.join(',')];
      assert.ok(expected !== undefined, `${seed.name}: no expectation for ops ${seed.opIds.join(',')}`);
      assertPlan(planned(planJob(seed.definition, JOB), seed.name), expected, seed.name);
    }
  });

  test('MatLab-Studio (version "1.0", global.image) plans with the validator’s remarks kept as warnings', () => {
    const matlab = jobExamples().find(({ name }) => name.endsWith('MatLab-Studio.json'));
    assert.ok(matlab !== undefined);
    const plan = planned(planJob(matlab.definition, JOB), matlab.name);
    assert.ok(plan.warnings.some((warning) => warning.path === 'version'));
    assert.ok(plan.warnings.some((warning) => warning.path === 'global.image'));
  });
});

// ---------------------------------------------------------------------------------------------
// Hand-made definitions

type Op = Record<string, unknown>;

function run(id: string, execution?: Record<string, unknown>, args: Record<string, unknown> = {}): Op {
  return { type: 'container/run', id, args: { image: 'ubuntu', ...args }, ...(execution === undefined ? {} : { execution }) };
}

function definition(ops: Op[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { version: '0.1', type: 'container', ops, ...extra };
}

interface RuleCase {
  reason: string;
  definition: unknown;
  want: { plan: true } | { initError: RegExp } | { invalidAt: string };
}

const ruleCases: RuleCase[] = [
  {
    reason: 'a dependency in the same group plans',
    definition: definition([run('a', { group: 'g' }), run('b', { group: 'g', depends_on: ['a'] })]),
    want: { plan: true },
  },
  {
    reason: 'two ungrouped ops may depend on each other: the raw groups are both absent',
    definition: definition([run('a'), run('b', { depends_on: ['a'] })]),
    want: { plan: true },
  },
  {
    reason: 'depends_on: [] is fine',
    definition: definition([run('a', { depends_on: [] })]),
    want: { plan: true },
  },
  {
    reason: 'an op that depends on itself is an init error',
    definition: definition([run('a', { depends_on: ['a'] })]),
    want: { initError: /op "a" depends on itself/ },
  },
  {
    reason: 'a dependency that does not exist is an init error',
    definition: definition([run('a', { depends_on: ['nope'] })]),
    want: { initError: /op "a" depends on "nope", which is not an op of this job/ },
  },
  {
    reason: 'a dependency in another group is an init error',
    definition: definition([run('a', { group: 'one' }), run('b', { group: 'two', depends_on: ['a'] })]),
    want: { initError: /op "b" \(group "two"\) depends on "a" \(group "one"\)/ },
  },
  {
    reason: 'the groups compare raw: an ungrouped op whose id names the group is still not in it',
    definition: definition([run('g'), run('b', { group: 'g', depends_on: ['g'] })]),
    want: { initError: /op "b" \(group "g"\) depends on "g" \(no group\)/ },
  },
  {
    reason: 'a dependency cycle is an init error (this project’s addition: its ops could never start)',
    definition: definition([run('a', { group: 'g', depends_on: ['b'] }), run('b', { group: 'g', depends_on: ['a'] })]),
    want: { initError: /dependency cycle: a → b → a/ },
  },
  {
    reason: 'every broken rule is named, in ops order',
    definition: definition([run('a', { depends_on: ['a'] }), run('b', { depends_on: ['zzz'] })]),
    want: { initError: /depends on itself.*; .*"zzz", which is not an op/ },
  },
  {
    reason: 'duplicate op ids fail validation first, as with both Nosana validators (§1.11)',
    definition: definition([run('a'), run('a')]),
    want: { invalidAt: 'ops[1].id' },
  },
  {
    reason: 'a broken dependency does not hide other problems: with a missing image it is a validation failure',
    definition: definition([run('a', { depends_on: ['nope'] }), { type: 'container/run', id: 'b', args: {} }]),
    want: { invalidAt: 'ops[1].args.image' },
  },
  {
    reason: 'depends_on that is not a list of strings is the validator’s to refuse',
    definition: definition([run('a', { depends_on: [1] })]),
    want: { invalidAt: 'ops[0].execution.depends_on[0]' },
  },
  {
    reason: 'not a job definition at all: a validation failure, not a crash',
    definition: 'hello',
    want: { invalidAt: '(root)' },
  },
  {
    reason: 'unknown keys from a newer poster are warnings: the job still plans',
    definition: definition([run('a', undefined, { shiny_new_arg: true })], { brand_new: 1 }),
    want: { plan: true },
  },
];

describe('the execution-plan rules (§1.8) and how a refusal is reported', () => {
  for (const { reason, definition: input, want } of ruleCases) {
    test(reason, () => {
      const outcome = planJob(input, JOB);
      if ('plan' in want) {
        assert.ok(isPlan(outcome), JSON.stringify(outcome));
      } else if ('initError' in want) {
        assert.ok('initError' in outcome, JSON.stringify(outcome));
        assert.match(outcome.initError, want.initError);
      } else {
        assert.ok('invalid' in outcome, JSON.stringify(outcome));
        assert.ok(
          outcome.invalid.some((problem) => problem.path === want.invalidAt),
          `expected a problem at ${want.invalidAt}: ${JSON.stringify(outcome.invalid)}`,
        );
      }
    });
  }

  test('duplicate ids are one of the bootstrap rules too (reached only if a validator let them through)', () => {
    assert.deepEqual(
      executionPlanProblems([
        { id: 'a', rawGroup: undefined, dependsOn: [] },
        { id: 'a', rawGroup: undefined, dependsOn: [] },
      ]),
      ['duplicate op id "a"'],
    );
  });

  test('the input is never modified', () => {
    const input = definition([run('a', { depends_on: ['nope'] })]);
    const before = JSON.stringify(input);
    planJob(input, JOB);
    assert.equal(JSON.stringify(input), before);
  });
});

describe('what the plan says about each op', () => {
  test('groups run in order of first appearance; an ungrouped op is its own group', () => {
    const plan = planned(
      planJob(definition([run('a', { group: 'x' }), run('b'), run('c', { group: 'x' }), run('d', { group: 'y' })]), JOB),
      'groups',
    );
    assert.deepEqual(
      plan.groups.map((group) => [group.name, group.opIds]),
      [
        ['x', ['a', 'c']],
        ['b', ['b']],
        ['y', ['d']],
      ],
    );
    assert.deepEqual(
      plan.ops.map((op) => op.group),
      ['x', 'b', 'x', 'y'],
    );
  });

  test('gpu: the node takes op.gpu || global.gpu (§2.3), so an op’s gpu: false does not switch global.gpu off', () => {
    const withGlobal = planned(
      planJob(
        definition([run('off', undefined, { gpu: false }), run('inherits'), run('on', undefined, { gpu: true })], {
          global: { gpu: true },
        }),
        JOB,
      ),
      'gpu',
    );
    assert.deepEqual(
      withGlobal.ops.map((op) => [op.id, op.gpu]),
      [
        ['off', true],
        ['inherits', true],
        ['on', true],
      ],
    );
    const withoutGlobal = planned(
      planJob(
        definition([run('off', undefined, { gpu: false }), run('unset'), run('on', undefined, { gpu: true })], { global: { gpu: false } }),
        JOB,
      ),
      'gpu',
    );
    assert.deepEqual(
      withoutGlobal.ops.map((op) => [op.id, op.gpu]),
      [
        ['off', false],
        ['unset', false],
        ['on', true],
      ],
    );
  });

  test('execution fields and restart tries carry over', () => {
    const plan = planned(
      planJob(
        definition([
          run('a', { group: 'g' }, { restart_policy: { policy: 'on-failure', restart_tries: 3 } }),
          run('b', { group: 'g', depends_on: ['a'], stop_if_dependent_stops: true, timeout: 30 }, { restart_policy: 'on-failure' }),
        ]),
        JOB,
      ),
      'execution',
    );
    const [a, b] = plan.ops;
    assert.ok(a !== undefined && b !== undefined);
    assert.equal(a.restartTries, 3);
    assert.equal(b.restartTries, undefined, 'on-failure without tries restarts without bound');
    assert.deepEqual([b.dependsOn, b.stopIfDependentStops, b.timeoutSeconds], [['a'], true, 30]);
    assert.deepEqual([a.dependsOn, a.stopIfDependentStops, a.timeoutSeconds], [[], false, undefined]);
  });

  test('expose: a bare port exposes without checks, a checked port gates readiness, a literal is known at launch', () => {
    const check = { type: 'http', path: '/', method: 'GET', expected_status: 200, continuous: false };
    const plan = planned(
      planJob(
        definition(
          [
            run('bare', undefined, { expose: 8080 }),
            run('checked', undefined, { expose: [{ port: 80, health_checks: [check] }] }),
            run('empty-checks', undefined, { expose: [{ port: 80, health_checks: [] }] }),
            run('literal', undefined, { expose: '%%global.variables.PORTS%%' }),
            run('none'),
          ],
          { global: { variables: { PORTS: '[80]' } } },
        ),
        JOB,
      ),
      'expose',
    );
    assert.deepEqual(
      plan.ops.map((op) => [op.id, op.exposes, op.hasHealthChecks, op.exposeResolvedAtLaunch]),
      [
        ['bare', true, false, false],
        ['checked', true, true, false],
        ['empty-checks', true, false, false],
        ['literal', true, false, true],
        ['none', false, false, false],
      ],
    );
  });

  test('volumes: each created volume once, in ops order', () => {
    const volume = (id: string, name: string): Op => ({ type: 'container/create-volume', id, args: { name } });
    const plan = planned(planJob(definition([volume('v1', 'data'), volume('v2', 'cache'), volume('v3', 'data')]), JOB), 'volumes');
    assert.deepEqual(plan.volumes, ['data', 'cache']);
  });

  test('an op without an id (allowed once, with a warning) plans under the empty id', () => {
    const plan = planned(planJob(definition([{ type: 'container/run', args: { image: 'ubuntu' } }]), JOB), 'no id');
    assert.deepEqual(
      plan.ops.map((op) => [op.id, op.group]),
      [['', '']],
    );
    assert.ok(plan.warnings.some((warning) => warning.path === 'ops[0].id'));
  });
});
