// The shapes lenient mode takes because Nosana's nodes run them (tolerances.ts), one case each:
// Nosana's validator accepts the definition, strict mode still refuses it, and lenient mode
// accepts it with a warning at the value's path and hands on the value in the shape the executor
// reads (or leaves it out). And the near misses that lenient mode, like Nosana, still refuses.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { validateJobDefinition as nosanaValidateJobDefinition } from '@nosana/sdk/dist/types/job.js';
import { formatPath, formatProblem, validateJobDefinition } from '../../../src/api/job-definition/index.ts';
import { lookup } from '../../../src/api/job-definition/problems.ts';
import type { PathSegment } from '../../../src/api/job-definition/problems.ts';

type Json = Record<string, unknown>;

const CHECK_PATH: PathSegment[] = ['ops', 0, 'args', 'expose', 0, 'health_checks', 0];

/** A definition Nosana and both modes accept: one op exposing 8080 with a POST health check. */
function base(): Json {
  return {
    version: '0.1',
    type: 'container',
    meta: { trigger: 'cli', system_requirements: { required_vram: 8 } },
    global: { env: { MODE: 'serve' } },
    ops: [
      {
        type: 'container/run',
        id: 'web',
        args: {
          image: 'nginx',
          env: { PORT: '8080' },
          expose: [{ port: 8080, health_checks: [{ type: 'http', path: '/', method: 'POST', expected_status: 200, continuous: false }] }],
          resources: [{ type: 'Ollama', model: 'llama3:8b' }],
        },
      },
      { type: 'container/create-volume', id: 'cache', args: { name: 'cache' } },
    ],
  };
}

/** `base()` with the value at `path` set (the key added when missing). */
function withValue(path: readonly PathSegment[], value: unknown): Json {
  const definition = base();
  let parent: Record<PathSegment, unknown> = definition;
  for (const segment of path.slice(0, -1)) parent = parent[segment] as Record<PathSegment, unknown>;
  parent[path[path.length - 1] as PathSegment] = value;
  return definition;
}

interface ToleranceCase {
  reason: string;
  definition: Json;
  /** Path and a fragment of each warning lenient mode gives for it. */
  warnings: { path: PathSegment[]; message: string }[];
  /** Where to read the definition lenient mode returns, and what must be there (`undefined`: nothing). */
  at: PathSegment[];
  want: unknown;
}

