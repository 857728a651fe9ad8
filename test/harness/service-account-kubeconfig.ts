// A kubeconfig that authenticates as a ServiceAccount with a token from the TokenRequest API, the
// way a Pod's projected token does: a process started with it makes every request as that
// ServiceAccount, so RBAC applies to it and the audit log names it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';

export interface ServiceAccountKubeconfig {
  kubeconfigPath: string;
  /** The user name the API server (and its audit log) knows the ServiceAccount by. */
  username: string;
  /** Deletes the kubeconfig and its directory. */
  remove(): Promise<void>;
}

/** Writes a kubeconfig (mode 0600) for ServiceAccount `namespace/name`, which must exist. */
export async function serviceAccountKubeconfig(admin: k8s.KubeConfig, namespace: string, name: string): Promise<ServiceAccountKubeconfig> {
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const request = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 6 * 3600 } },
  });
  const token = request.status?.token;
  if (token === undefined) throw new Error(`the API server issued no token for ServiceAccount ${namespace}/${name}`);
  const cluster = admin.getCurrentCluster();
  if (cluster?.caFile === undefined) throw new Error('the admin kubeconfig names no CA file');
  const dir = await mkdtemp(join(tmpdir(), 'nosana-service-account-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(
    kubeconfigPath,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'test', cluster: { server: cluster.server, 'certificate-authority': cluster.caFile } }],
      users: [{ name, user: { token } }],
      contexts: [{ name: 'test', context: { cluster: 'test', user: name, namespace } }],
      'current-context': 'test',
    }),
    { mode: 0o600 },
  );
  return {
    kubeconfigPath,
    username: `system:serviceaccount:${namespace}:${name}`,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
