// fast-check generators: job definitions that must be accepted, and ways to break them.
import fc from 'fast-check';

type Json = Record<string, unknown>;

const opId = fc.stringMatching(/^[a-z][a-z0-9_-]{0,11}$/);
const shortText = fc.string({ maxLength: 12 });
const envName = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,10}$/);
const port = fc.integer({ min: 1, max: 65535 });

const command = fc.oneof(
  shortText,
  fc.array(fc.oneof(shortText, fc.constant('__remove-if-empty__'), fc.constant('%%global.host%%')), { maxLength: 4 }),
);

const httpHealthCheck = fc.record(
  {
    type: fc.constant('http'),
    path: fc.constantFrom('/', '/health', '/v1/models'),
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
    expected_status: fc.integer({ min: 100, max: 599 }),
    headers: fc.dictionary(envName, shortText, { maxKeys: 2 }),
    body: shortText,
    continuous: fc.boolean(),
    restart_on_failure: fc.boolean(),
    max_restarts: fc.nat({ max: 5 }),
  },
  { requiredKeys: ['type', 'path', 'method', 'expected_status', 'continuous'] },
);

const websocketHealthCheck = fc.record(
  { type: fc.constant('websocket'), expected_response: shortText, continuous: fc.boolean() },
  { requiredKeys: ['type', 'expected_response', 'continuous'] },
);

function exposedPort(value: number) {
  return fc.record(
    {
      port: fc.constant(value),
      type: fc.constantFrom('web', 'api', 'webapi', 'websocket', 'none'),
      health_checks: fc.array(fc.oneof(httpHealthCheck, websocketHealthCheck), { maxLength: 2 }),
    },
    { requiredKeys: ['port'] },
  );
}

/** Unique ports, each written as a number or as an exposed-port object; plus literal entries. */
const expose = fc.oneof(
  port,
  port.chain(exposedPort),
  fc.constant('%%ops.setup.results.expose%%'),
  fc
    .uniqueArray(port, { minLength: 1, maxLength: 3 })
    .chain((ports) => fc.tuple(...ports.map((value) => fc.oneof(fc.constant(value), exposedPort(value)))))
    .chain((entries) => fc.constantFrom<unknown[]>(entries, [...entries, { __spread__: '%%ops.setup.results.ports%%', chunked: true }])),
);

const s3Credentials = fc.record({ REGION: shortText, ACCESS_KEY_ID: shortText, SECRET_ACCESS_KEY: shortText });

const resource = fc.oneof(
  fc.record(
    {
      type: fc.constant('S3'),
      target: fc.constant('/models'),
      url: fc.webUrl(),
      files: fc.array(shortText, { maxLength: 2 }),
      allowWrite: fc.boolean(),
      IAM: s3Credentials,
    },
    { requiredKeys: ['type', 'target'] },
  ),
  fc.record(
    { type: fc.constant('S3'), target: fc.constant('/data'), bucket: shortText, IAM: s3Credentials },
    { requiredKeys: ['type', 'target', 'bucket'] },
  ),
  fc.record(
    {
      type: fc.constant('S3'),
      target: fc.constant('/data'),
      buckets: fc.array(fc.record({ url: fc.webUrl() }), { minLength: 1, maxLength: 2 }),
    },
    { requiredKeys: ['type', 'target', 'buckets'] },
  ),
  fc.record(
    {
      type: fc.constant('HF'),
      target: fc.constant('/hf'),
      repo: fc.constant('org/model'),
      revision: shortText,
      files: fc.array(shortText, { maxLength: 2 }),
      accessToken: shortText,
    },
    { requiredKeys: ['type', 'target', 'repo'] },
  ),
  fc.record(
    { type: fc.constant('Ollama'), model: fc.constantFrom('llama3:8b', '%%global.variables.MODEL%%'), target: shortText },
    { requiredKeys: ['type', 'model'] },
  ),
  fc.constant({ __spread__: '%%ops.setup.results.resources%%' }),
  fc.constant('__remove-if-empty__'),
);

