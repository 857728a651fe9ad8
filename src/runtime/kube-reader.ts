// Uncached reads of the objects a reconcile needs only now and then (a wallet Secret, a
// definition ConfigMap). WHY not informers: caching every Secret of the cluster would need
// list/watch on all Secrets and keep key material in memory for nothing; a GET when a step
// needs one is cheaper and needs only `get`. Structurally the controllers' KubeReader port.
import type { KubeConfig, V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import { ApiException, CoreV1Api } from '@kubernetes/client-node';
import type { ObjectKey } from './types.ts';

/**
 * The API server refused the read (403): the operator's ServiceAccount has no grant there. A user
 * error to report on the object that named the Secret or ConfigMap, not a failure to retry blindly:
 * it lasts until an administrator grants the read.
 */
export class ReadForbidden extends Error {
  constructor(kind: 'Secret' | 'ConfigMap', key: ObjectKey) {
    super(
      `the operator may not read ${kind} ${key.namespace}/${key.name}: its ServiceAccount has no grant to get ` +
        `${kind === 'Secret' ? 'secrets' : 'configmaps'} in namespace ${key.namespace}`,
    );
    this.name = 'ReadForbidden';
  }
}

export class ApiKubeReader {
  private readonly core: CoreV1Api;

  constructor(kubeConfig: KubeConfig) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  /** The Secret, or undefined when it does not exist; ReadForbidden when RBAC refuses the read. */
  getSecret(key: ObjectKey): Promise<V1Secret | undefined> {
    return absentIfNotFound(
      this.core.readNamespacedSecret({ namespace: key.namespace, name: key.name }),
      () => new ReadForbidden('Secret', key),
    );
  }

  /** The ConfigMap, or undefined when it does not exist; ReadForbidden when RBAC refuses the read. */
  getConfigMap(key: ObjectKey): Promise<V1ConfigMap | undefined> {
    return absentIfNotFound(
      this.core.readNamespacedConfigMap({ namespace: key.namespace, name: key.name }),
      () => new ReadForbidden('ConfigMap', key),
    );
  }
}

async function absentIfNotFound<T>(read: Promise<T>, forbidden: () => ReadForbidden): Promise<T | undefined> {
  try {
    return await read;
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return undefined;
    if (err instanceof ApiException && err.code === 403) throw forbidden();
    throw err;
  }
}
