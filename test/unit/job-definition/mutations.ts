// Mutations of real job definitions for the differential test: one small change of the kind a
// newer poster, a hand edit or another tool makes (a number written as a string, a list where one
// value was, a key dropped or added, an empty or out-of-range value), at a place picked from the
// definition itself, so that most mutants stay close to what nodes actually receive.
//
// A mutation is plain data chosen by fast-check; `applyMutation` turns it into a new definition
// and never modifies its input.
import fc from 'fast-check';
import { allPaths } from './arbitraries.ts';
import type { Segment } from './arbitraries.ts';

type Json = Record<string, unknown>;

/**
 * Where the change goes: `anywhere` picks among all paths; `in-region` among the paths under one
 * of REGIONS; `set-field` picks an object of a known kind and sets one of the keys that kind can
 * hold, present or not (the only way to reach fields the seeds leave out, such as a body).
 */
const MODES = ['anywhere', 'in-region', 'set-field'] as const;

/** The parts of a definition the `in-region` picks are steered to, each named by a key on the path. */
const REGIONS = ['ops', 'args', 'expose', 'health_checks', 'resources', 'meta', 'global', 'execution', 'results'] as const;

/**
 * The keys each kind of object can hold in any validator's version of the format, the kind named
 * by the key its objects stand under ("" for the root).
 */
const KEYS_BY_PLACE: Record<string, readonly string[]> = {
  '': ['version', 'type', 'meta', 'global', 'logistics', 'deployment_id', 'ssh', 'ops'],
  meta: ['trigger', 'system_resources', 'system_requirements'],
  system_requirements: ['required_vram', 'vram_total_mb', 'required_cuda'],
  global: ['image', 'gpu', 'entrypoint', 'env', 'work_dir', 'variables'],
  ops: ['type', 'id', 'args', 'results', 'execution'],
  args: [
    'image',
    'name',
    'cmd',
    'entrypoint',
    'env',
    'work_dir',
    'gpu',
    'expose',
    'private',
    'volumes',
    'resources',
    'authentication',
    'restart_policy',
    'aliases',
    'trusted_execution_env',
    'required_vram',
    'output',
  ],
  env: ['__spread__', 'MODEL'],
  expose: ['port', 'type', 'health_checks', '__spread__', 'chunked'],
  health_checks: [
    'type',
    'path',
    'method',
    'expected_status',
    'headers',
    'body',
    'continuous',
    'expected_response',
    'restart_on_failure',
    'max_restarts',
  ],
  resources: ['type', 'target', 'url', 'files', 'bucket', 'buckets', 'allowWrite', 'IAM', 'repo', 'revision', 'accessToken', 'model'],
  execution: ['group', 'depends_on', 'stop_if_dependent_stops', 'timeout'],
};

/** Shapes some validator or node takes for a key, right or wrong, beside the general edge values. */
const VALUES_BY_KEY: Record<string, readonly unknown[]> = {
  port: [80, '8000-8010', '80', 0, 70000, 80.5, '%%ops.setup.results.port%%'],
  expose: [
    8080,
    '8000-8010',
    '%%ops.setup.results.expose%%',
    { __spread__: '%%ops.setup.results.ports%%' },
    [8080, '9000-9010', { port: '7000-7001' }],
    { port: 8080 },
  ],
  body: [['a', 'b'], { prompt: 'hi' }, 42, 0, null, false, true, '', '{"model":"m"}'],
  expected_status: [200, '200', 200.5, 1000, 0, -1],
  buckets: [[], [{ url: 'https://models.nosana.io/x' }], {}],
  required_vram: ['8', 8, '8GB', null, [8], ''],
  vram_total_mb: ['16000', 16000, 'lots', {}],
  required_cuda: ['12.8', ['12.8'], 12.8, [12.8]],
  id: ['', 'a b', 'a.b', 7],
  name: ['', 'cache', 3],
  __spread__: ['{"A":"1"}', '%%ops.setup.results.env%%', 'x', 1],
};

/** Keys of newer formats and keys nobody defined, for any object. */
const STRANGE_KEYS = ['ssh', 'timeout', 'x_future_field', 'priority', 'gpus', 'Image'];

/** Numbers that are wrong for most numeric fields: ports, statuses, sizes, timeouts. */
const OUT_OF_RANGE_NUMBERS = [0, -1, 65536, 99999, 1.5, 0.5, 100000000, -8080];

