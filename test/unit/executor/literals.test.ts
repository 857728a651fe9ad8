// Literal and collection-operator resolution (NODE.md §1.10) as a table, then the saved example
// that uses them all, fed with what its first op really prints. Each row's reason is the rule.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { containerRunArgsSchema } from '../../../src/api/job-definition/index.ts';
import type { LogEntry } from '../../../src/executor/flow-state.ts';
import { resolveOpArgs } from '../../../src/executor/literals.ts';
import type { LiteralValues, OpLiteralValues, ResolvedArgs } from '../../../src/executor/literals.ts';
import { extractResults } from '../../../src/executor/results.ts';
import { jobExamples, sharedMissingReason } from '../job-definition/reference-definitions.ts';

const GLOBALS: LiteralValues['globals'] = {
  job: 'JobAddr1111111111111111111111111111111111111',
  project: 'Project111111111111111111111111111111111111',
  host: 'NodeAddr11111111111111111111111111111111111',
  frps_address: 'node.k8s.prd.nos.ci',
  variables: { MODEL: 'org/model-7b', EMPTY: '', PORTS: '[8000, 8001]', EXPOSE: '{"port": 9000}' },
};

function values(ops: Record<string, OpLiteralValues> = {}): LiteralValues {
  return { ops, globals: GLOBALS };
}

const setup = (results: Record<string, unknown>): Record<string, OpLiteralValues> => ({ setup: { host: 'job-0', results } });

interface Row {
  reason: string;
  args: Record<string, unknown>;
  values?: LiteralValues;
  /** The resolved args, or every fragment the error message must contain. */
  want: { args: Record<string, unknown> } | { error: string[] };
}

