// A minimal external provisioner for the local cluster's StorageClass, run as its own process:
//   node local-provisioner.ts KUBECONFIG
// For every claim of the class that the scheduler has assigned to a node it creates a
// PersistentVolume pinned to that node and pre-bound to the claim; it deletes released
// volumes it created. Polling keeps it simple and robust against watch hiccups.
import * as k8s from '@kubernetes/client-node';
import { LOCAL_PROVISIONER, LOCAL_STORAGE_CLASS } from './storage.ts';

const SELECTED_NODE = 'volume.kubernetes.io/selected-node';
const PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';

const kubeconfigPath = process.argv[2];
if (!kubeconfigPath) {
  console.error('usage: local-provisioner.ts KUBECONFIG');
  process.exit(2);
}
const kc = new k8s.KubeConfig();
kc.loadFromFile(kubeconfigPath);
const core = kc.makeApiClient(k8s.CoreV1Api);

async function provisionPending(): Promise<void> {
  const claims = await core.listPersistentVolumeClaimForAllNamespaces();
  for (const claim of claims.items) {
    const node = claim.metadata?.annotations?.[SELECTED_NODE];
    if (claim.spec?.storageClassName !== LOCAL_STORAGE_CLASS || !node || claim.spec.volumeName) continue;
    const name = `pvc-${claim.metadata!.uid}`;
    try {
      await core.createPersistentVolume({
        body: {
          metadata: { name, annotations: { [PROVISIONED_BY]: LOCAL_PROVISIONER } },
          spec: {
            capacity: { storage: claim.spec.resources?.requests?.storage ?? '1Gi' },
            accessModes: claim.spec.accessModes ?? ['ReadWriteOnce'],
            persistentVolumeReclaimPolicy: 'Delete',
            storageClassName: LOCAL_STORAGE_CLASS,
            volumeMode: claim.spec.volumeMode ?? 'Filesystem',
            claimRef: {
              apiVersion: 'v1',
              kind: 'PersistentVolumeClaim',
              namespace: claim.metadata!.namespace!,
              name: claim.metadata!.name!,
              uid: claim.metadata!.uid!,
            },
            local: { path: `/var/lib/nosana-local/${name}` },
            nodeAffinity: {
              required: {
                nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }],
              },
            },
          },
        },
      });
      console.log(
        JSON.stringify({ msg: 'provisioned', volume: name, claim: `${claim.metadata!.namespace}/${claim.metadata!.name}`, node }),
      );
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
    }
  }
}

async function deleteReleased(): Promise<void> {
  const volumes = await core.listPersistentVolume();
  for (const volume of volumes.items) {
    const ours = volume.metadata?.annotations?.[PROVISIONED_BY] === LOCAL_PROVISIONER;
    if (ours && volume.status?.phase === 'Released' && !volume.metadata?.deletionTimestamp) {
      await core.deletePersistentVolume({ name: volume.metadata!.name! });
      console.log(JSON.stringify({ msg: 'deleted', volume: volume.metadata!.name }));
    }
  }
}

let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
});
while (!stopping) {
  try {
    await provisionPending();
    await deleteReleased();
  } catch (err) {
    console.error(JSON.stringify({ msg: 'provisioner pass failed', error: (err as Error).message }));
  }
  await new Promise((resolve) => setTimeout(resolve, 250));
}
