// What the node side lets through although the format says otherwise. Nosana's own nodes accept
// (and run) definitions that the strict schema refuses; a node that refused them would fail jobs
// Nosana's nodes complete. The lenient schema (schema.ts) therefore takes them, each turned into
// the shape the rest of the code reads, or dropped when nothing here can use it:
//
//   meta.system_requirements that is not an object          ignored
//   required_vram / vram_total_mb written as text "8"        read as the number; other values ignored
//   required_cuda written as one string "12.8"               read as ["12.8"]; other values ignored
//   an empty op id, an op id with spaces                     kept
//   an empty create-volume name                              kept
//   expected_status outside 100–599 or fractional           kept (the check can then never pass)
//   env "__spread__" that is not a literal                   kept (parsed as a JSON object at launch)
//   a health-check body that is not a string                 sent as its JSON text; null/false/0: no body
//   expose port ranges "8000-8010" (alone, in an array,      dropped: Pods expose single ports
//     or as an exposed port's "port")
//   a spread marker standing alone as expose                 dropped: markers are read inside arrays
//   an S3 resource with an empty "buckets" list              dropped: it downloads nothing
//
// Every such value leaves the lenient parse wrapped in a note saying what was done. The wrappers
// travel inside the parsed definition, so each one sits exactly where its value was in the input
// (arrays keep their length until the wrappers are removed) and its path comes for free.
// `unwrapTolerances` then takes them out and turns each note into a warning at that path. No
// wrapper survives validate(): the schema's output type, which the executor relies on, holds.
import { isPlainObject } from './json-values.ts';
import type { Finding, PathSegment } from './problems.ts';

const TOLERANCE = Symbol('tolerance');

interface Tolerance {
  [TOLERANCE]: string;
  /** Absent: the value is dropped (the key removed, the array item taken out). */
  use?: { value: unknown };
}

/**
 * `value` goes into the definition as it is (or as normalised by the caller), with a warning.
 * Typed as the value it stands for so that the schema's output type stays the strict one.
 */
export function kept<T>(value: T, note: string): T {
  const tolerance: Tolerance = { [TOLERANCE]: note, use: { value } };
  return tolerance as unknown as T;
}

/** The value is left out of the definition, with a warning. */
export function dropped<T>(note: string): T {
  const tolerance: Tolerance = { [TOLERANCE]: note };
  return tolerance as unknown as T;
}

function isTolerance(value: unknown): value is Tolerance {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, TOLERANCE);
}

/**
 * Wrappers only ever stand at fixed places of the format (the deepest is a health check's body,
 * eight steps from the root). Below this depth only values copied from the input remain, which
 * may nest without bound and never hold a wrapper, so the walk stops there.
 */
const MAX_TOLERANCE_DEPTH = 12;

interface Unwrapped {
  value: unknown;
  warnings: Finding[];
}

/** The parsed definition without its wrappers, and one warning per wrapper, at its path. */
export function unwrapTolerances(parsed: unknown): Unwrapped {
  const warnings: Finding[] = [];
  const DROP = Symbol('drop');

  const walk = (value: unknown, path: PathSegment[]): unknown => {
    if (isTolerance(value)) {
      warnings.push({ segments: path, message: value[TOLERANCE], severity: 'warning' });
      return value.use === undefined ? DROP : value.use.value;
    }
    if (path.length >= MAX_TOLERANCE_DEPTH) return value;
    if (Array.isArray(value)) {
      let changed = false;
      const items: unknown[] = [];
      value.forEach((item: unknown, index) => {
        const result = walk(item, [...path, index]);
        if (result !== item) changed = true;
        if (result !== DROP) items.push(result);
      });
      return changed ? items : value;
    }
    if (isPlainObject(value)) {
      let changed = false;
      const entries: [string, unknown][] = [];
      for (const [key, item] of Object.entries(value)) {
        const result = walk(item, [...path, key]);
        if (result !== item) changed = true;
        if (result !== DROP) entries.push([key, result]);
      }
      if (!changed) return value;
      const copy: Record<string, unknown> = {};
      // defineProperty, not assignment: a "__proto__" key must stay a plain data property.
      for (const [key, item] of entries)
        Object.defineProperty(copy, key, { value: item, writable: true, enumerable: true, configurable: true });
      return copy;
    }
    return value;
  };

  const value = walk(parsed, []);
  return { value: value === DROP ? undefined : value, warnings };
}