const rows: Row[] = [
  // Whole-string literals in string fields
  {
    reason: 'a string field that is one literal of a single-item results value takes that item',
    args: { image: '%%ops.setup.results.image%%' },
    values: values(setup({ image: ['repo/img:1'] })),
    want: { args: { image: 'repo/img:1' } },
  },
  {
    reason: 'a string field that is one literal of a longer array takes the items joined with spaces',
    args: { cmd: '%%ops.setup.results.words%%' },
    values: values(setup({ words: ['serve', '--port', '80'] })),
    want: { args: { cmd: 'serve --port 80' } },
  },
  {
    reason: 'the docs example (with the "results." its literal leaves out): an array [4, 3] into a string field gives "4 3"',
    args: { cmd: '%%ops.result.results.arr%%' },
    values: values({ result: { results: { arr: [4, 3] } } }),
    want: { args: { cmd: '4 3' } },
  },
  {
    reason: 'a results value that matched nothing resolves (to an empty string in a string field)',
    args: { work_dir: '%%ops.setup.results.none%%' },
    values: values(setup({ none: [] })),
    want: { args: { work_dir: '' } },
  },
  {
    reason: 'JSON text in the raw value is parsed: a single JSON object item becomes the field',
    args: { expose: '%%ops.setup.results.expose%%' },
    values: values(setup({ expose: ['{"port": 9000}'] })),
    want: { args: { expose: { port: 9000 } } },
  },
  {
    reason: 'a value that is not an array is taken raw, JSON text parsed (a variable holding a JSON object)',
    args: { expose: '%%global.variables.EXPOSE%%' },
    want: { args: { expose: { port: 9000 } } },
  },
  {
    reason: 'a variable holding a JSON array is an array: joined in a string field',
    args: { cmd: '%%global.variables.PORTS%%' },
    want: { args: { cmd: '8000 8001' } },
  },
  {
    reason: 'a variable holding a JSON array is an array: flattened into an array field',
    args: { expose: [80, '%%global.variables.PORTS%%'] },
    want: { args: { expose: [80, 8000, 8001] } },
  },
  // Literals in arrays
  {
    reason: 'an array item that is one literal is replaced by the value’s items, flattened into the array',
    args: { cmd: ['hello', '%%ops.setup.results.cmd%%', 'test test'] },
    values: values(setup({ cmd: ['--model', 'org/model-7b'] })),
    want: { args: { cmd: ['hello', '--model', 'org/model-7b', 'test test'] } },
  },
  {
    reason: 'the docs example (with "results."): [4, 3] into ["%%…%%", 2, 1] gives [4, 3, 2, 1], numbers kept',
    args: { cmd: ['%%ops.result.results.arr%%', 2, 1] },
    values: values({ result: { results: { arr: [4, 3] } } }),
    want: { args: { cmd: [4, 3, 2, 1] } },
  },
  {
    reason: 'JSON text items are parsed and flattened too: ports from a results value',
    args: { expose: [80, '%%ops.setup.results.ports%%'] },
    values: values(setup({ ports: ['[8000, {"port": 8001}]'] })),
    want: { args: { expose: [80, 8000, { port: 8001 }] } },
  },
  {
    reason: 'text that holds no literal is never re-parsed, even when it looks like JSON',
    args: { cmd: ['[1, 2]', '{"a": 1}'], env: { CONFIG: '{"a": 1}', LIST: '["x", "y"]' } },
    want: { args: { cmd: ['[1, 2]', '{"a": 1}'], env: { CONFIG: '{"a": 1}', LIST: '["x", "y"]' } } },
  },
  // Embedded literals
  {
    reason: 'literals inside longer strings are interpolated',
    args: { env: { API: 'http://%%ops.nginx.host%%:80/%%global.job%%' } },
    values: values({ nginx: { host: 'job-1' } }),
    want: { args: { env: { API: `http://job-1:80/${GLOBALS.job}` } } },
  },
  {
    reason: 'an array interpolated into a string is joined with spaces',
    args: { cmd: 'run %%ops.setup.results.words%% now' },
    values: values(setup({ words: ['a', 'b'] })),
    want: { args: { cmd: 'run a b now' } },
  },
  {
    reason: 'an object interpolated into a string is written as JSON',
    args: { cmd: 'echo %%ops.setup.results.config%%' },
    values: values(setup({ config: ['{"a": 1}'] })),
    want: { args: { cmd: 'echo {"a":1}' } },
  },
  {
    reason: 'literals inside objects inside arrays resolve, whole-string ones shaped like any field',
    args: { resources: [{ type: 'S3', url: 'https://models.example/%%ops.setup.results.path%%', target: '%%ops.setup.results.target%%' }] },
    values: values(setup({ path: ['llama/7b'], target: ['/models'] })),
    want: { args: { resources: [{ type: 'S3', url: 'https://models.example/llama/7b', target: '/models' }] } },
  },
  // Every kind of value
  {
    reason: 'global and globals name the same values: job, project, host, frps_address, variables',
    args: {
      env: {
        JOB: '%%global.job%%',
        PROJECT: '%%globals.project%%',
        NODE: '%%global.host%%',
        FRPS: '%%globals.frps_address%%',
        MODEL: '%%global.variables.MODEL%%',
        MODEL2: '%%globals.variables.MODEL%%',
      },
    },
    want: {
      args: {
        env: {
          JOB: GLOBALS.job,
          PROJECT: GLOBALS.project,
          NODE: GLOBALS.host,
          FRPS: 'node.k8s.prd.nos.ci',
          MODEL: 'org/model-7b',
          MODEL2: 'org/model-7b',
        },
      },
    },
  },
  {
    reason: 'an op publishes host, endpoint.<port>, deployment_endpoint and container_ip',
    args: {
      env: {
        HOST: '%%ops.web.host%%',
        URL: 'https://%%ops.web.endpoint.8080%%',
        LB: '%%ops.web.deployment_endpoint%%',
        IP: '%%ops.web.container_ip%%',
      },
    },
    values: values({
      web: {
        host: 'job-2',
        endpoints: { 8080: 'abc.node.k8s.prd.nos.ci' },
        deploymentEndpoint: 'lb.node.k8s.prd.nos.ci',
        containerIp: '10.1.2.3',
      },
    }),
    want: { args: { env: { HOST: 'job-2', URL: 'https://abc.node.k8s.prd.nos.ci', LB: 'lb.node.k8s.prd.nos.ci', IP: '10.1.2.3' } } },
  },
  {
    reason: 'a path may go on into a results value (an item by its index)',
    args: { cmd: ['%%ops.setup.results.pair.1%%'] },
    values: values(setup({ pair: ['a=1', '1'] })),
    want: { args: { cmd: ['1'] } },
  },
  // __spread__
  {
    reason: 'the docs example: {"__spread__": "[7000,8000,9000]"} splices the array into expose',
    args: { expose: [5000, { __spread__: '[7000,8000,9000]' }, 6000] },
    want: { args: { expose: [5000, 7000, 8000, 9000, 6000] } },
  },
  {
    reason: 'a spread of a results literal splices the matched JSON array',
    args: { resources: [{ __spread__: '%%ops.setup.results.res%%' }, { type: 'Ollama', model: 'b' }] },
    values: values(setup({ res: ['[{"type": "Ollama", "model": "a"}]'] })),
    want: {
      args: {
        resources: [
          { type: 'Ollama', model: 'a' },
          { type: 'Ollama', model: 'b' },
        ],
      },
    },
  },
  {
    reason: 'a spread of a results value that is not JSON splices its matches one by one',
    args: { cmd: ['serve', { __spread__: '%%ops.setup.results.flags%%' }] },
    values: values(setup({ flags: ['--a', '--b'] })),
    want: { args: { cmd: ['serve', '--a', '--b'] } },
  },
  {
    reason: 'chunked: the string chunks are joined before parsing',
    args: { expose: [{ __spread__: '%%ops.setup.results.chunks%%', chunked: true }] },
    values: values(setup({ chunks: ['[{"port": 80', '00}, 9000]'] })),
    want: { args: { expose: [{ port: 8000 }, 9000] } },
  },
  {
    reason: 'spliced items are transformed again: an env spread inside a spliced object',
    args: { items: ['a', { __spread__: '[{"env": {"__spread__": "{\\"A\\": \\"1\\"}"}}]' }] },
    want: { args: { items: ['a', { env: { A: '1' } }] } },
  },
  {
    reason: 'the docs example: an env spread merges a JSON object into env',
    args: { env: { STATIC_KEY: 'static_value', __spread__: '{"IMAGE_NAME":"ubuntu","IMAGE_TAG":"20.04"}' } },
    want: { args: { env: { STATIC_KEY: 'static_value', IMAGE_NAME: 'ubuntu', IMAGE_TAG: '20.04' } } },
  },
  {
    reason: 'an env spread of a results value merges its one match; spread fields override, after the others',
    args: { env: { A: 'static', __spread__: '%%ops.setup.results.env%%', B: 'kept' } },
    values: values(setup({ env: ['{"A": "spread", "C": "new"}'] })),
    want: { args: { env: { A: 'spread', B: 'kept', C: 'new' } } },
  },
  // __pairs__
  {
    reason: 'the docs example: __pairs__ turns [{key, value}] into fields',
    args: { env: { STATIC_KEY: 'static_value', __pairs__: '[{"key":"IMAGE_NAME","value":"ubuntu"},{"key":"IMAGE_TAG","value":"20.04"}]' } },
    want: { args: { env: { STATIC_KEY: 'static_value', IMAGE_NAME: 'ubuntu', IMAGE_TAG: '20.04' } } },
  },
  {
    reason: '__pairs__ of a results literal; a pair without value gets ""',
    args: { env: { __pairs__: '%%ops.setup.results.pairs%%' } },
    values: values(setup({ pairs: ['[{"key": "A", "value": "1"}, {"key": "B"}]'] })),
    want: { args: { env: { A: '1', B: '' } } },
  },
  // __remove-if-empty__
  {
    reason: 'an entrypoint whose literal matched nothing loses its marker and then the whole key',
    args: { image: 'ubuntu', entrypoint: ['__remove-if-empty__', '%%ops.setup.results.entrypoint%%'] },
    values: values(setup({ entrypoint: [] })),
    want: { args: { image: 'ubuntu' } },
  },
  {
    reason: 'with a value the marker goes and the value stays',
    args: { entrypoint: ['__remove-if-empty__', '%%ops.setup.results.entrypoint%%'] },
    values: values(setup({ entrypoint: ['/bin/bash'] })),
    want: { args: { entrypoint: ['/bin/bash'] } },
  },
  {
    reason: 'every marker goes (none reaches the container as an argument)',
    args: { cmd: ['__remove-if-empty__', 'run', '__remove-if-empty__'], resources: ['__remove-if-empty__'] },
    want: { args: { cmd: ['run'] } },
  },
  {
    reason: 'an array without a marker is kept, even empty',
    args: { cmd: [] },
    want: { args: { cmd: [] } },
  },
  // env values
  {
    reason: 'env values become strings: numbers and booleans as text, objects as JSON, null as ""',
    args: { env: { __spread__: '{"N": 5, "B": true, "O": {"x": 1}, "L": [1], "Z": null}' } },
    want: { args: { env: { N: '5', B: 'true', O: '{"x":1}', L: '[1]', Z: '' } } },
  },
  // Failures
  {
    reason: 'an op with no values: the error names the literal, where it stands and the op',
    args: { cmd: ['run', '%%ops.later.results.port%%'] },
    want: { error: ['"%%ops.later.results.port%%"', 'args.cmd[1]', 'op "later"'] },
  },
  {
    reason: 'a result the op does not have',
    args: { env: { PORT: 'port=%%ops.setup.results.port%%' } },
    values: values(setup({})),
    want: { error: ['"%%ops.setup.results.port%%"', 'args.env.PORT', 'results.port'] },
  },
  {
    reason: 'a global variable that is not defined',
    args: { image: '%%global.variables.IMAGE%%' },
    want: { error: ['"%%global.variables.IMAGE%%"', 'args.image', 'variables.IMAGE'] },
  },
  {
    reason: 'an empty global value counts as missing, as in the reference',
    args: { image: '%%global.variables.EMPTY%%' },
    want: { error: ['"%%global.variables.EMPTY%%"', 'is not set'] },
  },
  {
    reason: 'an op literal without a value name',
    args: { image: '%%ops.setup%%' },
    values: values(setup({})),
    want: { error: ['"%%ops.setup%%"', 'args.image'] },
  },
  {
    reason: 'an endpoint of a port the op does not expose',
    args: { env: { URL: '%%ops.web.endpoint.9999%%' } },
    values: values({ web: { endpoints: { 8080: 'abc.example' } } }),
    want: { error: ['"%%ops.web.endpoint.9999%%"', 'endpoint.9999'] },
  },
  {
    reason: 'literal paths never reach prototypes',
    args: { env: { A: '%%ops.setup.results.constructor%%' } },
    values: values(setup({})),
    want: { error: ['"%%ops.setup.results.constructor%%"'] },
  },
  {
    reason: 'a literal carried in by a resolved value is not resolved, and fails the op',
    args: { cmd: ['%%ops.setup.results.sneaky%%'] },
    values: values(setup({ sneaky: ['%%global.job%%'] })),
    want: { error: ['"%%global.job%%"', 'args.cmd[0]'] },
  },
  {
    reason: 'a spread whose text is not JSON fails, naming the marker and its literal',
    args: { expose: [1000, { __spread__: '%%ops.setup.results.expose%%' }] },
    values: values(setup({ expose: '[{"port": oops' })),
    want: { error: ['args.expose[1].__spread__', '"%%ops.setup.results.expose%%"', 'not valid JSON'] },
  },
  {
    reason: 'an env spread of something other than one JSON object fails',
    args: { env: { __spread__: '%%ops.setup.results.env%%' } },
    values: values(setup({ env: ['{"A": "1"}', '{"B": "2"}'] })),
    want: { error: ['args.env.__spread__', 'must be a JSON object'] },
  },
  {
    reason: '__pairs__ items need a string key',
    args: { env: { __pairs__: '[{"value": "1"}]' } },
    want: { error: ['args.env.__pairs__', 'key must be a string'] },
  },
];

