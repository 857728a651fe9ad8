// How the executor runs a job on this cluster: everything the builders and the runner take from the
// caller (the `run` command's flags, a NosanaNode's spec, the operator's containment flags), never
// from the job definition. A definition is a stranger's input: nothing in it can change these.
import type { NetworkPolicyPeers } from './build-network-policy.ts';

export interface ResourceLimits {
  /** Kubernetes quantities, e.g. "4", "16Gi". */
  cpu: string;
  memory: string;
  ephemeralStorage: string;
}

export interface ExposureSettings {
  /** Hosts are `<expose id>.<baseDomain>` (the id as Nosana computes it). */
  baseDomain: string;
  /** How exposed ports are published: an Ingress per port, or a Gateway API HTTPRoute. */
  kind: 'Ingress' | 'HTTPRoute';
  /** Ingress: spec.ingressClassName. */
  ingressClass?: string;
  /** HTTPRoute: the Gateway it attaches to. */
  gateway?: { namespace: string; name: string };
}

export interface ExecutorSettings {
  /** Where the job's objects live. */
  namespace: string;
  /** The extended resource a GPU op requests (device-plugin mode). */
  gpuResourceName: string;
  /** How many GPUs each GPU op requests (device-plugin mode). */
  gpusPerJob: number;
  /**
   * Dynamic Resource Allocation (Kubernetes ≥ 1.34): one ResourceClaim per job, shared by all its
   * Pods, as on a Nosana node where every op sees all the node's GPUs. Unset: device-plugin mode.
   */
  dra?: { deviceClassName: string; count: number };
  /** StorageClass of job volumes and resource caches; unset: the cluster default. */
  storageClassName?: string;
  /** Size of each job volume (create-volume) and each resource cache. */
  volumeSize: string;
  /** Limits every job container gets (a definition cannot ask for more). */
  limits: ResourceLimits;
  /** A sandboxed runtime (gVisor, Kata) for untrusted images. */
  runtimeClassName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: { key?: string; operator?: string; value?: string; effect?: string; tolerationSeconds?: number }[];
  /** Egress job Pods may never reach: cluster-internal ranges and the cloud metadata address. */
  deniedCidrs: string[];
  exposure?: ExposureSettings;
  /** Who besides the job's own Pods may connect to them (build-network-policy.ts). */
  networkPeers?: NetworkPolicyPeers;
  /** The image holding the operator's CLI: its `download` subcommand fills resource caches. */
  operatorImage: string;
  /** Labels that say which run and node identity the objects belong to, when known. */
  identity?: { run?: string; node?: string };
}

/** What a caller that sets nothing gets: safe for a shared cluster. */
export const DEFAULT_EXECUTOR_SETTINGS: Omit<ExecutorSettings, 'namespace' | 'operatorImage'> = {
  gpuResourceName: 'nvidia.com/gpu',
  gpusPerJob: 1,
  volumeSize: '10Gi',
  limits: { cpu: '8', memory: '32Gi', ephemeralStorage: '50Gi' },
  // Private ranges (RFC 1918), carrier-grade NAT, link-local (the cloud metadata address
  // 169.254.169.254 among them), Azure's WireServer (a public address every Azure VM reaches, which
  // hands out node bootstrap secrets) and the private and link-local ranges of IPv6.
  deniedCidrs: [
    '10.0.0.0/8',
    '172.16.0.0/12',
    '192.168.0.0/16',
    '100.64.0.0/10',
    '169.254.0.0/16',
    '168.63.129.16/32',
    'fc00::/7',
    'fe80::/10',
  ],
};
