// Simulated GPUs for Dynamic Resource Allocation on the local cluster: a DeviceClass, and per KWOK
// node a ResourceSlice listing its GPUs, published as a DRA driver would publish them. The real
// scheduler then allocates ResourceClaims against these devices and binds Pods to the node that
// holds them, which is what the executor's DRA mode needs checked. No driver prepares the devices:
// KWOK runs no containers, so there is nothing to prepare.
//
// The slices count the same simulated GPUs the nodes advertise as `nvidia.com/gpu`, kept apart:
// a job uses one mode or the other, never both.
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeApi, hasStatus } from '../runtime/kube-api.ts';

/** The simulated driver, and the DeviceClass that selects its devices. */
export const LOCAL_DRA_DRIVER = 'gpu.nosana.local';
export const LOCAL_DEVICE_CLASS = 'gpu.nosana.local';

export interface SimulatedDeviceOptions {
  nodes: readonly string[];
  gpusPerNode: number;
  gpuProduct: string;
  gpuMemoryMiB: number;
}

async function createOrKeep(api: KubeApi, path: string, body: object): Promise<void> {
  await api.request('POST', path, { body }).catch((error: unknown) => {
    if (!hasStatus(error, 409)) throw error;
  });
}

/** Publishes the DeviceClass and one ResourceSlice per node (already there is fine). */
export async function publishSimulatedGpus(kubeConfig: KubeConfig, options: SimulatedDeviceOptions): Promise<void> {
  const api = new KubeApi(kubeConfig);
  await createOrKeep(api, '/apis/resource.k8s.io/v1/deviceclasses', {
    apiVersion: 'resource.k8s.io/v1',
    kind: 'DeviceClass',
    metadata: { name: LOCAL_DEVICE_CLASS },
    spec: { selectors: [{ cel: { expression: `device.driver == "${LOCAL_DRA_DRIVER}"` } }] },
  });
  for (const node of options.nodes) {
    await createOrKeep(api, '/apis/resource.k8s.io/v1/resourceslices', {
      apiVersion: 'resource.k8s.io/v1',
      kind: 'ResourceSlice',
      metadata: { name: `${node}-gpus` },
      spec: {
        driver: LOCAL_DRA_DRIVER,
        nodeName: node,
        pool: { name: node, generation: 1, resourceSliceCount: 1 },
        devices: Array.from({ length: options.gpusPerNode }, (_, index) => ({
          name: `gpu-${index}`,
          attributes: { productName: { string: options.gpuProduct }, index: { int: index } },
          capacity: { memory: { value: `${options.gpuMemoryMiB}Mi` } },
        })),
      },
    });
  }
}
