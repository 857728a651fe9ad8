// The controller manager: what `nosana-operator controller` runs. It wires the runtime (informers,
// work queues, writes, events, metrics) to the NosanaJob and NosanaMarket reconcilers; the process
// lifecycle (probes, leader election, draining on stop) is process-lifecycle.ts's.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { API_VERSION } from '../api/crds/common.ts';
import type { NetworkName } from '../chain/addresses.ts';
import { nosanaJobCrd } from '../api/crds/nosana-job.ts';
import type { NosanaJobObject } from '../api/crds/nosana-job.ts';
import { nosanaDeploymentCrd } from '../api/crds/nosana-deployment.ts';
import type { NosanaDeploymentObject } from '../api/crds/nosana-deployment.ts';
import { nosanaMarketCrd } from '../api/crds/nosana-market.ts';
import type { NosanaMarketObject } from '../api/crds/nosana-market.ts';
import { findCondition } from '../runtime/conditions.ts';
import { Controller } from '../runtime/controller.ts';
import { ApiEventRecorder } from '../runtime/events.ts';
import { SupervisedInformer } from '../runtime/informer.ts';
import { ApiKubeReader } from '../runtime/kube-reader.ts';
import { ApiKubeWriter } from '../runtime/kube-writer.ts';
import { createMetrics } from '../runtime/metrics.ts';
import type { CacheEvent } from '../runtime/types.ts';
import { keyOf, type ObjectKey } from '../runtime/types.ts';
import { CachedNetworkRegistry } from './network-registry.ts';
import { HttpProber } from './nosana-deployment/prober.ts';
import { NosanaDeploymentReconciler } from './nosana-deployment/reconciler.ts';
import { settingsFor } from './network-settings.ts';
import type { NetworkDefaults, OperatorNetworkDefaults } from './network-settings.ts';
import type { NosanaJobControllerOptions } from './nosana-job/context.ts';
import { NosanaJobReconciler } from './nosana-job/reconciler.ts';
import { createNosanaMetrics } from './nosana-metrics.ts';
import { MarketDirectory } from './nosana-market/directory.ts';
import { jobsOfMarket, marketsOfJob } from './nosana-market/market-jobs.ts';
import { NosanaMarketReconciler } from './nosana-market/reconciler.ts';
import { runProcess } from './process-lifecycle.ts';
import type { LeaderElectionSettings, ManagerExit } from './process-lifecycle.ts';

export type { LeaderElectionSettings, ManagerExit } from './process-lifecycle.ts';
export { DEFAULT_DRAIN_TIMEOUT_MS } from './process-lifecycle.ts';

export interface ManagerOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  /** Namespaces to watch; empty: all. */
  namespaces: readonly string[];
  /** Concurrent reconciles per controller. */
  workers: number;
  /** Undefined: no leader election (one replica only). */
  leaderElection: LeaderElectionSettings | undefined;
  metricsAddress: string;
  probeAddress: string;
  networks: OperatorNetworkDefaults;
  jobs: NosanaJobControllerOptions;
  deployments: NosanaDeploymentOptions;
  /** How long in-flight reconciles may finish on stop. Default 30 s, controller-runtime's graceful shutdown. */
  drainTimeoutMs?: number;
}

export interface NosanaDeploymentOptions {
  /** Service domain → the base URL its tunnel gateway is reached at from the controller (--probe-gateway). */
  probeGateways: ReadonlyMap<string, string>;
  /** Ranges probes never reach besides the ones always denied (--probe-denied-cidr). */
  probeDeniedCidrs: readonly string[];
}

function collectionPath(plural: string): string {
  return `/apis/${API_VERSION}/${plural}`;
}

/** Runs until `stop` aborts or the Lease is lost; everything it started is stopped before it resolves. */
export async function runManager(options: ManagerOptions, stop: AbortSignal): Promise<ManagerExit> {
  const { kubeConfig, log } = options;
  const metrics = createMetrics();
  const nosanaMetrics = createNosanaMetrics(metrics.registry);
  const identity = `${hostname()}_${randomUUID()}`;
  const informerOptions = { namespaces: options.namespaces };
  const jobs = new SupervisedInformer<NosanaJobObject>(kubeConfig, collectionPath(nosanaJobCrd.plural), log, informerOptions);
  const markets = new SupervisedInformer<NosanaMarketObject>(kubeConfig, collectionPath(nosanaMarketCrd.plural), log, informerOptions);
  const deployments = new SupervisedInformer<NosanaDeploymentObject>(
    kubeConfig,
    collectionPath(nosanaDeploymentCrd.plural),
    log,
    informerOptions,
  );
  nosanaMetrics.setJobsSource(() => jobs.list());
  const reader = new ApiKubeReader(kubeConfig);
  const writer = new ApiKubeWriter(kubeConfig);
  const events = new ApiEventRecorder(kubeConfig, log, { reportingInstance: identity });
  // The chain watcher wakes the NosanaJob whose job changed; the job controller exists by the time
  // anything is tracked (tracking happens inside its reconciles).
  let wakeJob: (key: ObjectKey) => void = () => undefined;
  const networks = new CachedNetworkRegistry({
    metrics: nosanaMetrics,
    log,
    pollIntervalMs: options.jobs.pollIntervalMs,
    subscribe: options.jobs.chainSubscribe ?? false,
    wake: (key) => wakeJob(key),
  });
  const networkSettings = (market: NosanaMarketObject | undefined, namespace: string) =>
    settingsFor(market, namespace, reader, options.networks);
  const now = () => new Date();

  const controller = (reconciler: NosanaJobReconciler | NosanaMarketReconciler | NosanaDeploymentReconciler) =>
    new Controller({ name: reconciler.name, reconciler, workers: options.workers, log, metrics: metrics.runtime });
  const jobController = controller(
    new NosanaJobReconciler({
      jobs,
      markets,
      reader,
      writer,
      events,
      networks,
      settingsFor: networkSettings,
      metrics: nosanaMetrics,
      now,
      options: options.jobs,
    }),
  );
  wakeJob = (key) => jobController.enqueue(key);
  const marketController = controller(
    new NosanaMarketReconciler({
      jobs,
      markets,
      writer,
      events,
      networks,
      settingsFor: networkSettings,
      now,
      directory: new MarketDirectory({ urls: directoryUrls(options.networks) }),
    }),
  );
  const deploymentController = controller(
    new NosanaDeploymentReconciler({
      deployments,
      jobs,
      markets,
      reader,
      writer,
      events,
      prober: new HttpProber({ gateways: options.deployments.probeGateways, deniedCidrs: options.deployments.probeDeniedCidrs }),
      now,
    }),
  );
  routeEvents({ jobs, markets, jobController, marketController });
  routeDeploymentEvents(deployments, jobs, deploymentController);

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
      caches: [jobs, markets, deployments],
      controllers: [jobController, marketController, deploymentController],
      close: async () => {
        networks.close();
        await events.flush();
      },
    },
    stop,
  );
}

