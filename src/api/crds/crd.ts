// Builds a CustomResourceDefinition manifest from a kind's zod spec and status schemas.
import type { z } from 'zod';
import { GROUP, VERSION } from './common.ts';
import { toStructuralSchema, type JsonSchema } from './structural-schema.ts';

export interface ValidationRule {
  rule: string;
  message: string;
  /** where the error points, relative to the node the rule is on (e.g. ".timeout") */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  /** 1 = only with `kubectl get -o wide` */
  priority?: number;
}

/** The kinds of the nosana.io group. */
export type NosanaKind = 'NosanaJob' | 'NosanaMarket' | 'NosanaNode' | 'NosanaDeployment';

/** The scale subresource (kubectl scale, HorizontalPodAutoscaler): where replicas are read and set. */
export interface ScaleSubresource {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

/** CEL rules on a node below .spec, named by its property path (e.g. ['strategy', 'rollingUpdate']). */
export interface NestedRules {
  path: string[];
  rules: ValidationRule[];
}

export interface CrdDefinition {
  kind: NosanaKind;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  printerColumns: PrinterColumn[];
  /** CEL rules on .spec */
  specRules?: ValidationRule[];
  /** CEL rules on nodes below .spec */
  extraRules?: NestedRules[];
  /** CEL rules on the whole object (may compare spec with the stored status via oldSelf) */
  rootRules?: ValidationRule[];
  scale?: ScaleSubresource;
}

function nodeAt(schema: JsonSchema, path: readonly string[]): JsonSchema {
  let node = schema;
  for (const name of path) {
    const next = (node['properties'] as Record<string, JsonSchema> | undefined)?.[name];
    if (next === undefined) throw new Error(`no property ${path.join('.')} in the spec schema`);
    node = next;
  }
  return node;
}

export const CATEGORIES = ['nosana'];

export function buildCrd(definition: CrdDefinition): JsonSchema {
  const spec = toStructuralSchema(definition.spec);
  if (definition.specRules?.length) spec['x-kubernetes-validations'] = definition.specRules;
  for (const nested of definition.extraRules ?? []) nodeAt(spec, nested.path)['x-kubernetes-validations'] = nested.rules;
  const root: JsonSchema = {
    type: 'object',
    description: definition.description,
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string', description: 'The versioned schema of this object: nosana.io/v1alpha1.' },
      kind: { type: 'string', description: `The kind of this object: ${definition.kind}.` },
      metadata: { type: 'object' },
      spec,
      status: toStructuralSchema(definition.status),
    },
  };
  if (definition.rootRules?.length) root['x-kubernetes-validations'] = definition.rootRules;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${definition.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: definition.kind,
        listKind: `${definition.kind}List`,
        plural: definition.plural,
        singular: definition.singular,
        shortNames: definition.shortNames,
        categories: CATEGORIES,
      },
      scope: 'Namespaced',
      versions: [{
        name: VERSION,
        served: true,
        storage: true,
        schema: { openAPIV3Schema: root },
        subresources: definition.scale === undefined ? { status: {} } : { status: {}, scale: definition.scale },
        additionalPrinterColumns: definition.printerColumns,
      }],
    },
  };
}
