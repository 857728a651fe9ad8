// The field reference of each nosana.io kind (docs/reference/), written from the very
// CustomResourceDefinition the cluster gets, so the page cannot say other than `kubectl explain`
// or the API server: every field of spec and status with its path, type, presence, default,
// validation and description, plus the kind's names and printer columns. Pure: a CRD manifest in,
// Markdown out; src/api/crds/manifests.ts decides where it is written.
//
// The tree is rendered flat, one table row per field named by its full path: `[]` stands for each
// element of an array and `.<key>` for each value of a map, so `spec.definition.ops[].id` is the
// id of every op. An element or value row appears only when it says more than the type its array
// or map row already shows. A depth bound keeps any schema finite on the page.
import { z } from 'zod';
import { code, generatedNotice, inlineText, table } from './markdown.ts';

type SchemaNode = Record<string, unknown>;

const schemaNode = z.record(z.string(), z.unknown());

const printerColumn = z.object({
  name: z.string(),
  type: z.string(),
  jsonPath: z.string(),
  description: z.string().optional(),
  priority: z.number().optional(),
});

const crdManifest = z.object({
  spec: z.object({
    group: z.string(),
    scope: z.string(),
    names: z.object({
      kind: z.string(),
      plural: z.string(),
      singular: z.string(),
      shortNames: z.array(z.string()).optional(),
      categories: z.array(z.string()).optional(),
    }),
    versions: z
      .array(
        z.object({
          name: z.string(),
          storage: z.boolean().optional(),
          schema: z.object({ openAPIV3Schema: schemaNode }),
          additionalPrinterColumns: z.array(printerColumn).optional(),
        }),
      )
      .min(1),
  }),
});

/** What the reference reads of a CustomResourceDefinition. */
export type CrdManifest = z.infer<typeof crdManifest>;

/** Checks that `value` is a CustomResourceDefinition with what the reference reads (buildCrd's output). */
export function parseCrdManifest(value: unknown): CrdManifest {
  return crdManifest.parse(value);
}

/** Where a kind's page lives, relative to docs/reference/. */
export function referenceFileName(crd: CrdManifest): string {
  return `${crd.spec.names.singular}.md`;
}

/** Levels below spec or status shown before a subtree is summarised (the CRDs go about seven deep). */
const MAX_DEPTH = 16;

interface Field {
  path: string;
  type: string;
  /** Required or optional within its parent; an array element or map value is neither. */
  presence: 'required' | 'optional' | '–';
  default?: unknown;
  validation: string[];
  description: string;
}

interface CelRule {
  path: string;
  rule: string;
  message?: string;
  fieldPath?: string;
}

/** The page of one kind. */
export function fieldReferenceMarkdown(crd: CrdManifest): string {
  const { names, group, scope } = crd.spec;
  const version = storageVersion(crd);
  const root = version.schema.openAPIV3Schema;
  const explain = `kubectl explain ${names.singular}`;
  const parts = [
    `${generatedNotice('src/api/crds')}# ${names.kind}\n`,
    ...optional(stringAt(root, 'description'), (text) => `${inlineText(text)}\n`),
    [
      `- **API version**: ${code(`${group}/${version.name}`)}, ${scope === 'Namespaced' ? 'namespaced' : scope.toLowerCase()}`,
      `- **Names**: ${code(names.plural)} (plural), ${code(names.singular)} (singular)${listed(' short names ', names.shortNames)}`,
      ...optional(
        names.categories?.length ? names.categories : undefined,
        (categories) =>
          `- **Categories**: ${categories.map(code).join(', ')} (${code(`kubectl get ${categories[0] ?? ''}`)} lists it with the other kinds of the category)`,
      ),
      `- **From the cluster**: ${code(`${explain}.spec`)} shows these descriptions one level at a time, ${code(`${explain} --recursive`)} the whole tree\n`,
    ].join('\n'),
    'Paths name each field from the top of the object: `[]` stands for every element of an array and `.<key>` for every value ' +
      'of a map. Required means required whenever its parent is present.\n',
    printerColumnsSection(crd),
    ...rootRulesSection(root),
    ...(['spec', 'status'] as const).flatMap((name) => {
      const node = nodeAt(propertiesOf(root), name);
      return node === undefined ? [] : [schemaSection(name, node, requiredOf(root).has(name))];
    }),
  ];
  return parts.join('\n');
}

