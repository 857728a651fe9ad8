// The field reference as a reader meets it: a small hand-made CRD in, the lines a reader looks for out.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fieldReferenceIndex, fieldReferenceMarkdown, parseCrdManifest, referenceFileName } from '../../../src/api/docs/field-reference.ts';
import type { CrdManifest } from '../../../src/api/docs/field-reference.ts';

type Schema = Record<string, unknown>;

function crd(spec: Schema, options: { kind?: string; status?: Schema; root?: Schema } = {}): CrdManifest {
  const kind = options.kind ?? 'Widget';
  const lower = kind.toLowerCase();
  return parseCrdManifest({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    spec: {
      group: 'example.io',
      scope: 'Namespaced',
      names: { kind, plural: `${lower}s`, singular: lower, shortNames: ['wd'], categories: ['things'] },
      versions: [
        {
          name: 'v1',
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: `A ${kind} to test with.`,
              required: ['spec'],
              properties: { spec, ...(options.status === undefined ? {} : { status: options.status }) },
              ...options.root,
            },
          },
          additionalPrinterColumns: [
            { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
            { name: 'Owner', type: 'string', jsonPath: '.spec.owner', description: 'who', priority: 1 },
          ],
        },
      ],
    },
  });
}

const SPEC: Schema = {
  type: 'object',
  description: 'What the widget should be.',
  required: ['name', 'ops'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 10, description: 'The name.' },
    mode: { type: 'string', enum: ['fast', 'slow'], default: 'fast', description: 'How | fast.' },
    when: { type: 'string', format: 'date-time', pattern: '^\\d{4}-long-regex$', description: 'When.' },
    code: { type: 'string', pattern: '^(a|b)$', description: 'A or b.' },
    retries: { type: 'integer', format: 'int64', minimum: 0, maximum: 5, default: 2, description: 'Retries.' },
    timeout: { anyOf: [{ type: 'integer' }, { type: 'string' }], 'x-kubernetes-int-or-string': true, description: 'Timeout.' },
    labels: { type: 'object', additionalProperties: { type: 'string' }, description: 'Labels.' },
    quotas: {
      type: 'object',
      additionalProperties: { type: 'integer', minimum: 0 },
      description: 'Quotas by name.',
    },
    extra: { 'x-kubernetes-preserve-unknown-fields': true, description: 'Anything.' },
    settings: { type: 'object', properties: {}, 'x-kubernetes-preserve-unknown-fields': true, description: 'Free-form <settings>.' },
    ops: {
      type: 'array',
      maxItems: 4,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['id'],
      description: 'The ops.',
      items: {
        type: 'object',
        description: 'One op.',
        required: ['id'],
        properties: {
          id: { type: 'string', description: 'The op id.' },
          tags: { type: 'array', maxItems: 3, items: { type: 'string' }, description: 'Tags.' },
        },
        'x-kubernetes-validations': [{ rule: "self.id != ''", message: 'an op needs an id' }],
      },
    },
  },
  'x-kubernetes-validations': [
    { rule: 'has(self.name)', message: 'name is required' },
    { rule: "!has(self.timeout) || self.timeout != '0'", message: 'timeout must be positive', fieldPath: '.timeout' },
  ],
};

const STATUS: Schema = {
  type: 'object',
  description: 'What was seen.',
  properties: { phase: { type: 'string', enum: ['Idle', 'Busy'], description: 'The phase.' } },
};

function lines(markdown: string): string[] {
  return markdown.split('\n');
}

