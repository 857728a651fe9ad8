// Starts one control plane for the whole integration suite (test files run one after
// another in their own processes and find it through NOSANA_TEST_CLUSTER).
import { join } from 'node:path';
import { LocalCluster } from '../../src/local-cluster/cluster.ts';
import { SHARED_CLUSTER_ENV } from '../harness/fixture.ts';

let cluster: LocalCluster | undefined;

export async function globalSetup(): Promise<void> {
  const started = Date.now();
  cluster = await LocalCluster.start();
  process.env[SHARED_CLUSTER_ENV] = join(cluster.workDir, 'cluster.json');
  console.log(
    `# test cluster ${cluster.handle.version} with ${cluster.handle.gpuNodes.length} KWOK GPU nodes started in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

export async function globalTeardown(): Promise<void> {
  await cluster?.stop();
}