/** docs/reference/README.md: the kinds, each with its page. */
export function fieldReferenceIndex(crds: readonly CrdManifest[]): string {
  const rows = crds.map((crd) => {
    const { names } = crd.spec;
    const description = stringAt(storageVersion(crd).schema.openAPIV3Schema, 'description') ?? '';
    return [`[${names.kind}](${referenceFileName(crd)})`, (names.shortNames ?? []).map(code).join(', '), inlineText(description)];
  });
  const example = crds[0]?.spec.names.singular;
  return [
    `${generatedNotice('src/api/crds')}# API reference\n`,
    'Every field of every nosana.io kind, from the schemas the CustomResourceDefinitions in `crds/` carry: what the API ' +
      'server validates and what `kubectl explain` shows.\n',
    table(['kind', 'short names', 'what'], rows),
    ...optional(
      example,
      (singular) => `With the CRDs installed, ${code(`kubectl explain ${singular}.spec`)} shows the same descriptions from the cluster.\n`,
    ),
    'What a schema cannot express is checked by the admission policy (`deploy/admission/`) and by the operator itself. ' +
      'Phases and conditions: [conditions](../conditions.md); what to do about each reason: [troubleshooting](../troubleshooting.md).\n',
  ].join('\n');
}

function storageVersion(crd: CrdManifest): CrdManifest['spec']['versions'][number] {
  const { versions } = crd.spec;
  const version = versions.find((v) => v.storage === true) ?? versions[0];
  if (version === undefined) throw new Error(`CustomResourceDefinition ${crd.spec.names.plural} has no version`);
  return version;
}

function printerColumnsSection(crd: CrdManifest): string {
  const columns = storageVersion(crd).additionalPrinterColumns ?? [];
  const heading = '## Printer columns\n';
  if (columns.length === 0) return `${heading}\n${code(`kubectl get ${crd.spec.names.plural}`)} shows the name and age only.\n`;
  const rows = columns.map((column) => [
    column.name,
    code(column.jsonPath),
    column.type,
    (column.priority ?? 0) > 0 ? code('-o wide') : 'always',
    inlineText(column.description ?? ''),
  ]);
  return `${heading}\n${table(['column', 'JSONPath', 'type', 'shown', 'description'], rows)}`;
}

function rootRulesSection(root: SchemaNode): string[] {
  const rules = celRulesOf(root, '');
  if (rules.length === 0) return [];
  return [`## Rules on the whole object\n\n${rulesList(rules)}`];
}

/**
 * One of spec and status: its fields as a table, then the CEL rules on them. A rule's message is
 * shown on the field its error points at (its fieldPath), which is where a reader looks for it.
 */
function schemaSection(name: string, node: SchemaNode, required: boolean): string {
  const fields = [...walk(node, name, required ? 'required' : 'optional', 0)];
  const rules = [...rulesUnder(node, name, 0)];
  const paths = new Set(fields.map((field) => field.path));
  for (const rule of rules) {
    const target = rule.fieldPath !== undefined && paths.has(rule.path + rule.fieldPath) ? rule.path + rule.fieldPath : rule.path;
    fields
      .find((field) => field.path === target)
      ?.validation.push(`rule: ${rule.message === undefined ? code(rule.rule) : inlineText(rule.message)}`);
  }
  const rows = fields.map((field) => [
    code(field.path),
    field.type,
    field.presence,
    field.default === undefined ? '' : code(JSON.stringify(field.default)),
    field.validation.join('<br>'),
    field.description,
  ]);
  return [
    `## ${name}\n`,
    table(['field', 'type', 'required', 'default', 'validation', 'description'], rows),
    ...(rules.length === 0 ? [] : [`### Rules (CEL)\n\n${rulesList(rules)}`]),
  ].join('\n');
}

function* walk(node: SchemaNode, path: string, presence: Field['presence'], depth: number): Generator<Field> {
  yield fieldOf(node, path, presence);
  const children = childrenOf(node, path);
  if (children.length === 0) return;
  if (depth >= MAX_DEPTH) {
    yield {
      path: `${path}.…`,
      type: '',
      presence: '–',
      validation: [],
      description: `deeper fields are not listed here: ${code(`kubectl explain … --recursive`)} shows them`,
    };
    return;
  }
  for (const child of children) yield* walk(child.node, child.path, child.presence, depth + 1);
}