const toleranceCases: ToleranceCase[] = [
  {
    reason: 'required_vram written as text is read as its number (the GPU memory hint)',
    definition: withValue(['meta', 'system_requirements', 'required_vram'], '8'),
    warnings: [{ path: ['meta', 'system_requirements', 'required_vram'], message: 'expected a number (GB), got "8"; read as 8' }],
    at: ['meta', 'system_requirements', 'required_vram'],
    want: 8,
  },
  {
    reason: 'vram_total_mb written as text with spaces around it is read as its number',
    definition: withValue(['meta', 'system_requirements'], { vram_total_mb: ' 16000 ' }),
    warnings: [{ path: ['meta', 'system_requirements', 'vram_total_mb'], message: 'read as 16000' }],
    at: ['meta', 'system_requirements', 'vram_total_mb'],
    want: 16000,
  },
  {
    reason: 'required_vram that is no number is left out: nodes never read meta',
    definition: withValue(['meta', 'system_requirements', 'required_vram'], '8GB'),
    warnings: [{ path: ['meta', 'system_requirements', 'required_vram'], message: 'got "8GB"; ignored' }],
    at: ['meta', 'system_requirements', 'required_vram'],
    want: undefined,
  },
  {
    reason: 'system_requirements that is not an object is left out, the rest of meta stays',
    definition: withValue(['meta', 'system_requirements'], ['A100']),
    warnings: [{ path: ['meta', 'system_requirements'], message: 'expected an object, got an array of 1 item; ignored' }],
    at: ['meta'],
    want: { trigger: 'cli' },
  },
  {
    reason: 'required_cuda written as one version is read as a list of one',
    definition: withValue(['meta', 'system_requirements', 'required_cuda'], '12.8'),
    warnings: [{ path: ['meta', 'system_requirements', 'required_cuda'], message: 'read as ["12.8"]' }],
    at: ['meta', 'system_requirements', 'required_cuda'],
    want: ['12.8'],
  },
  {
    reason: 'required_cuda holding numbers is left out',
    definition: withValue(['meta', 'system_requirements', 'required_cuda'], [12.8]),
    warnings: [{ path: ['meta', 'system_requirements', 'required_cuda'], message: 'ignored' }],
    at: ['meta', 'system_requirements', 'required_cuda'],
    want: undefined,
  },
  {
    reason: 'an empty op id is kept: the op runs, only nothing can refer to it',
    definition: withValue(['ops', 0, 'id'], ''),
    warnings: [{ path: ['ops', 0, 'id'], message: 'expected a non-empty op id, got an empty string; kept' }],
    at: ['ops', 0, 'id'],
    want: '',
  },
  {
    reason: 'an op id with spaces is kept',
    definition: withValue(['ops', 0, 'id'], 'web server'),
    warnings: [{ path: ['ops', 0, 'id'], message: 'op id "web server" contains spaces, which current Nosana validators reject' }],
    at: ['ops', 0, 'id'],
    want: 'web server',
  },
  {
    reason: 'an empty create-volume name is kept: the node creates the volume all the same',
    definition: withValue(['ops', 1, 'args', 'name'], ''),
    warnings: [{ path: ['ops', 1, 'args', 'name'], message: 'expected a volume name, got an empty string; kept' }],
    at: ['ops', 1, 'args', 'name'],
    want: '',
  },
  {
    reason: 'expected_status no answer can have is kept: the check then never passes, as on the node',
    definition: withValue([...CHECK_PATH, 'expected_status'], 1000),
    warnings: [{ path: [...CHECK_PATH, 'expected_status'], message: 'got number 1000; kept, but no answer can match it' }],
    at: [...CHECK_PATH, 'expected_status'],
    want: 1000,
  },
  {
    reason: 'a fractional expected_status is kept likewise',
    definition: withValue([...CHECK_PATH, 'expected_status'], 200.5),
    warnings: [{ path: [...CHECK_PATH, 'expected_status'], message: 'got number 200.5; kept' }],
    at: [...CHECK_PATH, 'expected_status'],
    want: 200.5,
  },
  {
    reason: 'an env "__spread__" holding JSON text instead of a literal is kept: the node merges the object it parses at launch',
    definition: withValue(['ops', 0, 'args', 'env', '__spread__'], '{"A":"1"}'),
    warnings: [{ path: ['ops', 0, 'args', 'env', '__spread__'], message: 'got "{\\"A\\":\\"1\\"}"; kept' }],
    at: ['ops', 0, 'args', 'env'],
    want: { PORT: '8080', __spread__: '{"A":"1"}' },
  },
  {
    reason: 'the same in global.env',
    definition: withValue(['global', 'env', '__spread__'], 'not json'),
    warnings: [{ path: ['global', 'env', '__spread__'], message: 'got "not json"; kept' }],
    at: ['global', 'env', '__spread__'],
    want: 'not json',
  },
  {
    reason: 'a body given as an array is sent as its JSON text',
    definition: withValue([...CHECK_PATH, 'body'], ['a', 'b']),
    warnings: [{ path: [...CHECK_PATH, 'body'], message: 'expected a string, got an array of 2 items; sent as its JSON text' }],
    at: [...CHECK_PATH, 'body'],
    want: '["a","b"]',
  },
  {
    reason: 'a body given as an object is sent as its JSON text',
    definition: withValue([...CHECK_PATH, 'body'], { model: 'm', stream: false }),
    warnings: [{ path: [...CHECK_PATH, 'body'], message: 'sent as its JSON text' }],
    at: [...CHECK_PATH, 'body'],
    want: '{"model":"m","stream":false}',
  },
  {
    reason: 'a body given as a number or true is sent as its text',
    definition: withValue([...CHECK_PATH, 'body'], 42),
    warnings: [{ path: [...CHECK_PATH, 'body'], message: 'got number 42; sent as its JSON text' }],
    at: [...CHECK_PATH, 'body'],
    want: '42',
  },
  {
    reason: 'a body of null is no body, as on the node',
    definition: withValue([...CHECK_PATH, 'body'], null),
    warnings: [{ path: [...CHECK_PATH, 'body'], message: 'got null; ignored' }],
    at: [...CHECK_PATH, 'body'],
    want: undefined,
  },
  {
    reason: 'a body of false or 0 is no body, as on the node',
    definition: withValue([...CHECK_PATH, 'body'], 0),
    warnings: [{ path: [...CHECK_PATH, 'body'], message: 'got number 0; ignored' }],
    at: [...CHECK_PATH, 'body'],
    want: undefined,
  },
  {
    reason: 'expose given as a port range is left out: Pods expose single ports',
    definition: withValue(['ops', 0, 'args', 'expose'], '8000-8010'),
    warnings: [{ path: ['ops', 0, 'args', 'expose'], message: 'the port range "8000-8010" is not exposed' }],
    at: ['ops', 0, 'args', 'expose'],
    want: undefined,
  },
  {
    reason: 'port ranges in an expose array are left out, the single ports stay in order, each warning at its own index',
    definition: withValue(['ops', 0, 'args', 'expose'], [8080, '9000-9010', { port: '7000-7001', type: 'web' }, 8081]),
    warnings: [
      { path: ['ops', 0, 'args', 'expose', 1], message: 'the port range "9000-9010" is not exposed' },
      { path: ['ops', 0, 'args', 'expose', 2], message: 'the port range "7000-7001" is not exposed' },
    ],
    at: ['ops', 0, 'args', 'expose'],
    want: [8080, 8081],
  },
  {
    reason: 'a spread marker standing alone as expose is left out: markers are read inside an expose array',
    definition: withValue(['ops', 0, 'args', 'expose'], { __spread__: '%%ops.setup.results.ports%%' }),
    warnings: [{ path: ['ops', 0, 'args', 'expose'], message: 'marker as the whole of expose' }],
    at: ['ops', 0, 'args', 'expose'],
    want: undefined,
  },
  {
    reason: 'an S3 resource with an empty buckets list downloads nothing and is left out, the other resources stay',
    definition: withValue(
      ['ops', 0, 'args', 'resources'],
      [
        { type: 'S3', target: '/data', buckets: [] },
        { type: 'Ollama', model: 'llama3:8b' },
      ],
    ),
    warnings: [{ path: ['ops', 0, 'args', 'resources', 0], message: '"buckets" is an empty array' }],
    at: ['ops', 0, 'args', 'resources'],
    want: [{ type: 'Ollama', model: 'llama3:8b' }],
  },
];

