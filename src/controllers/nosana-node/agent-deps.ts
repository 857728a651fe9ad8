// What the NosanaNode reconciler reads and acts through: the caches (NosanaNodes, NosanaMarkets,
// and the cluster's Nodes, Pods, Namespaces and DRA objects the capacity check counts), the API
// for what is read fresh (key Secrets, run records) and written, the networks, the shared chain
// rounds, the executor's slots and the agent's own settings. Built once per process (node-agent.ts).
import type {
  KubeConfig,
  ResourceV1ResourceClaim,
  V1DeviceClass,
  V1Namespace,
  V1Node,
  V1Pod,
  V1ResourceSlice,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { NosanaMarketObject } from '../../api/crds/nosana-market.ts';
import type { NosanaNodeObject } from '../../api/crds/nosana-node.ts';
import type { AddressGuard } from '../../http/address-guard.ts';
import type { KubeApi } from '../../runtime/kube-api.ts';
import type { EventRecorder, KubeWriter, ObjectCache } from '../../runtime/types.ts';
import type { NetworkRegistry, NetworkSettings } from '../network-ports.ts';
import type { KubeReader } from '../nosana-job/context.ts';
import type { Containment, NodeTimings } from './agent-options.ts';
import type { NodeChainRounds } from './chain-rounds.ts';
import type { RunSlots } from './run-slots.ts';

/** The caches the capacity check reads; `dra` is absent when the cluster does not serve resource.k8s.io/v1. */
export interface ClusterCaches {
  nodes: ObjectCache<V1Node>;
  pods: ObjectCache<V1Pod>;
  namespaces: ObjectCache<V1Namespace>;
  dra?: {
    deviceClasses: ObjectCache<V1DeviceClass>;
    resourceSlices: ObjectCache<V1ResourceSlice>;
    resourceClaims: ObjectCache<ResourceV1ResourceClaim>;
  };
}

/** A `work` sent for a node: when, and once it is confirmed, the slot it landed in. */
export interface JoinNote {
  sentAt: Date;
  landedSlot?: number;
}

export interface NodeAgentDeps {
  nodes: ObjectCache<NosanaNodeObject>;
  markets: ObjectCache<NosanaMarketObject>;
  cluster: ClusterCaches;
  /** Key Secrets, read fresh and never cached (only the ones NosanaNodes name are ever read). */
  reader: Pick<KubeReader, 'getSecret'>;
  writer: KubeWriter;
  /** Run records, the leftovers of a run, job namespaces' labels. */
  api: KubeApi;
  /** What the executor's runs are made with. */
  kubeConfig: KubeConfig;
  events: EventRecorder;
  networks: NetworkRegistry;
  /** A NosanaMarket's network settings, or the agent's defaults for a market given by address. */
  settingsFor: (market: NosanaMarketObject | undefined, namespace: string) => Promise<NetworkSettings>;
  rounds: NodeChainRounds;
  slots: RunSlots;
  timings: NodeTimings;
  containment: Containment;
  /** Keeps a job's logistics endpoints out of the denied ranges (the containment's, and loopback). */
  endpointGuard: AddressGuard;
  /** Which NosanaNodes (uid → namespace/name) hold each node key, by address: one key serves one NosanaNode. */
  keyHolders: Map<string, Map<string, string>>;
  /** The last `work` this agent sent for each NosanaNode (by uid); see world.ts's joinOf. */
  joins: Map<string, JoinNote>;
  /** When this agent started leading: a `work` of a process before it may still land until joinSettleMs after. */
  leadingSince: () => Date;
  now: () => Date;
  log: Logger;
}