interface Child {
  node: SchemaNode;
  path: string;
  presence: Field['presence'];
}

/** The named fields, then the array element or map value when it says more than its type. */
function childrenOf(node: SchemaNode, path: string): Child[] {
  const required = requiredOf(node);
  const children: Child[] = Object.entries(propertiesOf(node)).map(([name, child]) => ({
    node: child,
    path: `${path}.${name}`,
    presence: required.has(name) ? 'required' : 'optional',
  }));
  const items = nodeAt(node, 'items');
  if (items !== undefined && saysMoreThanItsType(items)) children.push({ node: items, path: `${path}[]`, presence: '–' });
  const values = nodeAt(node, 'additionalProperties');
  if (values !== undefined && saysMoreThanItsType(values)) children.push({ node: values, path: `${path}.<key>`, presence: '–' });
  return children;
}

function saysMoreThanItsType(node: SchemaNode): boolean {
  return Object.keys(node).some((key) => key !== 'type');
}

function* rulesUnder(node: SchemaNode, path: string, depth: number): Generator<CelRule> {
  yield* celRulesOf(node, path);
  if (depth >= MAX_DEPTH) return;
  for (const child of childrenOf(node, path)) yield* rulesUnder(child.node, child.path, depth + 1);
}

function fieldOf(node: SchemaNode, path: string, presence: Field['presence']): Field {
  return {
    path,
    type: typeCell(node),
    presence,
    ...(node.default === undefined ? {} : { default: node.default }),
    validation: validationOf(node),
    description: inlineText(stringAt(node, 'description') ?? ''),
  };
}

/** The type as Kubernetes writes it (`[]string`, `map[string]string`), without notes. */
function baseType(node: SchemaNode): string {
  if (node['x-kubernetes-int-or-string'] === true) return 'integer or string';
  const type = stringAt(node, 'type');
  if (type === undefined) {
    const branches = nodesAt(node, 'anyOf');
    return branches.length > 0 ? branches.map(baseType).join(' or ') : 'any';
  }
  if (type === 'array') {
    const items = nodeAt(node, 'items');
    return `[]${items === undefined ? 'any' : baseType(items)}`;
  }
  const values = nodeAt(node, 'additionalProperties');
  if (type === 'object' && values !== undefined) return `map[string]${baseType(values)}`;
  return type;
}

/** The type with its format, enum values and whether unknown fields are kept. */
function typeCell(node: SchemaNode): string {
  const format = stringAt(node, 'format');
  let text = baseType(node) + (format === undefined ? '' : ` (${format})`);
  if (node['x-kubernetes-preserve-unknown-fields'] === true)
    text = stringAt(node, 'type') === undefined ? 'any JSON value, kept as is' : `${text}, unknown fields kept`;
  if (node['x-kubernetes-embedded-resource'] === true) text += ', a Kubernetes object';
  const values = Array.isArray(node.enum) ? node.enum : [];
  if (values.length > 0)
    text += `, one of ${values.map((value) => code(typeof value === 'string' ? value : JSON.stringify(value))).join(', ')}`;
  return text;
}

function validationOf(node: SchemaNode): string[] {
  const parts = [
    ...bounds(node.minLength, node.maxLength, LENGTH),
    ...valueBounds(node),
    ...bounds(node.minItems, node.maxItems, ITEMS),
    ...bounds(node.minProperties, node.maxProperties, KEYS),
  ];
  const pattern = stringAt(node, 'pattern');
  // zod spells date-time out as a long regular expression; the format says the same.
  if (pattern !== undefined && stringAt(node, 'format') !== 'date-time') parts.push(`pattern ${code(pattern)}`);
  if (node.uniqueItems === true || node['x-kubernetes-list-type'] === 'set') parts.push('items unique');
  const mapKeys = Array.isArray(node['x-kubernetes-list-map-keys']) ? node['x-kubernetes-list-map-keys'] : [];
  if (node['x-kubernetes-list-type'] === 'map' && mapKeys.length > 0)
    parts.push(`unique by ${mapKeys.map((key) => code(String(key))).join(' and ')}`);
  if (node.nullable === true) parts.push('may be null');
  return parts;
}

interface BoundPhrases {
  both(range: string): string;
  low(bound: number): string;
  high(bound: number): string;
}

