// Installs the project's CRDs and admission policy into a test cluster exactly as a user
// would (kubectl apply --server-side), and waits until they serve.
import { join } from 'node:path';
import { REPO_ROOT } from '../../src/local-cluster/binaries.ts';
import type { ClusterContext } from './fixture.ts';
import { kubectl, kubectlOk } from './kubectl.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';

export async function installNosanaApis(ctx: ClusterContext): Promise<void> {
  await kubectlOk(ctx, [
    'apply',
    '--server-side',
    '--force-conflicts',
    '-f',
    join(REPO_ROOT, 'crds'),
    '-f',
    join(REPO_ROOT, 'deploy', 'admission'),
  ]);
  await kubectlOk(ctx, [
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd/nosanajobs.nosana.io',
    'crd/nosanamarkets.nosana.io',
    'crd/nosananodes.nosana.io',
    'crd/nosanadeployments.nosana.io',
  ]);
}

/** The admission policy takes a moment to be enforced after creation: probe it with a dry run. */
export async function waitForAdmissionPolicy(ctx: ClusterContext, namespace: string): Promise<void> {
  const probe = JSON.stringify({
    apiVersion: 'nosana.io/v1alpha1',
    kind: 'NosanaJob',
    metadata: { name: 'policy-probe', namespace },
    spec: {
      market: 'm',
      definition: { version: '0.1', type: 'container', ops: [{ id: 'a', type: 'container/run', args: { image: 'x', cmd: 1 } }] },
    },
  });
  await waitFor(
    async () => {
      const result = await kubectl(ctx, ['create', '--dry-run=server', '-f', '-'], probe);
      return result.code !== 0 && result.stderr.includes('ValidatingAdmissionPolicy');
    },
    { what: 'the NosanaJob admission policy to be enforced', timeoutMs: 30_000, intervalMs: 250 },
  );
}
