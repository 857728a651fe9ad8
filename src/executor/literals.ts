// Right before an op starts, the node rewrites its args with values that only exist at run time:
// "%%ops.<id>.…%%" and "%%global.…%%" literals, then the collection operators that splice or drop
// content (NODE.md §1.10). Pipelines built on Nosana (model pickers, benchmark fan-outs) rely on
// the exact shapes this produces, so the reference node's steps are followed in its order:
// resolve literals and shape their values by where they stand → apply the operators → stringify
// env values → drop "__remove-if-empty__" → refuse any literal that is still there.
//
// Where the reference node corrupts values by accident, the rule NODE.md states is followed instead
// (each case is named at the function that decides it): strings without a literal are never
// re-parsed, an object joined into a string is JSON (not "[object Object]"), `%%globals.…%%` reaches
// every key `%%global.…%%` does, and literal values inside objects in arrays are shaped like any field.
//
// Pure: the caller gathers the values (container names, results, endpoints) and gets new args or
// the reason the op must fail (the runner fails it with a `nodeerr` log and exit code 0, §2.5).
import { formatPath } from '../api/job-definition/index.ts';
import type { PathSegment } from '../api/job-definition/problems.ts';
import { isPlainObject } from '../api/job-definition/json-values.ts';
import { EMBEDDED_LITERAL_PATTERN, LITERAL_PATTERN, PAIRS_KEY, REMOVE_IF_EMPTY, SPREAD_KEY } from '../api/job-definition/templating.ts';

const MARKER_KEYS: readonly string[] = [SPREAD_KEY, PAIRS_KEY];

/** What an op has published for others to read. */
export interface OpLiteralValues {
  /** `%%ops.<id>.host%%`: the name other ops reach this op by (the reference: container `<jobId>-<opIndex>`). */
  host?: string | undefined;
  /** `%%ops.<id>.results.<key>%%`: the op's extracted results (see results.ts). */
  results?: Readonly<Record<string, unknown>> | undefined;
  /** `%%ops.<id>.endpoint.<port>%%`: public host (no scheme) per exposed port. */
  endpoints?: Readonly<Record<string, string>> | undefined;
  /** `%%ops.<id>.deployment_endpoint%%`. */
  deploymentEndpoint?: string | undefined;
  /** `%%ops.<id>.container_ip%%`. */
  containerIp?: string | undefined;
}

/** `%%global.<key>%%` (or `%%globals.<key>%%`). */
export interface GlobalLiteralValues {
  /** The job address. */
  job: string;
  /** The poster's address. */
  project: string;
  /** The node's address. */
  host: string;
  frps_address: string;
  /** `global.variables` of the definition. */
  variables?: Readonly<Record<string, string>> | undefined;
}

export interface LiteralValues {
  /** By op id; an op that has not run yet has no entry (or only what is known before it runs). */
  ops: Readonly<Record<string, OpLiteralValues>>;
  globals: GlobalLiteralValues;
}

export type ResolvedArgs = { args: unknown } | { error: string };

/** Any failure on the way; its message is what the op's `nodeerr` log says. */
class LiteralError extends Error {}

// ---------------------------------------------------------------------------------------------
// Values

/** Own properties only, and array items by index only: a literal path must not reach prototypes. */
function child(value: unknown, segment: string): unknown {
  if (Array.isArray(value)) return /^(0|[1-9]\d*)$/.test(segment) ? (value[Number(segment)] as unknown) : undefined;
  return isPlainObject(value) && Object.hasOwn(value, segment) ? value[segment] : undefined;
}

function walk(root: unknown, segments: readonly string[]): unknown {
  return segments.reduce<unknown>((current, segment) => child(current, segment), root);
}

/** The literal's parts: "%%ops.a.results.k%%" → scope "ops", reference "a.results.k". */
function parseLiteral(literal: string): { scope: string; reference: string } {
  const [, scope = '', reference = ''] = new RegExp(EMBEDDED_LITERAL_PATTERN.source).exec(literal) ?? [];
  return { scope, reference };
}