/** Values of the wrong kind for most fields, and shapes nodes know from other places. */
const EDGE_VALUES: readonly unknown[] = [
  null,
  '',
  [],
  {},
  0,
  1,
  8,
  -1,
  2.5,
  65536,
  true,
  false,
  'x',
  '8',
  '16000',
  '12.8',
  '80',
  '8000-8010',
  '9000-8000',
  '%%ops.setup.results.port%%',
  '%%global.variables.MODEL%%',
  '__remove-if-empty__',
  { __spread__: '%%ops.setup.results.ports%%' },
  ['a', 'b'],
  [1, 2],
  [{ key: 'value' }],
  { key: 'value' },
  { port: 8080 },
  { port: '8000-8010' },
  { type: 'http', path: '/', method: 'GET', expected_status: 200, continuous: false },
  { type: 'websocket', expected_response: 'ok', continuous: true },
  { type: 'Ollama', model: 'llama3:8b' },
  { type: 'S3', target: '/data', buckets: [] },
];

/** The changes a mutation can make. */
type Kind =
  | 'number-to-string'
  | 'string-to-number'
  | 'wrap-in-array'
  | 'unwrap-array'
  | 'object-to-array'
  | 'array-to-object'
  | 'to-null'
  | 'to-empty'
  | 'out-of-range'
  | 'delete'
  | 'insert-key'
  | 'replace'
  | 'copy-from'
  | 'duplicate-element';

/** Which mode and place (`mode`, `pick`), which change that suits the value there (`kind`), and which key or value it uses. */
export interface Mutation {
  mode: number;
  pick: number;
  kind: number;
  choice: number;
  coin: number;
}

export const mutationArbitrary: fc.Arbitrary<Mutation> = fc.record({
  mode: fc.nat({ max: MODES.length * REGIONS.length - 1 }),
  pick: fc.nat(),
  kind: fc.nat(),
  choice: fc.nat(),
  coin: fc.nat(),
});

/** The seeds' keys and scalar values: mutants then mostly reuse real vocabulary. */
export interface Vocabulary {
  keys: string[];
  values: unknown[];
}

export function vocabularyOf(definitions: readonly unknown[]): Vocabulary {
  const keys = new Set<string>(STRANGE_KEYS);
  const values = new Map<string, unknown>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (isObject(value)) {
      for (const [key, item] of Object.entries(value)) {
        keys.add(key);
        visit(item);
      }
    } else values.set(JSON.stringify(value), value);
  };
  definitions.forEach(visit);
  return { keys: [...keys].sort(), values: [...values.values()] };
}

// ---------------------------------------------------------------------------------------------

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function valueAt(root: unknown, path: readonly Segment[]): unknown {
  return path.reduce<unknown>((value, segment) => (isObject(value) || Array.isArray(value) ? (value as Json)[segment] : undefined), root);
}

function at<T>(items: readonly T[], index: number): T {
  const item = items[index % items.length];
  if (item === undefined) throw new Error('picked from an empty list');
  return item;
}

/** The key an object stands under, which names its kind ("" for the root). */
function placeOf(path: readonly Segment[]): string {
  return path.findLast((segment): segment is string => typeof segment === 'string') ?? '';
}

/** Half the time an edge value, else a value from the seeds. */
function valueFor(choice: number, coin: number, vocabulary: Vocabulary): unknown {
  return structuredClone(coin % 2 === 0 ? at(EDGE_VALUES, choice) : at(vocabulary.values, choice));
}

/** Half the time a key this kind of object holds, else any key of the seeds or a strange one. */
function keyFor(path: readonly Segment[], choice: number, vocabulary: Vocabulary): string {
  const placeKeys = KEYS_BY_PLACE[placeOf(path)];
  return placeKeys !== undefined && choice % 2 === 0 ? at(placeKeys, choice >> 1) : at(vocabulary.keys, choice);
}

