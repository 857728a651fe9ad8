// The lifecycle every operator process shares (`controller` and `node`), as controller-runtime's
// manager runs it:
//
// - /healthz answers from the start; /readyz only once every cache has synced. Leadership is not
//   part of readiness (a standby replica is healthy and ready); it is reported by the
//   leader_election_master_status metric.
// - Controllers start when the caches have synced AND this process leads (at once without
//   leader election). Keys enqueued before that wait in the queues.
// - Stop (SIGTERM/SIGINT): the queues stop handing out keys, in-flight reconciles get the drain
//   time to finish, and only then is the Lease released, so a successor never starts beside a
//   reconcile of this process. Then informers, what the process opened, and the servers.
// - Losing the Lease (renewals failed): the process ends at once without draining (another
//   replica may already lead) and exits non-zero, so the Deployment restarts it as a fresh
//   candidate; an elector never campaigns twice because reconciles of the old term could still run.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Controller } from '../runtime/controller.ts';
import { startHealthServers } from '../runtime/health-server.ts';
import { LeaderElector } from '../runtime/leader-election.ts';
import type { Metrics } from '../runtime/metrics.ts';

export interface LeaderElectionSettings {
  namespace: string;
  /** The Lease's name. */
  name: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** Why a process ended: it was asked to stop, or it lost the leader Lease (restart the process). */
export type ManagerExit = 'stopped' | 'lost-leadership';

export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

/** A cache the process keeps: started at once, ready when synced, stopped after the controllers. */
export interface ProcessCache {
  start(): Promise<void>;
  stop(): Promise<void>;
  hasSynced(): boolean;
}

export interface ProcessParts {
  kubeConfig: KubeConfig;
  log: Logger;
  metrics: Metrics;
  /** This replica's name in the Lease. */
  identity: string;
  leaderElection: LeaderElectionSettings | undefined;
  metricsAddress: string;
  probeAddress: string;
  drainTimeoutMs?: number;
  caches: readonly ProcessCache[];
  controllers: readonly Controller[];
  /**
   * Runs after the controllers stopped and before the Lease is released (a successor could start
   * at once): work of this process that must not overlap a successor's ends here.
   */
  beforeRelease?: (exit: ManagerExit) => Promise<void>;
  /** Runs once the controllers have started (caches synced, leading). */
  onStarted?: () => void;
  /** Closes what the process opened besides caches (network clients, pending Events), after the controllers and caches stopped. */
  close?: () => Promise<void>;
}

/** Runs until `stop` aborts or the Lease is lost; everything it started is stopped before it resolves. */
export async function runProcess(parts: ProcessParts, stop: AbortSignal): Promise<ManagerExit> {
  const { kubeConfig, log, metrics, caches, controllers } = parts;
  const servers = await startHealthServers({
    metricsAddress: parts.metricsAddress,
    probeAddress: parts.probeAddress,
    registry: metrics.registry,
    checks: { healthz: { ping: () => true }, readyz: { informers: () => caches.every((cache) => cache.hasSynced()) } },
  });
  log.info({ metrics: servers.metrics, probes: servers.probe, identity: parts.identity }, 'serving metrics and health probes');

  let synced = false;
  let leading = parts.leaderElection === undefined;
  let started = false;
  const startControllers = (): void => {
    if (started || !synced || !leading || stop.aborted) return;
    started = true;
    for (const controller of controllers) controller.start();
    parts.onStarted?.();
  };

  const lostLeadership = Promise.withResolvers<ManagerExit>();
  const election = parts.leaderElection;
  const elector =
    election === undefined
      ? undefined
      : new LeaderElector(kubeConfig, log, {
          namespace: election.namespace,
          name: election.name,
          identity: parts.identity,
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

  Promise.all(caches.map((cache) => cache.start())).then(
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

  const drainTimeoutMs = exit === 'lost-leadership' ? 0 : (parts.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS);
  await Promise.all(controllers.map((controller) => controller.stop({ drainTimeoutMs })));
  await parts.beforeRelease?.(exit);
  await elector?.stop();
  await Promise.all(caches.map((cache) => cache.stop()));
  await parts.close?.();
  await servers.close();
  log.info({ reason: exit }, 'stopped');
  return exit;
}