/** The value a literal stands for, exactly as stored; throws when there is none. */
function lookup(literal: string, path: readonly PathSegment[], values: LiteralValues): unknown {
  const { scope, reference } = parseLiteral(literal);
  const where = `unresolved literal ${JSON.stringify(literal)} at ${formatPath(path)}`;
  if (scope === 'ops') {
    const dot = reference.indexOf('.');
    const opId = dot === -1 ? reference : reference.slice(0, dot);
    const field = dot === -1 ? '' : reference.slice(dot + 1);
    if (field === '') throw new LiteralError(`${where}: expected %%ops.<id>.<value>%%`);
    const op = Object.hasOwn(values.ops, opId) ? values.ops[opId] : undefined;
    if (op === undefined) throw new LiteralError(`${where}: op ${JSON.stringify(opId)} has no values (it has not run, or does not exist)`);
    // The names literals use for what an op publishes.
    const published = {
      host: op.host,
      results: op.results,
      endpoint: op.endpoints,
      deployment_endpoint: op.deploymentEndpoint,
      container_ip: op.containerIp,
    };
    const value = walk(published, field.split('.'));
    // An op value may be empty (a result that matched nothing is [] and still resolves).
    if (value === undefined || value === null) throw new LiteralError(`${where}: op ${JSON.stringify(opId)} has no ${field}`);
    return value;
  }
  // "global" and "globals" are one namespace. (The reference only looks up variables under
  // "global.", so "%%globals.variables.X%%" would silently stay in the args there.)
  const value = walk(values.globals, reference.split('.'));
  // As in the reference, an empty global value counts as missing.
  if (value === undefined || value === null || value === '')
    throw new LiteralError(`${where}: global value ${JSON.stringify(reference)} is not set`);
  return value;
}

/** A string that is JSON text for an array or object becomes that value; anything else stays. */
function parseIfJsonLike(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  if (!trimmed.startsWith('[') && !trimmed.startsWith('{')) return value;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return value;
  }
}

/** A deep copy of plain data, so resolved args never share objects with the caller's values. */
function copyData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyData);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, copyData(item)]));
  return value;
}

/** The raw value of a string that is exactly one literal: JSON text (also of each array item) parsed. */
function rawValue(literal: string, path: readonly PathSegment[], values: LiteralValues): unknown {
  const value = lookup(literal, path, values);
  return copyData(Array.isArray(value) ? value.map(parseIfJsonLike) : parseIfJsonLike(value));
}

/** A value as array items: JSON text parsed, arrays flattened all the way, nothing for null. */
function tokens(value: unknown): unknown[] {
  const parsed = parseIfJsonLike(value);
  if (Array.isArray(parsed)) return parsed.flatMap(tokens);
  if (parsed === undefined || parsed === null) return [];
  return [parsed];
}

/** A value inside a string: items joined with spaces. Objects are written as JSON (the reference writes "[object Object]"). */
function asText(value: unknown): string {
  return tokens(value)
    .map((item) => (typeof item === 'string' ? item : typeof item === 'object' ? JSON.stringify(item) : String(item)))
    .join(' ');
}

/**
 * The value of a field whose whole text is one literal: a single-item array gives its item, a
 * longer array is joined with spaces, anything else is taken as it is.
 */
function fieldValue(raw: unknown): unknown {
  if (!Array.isArray(raw)) return raw;
  return raw.length === 1 ? raw[0] : asText(raw);
}

// ---------------------------------------------------------------------------------------------
// Step 1: literals, shaped by where they stand

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty, so that a key such as "__proto__" from JSON stays an ordinary field.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

interface Resolution {
  values: LiteralValues;
  /** For the operators' error messages: the literal each marker value came from. */
  markerLiterals: WeakMap<object, Map<string, string>>;
}

function markerKeyOf(value: unknown): string | undefined {
  return isPlainObject(value) ? Object.keys(value).find((key) => MARKER_KEYS.includes(key)) : undefined;
}

/** Strings are only rewritten where they hold a literal; other text (even JSON text) stays as written. */
function resolveString(text: string, path: readonly PathSegment[], context: Resolution): string {
  if (!text.includes('%%')) return text;
  return text.replace(new RegExp(EMBEDDED_LITERAL_PATTERN.source, 'g'), (literal) => asText(lookup(literal, path, context.values)));
}