/** The path the mutation changes; with `set-field` it may name a key that is not there yet. */
function targetPath(root: unknown, mutation: Mutation): Segment[] {
  const mode = MODES[mutation.mode % MODES.length];
  const paths = allPaths(root);
  if (mode === 'in-region') {
    const region = at(REGIONS, Math.floor(mutation.mode / MODES.length));
    const inRegion = paths.filter((path) => path.includes(region));
    return at(inRegion.length > 0 ? inRegion : paths, mutation.pick);
  }
  if (mode === 'set-field') {
    // The kind of object first, then one object of that kind: rare kinds get their share.
    const objects = paths.filter((path) => isObject(valueAt(root, path)) && KEYS_BY_PLACE[placeOf(path)] !== undefined);
    if (objects.length === 0) return at(paths, mutation.pick);
    const places = [...new Set(objects.map(placeOf))];
    const place = at(places, mutation.pick);
    const object = at(
      objects.filter((path) => placeOf(path) === place),
      mutation.pick >> 4,
    );
    return [...object, at(KEYS_BY_PLACE[place] ?? [], mutation.choice)];
  }
  return at(paths, mutation.pick);
}

/** The changes that suit the value at hand (a type change needs a value of that type). */
function suitableKinds(value: unknown, path: readonly Segment[]): Kind[] {
  if (value === undefined) return ['replace'];
  const kinds: Kind[] = ['replace', 'copy-from', 'wrap-in-array', 'to-null'];
  if (path.length > 0) kinds.push('delete');
  if (typeof value === 'number') kinds.push('number-to-string', 'out-of-range');
  if (typeof value === 'string') kinds.push('string-to-number', 'to-empty');
  if (Array.isArray(value)) kinds.push('unwrap-array', 'array-to-object', 'to-empty', 'duplicate-element');
  if (isObject(value)) kinds.push('object-to-array', 'insert-key', 'to-empty');
  return kinds;
}

function changed(value: unknown, kind: Kind, mutation: Mutation, root: unknown, path: readonly Segment[], vocabulary: Vocabulary): unknown {
  switch (kind) {
    case 'number-to-string':
      return String(value);
    case 'string-to-number': {
      const text = value as string;
      const number = Number(text);
      return text.trim() !== '' && Number.isFinite(number) ? number : text.length;
    }
    case 'wrap-in-array':
      return [value];
    case 'unwrap-array': {
      const items = value as unknown[];
      return items.length === 0 ? '' : at(items, mutation.choice);
    }
    case 'object-to-array':
      return Object.values(value as Json);
    case 'array-to-object':
      return { ...(value as unknown[]) };
    case 'to-null':
      return null;
    case 'to-empty':
      return typeof value === 'string' ? '' : Array.isArray(value) ? [] : {};
    case 'out-of-range':
      return mutation.coin % 3 === 0 ? (value as number) + 0.5 : at(OUT_OF_RANGE_NUMBERS, mutation.choice);
    case 'replace': {
      const shapes = VALUES_BY_KEY[placeOf(path)];
      return shapes !== undefined && mutation.coin % 3 === 0
        ? structuredClone(at(shapes, mutation.choice))
        : valueFor(mutation.choice, mutation.coin, vocabulary);
    }
    case 'copy-from':
      return structuredClone(valueAt(root, at(allPaths(root), mutation.choice)));
    case 'duplicate-element': {
      const items = value as unknown[];
      return items.length === 0 ? [null] : [...items, structuredClone(at(items, mutation.choice))];
    }
    case 'insert-key':
      return { ...(value as Json), [keyFor(path, mutation.choice, vocabulary)]: valueFor(mutation.coin, mutation.choice, vocabulary) };
    case 'delete':
      return undefined;
  }
}

function plan(root: unknown, mutation: Mutation): { path: Segment[]; kind: Kind } {
  const path = targetPath(root, mutation);
  return { path, kind: at(suitableKinds(valueAt(root, path), path), mutation.kind) };
}

/** `root` with one mutation applied: a new value, the input untouched. */
export function applyMutation(root: unknown, mutation: Mutation, vocabulary: Vocabulary): unknown {
  const { path, kind } = plan(root, mutation);
  const replacement = changed(valueAt(root, path), kind, mutation, root, path, vocabulary);
  if (path.length === 0) return replacement;
  const copy = structuredClone(root);
  const parent = valueAt(copy, path.slice(0, -1)) as Record<Segment, unknown>;
  const last = path[path.length - 1] as Segment;
  if (kind !== 'delete') parent[last] = replacement;
  else if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else delete parent[last];
  return copy;
}

/** Where and what, for failure messages: "to-null at ops.0.args.expose". */
export function describeMutation(root: unknown, mutation: Mutation): string {
  const { path, kind } = plan(root, mutation);
  return `${kind} at ${path.length === 0 ? '(root)' : path.join('.')}`;
}
