// The endpoints of a deployment's replicas and what the probes said of them: which are ready,
// since when one has been failing, which replica has been unreachable long enough to be replaced,
// and whether every replica fails at once (then the prober, not the replicas, is suspect). Pure:
// the probes were made while reading, their outcomes come in with the world.
import type { DeploymentEndpoint } from '../../api/crds/nosana-deployment.ts';
import { isoSeconds } from '../../runtime/kube-time.ts';
import type { ReplicaView } from './replicas.ts';

/** One probe of one exposed port of one replica, made while reading. */
export interface EndpointProbe {
  replica: string;
  op: string;
  port: number;
  url: string;
  ok: boolean;
  detail: string;
}

export interface EndpointsView {
  endpoints: DeploymentEndpoint[];
  /** Replicas that run and pass every probe made of them. */
  ready: Set<string>;
  /** Replicas with an endpoint failing for at least unreachableAfter, with that endpoint. */
  unreachable: { replica: string; endpoint: DeploymentEndpoint }[];
  /** Every probed replica fails (two or more of them): the operator's own way out is suspect. */
  allFailing: boolean;
  /** The earliest time a failing endpoint reaches unreachableAfter (for the next look). */
  nextUnreachableAt?: Date;
}

const MAX_ENDPOINTS = 256;

function endpointKey(replica: string, op: string, port: number): string {
  return `${replica}/${op}/${port}`;
}

export function viewEndpoints(
  live: readonly ReplicaView[],
  probes: readonly EndpointProbe[],
  previous: readonly DeploymentEndpoint[] | undefined,
  unreachableAfterMs: number,
  now: Date,
): EndpointsView {
  const before = new Map((previous ?? []).map((endpoint) => [endpointKey(endpoint.replica, endpoint.op, endpoint.port), endpoint]));
  const probed = new Map(probes.map((probe) => [endpointKey(probe.replica, probe.op, probe.port), probe]));
  const endpoints: DeploymentEndpoint[] = [];
  const ready = new Set<string>();
  const unreachable: EndpointsView['unreachable'] = [];
  const failingReplicas = new Set<string>();
  const probedReplicas = new Set<string>();
  let nextUnreachableAt: Date | undefined;
  for (const replica of live) {
    let passes = replica.running;
    for (const service of replica.serviceUrls) {
      const key = endpointKey(replica.name, service.op, service.port);
      const probe = probed.get(key);
      const endpoint: DeploymentEndpoint = {
        replica: replica.name,
        op: service.op,
        port: service.port,
        url: service.url,
        ready: replica.running,
      };
      if (replica.running && probe !== undefined) {
        probedReplicas.add(replica.name);
        endpoint.lastProbe = probe.detail.slice(0, 512); // the status's bound
        if (!probe.ok) {
          passes = false;
          endpoint.ready = false;
          failingReplicas.add(replica.name);
          const since = before.get(key)?.failingSince ?? isoSeconds(now);
          endpoint.failingSince = since;
          const dueAt = new Date(new Date(since).getTime() + unreachableAfterMs);
          if (dueAt.getTime() <= now.getTime()) unreachable.push({ replica: replica.name, endpoint });
          else if (nextUnreachableAt === undefined || dueAt < nextUnreachableAt) nextUnreachableAt = dueAt;
        }
      }
      endpoints.push(endpoint);
    }
    if (passes) ready.add(replica.name);
  }
  const allFailing = probedReplicas.size >= 2 && [...probedReplicas].every((name) => failingReplicas.has(name));
  return {
    endpoints: endpoints.slice(0, MAX_ENDPOINTS),
    ready,
    unreachable,
    allFailing,
    ...(nextUnreachableAt === undefined ? {} : { nextUnreachableAt }),
  };
}
