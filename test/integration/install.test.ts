// deploy/install.yaml, the operator for `kubectl apply --server-side -f`: it is the chart rendered
// with its defaults (stale when the chart changed without npm run generate), it holds what the
// README promises, and the API server accepts every object in it (a server-side dry run, so the
// shared cluster keeps nothing: the one object created for real, the namespace, is deleted after).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { INSTALL_MANIFEST, INSTALL_NAMESPACE, renderInstallManifest } from '../../hack/generate-install.ts';
import { REPO_ROOT } from '../../src/local-cluster/binaries.ts';
import { useCluster, type ClusterContext } from '../harness/fixture.ts';
import { kubectl, kubectlOk } from '../harness/kubectl.ts';

interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: { template?: { spec?: { containers?: { image: string }[] } } };
}

const manifestPath = join(REPO_ROOT, INSTALL_MANIFEST);

function manifestsOf(yaml: string): Manifest[] {
  return parseAllDocuments(yaml)
    .map((document) => document.toJS() as Manifest | null)
    .filter((manifest) => manifest !== null);
}

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleBinding',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
]);

describe('deploy/install.yaml', () => {
  let ctx: ClusterContext;
  let installed: Manifest[];
  let createdNamespace = false;

  before(async () => {
    ctx = await useCluster();
    installed = manifestsOf(await readFile(manifestPath, 'utf8'));
  });

  after(async () => {
    // deletion is asynchronous; nothing waits for it
    if (createdNamespace) await ctx.core.deleteNamespace({ name: INSTALL_NAMESPACE });
  });

  test('is the chart rendered with its defaults (run npm run generate)', async () => {
    const current = await readFile(manifestPath, 'utf8');
    assert.equal(current, await renderInstallManifest(ctx.binaries.helm), `${INSTALL_MANIFEST} is stale: run npm run generate`);
  });

  test('holds the namespace, the API, the admission policy and the controller with its identity, and no node agent', () => {
    const kinds = (kind: string) =>
      installed
        .filter((manifest) => manifest.kind === kind)
        .map((manifest) => manifest.metadata.name)
        .sort();
    const want: [string, string[]][] = [
      ['Namespace', [INSTALL_NAMESPACE]],
      [
        'CustomResourceDefinition',
        ['nosanadeployments.nosana.io', 'nosanajobs.nosana.io', 'nosanamarkets.nosana.io', 'nosananodes.nosana.io'],
      ],
      ['ValidatingAdmissionPolicy', ['nosanajob-definition.nosana.io']],
      ['ServiceAccount', ['nosana-operator']],
      ['Deployment', ['nosana-operator']],
    ];
    for (const [kind, names] of want) assert.deepEqual(kinds(kind), names, kind);
    for (const kind of ['ValidatingAdmissionPolicyBinding', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']) {
      assert.ok(kinds(kind).length > 0, `no ${kind}`);
    }
    assert.equal(installed[0]?.kind, 'Namespace', 'the namespace comes first, so one apply creates it before what lives in it');
    const misplaced = installed.filter(
      (manifest) => !CLUSTER_SCOPED.has(manifest.kind) && manifest.metadata.namespace !== INSTALL_NAMESPACE,
    );
    assert.deepEqual(
      misplaced.map((manifest) => `${manifest.kind}/${manifest.metadata.name}`),
      [],
    );
    const nodeAgents = installed.filter((manifest) => manifest.metadata.labels?.['app.kubernetes.io/component'] === 'node-agent');
    assert.deepEqual(
      nodeAgents.map((manifest) => `${manifest.kind}/${manifest.metadata.name}`),
      [],
      'the node agent is optional: the chart (nodeAgent.enabled) installs it',
    );
    const deployment = installed.find((manifest) => manifest.kind === 'Deployment');
    assert.deepEqual(
      deployment?.spec?.template?.spec?.containers?.map((container) => container.image),
      ['nosana-operator:0.1.0'],
    );
  });

  test('is a kustomize base: deploy/ renders the same objects, and an overlay sets the image', async () => {
    const base = manifestsOf(await kubectlOk(ctx, ['kustomize', join(REPO_ROOT, 'deploy')]));
    const names = (manifests: Manifest[]) => manifests.map((manifest) => `${manifest.kind}/${manifest.metadata.name}`).sort();
    assert.deepEqual(names(base), names(installed));
    const overlay = await mkdtemp(join(tmpdir(), 'nosana-overlay-'));
    try {
      // kustomize takes a directory base by relative path only
      const kustomization = {
        resources: [relative(overlay, join(REPO_ROOT, 'deploy'))],
        images: [{ name: 'nosana-operator', newName: 'registry.example.com/nosana-operator', newTag: '9.9.9' }],
      };
      await writeFile(join(overlay, 'kustomization.yaml'), JSON.stringify(kustomization));
      const rendered = manifestsOf(await kubectlOk(ctx, ['kustomize', overlay]));
      const deployment = rendered.find((manifest) => manifest.kind === 'Deployment');
      assert.deepEqual(
        deployment?.spec?.template?.spec?.containers?.map((container) => container.image),
        ['registry.example.com/nosana-operator:9.9.9'],
      );
    } finally {
      await rm(overlay, { recursive: true, force: true });
    }
  });

  test('every object passes a server-side dry run of kubectl apply --server-side', async () => {
    // A dry run creates nothing, so the namespaced objects would find no namespace: the namespace
    // (the file's first object) is applied for real. The file holds no object of the CRDs' kinds,
    // so the CRDs themselves need not exist for the dry run.
    createdNamespace = (await kubectl(ctx, ['get', 'namespace', INSTALL_NAMESPACE])).code !== 0;
    if (createdNamespace) await kubectlOk(ctx, ['apply', '--server-side', '-f', '-'], JSON.stringify(installed[0]));
    assert.deepEqual(
      installed.filter((manifest) => manifest.kind.startsWith('Nosana')),
      [],
    );

    const result = await kubectl(ctx, ['apply', '--server-side', '--dry-run=server', '-f', manifestPath]);
    assert.equal(result.code, 0, result.stderr);
    // one line per object: "<resource>[.<group>]/<name> serverside-applied (server dry run)"
    const applied = result.stdout
      .trim()
      .split('\n')
      .map((line) => /^\S+\/(\S+) serverside-applied \(server dry run\)$/.exec(line)?.[1] ?? `unexpected: ${line}`);
    assert.deepEqual(applied.sort(), installed.map((manifest) => manifest.metadata.name).sort());
  });
});
