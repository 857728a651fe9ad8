// The job's GPU ResourceClaim (Dynamic Resource Allocation, resource.k8s.io/v1). On a Nosana node
// every op of a job sees all the node's GPUs at once (NODE.md §2.3); a device-plugin GPU belongs to
// one Pod, a claimed device can be shared by every Pod that references the claim. So the job has
// exactly one claim, and each GPU op's Pod lists it (build-pod.ts).
import type { ResourceV1ResourceClaim } from '@kubernetes/client-node';
import { jobObjectMeta } from './labels.ts';
import type { JobContext } from './labels.ts';
import { resourceClaimName } from './names.ts';

/** The name of the claim's one device request, and of the claim's entry in a Pod. */
export const GPU_REQUEST_NAME = 'gpu';

/** The job's claim; only in DRA mode (settings.dra), device-plugin mode has none. */
export function buildResourceClaim(context: JobContext): ResourceV1ResourceClaim {
  const dra = context.settings.dra;
  if (dra === undefined) throw new Error('settings.dra is unset: device-plugin mode requests GPUs per Pod and has no ResourceClaim');
  return {
    apiVersion: 'resource.k8s.io/v1',
    kind: 'ResourceClaim',
    metadata: jobObjectMeta(context, resourceClaimName(context.jobId)),
    spec: {
      devices: {
        requests: [
          { name: GPU_REQUEST_NAME, exactly: { deviceClassName: dra.deviceClassName, allocationMode: 'ExactCount', count: dra.count } },
        ],
      },
    },
  };
}
