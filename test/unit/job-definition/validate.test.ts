import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPath, formatProblem, validateJobDefinition } from '../../../src/api/job-definition/index.ts';
import type { ValidationResult } from '../../../src/api/job-definition/index.ts';
import { invalidDefinitions } from './invalid-definitions.ts';
import { jobExamples, seedDefinitions, sharedMissingReason } from './reference-definitions.ts';

function describeResult(result: ValidationResult): string {
  const lines = [
    ...result.problems.map((p) => `error: ${formatProblem(p)}`),
    ...result.warnings.map((p) => `warning: ${formatProblem(p)}`),
  ];
  return lines.join('\n') || '(no problems)';
}

describe('real job definitions are accepted', { skip: sharedMissingReason ?? false }, () => {
  test('every file in job-examples, strict and lenient', () => {
    const examples = jobExamples();
    assert.ok(examples.length >= 10, `expected the job examples, found ${examples.length}`);
    for (const { name, definition } of examples) {
      for (const strictness of ['strict', 'lenient'] as const) {
        const result = validateJobDefinition(definition, { strictness });
        assert.equal(result.ok, true, `${name} (${strictness}):\n${describeResult(result)}`);
        assert.deepEqual(result.problems, []);
        assert.ok(result.definition !== undefined);
      }
    }
  });

  test('the seed documents: story.json, multi_job.json and the gpu-stats + whisper example', () => {
    const seeds = seedDefinitions();
    const byOps = (ids: string[]) => seeds.filter((seed) => seed.opIds.join(',') === ids.join(','));
    const story = byOps(['tinyllama']);
    const multiJob = byOps(['create-volume', 'run-from-cli', 'run-from-cli-2']);
    const whisper = byOps(['gpu-stats', 'run-whisper']);
    assert.ok(
      story.length > 0 && story.every((seed) => !seed.neededCommentRemoval),
      'story.json should be found and parse exactly as printed',
    );
    assert.ok(
      multiJob.length > 0 && multiJob.every((seed) => !seed.neededCommentRemoval),
      'multi_job.json should be found and parse exactly as printed',
    );
    assert.ok(
      whisper.length > 0 && whisper.every((seed) => seed.neededCommentRemoval),
      'the whisper example should be found (it has a // comment line)',
    );
    for (const { name, definition } of seeds) {
      for (const strictness of ['strict', 'lenient'] as const) {
        const result = validateJobDefinition(definition, { strictness });
        assert.equal(result.ok, true, `${name} (${strictness}):\n${describeResult(result)}`);
      }
    }
  });
});

describe('bad definitions are rejected with a path and a readable message', () => {
  test('the table has at least 40 cases', () => {
    assert.ok(invalidDefinitions.length >= 40, `only ${invalidDefinitions.length} cases`);
  });

  for (const { name, definition, problems } of invalidDefinitions) {
    test(name, () => {
      const result = validateJobDefinition(definition);
      assert.equal(result.ok, false, `expected a rejection:\n${describeResult(result)}`);
      assert.equal(result.definition, undefined);
      for (const expected of problems) {
        const match = result.problems.find((problem) => problem.path === expected.path && problem.message.includes(expected.message));
        assert.ok(match, `expected ${expected.path}: …${expected.message}…\ngot:\n${describeResult(result)}`);
      }
      for (const problem of result.problems) {
        assert.doesNotMatch(
          problem.message,
          /Invalid input|Invalid option|Unrecognized key/,
          `zod wording leaked: ${formatProblem(problem)}`,
        );
      }
    });
  }

  test('several problems come back at once, in the order their paths appear', () => {
    const several = invalidDefinitions.find((entry) => entry.name.startsWith('several problems'));
    assert.ok(several);
    const result = validateJobDefinition(several.definition);
    const positions = several.problems.map((expected) =>
      result.problems.findIndex((problem) => problem.path === expected.path && problem.message.includes(expected.message)),
    );
    assert.ok(
      positions.every((position) => position >= 0),
      describeResult(result),
    );
    assert.deepEqual(
      positions,
      [...positions].sort((a, b) => a - b),
      describeResult(result),
    );
  });
});

