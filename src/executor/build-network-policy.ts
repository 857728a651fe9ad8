// The job's NetworkPolicy. A permissionless market sends arbitrary images, so a job's Pods may talk
// to each other (ops reach one another on the node's job network, NODE.md §2.3) and to the
// internet, but not to the cluster: not to other jobs, the API server, node ports or the cloud
// metadata address (settings.deniedCidrs). The reference node goes the same way by pointing the
// host's names at 8.8.8.8.
//
// Ingress: from the job's own Pods, from the exposure path (the ingress controller's or gateway's
// proxies, which live in a namespace of their own) and from the agent, which performs the health
// checks probes cannot express. Kubelet probes come from the node and are not subject to
// NetworkPolicy on common CNIs.
// Egress: to the job's own Pods (their addresses are inside the denied cluster ranges), to DNS in
// kube-system on port 53 over UDP and TCP, and to 0.0.0.0/0 and ::/0 minus settings.deniedCidrs.
// A node-local DNS cache on a link-local address is inside the denied ranges: clusters running
// one need its address allowed (settings.deniedCidrs is the caller's to choose).
import type { V1NetworkPolicy, V1NetworkPolicyEgressRule, V1NetworkPolicyPeer, V1NetworkPolicySpec } from '@kubernetes/client-node';
import { jobObjectMeta, jobSelector } from './labels.ts';
import type { JobContext } from './labels.ts';
import { networkPolicyName } from './names.ts';

/**
 * Where traffic to the job comes from besides its own Pods (settings.networkPeers); a caller
 * without it gets a policy that admits only the job's own Pods.
 */
export interface NetworkPolicyPeers {
  /** The namespace whose Pods carry exposed traffic in: the ingress controller's, or the gateway proxies'. */
  exposureNamespace?: string;
  /** The agent's Pods, which run the health checks the kubelet cannot. */
  agent?: { namespace: string; podLabels: Record<string, string> };
}

/**
 * An ingress rule as the API server reads it. The client library's type names the field `_from`
 * (for its own serializer); the executor's objects are sent as plain JSON, so they carry `from`.
 */
export interface NetworkPolicyIngressRule {
  from: V1NetworkPolicyPeer[];
}

/** A NetworkPolicy in wire form (see NetworkPolicyIngressRule). */
export type NetworkPolicy = Omit<V1NetworkPolicy, 'spec'> & {
  spec: Omit<V1NetworkPolicySpec, 'ingress' | 'egress'> & { ingress: NetworkPolicyIngressRule[]; egress: V1NetworkPolicyEgressRule[] };
};

const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
const DNS_NAMESPACE = 'kube-system';

function namespaceSelector(namespace: string): V1NetworkPolicyPeer['namespaceSelector'] {
  return { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } };
}

/** `everything` minus the denied ranges of its address family; IPv6 ranges contain ':'. */
function internetPeer(everything: string, denied: readonly string[]): V1NetworkPolicyPeer {
  return { ipBlock: { cidr: everything, ...(denied.length === 0 ? {} : { except: [...denied] }) } };
}

export function buildNetworkPolicy(context: JobContext, peers: NetworkPolicyPeers = {}): NetworkPolicy {
  const ownPods: V1NetworkPolicyPeer = { podSelector: jobSelector(context.jobId) };
  const ingress: NetworkPolicyIngressRule[] = [{ from: [ownPods] }];
  if (peers.exposureNamespace !== undefined) {
    ingress.push({ from: [{ namespaceSelector: namespaceSelector(peers.exposureNamespace) }] });
  }
  if (peers.agent !== undefined) {
    ingress.push({
      from: [{ namespaceSelector: namespaceSelector(peers.agent.namespace), podSelector: { matchLabels: { ...peers.agent.podLabels } } }],
    });
  }
  const denied = context.settings.deniedCidrs;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: jobObjectMeta(context, networkPolicyName(context.jobId)),
    spec: {
      podSelector: jobSelector(context.jobId),
      policyTypes: ['Ingress', 'Egress'],
      ingress,
      egress: [
        { to: [ownPods] },
        {
          to: [{ namespaceSelector: namespaceSelector(DNS_NAMESPACE) }],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
        {
          to: [
            internetPeer(
              '0.0.0.0/0',
              denied.filter((cidr) => !cidr.includes(':')),
            ),
            internetPeer(
              '::/0',
              denied.filter((cidr) => cidr.includes(':')),
            ),
          ],
        },
      ],
    },
  };
}
