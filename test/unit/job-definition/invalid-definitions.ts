// Hand-written bad job definitions: each with the problems it must produce (exact path, and a
// fragment of the message). Validated in strict mode.

export interface ExpectedProblem {
  path: string;
  message: string;
}

export interface InvalidDefinitionCase {
  name: string;
  definition: unknown;
  problems: ExpectedProblem[];
}

type Json = Record<string, unknown>;

function job(ops: unknown, extra: Json = {}): Json {
  return { version: '0.1', type: 'container', ...extra, ops };
}

function run(id: string, args: Json = {}, extra: Json = {}): Json {
  return { type: 'container/run', id, args: { image: 'ubuntu', ...args }, ...extra };
}

function createVolume(id: string, name: string): Json {
  return { type: 'container/create-volume', id, args: { name } };
}

function withExecution(id: string, execution: Json): Json {
  return run(id, {}, { execution });
}

function withExpose(expose: unknown): Json {
  return job([run('web', { expose })]);
}

function withResources(...resources: unknown[]): Json {
  return job([run('data', { resources })]);
}

function withResults(results: unknown): Json {
  return job([run('extract', {}, { results })]);
}

const httpCheck = { type: 'http', path: '/health', method: 'GET', expected_status: 200, continuous: true };

export const invalidDefinitions: InvalidDefinitionCase[] = [
  // ----- top level
  {
    name: 'version is a number',
    definition: { ...job([]), version: 0.1 },
    problems: [{ path: 'version', message: 'expected a version string such as "0.1", got number 0.1' }],
  },
  {
    name: 'type is not "container"',
    definition: { ...job([]), type: 'vm' },
    problems: [{ path: 'type', message: 'expected "container", got "vm"' }],
  },
  {
    name: 'type missing',
    definition: { version: '0.1', ops: [] },
    problems: [{ path: 'type', message: 'required: expected "container"' }],
  },
  {
    name: 'ops is an object',
    definition: job({ first: run('a') }),
    problems: [{ path: 'ops', message: 'expected an array of operations, got an object' }],
  },
  {
    name: 'ops missing',
    definition: { version: '0.1', type: 'container' },
    problems: [{ path: 'ops', message: 'required: expected an array of operations' }],
  },
  {
    name: 'definition is an array',
    definition: [run('a')],
    problems: [{ path: '(root)', message: 'expected a job definition object, got an array of 1 item' }],
  },
  {
    name: 'unknown top-level key with a suggestion',
    definition: { ...job([]), verison: '0.1' },
    problems: [{ path: 'verison', message: 'unknown key "verison"; did you mean "version"?' }],
  },
  {
    name: 'meta.system_requirements with a string where a number belongs',
    definition: job([], { meta: { trigger: 'cli', system_requirements: { vram_total_mb: '4096' } } }),
    problems: [{ path: 'meta.system_requirements.vram_total_mb', message: 'expected a number (MB), got "4096"' }],
  },
  {
    name: 'global with an unknown key',
    definition: job([run('a')], { global: { imagee: 'ubuntu' } }),
    problems: [{ path: 'global.imagee', message: 'unknown key "imagee"; did you mean "image"?' }],
  },
  {
    name: 'logistics with an unknown transport type',
    definition: job([], { logistics: { send: { type: 'ftp', args: {} }, receive: { type: 'api-listen', args: {} } } }),
    problems: [{ path: 'logistics.send.type', message: 'expected "api" or "api-listen", got "ftp"' }],
  },
  {
    name: 'ssh public_keys is a string',
    definition: job([], { ssh: { public_keys: 'ssh-ed25519 AAAA' } }),
    problems: [{ path: 'ssh.public_keys', message: 'expected an array of SSH public keys, got "ssh-ed25519 AAAA"' }],
  },

  // ----- operations and their types
  {
    name: 'op is not an object',
    definition: job([5]),
    problems: [{ path: 'ops[0]', message: 'expected an operation object, got number 5' }],
  },
  {
    name: 'unknown op type',
    definition: job([{ type: 'container/exec', id: 'a', args: {} }]),
    problems: [{ path: 'ops[0].type', message: 'expected "container/run" or "container/create-volume", got "container/exec"' }],
  },
  {
    name: 'container/run without image',
    definition: job([{ type: 'container/run', id: 'a', args: { cmd: 'echo hi' } }]),
    problems: [{ path: 'ops[0].args.image', message: 'required: container/run needs args.image (global.image is not used by nodes)' }],
  },
  {
    name: 'container/run without image although global.image is set',
    definition: job([{ type: 'container/run', id: 'a', args: { cmd: 'echo hi' } }], { global: { image: 'ubuntu' } }),
    problems: [{ path: 'ops[0].args.image', message: 'required: container/run needs args.image' }],
  },
  {
    name: 'image is an empty string',
    definition: job([run('a', { image: '' })]),
    problems: [{ path: 'ops[0].args.image', message: 'expected a container image, got an empty string' }],
  },
  {
    name: 'container/run given create-volume args',
    definition: job([{ type: 'container/run', id: 'a', args: { name: 'x' } }]),
    problems: [
      { path: 'ops[0].args.name', message: 'unknown key "name"' },
      { path: 'ops[0].args.image', message: 'required: container/run needs args.image' },
    ],
  },
  {
    name: 'container/create-volume given container/run args',
    definition: job([{ type: 'container/create-volume', id: 'v', args: { image: 'ubuntu' } }]),
    problems: [
      { path: 'ops[0].args.image', message: 'unknown key "image"' },
      { path: 'ops[0].args.name', message: 'required: expected a string (the volume name)' },
    ],
  },
  {
    name: 'args missing',
    definition: job([{ type: 'container/run', id: 'a' }]),
    problems: [{ path: 'ops[0].args', message: 'required: expected an object of container/run arguments' }],
  },
  {
    name: 'unknown key in args with a suggestion',
    definition: job([run('a', { imagee: 'ubuntu' })]),
    problems: [{ path: 'ops[0].args.imagee', message: 'unknown key "imagee"; did you mean "image"?' }],
  },
  {
    name: 'unknown key in the op itself',
    definition: job([{ ...run('a'), exec: {} }]),
    problems: [{ path: 'ops[0].exec', message: 'unknown key "exec"' }],
  },

  // ----- container/run args: wrong types
  {
    name: 'cmd is a number',
    definition: job([run('a', { cmd: 5 })]),
    problems: [{ path: 'ops[0].args.cmd', message: 'expected a string or an array of strings, got number 5' }],
  },
  {
    name: 'cmd array holds a number',
    definition: job([run('a', { cmd: ['sleep', 5] })]),
    problems: [{ path: 'ops[0].args.cmd[1]', message: 'expected a string, got number 5' }],
  },
  {
    name: 'entrypoint is an object',
    definition: job([run('a', { entrypoint: { sh: '-c' } })]),
    problems: [{ path: 'ops[0].args.entrypoint', message: 'expected a string or an array of strings, got an object' }],
  },
  {
    name: 'env value is a number',
    definition: job([run('a', { env: { PORT: 8080 } })]),
    problems: [{ path: 'ops[0].args.env.PORT', message: 'expected a string (quote numbers and booleans), got number 8080' }],
  },
  {
    name: 'env key that is not an identifier',
    definition: job([run('a', { env: { 'my key': true } })]),
    problems: [{ path: 'ops[0].args.env["my key"]', message: 'got boolean true' }],
  },
  {
    name: 'env __spread__ that is not a literal',
    definition: job([run('a', { env: { __spread__: '{"A":"1"}' } })]),
    problems: [{ path: 'ops[0].args.env.__spread__', message: 'expected a literal string' }],
  },
  {
    name: 'gpu is a string',
    definition: job([run('a', { gpu: 'true' })]),
    problems: [{ path: 'ops[0].args.gpu', message: 'expected a boolean (true or false), got "true"' }],
  },
  {
    name: 'private is a number',
    definition: job([run('a', { private: 1 })]),
    problems: [{ path: 'ops[0].args.private', message: 'expected a boolean (true or false), got number 1' }],
  },
  {
    name: 'volume without dest',
    definition: job([createVolume('v', 'data'), run('a', { volumes: [{ name: 'data' }] })]),
    problems: [{ path: 'ops[1].args.volumes[0].dest', message: 'required: expected a string (the mount path)' }],
  },
  {
    name: 'authentication with an unknown key',
    definition: job([run('a', { authentication: { docker: { user: 'me' } } })]),
    problems: [{ path: 'ops[0].args.authentication.docker.user', message: 'unknown key "user"' }],
  },
  {
    name: 'restart_policy is an unknown word',
    definition: job([run('a', { restart_policy: 'sometimes' })]),
    problems: [
      { path: 'ops[0].args.restart_policy', message: 'expected "no", "always", "unless-stopped", "on-failure" or {"policy": "on-failure"' },
    ],
  },
  {
    name: 'restart_policy object with another policy',
    definition: job([run('a', { restart_policy: { policy: 'always' } })]),
    problems: [{ path: 'ops[0].args.restart_policy.policy', message: 'expected "on-failure", got "always"' }],
  },
  {
    name: 'restart_tries is negative',
    definition: job([run('a', { restart_policy: { policy: 'on-failure', restart_tries: -1 } })]),
    problems: [{ path: 'ops[0].args.restart_policy.restart_tries', message: 'expected an integer ≥ 0, got number -1' }],
  },

  // ----- expose and health checks
  {
    name: 'port 0',
    definition: withExpose(0),
    problems: [{ path: 'ops[0].args.expose', message: 'expected an integer 1–65535, got number 0' }],
  },
  {
    name: 'port 70000 in an array',
    definition: withExpose([80, 70000]),
    problems: [{ path: 'ops[0].args.expose[1]', message: 'expected an integer 1–65535, got number 70000' }],
  },
  {
    name: 'port "80a" in an exposed-port object',
    definition: withExpose([{ port: '80a' }]),
    problems: [{ path: 'ops[0].args.expose[0].port', message: 'expected an integer 1–65535, got "80a"' }],
  },
  {
    name: 'fractional port',
    definition: withExpose(8.5),
    problems: [{ path: 'ops[0].args.expose', message: 'expected an integer 1–65535, got number 8.5' }],
  },
  {
    name: 'duplicate ports across a number and an object',
    definition: withExpose([8080, { port: 8080, type: 'web' }]),
    problems: [{ path: 'ops[0].args.expose[1].port', message: 'port 8080 is exposed twice in this op (first at ops[0].args.expose[0])' }],
  },
  {
    name: 'port range string',
    definition: withExpose('8000-8010'),
    problems: [
      {
        path: 'ops[0].args.expose',
        message:
          'expected a port number, an exposed-port object {"port": …}, a literal "%%…%%" string, or an array of these, got "8000-8010"',
      },
    ],
  },
  {
    name: 'expose is a boolean',
    definition: withExpose(true),
    problems: [{ path: 'ops[0].args.expose', message: 'got boolean true' }],
  },
  {
    name: 'exposed-port object with a misspelt key',
    definition: withExpose({ prot: 80 }),
    problems: [{ path: 'ops[0].args.expose.prot', message: 'unknown key "prot"; did you mean "port"?' }],
  },
  {
    name: 'unknown service type',
    definition: withExpose({ port: 80, type: 'http' }),
    problems: [{ path: 'ops[0].args.expose.type', message: 'expected "web", "api", "webapi", "websocket" or "none", got "http"' }],
  },
  {
    name: 'spread marker with a plain string',
    definition: withExpose([80, { __spread__: 'ports' }]),
    problems: [{ path: 'ops[0].args.expose[1].__spread__', message: 'expected a literal string' }],
  },
  {
    name: 'health check without continuous',
    definition: withExpose({ port: 80, health_checks: [{ type: 'http', path: '/', method: 'GET', expected_status: 200 }] }),
    problems: [{ path: 'ops[0].args.expose.health_checks[0].continuous', message: 'required: a health check needs "continuous"' }],
  },
  {
    name: 'health check with a lower-case method',
    definition: withExpose({ port: 80, health_checks: [{ ...httpCheck, method: 'get' }] }),
    problems: [{ path: 'ops[0].args.expose.health_checks[0].method', message: 'expected "GET", "POST", "PUT" or "DELETE", got "get"' }],
  },
  {
    name: 'health check with PATCH',
    definition: withExpose({ port: 80, health_checks: [{ ...httpCheck, method: 'PATCH' }] }),
    problems: [{ path: 'ops[0].args.expose.health_checks[0].method', message: 'got "PATCH"' }],
  },
  {
    name: 'health check with an unknown key',
    definition: withExpose({ port: 80, health_checks: [{ ...httpCheck, interval: 5 }] }),
    problems: [{ path: 'ops[0].args.expose.health_checks[0].interval', message: 'unknown key "interval"' }],
  },
  {
    name: 'health check expected_status as a string',
    definition: withExpose({ port: 80, health_checks: [{ ...httpCheck, expected_status: '200' }] }),
    problems: [
      { path: 'ops[0].args.expose.health_checks[0].expected_status', message: 'expected an integer HTTP status 100–599, got "200"' },
    ],
  },
  {
    name: 'websocket health check without expected_response',
    definition: withExpose({ port: 80, health_checks: [{ type: 'websocket', continuous: false }] }),
    problems: [{ path: 'ops[0].args.expose.health_checks[0].expected_response', message: 'required: expected a string' }],
  },
  {
    name: 'health check of an unknown type',
    definition: withExpose({ port: 80, health_checks: [{ type: 'tcp', continuous: true }] }),
    problems: [{ path: 'ops[0].args.expose.health_checks[0].type', message: 'expected "http" or "websocket", got "tcp"' }],
  },

  // ----- resources
  {
    name: 'S3 resource without target',
    definition: withResources({ type: 'S3', url: 'https://models.nosana.io/x' }),
    problems: [{ path: 'ops[0].args.resources[0].target', message: 'required: expected a string (the mount path)' }],
  },
  {
    name: 'S3 IAM without SECRET_ACCESS_KEY',
    definition: withResources({ type: 'S3', target: '/m', bucket: 'b', IAM: { REGION: 'auto', ACCESS_KEY_ID: 'k' } }),
    problems: [{ path: 'ops[0].args.resources[0].IAM.SECRET_ACCESS_KEY', message: 'required: expected a string' }],
  },
  {
    name: 'S3 with both bucket and buckets',
    definition: withResources({ type: 'S3', target: '/m', bucket: 'a', buckets: [{ url: 'https://x/b' }] }),
    problems: [{ path: 'ops[0].args.resources[0].buckets', message: 'cannot be combined with "bucket"' }],
  },
  {
    name: 'HF resource without repo',
    definition: withResources({ type: 'HF', target: '/m' }),
    problems: [{ path: 'ops[0].args.resources[0].repo', message: 'required: expected a string (the Hugging Face repository' }],
  },
  {
    name: 'resource of an unknown type',
    definition: withResources({ type: 'IPFS', target: '/m', url: 'ipfs://Qm' }),
    problems: [{ path: 'ops[0].args.resources[0].type', message: 'expected "S3", "HF" or "Ollama", got "IPFS"' }],
  },
  {
    name: 'resource with an unknown key',
    definition: withResources({ type: 'Ollama', model: 'llama3', tag: 'latest' }),
    problems: [{ path: 'ops[0].args.resources[0].tag', message: 'unknown key "tag"' }],
  },
  {
    name: 'resource entry that is a plain string',
    definition: withResources('s3://bucket'),
    problems: [{ path: 'ops[0].args.resources[0]', message: 'expected a resource object (type S3, HF or Ollama)' }],
  },

  // ----- results
  {
    name: 'results logType empty',
    definition: withResults({ tokens: { regex: 'tok/s: (.*)', logType: [] } }),
    problems: [{ path: 'ops[0].results.tokens.logType', message: 'got an empty array' }],
  },
  {
    name: 'results logType duplicated',
    definition: withResults({ tokens: { regex: 'x', logType: ['stdout', 'stderr', 'stdout'] } }),
    problems: [{ path: 'ops[0].results.tokens.logType[2]', message: 'duplicate log type "stdout" (already at logType[0])' }],
  },
  {
    name: 'results logType invalid',
    definition: withResults({ tokens: { regex: 'x', logType: ['stdlog'] } }),
    problems: [{ path: 'ops[0].results.tokens.logType[0]', message: 'expected "stdin", "stdout", "stderr" or "nodeerr", got "stdlog"' }],
  },
  {
    name: 'results object without logType',
    definition: withResults({ tokens: { regex: 'x' } }),
    problems: [{ path: 'ops[0].results.tokens.logType', message: 'required' }],
  },
  {
    name: 'results value is a number',
    definition: withResults({ tokens: 42 }),
    problems: [
      { path: 'ops[0].results.tokens', message: 'expected a regex string or an object {"regex": …, "logType": [...]}, got number 42' },
    ],
  },

  // ----- ids and execution
  {
    name: 'duplicate ids',
    definition: job([run('a'), run('b'), run('a')]),
    problems: [{ path: 'ops[2].id', message: 'duplicate op id "a" (already used by ops[0])' }],
  },
  {
    name: 'id with a space',
    definition: job([run('my op')]),
    problems: [{ path: 'ops[0].id', message: 'op id "my op" must not contain spaces' }],
  },
  {
    name: 'two ops without id',
    definition: job([
      { type: 'container/run', args: { image: 'a' } },
      { type: 'container/run', args: { image: 'b' } },
    ]),
    problems: [{ path: 'ops[1].id', message: 'missing op id: ops[0] has no id either' }],
  },
  {
    name: 'two-op dependency cycle',
    definition: job([withExecution('a', { group: 'g', depends_on: ['b'] }), withExecution('b', { group: 'g', depends_on: ['a'] })]),
    problems: [{ path: 'ops[1].execution.depends_on[0]', message: 'dependency cycle: a → b → a' }],
  },
  {
    name: 'three-op dependency cycle',
    definition: job([
      withExecution('a', { group: 'g', depends_on: ['c'] }),
      withExecution('b', { group: 'g', depends_on: ['a'] }),
      withExecution('c', { group: 'g', depends_on: ['b'] }),
    ]),
    problems: [{ path: 'ops[1].execution.depends_on[0]', message: 'dependency cycle: a → c → b → a' }],
  },
  {
    name: 'self-dependency',
    definition: job([withExecution('a', { depends_on: ['a'] })]),
    problems: [{ path: 'ops[0].execution.depends_on[0]', message: 'op "a" cannot depend on itself' }],
  },
  {
    name: 'unknown dependency with a suggestion',
    definition: job([run('setup'), withExecution('main', { depends_on: ['setpu'] })]),
    problems: [{ path: 'ops[1].execution.depends_on[0]', message: 'unknown op "setpu": no op has this id; did you mean "setup"?' }],
  },
  {
    name: 'dependency in another group',
    definition: job([withExecution('a', { group: 'one' }), withExecution('b', { group: 'two', depends_on: ['a'] })]),
    problems: [
      { path: 'ops[1].execution.depends_on[0]', message: 'op "a" has execution.group "one" but this op has execution.group "two"' },
    ],
  },
  {
    name: 'stop_if_dependent_stops without depends_on',
    definition: job([withExecution('a', { stop_if_dependent_stops: true })]),
    problems: [{ path: 'ops[0].execution.stop_if_dependent_stops', message: 'only allowed together with execution.depends_on' }],
  },
  {
    name: 'unknown key in execution with a suggestion',
    definition: job([run('a'), withExecution('b', { dependsOn: ['a'] })]),
    problems: [{ path: 'ops[1].execution.dependsOn', message: 'unknown key "dependsOn"; did you mean "depends_on"?' }],
  },
  {
    name: 'timeout is not a positive integer',
    definition: job([withExecution('a', { timeout: 0 }), withExecution('b', { timeout: 1.5 }), withExecution('c', { timeout: '60' })]),
    problems: [
      { path: 'ops[0].execution.timeout', message: 'expected a positive integer (seconds), got number 0' },
      { path: 'ops[1].execution.timeout', message: 'expected a positive integer (seconds), got number 1.5' },
      { path: 'ops[2].execution.timeout', message: 'expected a positive integer (seconds), got "60"' },
    ],
  },

  // ----- several at once
  {
    name: 'several problems in one definition, reported together',
    definition: {
      version: 1,
      type: 'container',
      ops: [
        { type: 'container/run', id: 'a b', args: { cmd: 5, gpu: 'yes', expose: [80, 80] } },
        { type: 'container/run', id: 'a b', args: { image: 'ubuntu' }, execution: { depends_on: ['nope'] } },
      ],
    },
    problems: [
      { path: 'version', message: 'got number 1' },
      { path: 'ops[0].id', message: 'must not contain spaces' },
      { path: 'ops[0].args.cmd', message: 'got number 5' },
      { path: 'ops[0].args.gpu', message: 'got "yes"' },
      { path: 'ops[0].args.expose[1]', message: 'port 80 is exposed twice' },
      { path: 'ops[0].args.image', message: 'required' },
      { path: 'ops[1].id', message: 'duplicate op id "a b"' },
      { path: 'ops[1].execution.depends_on[0]', message: 'unknown op "nope"' },
    ],
  },
];