describe('strict and lenient', () => {
  const withUnknownKeys = {
    version: '0.1',
    type: 'container',
    priority: 'high',
    ops: [{ type: 'container/run', id: 'a', args: { image: 'ubuntu', gpus: 2 }, execution: { retries: 3 } }],
  };

  test('strict: unknown keys are errors naming the key', () => {
    const result = validateJobDefinition(withUnknownKeys, { strictness: 'strict' });
    assert.equal(result.ok, false);
    assert.deepEqual(result.problems.map(formatProblem), [
      'priority: unknown key "priority"',
      'ops[0].args.gpus: unknown key "gpus"; did you mean "gpu"?',
      'ops[0].execution.retries: unknown key "retries"',
    ]);
  });

  test('lenient: the same keys are warnings, and the definition is returned without them', () => {
    const result = validateJobDefinition(withUnknownKeys, { strictness: 'lenient' });
    assert.equal(result.ok, true, describeResult(result));
    assert.deepEqual(result.problems, []);
    assert.deepEqual(result.warnings.map(formatProblem), [
      'priority: unknown key "priority"',
      'ops[0].args.gpus: unknown key "gpus"; did you mean "gpu"?',
      'ops[0].execution.retries: unknown key "retries"',
    ]);
    assert.deepEqual(result.definition, {
      version: '0.1',
      type: 'container',
      ops: [{ type: 'container/run', id: 'a', args: { image: 'ubuntu' }, execution: {} }],
    });
    // The caller's object is left alone.
    assert.equal(withUnknownKeys.priority, 'high');
  });

  test('lenient: every other problem is still an error', () => {
    const result = validateJobDefinition(
      { ...withUnknownKeys, ops: [{ type: 'container/run', id: 'a', args: { gpu: true, extra: 1 } }] },
      { strictness: 'lenient' },
    );
    assert.equal(result.ok, false);
    assert.deepEqual(
      result.problems.map((problem) => problem.path),
      ['ops[0].args.image'],
    );
    assert.deepEqual(
      result.warnings.map((problem) => problem.path),
      ['priority', 'ops[0].args.extra'],
    );
  });

  test('strict is the default', () => {
    assert.equal(validateJobDefinition(withUnknownKeys).ok, false);
  });

  test('keys inside meta and inside maps are never unknown', () => {
    const definition = {
      version: '0.1',
      type: 'container',
      meta: { trigger: 'cli', dashboard_colour: 'blue', system_requirements: { required_vram: 8, future_field: true } },
      global: { variables: { ANYTHING: 'x' }, env: { ANY_NAME: 'y' } },
      ops: [
        {
          type: 'container/run',
          id: 'a',
          args: {
            image: 'ubuntu',
            env: { 'weird key': 'v' },
            expose: {
              port: 80,
              health_checks: [
                { type: 'http', path: '/', method: 'GET', expected_status: 200, continuous: false, headers: { 'X-Any': '1' } },
              ],
            },
          },
          results: { any_name: 'x' },
        },
      ],
    };
    const result = validateJobDefinition(definition);
    assert.equal(result.ok, true, describeResult(result));
    assert.deepEqual(result.warnings, []);
  });
});