describe('field reference of one kind', () => {
  const page = fieldReferenceMarkdown(crd(SPEC, { status: STATUS }));

  const rows: { reason: string; want: string }[] = [
    { reason: 'the kind as title', want: '# Widget' },
    { reason: 'the kind description', want: 'A Widget to test with.' },
    { reason: 'group, version and scope', want: '- **API version**: `example.io/v1`, namespaced' },
    { reason: 'names and short names', want: '- **Names**: `widgets` (plural), `widget` (singular), short names `wd`' },
    {
      reason: 'kubectl explain, per level and recursively',
      want: '- **From the cluster**: `kubectl explain widget.spec` shows these descriptions one level at a time, `kubectl explain widget --recursive` the whole tree',
    },
    { reason: 'a printer column kubectl get always shows', want: '| Phase | `.status.phase` | string | always |  |' },
    { reason: 'a printer column only -o wide shows', want: '| Owner | `.spec.owner` | string | `-o wide` | who |' },
    {
      reason: 'spec itself, required at the top',
      want: '| `spec` | object | required |  | rule: name is required | What the widget should be. |',
    },
    { reason: 'a required string with its length bounds', want: '| `spec.name` | string | required |  | length 1–10 | The name. |' },
    {
      reason: 'an enum with its default, a pipe in the description escaped',
      want: '| `spec.mode` | string, one of `fast`, `slow` | optional | `"fast"` |  | How \\| fast. |',
    },
    { reason: 'a format shown, its generated pattern left out', want: '| `spec.when` | string (date-time) | optional |  |  | When. |' },
    {
      reason: 'a pattern in a code span, its pipe escaped',
      want: '| `spec.code` | string | optional |  | pattern `^(a\\|b)$` | A or b. |',
    },
    { reason: 'an integer range and default', want: '| `spec.retries` | integer (int64) | optional | `2` | 0–5 | Retries. |' },
    {
      reason: 'int-or-string, with the message of a rule whose fieldPath points at it',
      want: '| `spec.timeout` | integer or string | optional |  | rule: timeout must be positive | Timeout. |',
    },
    { reason: 'a map with its value type', want: '| `spec.labels` | map[string]string | optional |  |  | Labels. |' },
    {
      reason: 'a map whose values say more than their type',
      want: '| `spec.quotas` | map[string]integer | optional |  |  | Quotas by name. |',
    },
    { reason: 'the map value row', want: '| `spec.quotas.<key>` | integer | – |  | ≥ 0 |  |' },
    { reason: 'a typeless field', want: '| `spec.extra` | any JSON value, kept as is | optional |  |  | Anything. |' },
    {
      reason: 'an object keeping unknown fields, its < escaped',
      want: '| `spec.settings` | object, unknown fields kept | optional |  |  | Free-form &lt;settings&gt;. |',
    },
    {
      reason: 'an array of objects, bounded and keyed',
      want: '| `spec.ops` | []object | required |  | at most 4 items<br>unique by `id` | The ops. |',
    },
    { reason: 'the array element with its rule', want: '| `spec.ops[]` | object | – |  | rule: an op needs an id | One op. |' },
    { reason: 'a field of every element', want: '| `spec.ops[].id` | string | required |  |  | The op id. |' },
    { reason: 'an array of strings', want: '| `spec.ops[].tags` | []string | optional |  | at most 3 items | Tags. |' },
    { reason: 'status, optional', want: '| `status` | object | optional |  |  | What was seen. |' },
    { reason: 'a status enum', want: '| `status.phase` | string, one of `Idle`, `Busy` | optional |  |  | The phase. |' },
    {
      reason: 'a rule listed with where it reports',
      want: '- on `spec` (reported at `spec.timeout`): timeout must be positive',
    },
    { reason: 'the rule itself, verbatim (its pipes are not in a table)', want: "  `!has(self.timeout) || self.timeout != '0'`" },
    { reason: 'a rule on array elements', want: '- on `spec.ops[]`: an op needs an id' },
  ];
  for (const row of rows) {
    test(row.reason, () => {
      assert.ok(lines(page).includes(row.want), `missing line:\n${row.want}\n\nin:\n${page}`);
    });
  }

  test('an element or value that says nothing beyond its type gets no row of its own', () => {
    for (const path of ['spec.labels.<key>', 'spec.ops[].tags[]'])
      assert.ok(!page.includes(`\`${path}\``), `${path} should be shown only through its parent's type`);
  });

  test('every row of a table has the same number of cells as its header', () => {
    const tableLines = lines(page).filter((line) => line.startsWith('| '));
    for (const line of tableLines) {
      const cells = line.replace(/\\\|/g, '').split('|').length - 2;
      assert.ok(cells === 5 || cells === 6, `${cells} cells: ${line}`);
    }
  });

  test('a rule on the whole object gets a section of its own', () => {
    const withRoot = fieldReferenceMarkdown(crd(SPEC, { root: { 'x-kubernetes-validations': [{ rule: 'true', message: 'always' }] } }));
    assert.ok(lines(withRoot).includes('## Rules on the whole object'));
    assert.ok(lines(withRoot).includes('- on the object: always'));
  });

  test('a schema deeper than the bound is cut with a pointer to kubectl explain', () => {
    let deep: Schema = { type: 'string', description: 'the bottom' };
    for (let level = 0; level < 30; level++) deep = { type: 'object', properties: { next: deep }, description: `level ${level}` };
    const cut = fieldReferenceMarkdown(crd({ type: 'object', properties: { deep } }));
    assert.ok(!cut.includes('the bottom'));
    assert.match(cut, /\| `spec(\.deep)?(\.next)+\.…` \| {2}\| – \| {2}\| {2}\| deeper fields are not listed here/);
  });
});

describe('field reference index', () => {
  test('every kind given is listed with its page, short names and description', () => {
    const kinds = [crd(SPEC, { kind: 'Widget' }), crd(SPEC, { kind: 'Gadget' })];
    const index = lines(fieldReferenceIndex(kinds));
    assert.ok(index.includes('| [Widget](widget.md) | `wd` | A Widget to test with. |'));
    assert.ok(index.includes('| [Gadget](gadget.md) | `wd` | A Gadget to test with. |'));
    assert.deepEqual(kinds.map(referenceFileName), ['widget.md', 'gadget.md']);
  });
});

describe('parseCrdManifest', () => {
  test('refuses what is not a CustomResourceDefinition with a schema', () => {
    assert.throws(() => parseCrdManifest({ spec: { group: 'x', names: {}, versions: [] } }));
  });
});