function fragmentsOf(result: ResolvedArgs): string {
  return 'error' in result ? result.error : `resolved to ${JSON.stringify(result.args)}`;
}

describe('resolveOpArgs', () => {
  for (const row of rows) {
    test(row.reason, () => {
      const before = structuredClone(row.args);
      const result = resolveOpArgs(row.args, row.values ?? values());
      assert.deepEqual(row.args, before, 'the args passed in are not changed');
      if ('args' in row.want) {
        assert.deepEqual(result, row.want);
        // Key order matters for env (it is the order the container sees).
        if ('args' in result) assert.deepEqual(JSON.stringify(result.args), JSON.stringify(row.want.args));
      } else {
        assert.ok('error' in result, fragmentsOf(result));
        for (const fragment of row.want.error)
          assert.ok(result.error.includes(fragment), `${JSON.stringify(fragment)} in: ${result.error}`);
      }
    });
  }

  test('resolved args share nothing with the values they came from', () => {
    const res = [{ type: 'Ollama', model: 'a' }];
    const result = resolveOpArgs({ resources: ['%%ops.setup.results.res%%'] }, values(setup({ res })));
    assert.ok('args' in result);
    const resolved = (result.args as { resources: { model: string }[] }).resources;
    assert.deepEqual(resolved, res);
    assert.notEqual(resolved[0], res[0]);
  });

  test('a "__proto__" key in spread JSON is an ordinary env entry, not a prototype', () => {
    const result = resolveOpArgs({ env: { __spread__: '{"__proto__": {"polluted": "yes"}, "A": "1"}' } }, values());
    assert.ok('args' in result);
    const env = (result.args as { env: Record<string, unknown> }).env;
    assert.equal(Object.getPrototypeOf(env), Object.prototype);
    assert.deepEqual(Object.keys(env), ['__proto__', 'A']);
    assert.equal(env.polluted, undefined);
  });
});