describe('warnings that do not reject', () => {
  test('a version other than "0.1" is accepted with a warning', () => {
    const result = validateJobDefinition({ version: '1.0', type: 'container', ops: [] });
    assert.equal(result.ok, true);
    assert.equal(
      formatProblem(result.warnings[0] ?? { path: '', message: '' }),
      'version: "1.0" is not "0.1", the only job-definition version; nodes ignore the field, but current Nosana validators reject other values',
    );
  });

  test('a volume that no create-volume op creates', () => {
    const result = validateJobDefinition({
      version: '0.1',
      type: 'container',
      ops: [{ type: 'container/run', id: 'a', args: { image: 'ubuntu', volumes: [{ name: 'cache', dest: '/cache' }] } }],
    });
    assert.equal(result.ok, true);
    assert.deepEqual(
      result.warnings.map((warning) => warning.path),
      ['ops[0].args.volumes[0].name'],
    );
  });

  test('ids with dots, a missing id, unresolvable literals', () => {
    const result = validateJobDefinition({
      version: '0.1',
      type: 'container',
      global: { variables: { MODEL: 'm' } },
      ops: [
        { type: 'container/run', id: 'v1.2', args: { image: 'ubuntu' }, results: { port: 'port: (\\d+)' } },
        { type: 'container/run', args: { image: 'ubuntu', cmd: ['%%ops.nope.host%%', '%%global.variables.MODLE%%'] } },
      ],
    });
    assert.equal(result.ok, true, describeResult(result));
    assert.deepEqual(result.warnings.map(formatProblem), [
      'ops[0].id: op id "v1.2" contains a dot, so literals such as "%%ops.v1.2.host%%" cannot refer to it',
      'ops[1].args.cmd[0]: %%ops.nope.host%% refers to op "nope", which does not exist',
      'ops[1].args.cmd[1]: %%global.variables.MODLE%% refers to global.variables.MODLE, which is not defined; did you mean "MODEL"?',
      // An absent key sorts after the keys that are there.
      'ops[1].id: missing op id: other ops and literals cannot refer to this op, and current Nosana validators require one',
    ]);
  });

  test('a result used before its op has run', () => {
    const result = validateJobDefinition({
      version: '0.1',
      type: 'container',
      ops: [
        {
          type: 'container/run',
          id: 'consumer',
          args: { image: 'ubuntu', cmd: 'echo %%ops.producer.results.port%%' },
          execution: { group: 'g' },
        },
        { type: 'container/run', id: 'producer', args: { image: 'ubuntu' }, results: { port: 'port: (\\d+)' }, execution: { group: 'g' } },
      ],
    });
    assert.equal(result.ok, true);
    assert.match(result.warnings[0]?.message ?? '', /same group, so list it in execution.depends_on/);
  });
});

describe('paths and messages', () => {
  test('formatPath writes identifiers with dots and other keys in brackets', () => {
    assert.equal(formatPath([]), '(root)');
    assert.equal(formatPath(['ops', 1, 'args', 'expose', 0, 'port']), 'ops[1].args.expose[0].port');
    assert.equal(formatPath(['ops', 0, 'args', 'env', 'my key']), 'ops[0].args.env["my key"]');
    assert.equal(formatPath(['ops', 0, 'results', 'detected-gpu']), 'ops[0].results["detected-gpu"]');
    assert.equal(formatPath(['weird"key']), '["weird\\"key"]');
  });

  test('formatProblem', () => {
    assert.equal(
      formatProblem({ path: 'ops[1].args.expose[0].port', message: 'expected an integer 1–65535, got "80a"' }),
      'ops[1].args.expose[0].port: expected an integer 1–65535, got "80a"',
    );
  });

  test('never throws, even for inputs that are not JSON', () => {
    const cyclic: Record<string, unknown> = { version: '0.1', type: 'container' };
    cyclic.ops = [cyclic];
    for (const input of [undefined, null, 0, Number.NaN, 'x', [], {}, () => 1, Symbol('s'), cyclic, new Date(), Object.create(null)]) {
      const result = validateJobDefinition(input);
      assert.equal(result.ok, false);
      assert.ok(result.problems.length > 0);
    }
  });

  test('an unknown strictness falls back to strict', () => {
    const result = validateJobDefinition({ version: '0.1', type: 'container', ops: [], x: 1 }, { strictness: 'loose' as never });
    assert.equal(result.ok, false);
  });
});
