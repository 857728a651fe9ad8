// Storage for job volumes. No kubelet means no real volume plugin, so the local cluster offers a
// StorageClass whose claims wait for their first consumer (the scheduler then picks the
// node and writes it on the claim) and a tiny provisioner (local-provisioner.ts) that
// creates a node-pinned PersistentVolume for each such claim. Pods sharing a claim are
// therefore kept on the volume's node by the scheduler, as with local-path storage.
import * as k8s from '@kubernetes/client-node';

export const LOCAL_STORAGE_CLASS = 'nosana-local';
export const LOCAL_PROVISIONER = 'local.nosana.io/volumes';

export async function installStorageClass(kc: k8s.KubeConfig): Promise<void> {
  const storage = kc.makeApiClient(k8s.StorageV1Api);
  await storage.createStorageClass({
    body: {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: {
        name: LOCAL_STORAGE_CLASS,
        annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
      },
      provisioner: LOCAL_PROVISIONER,
      volumeBindingMode: 'WaitForFirstConsumer',
      reclaimPolicy: 'Delete',
    },
  });
}
