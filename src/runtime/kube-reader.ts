// Uncached reads of the objects a reconcile needs only now and then (a wallet Secret, a
// definition ConfigMap). WHY not informers: caching every Secret of the cluster would need
// list/watch on all Secrets and keep key material in memory for nothing; a GET when a step
// needs one is cheaper and needs only `get`. Structurally the controllers' KubeReader port.
import type { KubeConfig, V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import { ApiException, CoreV1Api } from '@kubernetes/client-node';
import type { ObjectKey } from './types.ts';

export class ApiKubeReader {
  private readonly core: CoreV1Api;

  constructor(kubeConfig: KubeConfig) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  /** The Secret, or undefined when it does not exist. */
  getSecret(key: ObjectKey): Promise<V1Secret | undefined> {
    return absentIfNotFound(this.core.readNamespacedSecret({ namespace: key.namespace, name: key.name }));
  }

  /** The ConfigMap, or undefined when it does not exist. */
  getConfigMap(key: ObjectKey): Promise<V1ConfigMap | undefined> {
    return absentIfNotFound(this.core.readNamespacedConfigMap({ namespace: key.namespace, name: key.name }));
  }
}

async function absentIfNotFound<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return undefined;
    throw err;
  }
}
