// The operator's controller (`nosana-operator controller`) as a child process: its flags in the
// shape the tests use (loopback ports, short intervals, leader election off unless asked), and the
// ServiceAccount identity it connects with, so the audit log tells its requests from the test's.
import * as k8s from '@kubernetes/client-node';
import type { ClusterContext } from './fixture.ts';
import { OperatorProcess, type OperatorProcessSpec } from './operator-process.ts';
import { serviceAccountKubeconfig } from './service-account-kubeconfig.ts';
import { freePorts } from '../../src/local-cluster/ports.ts';

export interface LeaderElectionOptions {
  namespace: string;
  id?: string;
  /** Durations as the controller's flags take them ("4s"). */
  leaseDuration?: string;
  renewDeadline?: string;
  retryPeriod?: string;
}

/** The controller's flags, plus how its process runs (name, environment, kill points). */
export interface ControllerProcessOptions extends Partial<Pick<OperatorProcessSpec, 'name' | 'env' | 'killAt' | 'killAfter'>> {
  kubeconfigPath: string;
  /** A localnet state directory (its localnet.json gives the RPC and IPFS endpoints). */
  localnetDir?: string;
  /** Namespaces to watch; all when omitted. */
  namespaces?: readonly string[];
  /** Off unless given. */
  leaderElection?: LeaderElectionOptions;
  /** Short by default so tests do not wait for production intervals. */
  pollInterval?: string;
  deadNodeGrace?: string;
  resultWait?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Further flags, appended last. */
  extraArgs?: readonly string[];
}

export function controllerArgs(options: ControllerProcessOptions, ports: { metrics: number; probes: number }): string[] {
  const args = [
    'controller',
    '--kubeconfig',
    options.kubeconfigPath,
    '--metrics-bind-address',
    `127.0.0.1:${ports.metrics}`,
    '--health-probe-bind-address',
    `127.0.0.1:${ports.probes}`,
    '--poll-interval',
    options.pollInterval ?? '500ms',
    '--log-level',
    options.logLevel ?? 'debug',
  ];
  if (options.localnetDir !== undefined) args.push('--localnet', options.localnetDir);
  if (options.namespaces !== undefined) args.push('--namespaces', options.namespaces.join(','));
  if (options.deadNodeGrace !== undefined) args.push('--dead-node-grace', options.deadNodeGrace);
  if (options.resultWait !== undefined) args.push('--result-wait', options.resultWait);
  const election = options.leaderElection;
  if (election === undefined) {
    args.push('--leader-elect=false');
  } else {
    args.push('--leader-elect=true', '--leader-election-namespace', election.namespace);
    if (election.id !== undefined) args.push('--leader-election-id', election.id);
    if (election.leaseDuration !== undefined) args.push('--lease-duration', election.leaseDuration);
    if (election.renewDeadline !== undefined) args.push('--renew-deadline', election.renewDeadline);
    if (election.retryPeriod !== undefined) args.push('--retry-period', election.retryPeriod);
  }
  return [...args, ...(options.extraArgs ?? [])];
}

/** Starts `nosana-operator controller` on free loopback ports; it is not ready yet (see waitReady). */
export async function startController(options: ControllerProcessOptions): Promise<OperatorProcess> {
  const [metrics, probes] = await freePorts(2);
  if (metrics === undefined || probes === undefined) throw new Error('no free ports for the controller');
  const { name = 'controller', env, killAt, killAfter } = options;
  return OperatorProcess.start({
    name,
    ...(env === undefined ? {} : { env }),
    ...(killAt === undefined ? {} : { killAt }),
    ...(killAfter === undefined ? {} : { killAfter }),
    args: controllerArgs(options, { metrics, probes }),
    metricsPort: metrics,
    probePort: probes,
  });
}

/** The controller as other tests name it: `ControllerProcess.start(options)` is startController. */
export const ControllerProcess = { start: startController } as const;
export type ControllerProcess = OperatorProcess;

export interface ControllerIdentity {
  kubeconfigPath: string;
  /** The user name the API server (and its audit log) knows the controller by. */
  username: string;
  /** Deletes the ServiceAccount's cluster-wide binding and the kubeconfig. */
  remove(): Promise<void>;
}

/**
 * A ServiceAccount of its own for a controller process, as the chart gives the Deployment, so the
 * audit log tells the controller's requests from the test's (both would otherwise be "admin").
 * It is bound to cluster-admin: what is tested here is the controller, not the chart's RBAC.
 */
export async function controllerIdentity(ctx: ClusterContext, namespace: string, name = 'nosana-operator'): Promise<ControllerIdentity> {
  await ctx.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  const rbac = ctx.kubeConfig.makeApiClient(k8s.RbacAuthorizationV1Api);
  const bindingName = `nosana-test-${namespace}-${name}`;
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: bindingName, labels: { 'nosana.io/test': 'true' } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
  const identity = await serviceAccountKubeconfig(ctx.kubeConfig, namespace, name);
  return {
    kubeconfigPath: identity.kubeconfigPath,
    username: identity.username,
    async remove() {
      await rbac.deleteClusterRoleBinding({ name: bindingName }).catch(() => undefined);
      await identity.remove();
    },
  };
}