function resolveField(value: unknown, path: PathSegment[], context: Resolution): unknown {
  if (typeof value === 'string') {
    return LITERAL_PATTERN.test(value) ? fieldValue(rawValue(value, path, context.values)) : resolveString(value, path, context);
  }
  if (Array.isArray(value)) return resolveArray(value, path, context);
  if (isPlainObject(value)) return resolveObject(value, path, context);
  return value;
}

/** A literal item is replaced by its value's items, flattened into the array. */
function resolveArray(items: readonly unknown[], path: PathSegment[], context: Resolution): unknown[] {
  const resolved: unknown[] = [];
  items.forEach((item, index) => {
    const itemPath = [...path, index];
    if (typeof item === 'string' && LITERAL_PATTERN.test(item)) resolved.push(...tokens(rawValue(item, itemPath, context.values)));
    else resolved.push(resolveField(item, itemPath, context));
  });
  return resolved;
}

/** Operator values keep the raw value of their literal: the operators parse and check it. */
function resolveObject(object: Readonly<Record<string, unknown>>, path: PathSegment[], context: Resolution): Record<string, unknown> {
  const resolved: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    const keyPath = [...path, key];
    if (MARKER_KEYS.includes(key) && typeof value === 'string' && LITERAL_PATTERN.test(value)) {
      setOwn(resolved, key, rawValue(value, keyPath, context.values));
      const literals = context.markerLiterals.get(resolved) ?? new Map<string, string>();
      context.markerLiterals.set(resolved, literals.set(key, value));
    } else {
      setOwn(resolved, key, resolveField(value, keyPath, context));
    }
  }
  return resolved;
}

// ---------------------------------------------------------------------------------------------
// Step 2: the collection operators

function describeMarker(owner: object, key: string, path: readonly PathSegment[], context: Resolution): string {
  const literal = context.markerLiterals.get(owner)?.get(key);
  return `${formatPath([...path, key])}${literal === undefined ? '' : ` (${JSON.stringify(literal)})`}`;
}