interface RefusalCase {
  reason: string;
  definition: Json;
  /** Path of the problem lenient mode reports. */
  path: PathSegment[];
}

const refusalCases: RefusalCase[] = [
  {
    reason: 'a range whose first port is not below the last is no range',
    definition: withValue(['ops', 0, 'args', 'expose'], '9000-8000'),
    path: ['ops', 0, 'args', 'expose'],
  },
  {
    reason: 'expected_status written as text: Nosana wants a number there',
    definition: withValue([...CHECK_PATH, 'expected_status'], '200'),
    path: [...CHECK_PATH, 'expected_status'],
  },
  {
    reason: 'two ops with the empty id cannot be told apart',
    definition: withValue(
      ['ops'],
      [
        { type: 'container/run', id: '', args: { image: 'a' } },
        { type: 'container/run', id: '', args: { image: 'b' } },
      ],
    ),
    path: ['ops', 1, 'id'],
  },
  {
    reason: 'an op without an id runs under the empty id, so it cannot sit beside an op whose id is ""',
    definition: withValue(
      ['ops'],
      [
        { type: 'container/run', id: '', args: { image: 'a' } },
        { type: 'container/run', args: { image: 'b' } },
      ],
    ),
    path: ['ops', 1, 'id'],
  },
  {
    reason: 'an env value that is not a string: Nosana wants strings in env',
    definition: withValue(['ops', 0, 'args', 'env', 'PORT'], 8080),
    path: ['ops', 0, 'args', 'env', 'PORT'],
  },
];

/** `ops[0].args.expose[1].port` is below `ops[0].args.expose[1]`; `…expose[10]` is not. */
function isAtOrBelow(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
}

function describeProblems(problems: readonly { path: string; message: string }[]): string {
  return problems.map(formatProblem).join('\n') || '(none)';
}

describe('lenient mode takes what Nosana runs', () => {
  test('the base definition is accepted by Nosana and both modes, without warnings', () => {
    assert.equal(nosanaValidateJobDefinition(base()).success, true);
    for (const strictness of ['strict', 'lenient'] as const) {
      const result = validateJobDefinition(base(), { strictness });
      assert.equal(result.ok, true, describeProblems(result.problems));
      assert.deepEqual(result.warnings, []);
    }
  });

  for (const { reason, definition, warnings, at, want } of toleranceCases) {
    test(reason, () => {
      const input = structuredClone(definition);
      assert.equal(nosanaValidateJobDefinition(definition).success, true, 'Nosana accepts it');

      const strict = validateJobDefinition(definition, { strictness: 'strict' });
      assert.equal(strict.ok, false, 'strict mode still refuses it');
      for (const { path } of warnings) {
        assert.ok(
          strict.problems.some((problem) => isAtOrBelow(problem.path, formatPath(path))),
          `expected a problem at or below ${formatPath(path)}:\n${describeProblems(strict.problems)}`,
        );
      }

      const lenient = validateJobDefinition(definition, { strictness: 'lenient' });
      assert.equal(lenient.ok, true, describeProblems(lenient.problems));
      for (const expected of warnings) {
        assert.ok(
          lenient.warnings.some((warning) => warning.path === formatPath(expected.path) && warning.message.includes(expected.message)),
          `expected ${formatPath(expected.path)}: …${expected.message}…\ngot:\n${describeProblems(lenient.warnings)}`,
        );
      }
      const found = lookup(lenient.definition, at);
      if (want === undefined)
        assert.equal(found.found, false, `${formatPath(at)} should be left out, found ${JSON.stringify(found.value)}`);
      else assert.deepEqual(found.value, want);
      assert.deepEqual(JSON.parse(JSON.stringify(lenient.definition)), lenient.definition, 'plain JSON, nothing of the parse left in it');
      assert.deepEqual(definition, input, "the caller's definition is left alone");
    });
  }

  for (const { reason, definition, path } of refusalCases) {
    test(`still refused: ${reason}`, () => {
      assert.equal(nosanaValidateJobDefinition(definition).success, false, 'Nosana refuses it too');
      const lenient = validateJobDefinition(definition, { strictness: 'lenient' });
      assert.equal(lenient.ok, false);
      assert.ok(
        lenient.problems.some((problem) => problem.path === formatPath(path)),
        `expected a problem at ${formatPath(path)}:\n${describeProblems(lenient.problems)}`,
      );
    });
  }
});