function directoryUrls(defaults: OperatorNetworkDefaults): Partial<Record<NetworkName, string>> {
  const urls: Partial<Record<NetworkName, string>> = {};
  for (const [name, network] of Object.entries(defaults.networks) as [NetworkName, NetworkDefaults][]) {
    if (network.marketDirectoryUrl !== undefined) urls[name] = network.marketDirectoryUrl;
  }
  return urls;
}

interface Routing {
  jobs: SupervisedInformer<NosanaJobObject>;
  markets: SupervisedInformer<NosanaMarketObject>;
  jobController: Controller;
  marketController: Controller;
}

/**
 * Maps watch events to keys (controller-runtime's handlers): a NosanaJob change reconciles that
 * job, and its markets when their counts may have moved; a NosanaMarket change reconciles that
 * market, and the jobs naming it when something they read of it changed (not for the counts and
 * lastRefreshed the market writes about itself, which would wake every job for nothing).
 */
/** How long a market's job counts wait for more job transitions before they are written. */
const JOB_COUNTS_SETTLE_MS = 2_000;

function routeEvents({ jobs, markets, jobController, marketController }: Routing): void {
  jobs.on((event) => {
    jobController.enqueue(keyOf(event.object));
    if (!jobCountsMayChange(event)) return;
    const affected = [event.object, ...(event.previous === undefined ? [] : [event.previous])].flatMap((job) => marketsOfJob(job, markets));
    // Counts lag a little on purpose: job transitions that come together make one market write.
    for (const market of affected) marketController.enqueue(keyOf(market), JOB_COUNTS_SETTLE_MS);
  });
  markets.on((event) => {
    marketController.enqueue(keyOf(event.object));
    if (!jobsMayCare(event)) return;
    const affected = [event.object, ...(event.previous === undefined ? [] : [event.previous])].flatMap((market) =>
      jobsOfMarket(market, jobs),
    );
    for (const job of affected) jobController.enqueue(keyOf(job));
  });
}

function jobCountsMayChange(event: CacheEvent<NosanaJobObject>): boolean {
  const { object, previous } = event;
  if (event.type !== 'modified' || previous === undefined) return true;
  return (
    object.status?.phase !== previous.status?.phase ||
    object.spec.market !== previous.spec.market ||
    object.status?.marketAddress !== previous.status?.marketAddress
  );
}

/** What a NosanaJob reads of its market: the spec, the mirrored values and whether it is Ready. */
function jobFacing(market: NosanaMarketObject): unknown {
  const { jobs: _counts, lastRefreshed: _read, conditions, ...mirrored } = market.status ?? {};
  return { spec: market.spec, mirrored, ready: findCondition(conditions, 'Ready')?.status };
}

function jobsMayCare(event: CacheEvent<NosanaMarketObject>): boolean {
  if (event.type !== 'modified' || event.previous === undefined) return true;
  return !isDeepStrictEqual(jobFacing(event.object), jobFacing(event.previous));
}

/**
 * Whether a NosanaDeployment event is more than its own status written back: a status write
 * waking the reconcile that wrote it would probe every endpoint again at once, and a status that
 * changes with every probe would never let the probe interval hold.
 */
function deploymentChanged(event: CacheEvent<NosanaDeploymentObject>): boolean {
  const { object, previous } = event;
  if (event.type !== 'modified' || previous === undefined) return true;
  return (
    object.metadata?.generation !== previous.metadata?.generation ||
    object.metadata?.deletionTimestamp !== previous.metadata?.deletionTimestamp ||
    !isDeepStrictEqual(object.metadata?.annotations ?? {}, previous.metadata?.annotations ?? {})
  );
}

/**
 * A NosanaDeployment reconciles on its own changes and on every change of a replica it controls
 * (found by the replica's controller owner reference, as a ReplicaSet finds its Pods).
 */
function routeDeploymentEvents(
  deployments: SupervisedInformer<NosanaDeploymentObject>,
  jobs: SupervisedInformer<NosanaJobObject>,
  deploymentController: Controller,
): void {
  deployments.on((event) => {
    if (deploymentChanged(event)) deploymentController.enqueue(keyOf(event.object));
  });
  jobs.on((event) => {
    const owner = (event.object.metadata?.ownerReferences ?? []).find(
      (reference) => reference.controller === true && reference.kind === 'NosanaDeployment',
    );
    if (owner === undefined) return;
    deploymentController.enqueue({ namespace: event.object.metadata?.namespace ?? '', name: owner.name });
  });
}
