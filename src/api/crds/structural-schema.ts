// Turns a zod schema into a Kubernetes structural OpenAPI v3 schema, so one TypeScript
// definition is both the operator's runtime validator/type and the CRD's schema
// (`kubectl explain` reads the descriptions set with .describe()/.meta()).
//
// zod's JSON Schema output is close; what Kubernetes demands differently is handled here:
// - `additionalProperties: false` is not allowed (unknown fields are pruned instead);
// - `additionalProperties: {}` (a loose object) becomes x-kubernetes-preserve-unknown-fields;
// - int-or-string unions must be exactly anyOf [integer, string] (a string length bound may
//   stay on the node); their value rules move to CEL;
// - zod's safe-integer bounds are noise in `kubectl explain` and dropped;
// - integers get format int64 as Kubernetes' own types do.
import { z } from 'zod';

export type JsonSchema = { [key: string]: unknown };

const SAFE_INTEGER_BOUND = Number.MAX_SAFE_INTEGER;

export function toStructuralSchema(schema: z.ZodType): JsonSchema {
  const raw = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as JsonSchema;
  delete raw.$schema;
  return normalise(raw);
}

function normalise(node: JsonSchema): JsonSchema {
  const out: JsonSchema = { ...node };

  if (out['x-kubernetes-int-or-string'] === true) {
    // keep the string branch's length bound: CEL costs are estimated from it
    const stringBranch = (out.anyOf as JsonSchema[] | undefined)?.find((branch) => branch.type === 'string');
    if (typeof stringBranch?.maxLength === 'number') out.maxLength = stringBranch.maxLength;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
    delete out.type;
  } else if (Array.isArray(out.anyOf)) {
    out.anyOf = out.anyOf.map((n) => normalise(n as JsonSchema));
  }

  if (out.additionalProperties === false) delete out.additionalProperties;
  if (isEmptyObject(out.additionalProperties)) {
    delete out.additionalProperties;
    out['x-kubernetes-preserve-unknown-fields'] = true;
  } else if (typeof out.additionalProperties === 'object' && out.additionalProperties !== null) {
    out.additionalProperties = normalise(out.additionalProperties as JsonSchema);
  }

  if (out.type === 'integer') {
    if (out.maximum === SAFE_INTEGER_BOUND) delete out.maximum;
    if (out.minimum === -SAFE_INTEGER_BOUND) delete out.minimum;
    out.format ??= 'int64';
  }

  if (out.properties && typeof out.properties === 'object') {
    const properties: JsonSchema = {};
    for (const [key, value] of Object.entries(out.properties as JsonSchema)) {
      properties[key] = normalise(value as JsonSchema);
    }
    out.properties = properties;
  }
  if (out.items && typeof out.items === 'object') out.items = normalise(out.items as JsonSchema);
  return out;
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
}
