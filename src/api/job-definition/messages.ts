// Turns zod issues into sentences that say what was expected and what was found. zod's own
// wording ("Invalid input") never reaches a user: the schema attaches descriptions with
// `expecting(...)`, and `readableMessage` is passed as the per-parse error map for the rest.
import { z } from 'zod';
import { didYouMean } from './suggestions.ts';

type RawIssue = z.core.$ZodRawIssue;

const MAX_QUOTED_LENGTH = 60;

/** How a value is shown after "got": strings quoted, other scalars with their type. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      return `number ${String(value)}`;
    case 'boolean':
      return `boolean ${String(value)}`;
    case 'object':
      if (Array.isArray(value)) {
        if (value.length === 0) return 'an empty array';
        return `an array of ${value.length} ${value.length === 1 ? 'item' : 'items'}`;
      }
      return Object.keys(value).length === 0 ? 'an empty object' : 'an object';
    default:
      return `a ${typeof value}`;
  }
}

function quote(text: string): string {
  const quoted = JSON.stringify(text);
  if (quoted.length <= MAX_QUOTED_LENGTH) return quoted;
  return `${quoted.slice(0, MAX_QUOTED_LENGTH - 2)}…"`;
}

export function expectedGot(description: string, input: unknown): string {
  if (input === undefined) return `required: expected ${description}`;
  return `expected ${description}, got ${describeValue(input)}`;
}

/** "a", "a or b", "a, b or c". */
export function alternatives(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? 'nothing';
  return `${items.slice(0, -1).join(', ')} or ${items.at(-1) ?? ''}`;
}

/**
 * Schema params that describe every failure of that schema (wrong type, out of range, union with
 * no match) with one phrase, e.g. `z.int(expecting('an integer 1–65535')).min(1)`. Unknown keys
 * and refinements keep their own messages.
 */
export function expecting(description: string, whenMissing?: string): { error: (issue: RawIssue) => string | undefined } {
  return {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys' || issue.code === 'custom') return undefined;
      // A wrong discriminator ("type") reads better from the map, which lists the valid tags.
      if (issue.code === 'invalid_union' && issue.discriminator !== undefined) return undefined;
      if (issue.input === undefined && whenMissing !== undefined) return whenMissing;
      return expectedGot(description, issue.input);
    },
  };
}

const TYPE_DESCRIPTIONS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean (true or false)',
  array: 'an array',
  object: 'an object',
  record: 'an object',
  null: 'null',
  never: 'nothing here',
};

function typeDescription(expected: string): string {
  return TYPE_DESCRIPTIONS[expected] ?? `a value of type ${expected}`;
}

function plural(count: number | bigint, noun: string): string {
  return `${String(count)} ${noun}${count === 1 || count === 1n ? '' : 's'}`;
}

function boundPhrase(issue: Extract<RawIssue, { code: 'too_small' | 'too_big' }>): string {
  const isMinimum = issue.code === 'too_small';
  const bound = isMinimum ? issue.minimum : issue.maximum;
  switch (issue.origin) {
    case 'array':
    case 'set':
      if (isMinimum && bound === 1) return 'a non-empty array';
      return `an array with ${isMinimum ? 'at least' : 'at most'} ${plural(bound, 'item')}`;
    case 'string':
      if (isMinimum && bound === 1) return 'a non-empty string';
      return `a string of ${isMinimum ? 'at least' : 'at most'} ${plural(bound, 'character')}`;
    default: {
      const comparison = isMinimum ? (issue.inclusive === false ? '>' : '≥') : issue.inclusive === false ? '<' : '≤';
      return `a number ${comparison} ${String(bound)}`;
    }
  }
}

/**
 * One line per unknown key, in the order of `issue.keys`. An unrecognized_keys issue covers all
 * unknown keys of one object, but each becomes its own problem (path ending in the key); the
 * flattener splits the lines back apart. Only here is the object's shape at hand, which the
 * "did you mean" hint needs.
 */
function unknownKeyLines(issue: Extract<RawIssue, { code: 'unrecognized_keys' }>): string {
  const knownKeys = issue.inst instanceof z.ZodObject ? Object.keys(issue.inst.shape) : [];
  return issue.keys.map((key) => unknownKeyMessage(key, knownKeys)).join('\n');
}

export function unknownKeyMessage(key: string, knownKeys: readonly string[]): string {
  return `unknown key ${JSON.stringify(key)}${didYouMean(key, knownKeys)}`;
}

function unionMessage(issue: Extract<RawIssue, { code: 'invalid_union' }>): string {
  if (issue.discriminator !== undefined) {
    const input: unknown = issue.input;
    const tag = typeof input === 'object' && input !== null ? (input as Record<string, unknown>)[issue.discriminator] : undefined;
    const options = ((issue.options ?? []) as readonly unknown[]).map((option) => JSON.stringify(option) ?? String(option));
    return expectedGot(alternatives(options), tag);
  }
  // No description was attached: list the kinds the alternatives wanted at their top level.
  const wanted = new Set<string>();
  for (const branch of issue.errors) {
    for (const sub of branch) {
      if (sub.path.length === 0 && sub.code === 'invalid_type') wanted.add(typeDescription(sub.expected));
    }
  }
  return expectedGot(wanted.size > 0 ? alternatives([...wanted]) : 'a different shape', issue.input);
}

/** The per-parse error map: a readable sentence for every issue code zod can raise. */
export function readableMessage(issue: RawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return expectedGot(typeDescription(issue.expected), issue.input);
    case 'invalid_value':
      return expectedGot(alternatives(issue.values.map((value) => JSON.stringify(value) ?? String(value))), issue.input);
    case 'too_small':
    case 'too_big':
      return expectedGot(boundPhrase(issue), issue.input);
    case 'unrecognized_keys':
      return unknownKeyLines(issue);
    case 'invalid_union':
      return unionMessage(issue);
    case 'invalid_format':
      return expectedGot(issue.pattern === undefined ? `a ${issue.format} string` : `a string matching ${issue.pattern}`, issue.input);
    case 'not_multiple_of':
      return expectedGot(`a multiple of ${String(issue.divisor)}`, issue.input);
    case 'invalid_key':
      return `invalid key: ${describeValue(issue.input)}`;
    case 'invalid_element':
      return `invalid element: ${describeValue(issue.input)}`;
    case 'custom':
      return `invalid value: ${describeValue(issue.input)}`;
    default:
      return `invalid value: ${describeValue((issue as { input?: unknown }).input)}`;
  }
}
