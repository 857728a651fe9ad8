// The node agent: what `nosana-operator node` runs. Its own process (node keys and poster wallets
// never share one) with its own Lease, so two replicas never work one node identity. It wires the
// runtime to the NosanaNode reconciler: NosanaNodes and NosanaMarkets of the served namespaces,
// and, for the capacity check, the cluster's Nodes, non-terminal Pods, Namespaces and (when the
// cluster serves resource.k8s.io/v1) DeviceClasses, ResourceSlices and ResourceClaims.
//
// What wakes a NosanaNode: a change of itself or of the NosanaMarket it names; a change in what
// the capacity check counts (GPUs freed or taken, a node added, a namespace labelled), which wakes
// every NosanaNode out of a run a moment later so a burst of Pod changes makes one round (a node
// holding a run does not look at capacity: its run's Pods are its own, and the run wakes it when
// it settles); its run settling.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type {
  KubeConfig,
  KubernetesObject,
  ResourceV1ResourceClaim,
  V1DeviceClass,
  V1Namespace,
  V1Node,
  V1Pod,
  V1ResourceSlice,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { API_VERSION } from '../api/crds/common.ts';
import { nosanaMarketCrd } from '../api/crds/nosana-market.ts';
import type { NosanaMarketObject } from '../api/crds/nosana-market.ts';
import { nosanaNodeCrd } from '../api/crds/nosana-node.ts';
import type { NosanaNodeObject } from '../api/crds/nosana-node.ts';
import { AddressGuard } from '../http/address-guard.ts';
import { Controller } from '../runtime/controller.ts';
import { ApiEventRecorder } from '../runtime/events.ts';
import { SupervisedInformer } from '../runtime/informer.ts';
import { KubeApi, hasStatus } from '../runtime/kube-api.ts';
import { ApiKubeReader } from '../runtime/kube-reader.ts';
import { ApiKubeWriter } from '../runtime/kube-writer.ts';
import { createMetrics } from '../runtime/metrics.ts';
import { keyOf } from '../runtime/types.ts';
import { CachedNetworkRegistry } from './network-registry.ts';
import { settingsFor } from './network-settings.ts';
import type { OperatorNetworkDefaults } from './network-settings.ts';
import { createNosanaMetrics } from './nosana-metrics.ts';
import type { ClusterCaches, NodeAgentDeps } from './nosana-node/agent-deps.ts';
import type { Containment, NodeTimings } from './nosana-node/agent-options.ts';
import { watchesCapacity } from './nosana-node/capacity.ts';
import { NodeChainRounds } from './nosana-node/chain-rounds.ts';
import { registerNodeMetrics } from './nosana-node/node-metrics.ts';
import { NosanaNodeReconciler } from './nosana-node/reconciler.ts';
import { RunSlots } from './nosana-node/run-slots.ts';
import { runProcess } from './process-lifecycle.ts';
import type { LeaderElectionSettings, ManagerExit, ProcessCache } from './process-lifecycle.ts';

export interface NodeAgentOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  /** Namespaces whose NosanaNodes (and NosanaMarkets) are served; empty: all. */
  namespaces: readonly string[];
  /** Concurrent reconciles. */
  workers: number;
  /** Undefined: no leader election (one replica only). */
  leaderElection: LeaderElectionSettings | undefined;
  metricsAddress: string;
  probeAddress: string;
  networks: OperatorNetworkDefaults;
  timings: NodeTimings;
  /** Watch the RPC's websocket for runs of the nodes served, waking a node given a job at once. */
  chainSubscribe: boolean;
  containment: Containment;
  /** How long in-flight reconciles may finish on stop. */
  drainTimeoutMs?: number;
}

// Capacity changes come in bursts (a job's Pods start together): they wake the nodes once, a moment later.
const CAPACITY_SETTLE_MS = 1_000;
const DRA_API = '/apis/resource.k8s.io/v1';

