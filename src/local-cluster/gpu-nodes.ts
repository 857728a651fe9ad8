// Simulated GPU nodes: plain Node objects that KWOK manages (selected by its annotation),
// advertising `nvidia.com/gpu` and labelled the way NVIDIA's GPU feature discovery labels
// real nodes, so the real scheduler does real GPU bin-packing and affinity.
import * as k8s from '@kubernetes/client-node';

export interface GpuNodeOptions {
  count: number;
  gpusPerNode: number;
  gpuProduct: string;
  gpuMemoryMiB: number;
}

export const GPU_RESOURCE = 'nvidia.com/gpu';

export function gpuNodeName(index: number): string {
  return `gpu-node-${index}`;
}

export async function registerGpuNodes(kc: k8s.KubeConfig, options: GpuNodeOptions): Promise<string[]> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const names: string[] = [];
  for (let i = 0; i < options.count; i++) {
    const name = gpuNodeName(i);
    const resources = {
      cpu: '64',
      memory: '512Gi',
      'ephemeral-storage': '1Ti',
      pods: '110',
      [GPU_RESOURCE]: String(options.gpusPerNode),
    };
    await core.createNode({
      body: {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name,
          annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
          labels: {
            'kubernetes.io/hostname': name,
            'kubernetes.io/os': 'linux',
            'kubernetes.io/arch': 'amd64',
            'node.kubernetes.io/instance-type': 'kwok-gpu',
            type: 'kwok',
            'nvidia.com/gpu.present': 'true',
            'nvidia.com/gpu.product': options.gpuProduct,
            'nvidia.com/gpu.memory': String(options.gpuMemoryMiB),
            'nvidia.com/gpu.count': String(options.gpusPerNode),
          },
        },
        status: { capacity: resources, allocatable: resources },
      },
    });
    names.push(name);
  }
  return names;
}