const restartPolicy = fc.oneof(
  fc.constantFrom('no', 'always', 'unless-stopped', 'on-failure'),
  fc.record({ policy: fc.constant('on-failure'), restart_tries: fc.nat({ max: 10 }) }, { requiredKeys: ['policy'] }),
);

function containerRunArgs(volumeNames: string[]) {
  return fc.record(
    {
      image: fc.constantFrom('ubuntu', 'docker.io/nosana/comfyui:2.0.5', 'nginx:latest'),
      cmd: command,
      entrypoint: command,
      env: fc.dictionary(envName, shortText, { maxKeys: 3 }),
      work_dir: shortText,
      gpu: fc.boolean(),
      expose,
      private: fc.boolean(),
      volumes:
        volumeNames.length === 0
          ? fc.constant([])
          : fc.array(fc.record({ name: fc.constantFrom(...volumeNames), dest: fc.constant('/mnt') }), { maxLength: 2 }),
      resources: fc.array(resource, { maxLength: 3 }),
      authentication: fc.record(
        { docker: fc.record({ username: shortText, password: shortText, server: shortText }, { requiredKeys: [] }) },
        { requiredKeys: [] },
      ),
      restart_policy: restartPolicy,
      aliases: fc.oneof(shortText, fc.array(shortText, { maxLength: 2 })),
      trusted_execution_env: fc.boolean(),
    },
    { requiredKeys: ['image'] },
  );
}

const results = fc.dictionary(
  fc.stringMatching(/^[a-z][a-z_-]{0,8}$/),
  fc.oneof(
    fc.constantFrom('port: (\\d+)', '(?<=cmd: ).*', 'Device [0-9].*'),
    fc.record({ regex: fc.constant('tok/s: ([0-9.]+)'), logType: fc.subarray(['stdin', 'stdout', 'stderr', 'nodeerr'], { minLength: 1 }) }),
  ),
  { maxKeys: 2 },
);

interface OpPlan {
  id: string;
  group: string | undefined;
  isVolume: boolean;
}

/**
 * Definitions every rule accepts: unique ids, dependencies only on earlier ops of the same
 * group (so no cycles), `stop_if_dependent_stops` only with `depends_on`, unique ports.
 */
export const validDefinition: fc.Arbitrary<Json> = fc
  .uniqueArray(opId, { maxLength: 5 })
  .chain((ids) =>
    fc.tuple(
      ...ids.map((id) =>
        fc.record({ id: fc.constant(id), group: fc.option(fc.constantFrom('setup', 'main'), { nil: undefined }), isVolume: fc.boolean() }),
      ),
    ),
  )
  .chain((plans: OpPlan[]) => {
    const volumeNames = plans.filter((plan) => plan.isVolume).map((plan) => `vol-${plan.id}`);
    const ops = plans.map((plan, index) => {
      const candidates = plans
        .slice(0, index)
        .filter((earlier) => earlier.group === plan.group)
        .map((earlier) => earlier.id);
      const execution = fc
        .record(
          {
            depends_on: candidates.length === 0 ? fc.constant([]) : fc.subarray(candidates),
            stop_if_dependent_stops: fc.boolean(),
            timeout: fc.integer({ min: 1, max: 86_400 }),
          },
          { requiredKeys: [] },
        )
        .map((value): Json => {
          const withGroup: Json = plan.group === undefined ? { ...value } : { ...value, group: plan.group };
          if (withGroup.depends_on === undefined) delete withGroup.stop_if_dependent_stops;
          return withGroup;
        });
      // The group must be written whenever the plan has one: later ops depend on it.
      const common = fc.record({ execution, results }, { requiredKeys: plan.group === undefined ? [] : ['execution'] });
      if (plan.isVolume) {
        return common.map((extra): Json => ({ type: 'container/create-volume', id: plan.id, args: { name: `vol-${plan.id}` }, ...extra }));
      }
      return fc
        .tuple(containerRunArgs(volumeNames), common)
        .map(([args, extra]): Json => ({ type: 'container/run', id: plan.id, args, ...extra }));
    });
    return fc.record(
      {
        version: fc.constant('0.1'),
        type: fc.constant('container'),
        meta: fc.record(
          { trigger: fc.constantFrom('cli', 'dashboard'), system_requirements: fc.record({ vram_total_mb: fc.nat() }) },
          { requiredKeys: [] },
        ),
        global: fc.record(
          {
            gpu: fc.boolean(),
            env: fc.dictionary(envName, shortText, { maxKeys: 2 }),
            work_dir: shortText,
            variables: fc.constant({ MODEL: 'llama3:8b' }),
          },
          { requiredKeys: ['variables'] },
        ),
        deployment_id: shortText,
        ssh: fc.record({ public_keys: fc.array(shortText, { maxLength: 2 }) }),
        ops: fc.tuple(...ops),
      },
      { requiredKeys: ['version', 'type', 'ops'] },
    );
  });