/** Runs until `stop` aborts or the Lease is lost; every run in progress is stopped (and cleaned up) before it resolves. */
export async function runNodeAgent(options: NodeAgentOptions, stop: AbortSignal): Promise<ManagerExit> {
  const { kubeConfig, log } = options;
  const metrics = createMetrics();
  const nosanaMetrics = createNosanaMetrics(metrics.registry);
  const identity = `${hostname()}_${randomUUID()}`;
  const api = new KubeApi(kubeConfig);
  const served = { namespaces: options.namespaces };
  const nodes = new SupervisedInformer<NosanaNodeObject>(kubeConfig, `/apis/${API_VERSION}/${nosanaNodeCrd.plural}`, log, served);
  const markets = new SupervisedInformer<NosanaMarketObject>(kubeConfig, `/apis/${API_VERSION}/${nosanaMarketCrd.plural}`, log, served);
  const cluster = await clusterCaches(kubeConfig, api, log);
  const reader = new ApiKubeReader(kubeConfig);
  const events = new ApiEventRecorder(kubeConfig, log, { reportingInstance: identity });
  const networks = new CachedNetworkRegistry({
    metrics: nosanaMetrics,
    log,
    pollIntervalMs: options.timings.pollIntervalMs,
    subscribe: options.chainSubscribe,
    // Nodes are tracked inside the controller's reconciles, so it exists by the first wake.
    wake: (key) => controller.enqueue(key),
  });

  let leadingSince = new Date();
  const enqueueUid = (uid: string): void => {
    const node = nodes.list().find((candidate) => candidate.metadata?.uid === uid);
    // Runs settle only after the controller started, so it exists by then.
    if (node !== undefined) controller.enqueue(keyOf(node));
  };
  const slots = new RunSlots(enqueueUid);
  const deps: NodeAgentDeps = {
    nodes,
    markets,
    cluster: cluster.caches,
    reader,
    writer: new ApiKubeWriter(kubeConfig),
    api,
    kubeConfig,
    events,
    networks,
    settingsFor: (market, namespace) => settingsFor(market, namespace, reader, options.networks),
    rounds: new NodeChainRounds(),
    slots,
    timings: options.timings,
    containment: options.containment,
    endpointGuard: new AddressGuard(options.containment.deniedCidrs),
    keyHolders: new Map(),
    joins: new Map(),
    leadingSince: () => leadingSince,
    now: () => new Date(),
    log,
  };
  const controller = new Controller({
    name: 'nosananode',
    reconciler: new NosanaNodeReconciler(deps),
    workers: options.workers,
    log,
    metrics: metrics.runtime,
  });
  routeEvents(controller, nodes, markets, cluster.informers);
  registerNodeMetrics(metrics.registry, nodes);

  return runProcess(
    {
      kubeConfig,
      log,
      metrics,
      identity,
      leaderElection: options.leaderElection,
      metricsAddress: options.metricsAddress,
      probeAddress: options.probeAddress,
      ...(options.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: options.drainTimeoutMs }),
      caches: [nodes, markets, ...cluster.informers],
      controllers: [controller],
      onStarted: () => {
        leadingSince = new Date();
      },
      beforeRelease: async (exit) => {
        // Either way the runs let go, their Pods running on for the next leader to take over where
        // they are. Asked to stop (a rolling update): the process waits until none of them acts
        // any more, and only then may a successor lead. Lost the Lease: a successor may already
        // lead, so the process exits at once; its runners stop acting the next time they look.
        const detached = slots.detachAll();
        if (exit === 'stopped') await detached;
      },
      close: async () => {
        networks.close();
        await events.flush();
      },
    },
    stop,
  );
}

interface ClusterInformers {
  caches: ClusterCaches;
  informers: SupervisedInformer<KubernetesObject>[];
}

async function clusterCaches(kubeConfig: KubeConfig, api: KubeApi, log: Logger): Promise<ClusterInformers> {
  const informer = <T extends KubernetesObject>(path: string, fieldSelector?: string): SupervisedInformer<T> =>
    new SupervisedInformer<T>(kubeConfig, path, log, fieldSelector === undefined ? {} : { fieldSelector });
  const nodes = informer<V1Node>('/api/v1/nodes');
  // Pods that ended hold no GPUs.
  const pods = informer<V1Pod>('/api/v1/pods', 'status.phase!=Succeeded,status.phase!=Failed');
  const namespaces = informer<V1Namespace>('/api/v1/namespaces');
  const base = [nodes, pods, namespaces] as SupervisedInformer<KubernetesObject>[];
  if (!(await servesDra(api))) {
    log.info('the cluster does not serve resource.k8s.io/v1: GPUs are counted from device-plugin resources only');
    return { caches: { nodes, pods, namespaces }, informers: base };
  }
  const deviceClasses = informer<V1DeviceClass>(`${DRA_API}/deviceclasses`);
  const resourceSlices = informer<V1ResourceSlice>(`${DRA_API}/resourceslices`);
  const resourceClaims = informer<ResourceV1ResourceClaim>(`${DRA_API}/resourceclaims`);
  return {
    caches: { nodes, pods, namespaces, dra: { deviceClasses, resourceSlices, resourceClaims } },
    informers: [...base, deviceClasses, resourceSlices, resourceClaims] as SupervisedInformer<KubernetesObject>[],
  };
}

async function servesDra(api: KubeApi): Promise<boolean> {
  try {
    await api.request('GET', DRA_API);
    return true;
  } catch (error) {
    if (hasStatus(error, 404)) return false;
    throw error;
  }
}

function routeEvents(
  controller: Controller,
  nodes: SupervisedInformer<NosanaNodeObject>,
  markets: SupervisedInformer<NosanaMarketObject>,
  clusterInformers: readonly ProcessCache[],
): void {
  nodes.on((event) => {
    controller.enqueue(keyOf(event.object));
    // Another node queued or running reserves GPUs the others count.
    if (event.previous?.status?.phase !== event.object.status?.phase) wakeAll(controller, nodes, event.object);
  });
  markets.on((event) => {
    const namespace = event.object.metadata?.namespace;
    for (const node of nodes.list(namespace)) if (node.spec.market === event.object.metadata?.name) controller.enqueue(keyOf(node));
  });
  for (const cache of clusterInformers) (cache as SupervisedInformer<KubernetesObject>).on(() => wakeAll(controller, nodes));
}

/**
 * Wakes the nodes whose next step depends on free GPUs: those out of a run (joining, queued, or
 * kept out for lack of room). With many nodes, waking those that hold a run too would make every
 * Pod change of every job a reconcile, a chain read and maybe a status write of every node.
 */
function wakeAll(controller: Controller, nodes: SupervisedInformer<NosanaNodeObject>, except?: NosanaNodeObject): void {
  for (const node of nodes.list()) {
    if (node.metadata?.uid !== except?.metadata?.uid && watchesCapacity(node)) controller.enqueue(keyOf(node), CAPACITY_SETTLE_MS);
  }
}