const LENGTH: BoundPhrases = { both: (range) => `length ${range}`, low: (n) => `length ≥ ${n}`, high: (n) => `length ≤ ${n}` };
const ITEMS: BoundPhrases = { both: (range) => `${range} items`, low: (n) => `at least ${n} items`, high: (n) => `at most ${n} items` };
const KEYS: BoundPhrases = { both: (range) => `${range} keys`, low: (n) => `at least ${n} keys`, high: (n) => `at most ${n} keys` };

/** A lower and an upper bound as one phrase: `length 1–253`, `length ≤ 253`, `at most 64 items`. */
function bounds(low: unknown, high: unknown, phrases: BoundPhrases): string[] {
  if (typeof low === 'number' && typeof high === 'number') return [phrases.both(low === high ? String(low) : `${low}–${high}`)];
  if (typeof low === 'number') return [phrases.low(low)];
  if (typeof high === 'number') return [phrases.high(high)];
  return [];
}

/** minimum and maximum, exclusive or not (OpenAPI 3.0 marks exclusiveness with booleans). */
function valueBounds(node: SchemaNode): string[] {
  const { minimum, maximum } = node;
  const exclusiveLow = node.exclusiveMinimum === true;
  const exclusiveHigh = node.exclusiveMaximum === true;
  if (typeof minimum === 'number' && typeof maximum === 'number' && !exclusiveLow && !exclusiveHigh)
    return [minimum === maximum ? `exactly ${minimum}` : `${minimum}–${maximum}`];
  return [
    ...(typeof minimum === 'number' ? [`${exclusiveLow ? '>' : '≥'} ${minimum}`] : []),
    ...(typeof maximum === 'number' ? [`${exclusiveHigh ? '<' : '≤'} ${maximum}`] : []),
  ];
}

function celRulesOf(node: SchemaNode, path: string): CelRule[] {
  const rules = Array.isArray(node['x-kubernetes-validations']) ? (node['x-kubernetes-validations'] as unknown[]) : [];
  return rules.flatMap((value) => {
    const rule = isNode(value) ? value : undefined;
    const text = rule === undefined ? undefined : stringAt(rule, 'rule');
    if (rule === undefined || text === undefined) return [];
    const message = stringAt(rule, 'message');
    const fieldPath = stringAt(rule, 'fieldPath');
    return [{ path, rule: text, ...(message === undefined ? {} : { message }), ...(fieldPath === undefined ? {} : { fieldPath }) }];
  });
}

function rulesList(rules: readonly CelRule[]): string {
  return (
    rules
      .map((rule) => {
        const on = rule.path === '' ? 'the object' : code(rule.path);
        const reportedAt = rule.fieldPath === undefined ? undefined : `${rule.path}${rule.fieldPath}`.replace(/^\./, '');
        const where = reportedAt === undefined ? '' : ` (reported at ${code(reportedAt)})`;
        const said = rule.message === undefined ? 'must hold' : inlineText(rule.message);
        return `- on ${on}${where}: ${said}\n  ${code(rule.rule)}`;
      })
      .join('\n') + '\n'
  );
}

function isNode(value: unknown): value is SchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nodeAt(node: SchemaNode, key: string): SchemaNode | undefined {
  const value = node[key];
  return isNode(value) ? value : undefined;
}

function nodesAt(node: SchemaNode, key: string): SchemaNode[] {
  const value = node[key];
  return Array.isArray(value) ? value.filter(isNode) : [];
}

function propertiesOf(node: SchemaNode): Record<string, SchemaNode> {
  const properties = nodeAt(node, 'properties') ?? {};
  return Object.fromEntries(Object.entries(properties).filter((entry): entry is [string, SchemaNode] => isNode(entry[1])));
}

function requiredOf(node: SchemaNode): Set<string> {
  return new Set(Array.isArray(node.required) ? node.required.filter((name): name is string => typeof name === 'string') : []);
}

function stringAt(node: SchemaNode, key: string): string | undefined {
  const value = node[key];
  return typeof value === 'string' ? value : undefined;
}

function optional<T>(value: T | undefined, render: (value: T) => string): string[] {
  return value === undefined ? [] : [render(value)];
}

function listed(prefix: string, values: readonly string[] | undefined): string {
  return values === undefined || values.length === 0 ? '' : `,${prefix}${values.map(code).join(', ')}`;
}