function parseJsonText(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new LiteralError(`${what} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * The items an operator object stands for inside an array. `__spread__`: a JSON array (text, or a
 * value; with `chunked`, string chunks joined first), flattened one level so that the usual
 * results value — an array holding the one matched JSON text — spreads its contents.
 * `__pairs__` in an array: a JSON array, spliced as it is.
 */
function arrayOperatorItems(marker: Record<string, unknown>, key: string, what: string): unknown[] {
  let value = marker[key];
  if (typeof value === 'string') value = parseJsonText(value, what);
  else if (key === SPREAD_KEY && marker.chunked === true && Array.isArray(value) && value.every((chunk) => typeof chunk === 'string')) {
    value = parseJsonText(value.join(''), what);
  }
  if (!Array.isArray(value)) throw new LiteralError(`${what} must be a JSON array`);
  return key === SPREAD_KEY ? (value.flat() as unknown[]) : value;
}

/**
 * The fields an operator key adds to its object. `__spread__`: a JSON object (a results value —
 * an array holding one match — gives that match). `__pairs__`: a JSON array of {key, value}
 * objects (nested one level for a results value), a missing value being "".
 */
function objectOperatorFields(value: unknown, key: string, what: string): [string, unknown][] {
  if (key === SPREAD_KEY) {
    let object = Array.isArray(value) && value.length === 1 ? (value[0] as unknown) : value;
    if (typeof object === 'string') object = parseJsonText(object, what);
    if (!isPlainObject(object)) throw new LiteralError(`${what} must be a JSON object`);
    return Object.entries(object);
  }
  const list = typeof value === 'string' ? parseJsonText(value, what) : value;
  if (!Array.isArray(list)) throw new LiteralError(`${what} must be a JSON array of {"key", "value"} objects`);
  return list.flat().map((pair): [string, unknown] => {
    if (!isPlainObject(pair)) throw new LiteralError(`${what}: items must be objects`);
    if (typeof pair.key !== 'string') throw new LiteralError(`${what}: item.key must be a string`);
    return [pair.key, pair.value ?? ''];
  });
}

/**
 * In arrays, an object holding an operator key is replaced by the operator's items (each again
 * transformed). In objects, operator keys are removed and their fields added, overriding fields of
 * the same name; the added fields are taken as they are.
 */
function applyOperators(value: unknown, path: PathSegment[], context: Resolution): unknown {
  if (Array.isArray(value)) {
    const result: unknown[] = [];
    value.forEach((item, index) => {
      const itemPath = [...path, index];
      const key = markerKeyOf(item);
      if (key !== undefined && isPlainObject(item)) {
        const what = describeMarker(item, key, itemPath, context);
        result.push(...arrayOperatorItems(item, key, what).map((spliced) => applyOperators(spliced, itemPath, context)));
      } else {
        result.push(applyOperators(item, itemPath, context));
      }
    });
    return result;
  }
  if (!isPlainObject(value)) return value;
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (!MARKER_KEYS.includes(key)) setOwn(result, key, applyOperators(item, [...path, key], context));
  }
  for (const [key, item] of Object.entries(value)) {
    if (!MARKER_KEYS.includes(key)) continue;
    for (const [field, fieldValue] of objectOperatorFields(item, key, describeMarker(value, key, path, context)))
      setOwn(result, field, fieldValue);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Steps 3–5

/** Env values become strings: nothing → "", scalars as text, objects and arrays as JSON. */
function stringifyEnv(args: unknown): unknown {
  if (!isPlainObject(args) || !isPlainObject(args.env)) return args;
  const env: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(args.env)) {
    const text =
      value === undefined || value === null
        ? ''
        : typeof value === 'object'
          ? JSON.stringify(value)
          : String(value as string | number | boolean | bigint);
    setOwn(env, name, text);
  }
  const result = { ...args };
  setOwn(result, 'env', env);
  return result;
}

/**
 * "__remove-if-empty__" items of the args' arrays (cmd, entrypoint, resources) are dropped, and a
 * key whose array held one and is now empty is removed. The reference drops only the first such
 * item; every one is dropped here, since one left in place would reach the container as an argument.
 */
function removeIfEmpty(args: unknown): unknown {
  if (!isPlainObject(args)) return args;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    if (!Array.isArray(value) || !value.includes(REMOVE_IF_EMPTY)) {
      setOwn(result, key, value);
      continue;
    }
    const kept = value.filter((item) => item !== REMOVE_IF_EMPTY);
    if (kept.length > 0) setOwn(result, key, kept);
  }
  return result;
}

/** A literal that survived (one written inside a value that resolved) is as unresolved as any other. */
function findLeftoverLiteral(value: unknown, path: PathSegment[]): string | undefined {
  if (typeof value === 'string') {
    const literal = new RegExp(EMBEDDED_LITERAL_PATTERN.source).exec(value)?.[0];
    return literal === undefined
      ? undefined
      : `unresolved literal ${JSON.stringify(literal)} at ${formatPath(path)}: it came with a resolved value`;
  }
  const entries: [PathSegment, unknown][] = Array.isArray(value)
    ? value.map((item, index) => [index, item])
    : isPlainObject(value)
      ? Object.entries(value)
      : [];
  for (const [segment, item] of entries) {
    const found = findLeftoverLiteral(item, [...path, segment]);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * The op's args as the container gets them, or why the op fails before it starts. `args` is not
 * changed. Errors name the literal or operator, where it stands in the args, and what is missing.
 */
export function resolveOpArgs(args: unknown, values: LiteralValues): ResolvedArgs {
  const context: Resolution = { values, markerLiterals: new WeakMap() };
  try {
    const literalsResolved = resolveField(args, ['args'], context);
    const resolved = removeIfEmpty(stringifyEnv(applyOperators(literalsResolved, ['args'], context)));
    const leftover = findLeftoverLiteral(resolved, ['args']);
    return leftover === undefined ? { args: resolved } : { error: leftover };
  } catch (error) {
    if (error instanceof LiteralError) return { error: error.message };
    throw error;
  }
}
