// The controller manager: what `nosana-operator controller` runs. It wires the runtime (informers,
// work queues, leader election, writes, events, metrics, probes) to the NosanaJob and NosanaMarket
// reconcilers, and owns the process lifecycle:
//
// - /healthz answers from the start; /readyz only once both caches have synced. Leadership is not
//   part of readiness (a standby replica is healthy and ready); it is reported by the
//   leader_election_master_status metric.
// - Controllers start when the caches have synced AND this process leads (at once without
//   leader election). Keys enqueued before that wait in the queues.
// - Stop (SIGTERM/SIGINT): the queues stop handing out keys, in-flight reconciles get the drain
//   time to finish, and only then is the Lease released, so a successor never starts beside a
//   reconcile of this process. Then informers, network clients, pending Events and the servers.
// - Losing the Lease (renewals failed): like controller-runtime, the manager ends at once without
//   draining (another replica may already lead) and the process exits non-zero, so the Deployment
//   restarts it as a fresh candidate; an elector never campaigns twice because reconciles of the
//   old term could still be running.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { API_VERSION } from '../api/crds/common.ts';
import type { NetworkName } from '../chain/addresses.ts';
import { nosanaJobCrd } from '../api/crds/nosana-job.ts';
import type { NosanaJobObject } from '../api/crds/nosana-job.ts';
import { nosanaMarketCrd } from '../api/crds/nosana-market.ts';
import type { NosanaMarketObject } from '../api/crds/nosana-market.ts';
import { findCondition } from '../runtime/conditions.ts';
import { Controller } from '../runtime/controller.ts';
import { ApiEventRecorder } from '../runtime/events.ts';
import { startHealthServers } from '../runtime/health-server.ts';
import { SupervisedInformer } from '../runtime/informer.ts';
import { ApiKubeReader } from '../runtime/kube-reader.ts';
import { ApiKubeWriter } from '../runtime/kube-writer.ts';
import { LeaderElector } from '../runtime/leader-election.ts';
import { createMetrics } from '../runtime/metrics.ts';
import type { CacheEvent } from '../runtime/types.ts';
import { keyOf } from '../runtime/types.ts';
import { CachedNetworkRegistry } from './network-registry.ts';
import { settingsFor } from './network-settings.ts';
import type { NetworkDefaults, OperatorNetworkDefaults } from './network-settings.ts';
import type { NosanaJobControllerOptions } from './nosana-job/context.ts';
import { NosanaJobReconciler } from './nosana-job/reconciler.ts';
import { createNosanaMetrics } from './nosana-metrics.ts';
import { MarketDirectory } from './nosana-market/directory.ts';
import { jobsOfMarket, marketsOfJob } from './nosana-market/market-jobs.ts';
import { NosanaMarketReconciler } from './nosana-market/reconciler.ts';

export interface LeaderElectionSettings {
  namespace: string;
  /** The Lease's name. */
  name: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

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
  /** How long in-flight reconciles may finish on stop. Default 30 s, controller-runtime's graceful shutdown. */
  drainTimeoutMs?: number;
}

/** Why the manager ended: it was asked to stop, or it lost the leader Lease (restart the process). */
export type ManagerExit = 'stopped' | 'lost-leadership';

export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

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
  const reader = new ApiKubeReader(kubeConfig);
  const writer = new ApiKubeWriter(kubeConfig);
  const events = new ApiEventRecorder(kubeConfig, log, { reportingInstance: identity });
  const networks = new CachedNetworkRegistry({ metrics: nosanaMetrics, log, pollIntervalMs: options.jobs.pollIntervalMs });
  const networkSettings = (market: NosanaMarketObject | undefined, namespace: string) =>
    settingsFor(market, namespace, reader, options.networks);
  const now = () => new Date();

  const controller = (reconciler: NosanaJobReconciler | NosanaMarketReconciler) =>
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
  routeEvents({ jobs, markets, jobController, marketController });

  const servers = await startHealthServers({
    metricsAddress: options.metricsAddress,
    probeAddress: options.probeAddress,
    registry: metrics.registry,
    checks: { healthz: { ping: () => true }, readyz: { informers: () => jobs.hasSynced() && markets.hasSynced() } },
  });
  log.info({ metrics: servers.metrics, probes: servers.probe, identity }, 'serving metrics and health probes');

  // Controllers run once both hold: caches synced, and leading (always, without election).
  let synced = false;
  let leading = options.leaderElection === undefined;
  let started = false;
  const startControllers = (): void => {
    if (started || !synced || !leading || stop.aborted) return;
    started = true;
    jobController.start();
    marketController.start();
  };

  const lostLeadership = Promise.withResolvers<ManagerExit>();
  const election = options.leaderElection;
  const elector =
    election === undefined
      ? undefined
      : new LeaderElector(kubeConfig, log, {
          namespace: election.namespace,
          name: election.name,
          identity,
          leaseDurationMs: election.leaseDurationMs,
          renewDeadlineMs: election.renewDeadlineMs,
          retryPeriodMs: election.retryPeriodMs,
          onStartedLeading: () => {
            metrics.runtime.setLeader(election.name, true);
            leading = true;
            startControllers();
          },
          onStoppedLeading: () => {
            metrics.runtime.setLeader(election.name, false);
            leading = false;
            if (!stop.aborted) lostLeadership.resolve('lost-leadership');
          },
        });
  if (election !== undefined) metrics.runtime.setLeader(election.name, false);
  void elector?.run();

  Promise.all([jobs.start(), markets.start()]).then(
    () => {
      synced = true;
      log.info('caches synced');
      startControllers();
    },
    () => undefined /* stopped before the first list: nothing to start */,
  );

  const stopped = new Promise<ManagerExit>((resolve) => {
    if (stop.aborted) resolve('stopped');
    else stop.addEventListener('abort', () => resolve('stopped'), { once: true });
  });
  const exit = await Promise.race([stopped, lostLeadership.promise]);
  log.info({ reason: exit }, 'shutting down');

  const drainTimeoutMs = exit === 'lost-leadership' ? 0 : (options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS);
  await Promise.all([jobController.stop({ drainTimeoutMs }), marketController.stop({ drainTimeoutMs })]);
  await elector?.stop();
  await Promise.all([jobs.stop(), markets.stop()]);
  networks.close();
  await events.flush();
  await servers.close();
  log.info({ reason: exit }, 'stopped');
  return exit;
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
