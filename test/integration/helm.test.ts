// `helm install` of the chart on its own cluster (Helm owns the cluster-scoped objects it
// installs, so it gets a cluster nobody else applied them to).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { controlPlaneBinaries, REPO_ROOT, type ControlPlaneBinaries } from '../harness/binaries.ts';
import { TestCluster } from '../harness/cluster.ts';
import { waitFor } from '../harness/wait.ts';

const run = promisify(execFile);
const CHART = join(REPO_ROOT, 'charts', 'nosana-operator');

describe('Helm chart', () => {
  let cluster: TestCluster;
  let bin: ControlPlaneBinaries;
  const env = () => ({ ...process.env, KUBECONFIG: cluster.handle.kubeconfigPath });
  const helm = (...args: string[]) => run(bin.helm, args, { env: env() });
  const kubectl = (...args: string[]) => run(bin.kubectl, args, { env: env() });

  before(async () => {
    bin = await controlPlaneBinaries();
    cluster = await TestCluster.start({ count: 1 });
  });
  after(() => cluster?.stop());

  test('lints clean', async () => {
    const { stdout } = await helm('lint', '--strict', CHART);
    assert.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  test('refuses values its schema does not know', async () => {
    await assert.rejects(helm('template', 'x', CHART, '--set', 'admissionPolicy.enabld=true'), /additional properties 'enabld' not allowed|enabld/);
  });

  test('installs the CRDs and the admission policy, which then enforce, and uninstalling keeps the CRDs', async () => {
    await helm('install', 'nosana', CHART, '--namespace', 'nosana-system', '--create-namespace', '--wait', '--timeout', '2m');
    for (const crd of ['nosanajobs', 'nosanamarkets', 'nosananodes']) {
      const { stdout } = await kubectl('get', 'crd', `${crd}.nosana.io`, '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}');
      assert.equal(stdout, 'True');
    }
    const bad = JSON.stringify({
      apiVersion: 'nosana.io/v1alpha1', kind: 'NosanaJob', metadata: { name: 'bad', namespace: 'default' },
      spec: { market: 'm', definition: { version: '0.1', type: 'container', ops: [{ id: 'a', type: 'container/run', args: { image: 'x', cmd: 1 } }] } },
    });
    const badFile = join(cluster.workDir, 'bad-job.json');
    await writeFile(badFile, bad);
    await waitFor(async () => {
      const outcome = await kubectl('create', '--dry-run=server', '-f', badFile).then(() => 'accepted', (err: Error) => err.message);
      return outcome.includes("ValidatingAdmissionPolicy 'nosanajob-definition.nosana.io'") && outcome.includes('spec.definition.ops[0].args.cmd');
    }, { what: 'the policy installed by the chart to reject a bad job', timeoutMs: 30_000, intervalMs: 250 });

    await helm('uninstall', 'nosana', '--namespace', 'nosana-system', '--wait');
    const { stdout } = await kubectl('get', 'crd', 'nosanajobs.nosana.io', '-o', 'name');
    assert.equal(stdout.trim(), 'customresourcedefinition.apiextensions.k8s.io/nosanajobs.nosana.io');
    await assert.rejects(kubectl('get', 'validatingadmissionpolicy', 'nosanajob-definition.nosana.io'), /NotFound/);
  });
});