// ---------------------------------------------------------------------------------------------
// The saved example

/** The examples whose ops hold literals: each must be covered below. */
const COVERED_EXAMPLES = ['job-examples/cli-job-literals.json'];

interface ExampleOp {
  id: string;
  args: Record<string, unknown>;
  results?: Record<string, string>;
}

function exampleOps(name: string): ExampleOp[] {
  const example = jobExamples().find((candidate) => candidate.name === name);
  assert.ok(example !== undefined, `${name} is present`);
  return (example.definition as { ops: ExampleOp[] }).ops;
}

describe('job-examples/cli-job-literals.json', { skip: sharedMissingReason ?? false }, () => {
  test('it is the only example with literals (Gemma4 and OpenClaw are not saved): a new one needs its test', () => {
    const withLiterals = jobExamples()
      .filter(({ definition }) => JSON.stringify((definition as { ops?: unknown }).ops ?? []).includes('%%'))
      .map(({ name }) => name);
    assert.deepEqual(withLiterals, COVERED_EXAMPLES);
  });

  const MODEL = 'deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B';
  const exampleGlobals = { ...GLOBALS, variables: { MODEL } };

  test('literal-setter: the global literals inside its one bash command are interpolated', () => {
    const [literalSetter] = exampleOps('job-examples/cli-job-literals.json');
    assert.ok(literalSetter !== undefined);
    const result = resolveOpArgs(literalSetter.args, { ops: {}, globals: exampleGlobals });
    assert.ok('args' in result, fragmentsOf(result));
    const args = result.args as { cmd: string[]; image: string; entrypoint: string[] };
    assert.equal(args.image, 'ubuntu');
    assert.deepEqual(args.entrypoint, ['bash', '-c']);
    assert.equal(args.cmd.length, 1, 'a one-item array stays one item');
    const command = args.cmd[0] ?? '';
    assert.ok(command.startsWith(`echo 'host: ${GLOBALS.host}' && echo 'image: docker.io/vllm/vllm-openai:v0.10.2'`));
    assert.ok(command.includes(`echo 'cmd: ${MODEL}'`));
    assert.ok(command.includes(`echo 'env: { "MODEL": "${MODEL}", "HOST": "${GLOBALS.host}" }'`));
    assert.equal(command.includes('%%'), false, 'no literal is left');
  });

  /**
   * What literal-setter's command prints, one log entry per line. Read off the command: note the
   * expose line's JSON comes wrapped in double quotes, and the "," typo before the last `echo`
   * makes template_id and resources one line.
   */
  const printed = [
    `host: ${GLOBALS.host}`,
    'image: docker.io/vllm/vllm-openai:v0.10.2',
    'cmd: --model',
    `cmd: ${MODEL}`,
    'cmd: --served-model-name',
    'cmd: DeepSeek-R1-Distill-Qwen-1.5B',
    'cmd: --port',
    'cmd: 9000',
    'cmd: --max-model-len',
    'cmd: 30000',
    `env: { "MODEL": "${MODEL}", "HOST": "${GLOBALS.host}" }`,
    String.raw`expose: "[{"port": 9000, "health_checks": [{"body": "{\"model\":\"DeepSeek-R1-Distill-Qwen-1.5B\",\"messages\":[{\"role\":\"user\",\"content\":\"Respond with a single word: Ready\"}],\"stream\":false}", "path": "/v1/chat/completions", "type": "http", "method": "POST", "headers": {"Content-Type": "application/json"}, "continuous": false, "expected_status": 200}]}]"`,
    'port: 9000',
    'template_id: deepseek-r1-qwen-1.5b, echo resources: [{"type": "Ollama", "model": "gpt-oss:20b"}, {"type": "Ollama", "model": "gpt-oss:120b"}]',
  ];
  const logs: LogEntry[] = printed.map((line) => ({ type: 'stdout', log: `${line}\n` }));

  const wantCmd = [
    'hello',
    '--model',
    MODEL,
    '--served-model-name',
    'DeepSeek-R1-Distill-Qwen-1.5B',
    '--port',
    '9000',
    '--max-model-len',
    '30000',
    'test test',
  ];
  const wantEnv = { Random_Var: 'static_value', ANOTHER_VAR: 'another_static_value', MODEL, HOST: GLOBALS.host };
  const wantResources = [
    { type: 'Ollama', model: 'gpt-oss:20b' },
    { type: 'Ollama', model: 'gpt-oss:120b' },
    { type: 'S3', url: 'https://models.nosana.io/test', target: '/data-models/' },
  ];

  test('run-selected-job, fed with what literal-setter prints: every field, and the expose line the example gets wrong', () => {
    const [literalSetter, runSelectedJob] = exampleOps('job-examples/cli-job-literals.json');
    assert.ok(literalSetter?.results !== undefined && runSelectedJob !== undefined);
    const results = extractResults(literalSetter.results, logs);
    const result = resolveOpArgs(runSelectedJob.args, { ops: { 'literal-setter': { host: 'job-0', results } }, globals: exampleGlobals });
    assert.ok('args' in result, fragmentsOf(result));
    const args = result.args as Record<string, unknown>;

    assert.deepEqual(args.cmd, wantCmd, 'the eight cmd matches flattened between the static items');
    assert.deepEqual(args.env, wantEnv);
    assert.deepEqual(Object.keys(args.env as object), Object.keys(wantEnv), 'spread fields come after the static ones');
    assert.equal(args.gpu, true);
    assert.equal(args.image, 'ubuntu');
    assert.equal('entrypoint' in args, false, 'nothing printed "entrypoint: ", so the marker empties the array and the key goes');
    assert.deepEqual(args.resources, wantResources, 'the resources JSON is matched anywhere on its line');
    // The matched expose text starts with a quote, so it is not JSON: the spread splices it as a
    // string (the reference does the same), which no exposed port can be.
    const expose = args.expose as unknown[];
    assert.equal(expose.length, 2);
    assert.equal(expose[0], 1000);
    assert.equal(typeof expose[1], 'string');
    assert.ok(String(expose[1]).startsWith('"[{"port": 9000'));
    const check = containerRunArgsSchema.safeParse(args);
    assert.equal(check.success, false, 'the resolved args do not validate');
    assert.deepEqual(
      check.error?.issues.map((issue) => issue.path.slice(0, 2)),
      [['expose', 1]],
    );
  });

  test('run-selected-job with the expose JSON and an entrypoint printed properly: valid container args', () => {
    const [literalSetter, runSelectedJob] = exampleOps('job-examples/cli-job-literals.json');
    assert.ok(literalSetter?.results !== undefined && runSelectedJob !== undefined);
    const healthCheck = {
      body: '{"model":"DeepSeek-R1-Distill-Qwen-1.5B","stream":false}',
      path: '/v1/chat/completions',
      type: 'http',
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      continuous: false,
      expected_status: 200,
    };
    const fixed = logs
      .filter(({ log }) => !log.startsWith('expose: '))
      .concat([
        { type: 'stdout', log: `expose: ${JSON.stringify([{ port: 9000, health_checks: [healthCheck] }])}\n` },
        { type: 'stdout', log: 'entrypoint: /bin/bash\n' },
      ]);
    const results = extractResults(literalSetter.results, fixed);
    const result = resolveOpArgs(runSelectedJob.args, { ops: { 'literal-setter': { host: 'job-0', results } }, globals: exampleGlobals });
    assert.ok('args' in result, fragmentsOf(result));
    const args = result.args as Record<string, unknown>;

    assert.deepEqual(args.cmd, wantCmd);
    assert.deepEqual(args.env, wantEnv);
    assert.equal(args.gpu, true);
    assert.equal(args.image, 'ubuntu');
    assert.deepEqual(args.entrypoint, ['/bin/bash'], 'the marker goes, the printed entrypoint stays');
    assert.deepEqual(args.expose, [1000, { port: 9000, health_checks: [healthCheck] }], 'the JSON array is spliced after the static port');
    assert.deepEqual(args.resources, wantResources);
    const check = containerRunArgsSchema.safeParse(args);
    assert.equal(check.success, true, JSON.stringify(check.error?.issues));
  });

  test('run-selected-job before literal-setter has run fails on its first literal', () => {
    const [, runSelectedJob] = exampleOps('job-examples/cli-job-literals.json');
    assert.ok(runSelectedJob !== undefined);
    const result = resolveOpArgs(runSelectedJob.args, { ops: {}, globals: exampleGlobals });
    assert.ok('error' in result);
    assert.ok(result.error.includes('"%%ops.literal-setter.results.cmd%%" at args.cmd[1]'), result.error);
  });
});
