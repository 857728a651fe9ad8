// How a test file gets a cluster: the one started by the integration suite's global setup
// (its handle is passed in NOSANA_TEST_CLUSTER), or, when a file runs on its own, a private
// one that stops when the file's tests end. Each test gets its own namespace. A file that kills
// control-plane components asks for a private cluster even inside the suite (usePrivateCluster),
// so its faults never reach the other files' shared one.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { LocalCluster, type ClusterHandle } from '../../src/local-cluster/cluster.ts';
import { controlPlaneBinaries, type ControlPlaneBinaries } from '../../src/local-cluster/binaries.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';

export const SHARED_CLUSTER_ENV = 'NOSANA_TEST_CLUSTER';

export interface ClusterContext {
  handle: ClusterHandle;
  kubeConfig: k8s.KubeConfig;
  binaries: ControlPlaneBinaries;
  core: k8s.CoreV1Api;
  objects: k8s.KubernetesObjectApi;
  /** Creates a namespace for one test (with its default ServiceAccount) and deletes it afterwards. */
  freshNamespace(prefix?: string): Promise<string>;
}

let context: Promise<ClusterContext> | undefined;
let privateCluster: LocalCluster | undefined;
let privateClusterAsked = false;
const namespacesToDelete: string[] = [];

// Registered when the module loads, so it belongs to the file's root test and runs when
// every test of the file is done (registered from inside a hook it would run too early).
after(async () => {
  const ctx = await context?.catch(() => undefined);
  if (ctx) {
    // namespace deletion is asynchronous in Kubernetes; nobody needs to wait for it
    await Promise.allSettled(namespacesToDelete.map((name) => ctx.core.deleteNamespace({ name })));
  }
  await privateCluster?.stop();
});

export function useCluster(): Promise<ClusterContext> {
  context ??= connect();
  return context;
}

/**
 * A cluster of the file's own, ignoring the shared one; call it before anything else in the file
 * uses the cluster, so later useCluster() calls (the scenes') get this one too.
 */
export async function usePrivateCluster(): Promise<{ ctx: ClusterContext; cluster: LocalCluster }> {
  if (context !== undefined && !privateClusterAsked) {
    throw new Error('usePrivateCluster() came after useCluster() had already connected');
  }
  privateClusterAsked = true;
  context ??= connect({ private: true });
  const ctx = await context;
  return { ctx, cluster: privateCluster! };
}

async function connect(options: { private?: boolean } = {}): Promise<ClusterContext> {
  const sharedHandle = options.private === true ? undefined : process.env[SHARED_CLUSTER_ENV];
  let handle: ClusterHandle;
  if (sharedHandle) {
    handle = JSON.parse(await readFile(sharedHandle, 'utf8')) as ClusterHandle;
  } else {
    privateCluster = await LocalCluster.start();
    handle = privateCluster.handle;
  }
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(handle.kubeconfigPath);
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  return {
    handle,
    kubeConfig,
    binaries: await controlPlaneBinaries(),
    core,
    objects: k8s.KubernetesObjectApi.makeApiClient(kubeConfig),
    async freshNamespace(prefix = 't') {
      const name = `${prefix}-${randomBytes(4).toString('hex')}`;
      await core.createNamespace({ body: { metadata: { name, labels: { 'nosana.io/test': 'true' } } } });
      namespacesToDelete.push(name);
      // the ServiceAccount admission plugin rejects Pods until the controller made "default"
      await waitFor(async () => (await core.readNamespacedServiceAccount({ name: 'default', namespace: name })) !== undefined, {
        what: `ServiceAccount default in ${name}`,
        timeoutMs: 30_000,
      });
      return name;
    },
  };
}
