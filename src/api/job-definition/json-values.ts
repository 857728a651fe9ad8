// Safe reads from untrusted JSON: the rules run on the raw input, before (and whether or not)
// the schema accepted it, so nothing here may assume a shape.

export type JsonObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An own property only: a key such as "constructor" or "__proto__" must not reach the prototype. */
export function ownProperty(object: unknown, key: string): unknown {
  return isPlainObject(object) && Object.hasOwn(object, key) ? object[key] : undefined;
}

export function hasOwnKey(object: unknown, key: string): boolean {
  return isPlainObject(object) && Object.hasOwn(object, key);
}

export function objectAt(object: unknown, key: string): JsonObject | undefined {
  const value = ownProperty(object, key);
  return isPlainObject(value) ? value : undefined;
}

export function stringAt(object: unknown, key: string): string | undefined {
  const value = ownProperty(object, key);
  return typeof value === 'string' ? value : undefined;
}

export function arrayAt(object: unknown, key: string): readonly unknown[] | undefined {
  const value = ownProperty(object, key);
  return Array.isArray(value) ? value : undefined;
}
