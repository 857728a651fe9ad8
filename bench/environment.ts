// What every benchmark scenario runs against, started once per run: the local control plane
// (which alone takes 10-40 s to start), the localnet at its defaults (400 ms slots, mainnet-like
// confirmation) in this process, the nosana.io APIs, and a ServiceAccount identity for the
// controllers so the audit log tells their requests from the benchmark's. Scenarios add
// namespaces, markets and controllers of their own and leave these as they found them.
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { LocalCluster } from '../src/local-cluster/cluster.ts';
import { controlPlaneBinaries } from '../src/local-cluster/binaries.ts';
import { startLocalnet, type Localnet } from '../src/localnet/localnet.ts';
import { controllerIdentity, type ControllerIdentity } from '../test/harness/controller-process.ts';
import type { ClusterContext } from '../test/harness/fixture.ts';
import { installNosanaApis } from '../test/harness/nosana-apis.ts';

export interface BenchEnvironment {
  cluster: LocalCluster;
  ctx: ClusterContext;
  localnet: Localnet;
  identity: ControllerIdentity;
  /** One line per step, as things start and finish. */
  progress: (line: string) => void;
}

/**
 * Starts everything and hands it to `use`; stops it all in reverse order whatever happens, so a
 * failed run leaves no process or directory behind.
 */
export async function withEnvironment<T>(progress: (line: string) => void, use: (env: BenchEnvironment) => Promise<T>): Promise<T> {
  const cleanups: { what: string; run: () => Promise<unknown> }[] = [];
  try {
    progress('starting the control plane (etcd, kube-apiserver, scheduler, controller-manager, KWOK)…');
    let started = Date.now();
    const cluster = await LocalCluster.start();
    cleanups.push({ what: 'the control plane', run: () => cluster.stop() });
    progress(`control plane ${cluster.handle.version} up in ${seconds(started)}`);
    const ctx = await clusterContext(cluster);

    started = Date.now();
    const stateDir = await mkdtemp(join(tmpdir(), 'nosana-bench-localnet-'));
    // also on Ctrl-C, where run.ts exits without these cleanups (the cluster's watchdog removes its own)
    const removeState = (): void => rmSync(stateDir, { recursive: true, force: true });
    process.once('exit', removeState);
    cleanups.push({
      what: 'the localnet state',
      run: async () => {
        process.removeListener('exit', removeState);
        await rm(stateDir, { recursive: true, force: true });
      },
    });
    const localnet = await startLocalnet({ stateDir });
    cleanups.push({ what: 'the localnet', run: () => localnet.close() });
    progress(`localnet at ${localnet.info.rpcUrl} (${localnet.chain.clock.slotMs} ms slots) up in ${seconds(started)}`);

    await installNosanaApis(ctx);
    const identity = await controllerIdentity(ctx, await ctx.freshNamespace('bench'));
    cleanups.push({ what: 'the controller identity', run: () => identity.remove() });
    progress('nosana.io APIs installed');

    return await use({ cluster, ctx, localnet, identity, progress });
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup.run().catch((error: unknown) => progress(`stopping ${cleanup.what} failed: ${(error as Error).message}`));
    }
  }
}

/** What the test harness's helpers need of a cluster, for the one this process started. */
async function clusterContext(cluster: LocalCluster): Promise<ClusterContext> {
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(cluster.handle.kubeconfigPath);
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  return {
    handle: cluster.handle,
    kubeConfig,
    binaries: await controlPlaneBinaries(),
    core,
    objects: k8s.KubernetesObjectApi.makeApiClient(kubeConfig),
    async freshNamespace(prefix = 'bench') {
      const name = `${prefix}-${randomBytes(4).toString('hex')}`;
      await core.createNamespace({ body: { metadata: { name } } });
      return name;
    },
  };
}

export function seconds(since: number): string {
  return `${((Date.now() - since) / 1_000).toFixed(1)} s`;
}
