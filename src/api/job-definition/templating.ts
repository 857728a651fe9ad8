// The node rewrites op args right before launching an op: "%%…%%" literals are replaced by values
// known only at run time, and a few marker values splice or drop content. The schema has to let
// these through wherever the node would resolve them, so their shapes live here in one place.

/** A whole string that is exactly one literal, e.g. "%%ops.setup.results.port%%". */
export const LITERAL_PATTERN = /^%%(?:ops|globals?)\.[^%]+%%$/;

/** Every literal inside a longer string (the node interpolates those too). */
export const EMBEDDED_LITERAL_PATTERN = /%%(ops|globals?)\.([^%]*)%%/g;

/** An array element the node drops; the whole key goes if the array ends up empty. */
export const REMOVE_IF_EMPTY = '__remove-if-empty__';

/** The key of a spread marker object (arrays) or of an env entry (objects). */
export const SPREAD_KEY = '__spread__';

/** `{"__pairs__": …}`: turns `[{key, value}]` into fields of the object it stands in. */
export const PAIRS_KEY = '__pairs__';

export function isLiteral(value: unknown): value is string {
  return typeof value === 'string' && LITERAL_PATTERN.test(value);
}

export const LITERAL_DESCRIPTION = 'a literal string such as "%%ops.<id>.results.<key>%%" or "%%global.variables.<NAME>%%"';
