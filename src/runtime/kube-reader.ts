// Uncached reads of the objects a reconcile needs only now and then (a wallet Secret, a
// definition ConfigMap). WHY not informers: caching every Secret of the cluster would need
// list/watch on all Secrets and keep key material in memory for nothing; a GET when a step
// needs one is cheaper and needs only `get`. Structurally the controllers' KubeReader port.
// Through KubeApi, so the reads share the process's kept connections: client-node's typed client
// builds a new connection pool for every request, a TLS handshake per read (the node agent reads
// its key Secret on every reconcile).
import type { KubeConfig, V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import { KubeApi, hasStatus } from './kube-api.ts';
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
  private readonly api: KubeApi;

  constructor(kubeConfig: KubeConfig) {
    this.api = new KubeApi(kubeConfig);
  }

  /** The Secret, or undefined when it does not exist; ReadForbidden when RBAC refuses the read. */
  getSecret(key: ObjectKey): Promise<V1Secret | undefined> {
    return this.get<V1Secret>('secrets', key, () => new ReadForbidden('Secret', key));
  }

  /** The ConfigMap, or undefined when it does not exist; ReadForbidden when RBAC refuses the read. */
  getConfigMap(key: ObjectKey): Promise<V1ConfigMap | undefined> {
    return this.get<V1ConfigMap>('configmaps', key, () => new ReadForbidden('ConfigMap', key));
  }

  private async get<T>(plural: 'secrets' | 'configmaps', key: ObjectKey, forbidden: () => ReadForbidden): Promise<T | undefined> {
    // no object has these names, and a URL would read them as "this folder" and "its parent"
    if (key.name === '.' || key.name === '..' || key.namespace === '.' || key.namespace === '..') return undefined;
    const path = `/api/v1/namespaces/${encodeURIComponent(key.namespace)}/${plural}/${encodeURIComponent(key.name)}`;
    try {
      return await this.api.request<T>('GET', path);
    } catch (err) {
      if (hasStatus(err, 404)) return undefined;
      if (hasStatus(err, 403)) throw forbidden();
      throw err;
    }
  }
}
