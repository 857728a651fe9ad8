// Where the runner sends a health check it performs itself. Nosana's node runs its checks from a
// container on the job's network against `<container>:<port>`; here the runner (or the node agent)
// runs inside the cluster, so the op's port is reached through the cluster's network.
//
// The address is found by an injectable resolver so the same check code can be pointed at a
// loopback server by tests, or at a port-forward by a caller outside the cluster. The runner's
// default is the Pod itself, by its IP (`podAddress`), as Nosana's node reaches its container: a
// Service routes only to Ready Pods, so while the kubelet's probes hold the Pod unready a check
// through the Service (`serviceAddress`) could not connect, and a restart_on_failure check would
// restart a container only its probe found slow.
import { opPodName, opServiceName } from './names.ts';

/** The op port a check is for, and what is known of the Pod behind it. */
export interface CheckTarget {
  namespace: string;
  serviceName: string;
  port: number;
  podName: string;
  /** status.podIP, once the Pod has one. */
  podIP?: string;
}

/** Where to connect: a DNS name or an IP address, and a TCP port. */
export interface CheckAddress {
  host: string;
  port: number;
}

export type CheckTargetResolver = (target: CheckTarget) => Promise<CheckAddress>;

/** The check target of one exposed port of an op. */
export function checkTarget(op: { namespace: string; jobId: string; opIndex: number; podIP?: string }, port: number): CheckTarget {
  return {
    namespace: op.namespace,
    serviceName: opServiceName(op.jobId, op.opIndex),
    port,
    podName: opPodName(op.jobId, op.opIndex),
    ...(op.podIP === undefined || op.podIP === '' ? {} : { podIP: op.podIP }),
  };
}

/** The op's Service, by its cluster DNS name; the Service port is the exposed port itself. */
export const serviceAddress: CheckTargetResolver = (target) =>
  Promise.resolve({ host: `${target.serviceName}.${target.namespace}.svc`, port: target.port });

/** The Pod itself, by its IP; refused while the Pod has none (not scheduled or not yet networked). */
export const podAddress: CheckTargetResolver = (target) =>
  target.podIP === undefined
    ? Promise.reject(new Error(`Pod ${target.podName} has no IP address yet`))
    : Promise.resolve({ host: target.podIP, port: target.port });

/** What the runner uses unless told otherwise. */
export const defaultCheckTargetResolver: CheckTargetResolver = podAddress;