// ---------------------------------------------------------------------------------------------
// Mutations

export type Segment = string | number;

/** Every path in a JSON value, the root included. */
export function allPaths(value: unknown, prefix: Segment[] = []): Segment[][] {
  const paths: Segment[][] = [prefix];
  if (Array.isArray(value)) value.forEach((item, index) => paths.push(...allPaths(item, [...prefix, index])));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) paths.push(...allPaths(item, [...prefix, key]));
  }
  return paths;
}

export type Mutation =
  | { kind: 'delete'; pick: number }
  | { kind: 'replace'; pick: number; value: unknown }
  | { kind: 'insert-key'; pick: number; key: string; value: unknown }
  | { kind: 'retype'; pick: number };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), pick: fc.nat(), value: fc.jsonValue({ maxDepth: 3 }) }),
  fc.record({
    kind: fc.constant('insert-key' as const),
    pick: fc.nat(),
    key: fc.string({ maxLength: 10 }),
    value: fc.jsonValue({ maxDepth: 2 }),
  }),
  fc.record({ kind: fc.constant('retype' as const), pick: fc.nat() }),
);

/** A value of another JSON type than `value`. */
function retyped(value: unknown): unknown {
  if (typeof value === 'string') return value.length;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 0;
  if (value === null) return {};
  if (Array.isArray(value)) return { ...value };
  return Object.values(value as object);
}

function setAt(root: unknown, path: Segment[], update: (parent: Record<Segment, unknown>, key: Segment) => void): unknown {
  if (path.length === 0) return root;
  const copy = structuredClone(root) as Record<Segment, unknown>;
  let parent = copy;
  for (const segment of path.slice(0, -1)) parent = parent[segment] as Record<Segment, unknown>;
  update(parent, path[path.length - 1] as Segment);
  return copy;
}

/** Applies a mutation at one of the value's paths (picked modulo the number of paths). */
export function mutate(root: unknown, change: Mutation): unknown {
  const paths = allPaths(root);
  const path = paths[change.pick % paths.length] ?? [];
  const target = path.reduce<unknown>((value, segment) => (value as Record<Segment, unknown>)[segment], root);
  switch (change.kind) {
    case 'delete':
      return setAt(root, path, (parent, key) => {
        if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else delete parent[key];
      });
    case 'replace':
      return path.length === 0 ? change.value : setAt(root, path, (parent, key) => (parent[key] = change.value));
    case 'retype':
      return path.length === 0 ? retyped(root) : setAt(root, path, (parent, key) => (parent[key] = retyped(target)));
    case 'insert-key': {
      if (typeof target !== 'object' || target === null || Array.isArray(target)) return root;
      if (path.length === 0) return { ...(root as Json), [change.key]: change.value };
      return setAt(root, path, (parent, key) => (parent[key] = { ...(target as Json), [change.key]: change.value }));
    }
  }
}
