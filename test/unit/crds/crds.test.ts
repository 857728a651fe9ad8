import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { ALL_CRDS, buildCrd, nosanaJobSpec, nosanaNodeSpec, nosanaMarketSpec } from '../../../src/api/crds/index.ts';
import { renderManifests } from '../../../src/api/crds/manifests.ts';
import { BlockMarkersError } from '../../../src/api/docs/generated-block.ts';

const root = resolve(import.meta.dirname, '..', '..', '..');

type Schema = { [key: string]: unknown };

/** Visits every named property of a schema, with its dotted path. */
function* properties(schema: Schema, path: string): Generator<[string, Schema]> {
  const props = schema.properties as Record<string, Schema> | undefined;
  for (const [name, child] of Object.entries(props ?? {})) {
    yield [`${path}.${name}`, child];
    yield* properties(child, `${path}.${name}`);
    if (child.items) yield* properties(child.items as Schema, `${path}.${name}[]`);
    if (typeof child.additionalProperties === 'object') yield* properties(child.additionalProperties as Schema, `${path}.${name}{}`);
  }
}

function openApiSchema(definition: (typeof ALL_CRDS)[number]): Schema {
  const crd = buildCrd(definition) as { spec: { versions: { schema: { openAPIV3Schema: Schema } }[] } };
  return crd.spec.versions[0]!.schema.openAPIV3Schema;
}

async function currentReadme(): Promise<string> {
  return readFile(join(root, 'README.md'), 'utf8');
}

describe('CRDs', () => {
  test('crds/, deploy/, docs/ and the README block match the TypeScript definitions (run npm run generate)', async () => {
    for (const [relative, wanted] of renderManifests({ readme: await currentReadme() })) {
      const current = await readFile(join(root, relative), 'utf8').catch(() => '(missing)');
      assert.equal(current, wanted, `${relative} is stale: run npm run generate`);
    }
  });

  test('the docs generated include a field reference page per kind, the index linking each, and the troubleshooting page', async () => {
    const files = renderManifests({ readme: await currentReadme() });
    const index = files.get('docs/reference/README.md') ?? '';
    for (const definition of ALL_CRDS) {
      const page = files.get(`docs/reference/${definition.singular}.md`) ?? '';
      assert.match(page, new RegExp(`^# ${definition.kind}$`, 'm'), definition.kind);
      assert.ok(page.includes(`kubectl explain ${definition.singular}.spec`), definition.kind);
      assert.ok(index.includes(`[${definition.kind}](${definition.singular}.md)`), definition.kind);
    }
    assert.ok(files.has('docs/troubleshooting.md'));
    assert.ok(files.get('README.md')?.includes('<!-- troubleshooting:begin -->'));
  });

  test('a README without the troubleshooting markers stops the generator', () => {
    assert.throws(() => renderManifests({ readme: '# nosana-operator\n' }), BlockMarkersError);
  });

  for (const definition of ALL_CRDS) {
    test(`${definition.kind}: every field is described for kubectl explain`, () => {
      const undescribed = [...properties(openApiSchema(definition), definition.kind)]
        .filter(([path, schema]) => !path.endsWith('.metadata') && typeof schema.description !== 'string')
        .map(([path]) => path);
      assert.deepEqual(undescribed, []);
    });

    test(`${definition.kind}: arrays are bounded, keeping CEL costs low`, () => {
      const unbounded = [...properties(openApiSchema(definition), definition.kind)]
        .filter(([, schema]) => schema.type === 'array' && typeof schema.maxItems !== 'number')
        .map(([path]) => path);
      assert.deepEqual(unbounded, []);
    });

    test(`${definition.kind}: structural (no additionalProperties: false, typed unless preserving unknown fields)`, () => {
      for (const [path, schema] of properties(openApiSchema(definition), definition.kind)) {
        assert.notEqual(schema.additionalProperties, false, path);
        const typeless = schema.type === undefined;
        if (typeless) {
          assert.ok(schema['x-kubernetes-preserve-unknown-fields'] === true || schema['x-kubernetes-int-or-string'] === true, `${path} has no type`);
        }
      }
    });

    test(`${definition.kind}: short name, nosana category, status subresource${definition.kind === 'NosanaDeployment' ? ', scale subresource' : ''}`, () => {
      const crd = buildCrd(definition) as { spec: { names: { shortNames: string[]; categories: string[] }; versions: { subresources: unknown }[] } };
      assert.ok(crd.spec.names.shortNames.length > 0);
      assert.deepEqual(crd.spec.names.categories, ['nosana']);
      // kubectl scale and HorizontalPodAutoscalers work on a NosanaDeployment, and only there
      const scale = { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' };
      assert.deepEqual(crd.spec.versions[0]!.subresources, definition.kind === 'NosanaDeployment' ? { status: {}, scale } : { status: {} });
    });
  }

  test('NosanaDeployment printer columns: as kubectl get deploy, with mode, strategy and market; wide adds phase, reason and spend', () => {
    const columns = openColumns('NosanaDeployment');
    assert.deepEqual(columns.filter((c) => !c.priority).map((c) => c.name), ['Ready', 'Up-To-Date', 'Available', 'Mode', 'Strategy', 'Market', 'Age']);
    assert.deepEqual(columns.filter((c) => c.priority === 1).map((c) => c.name), ['Phase', 'Reason', 'Spent-24h']);
  });

  test('NosanaJob printer columns: phase, market, node, cost, age; wide adds the reason, job and result', () => {
    const columns = openColumns('NosanaJob');
    assert.deepEqual(columns.filter((c) => !c.priority).map((c) => c.name), ['Phase', 'Market', 'Node', 'Cost', 'Age']);
    assert.deepEqual(columns.filter((c) => c.priority === 1).map((c) => c.jsonPath), ['.status.conditions[?(@.type=="Ready")].reason', '.status.jobAddress', '.status.ipfsResult']);
  });

  test('the zod spec schemas apply the documented defaults', () => {
    const job = nosanaJobSpec.parse({ market: 'm', definition: { version: '0.1', type: 'container', ops: [] } });
    assert.equal(job.deletionPolicy, 'Cancel');
    assert.equal(job.allowPublicCredentials, false);
    assert.equal(job.retries, 2);
    const node = nosanaNodeSpec.parse({ market: 'm', keySecretRef: { name: 'node-key' } });
    assert.equal(node.gpuResourceName, 'nvidia.com/gpu');
    assert.equal(node.keySecretRef.key, 'keypair');
    assert.equal(node.maxConcurrentJobs, 1);
    const market = nosanaMarketSpec.parse({ slug: 'nvidia-4090' });
    assert.equal(market.network, 'mainnet');
    assert.equal(market.refreshInterval, '60s');
  });
});

function openColumns(kind: string): { name: string; jsonPath: string; priority?: number }[] {
  const definition = ALL_CRDS.find((d) => d.kind === kind)!;
  return definition.printerColumns;
}
