// The node agent (`nosana-operator node`) as a child process, in the shape the tests use: loopback
// ports, short intervals (a test does not wait 90 s for a join to settle), leader election off
// unless asked, the localnet's endpoints, and an operator image no one pulls (the simulated
// cluster runs no containers).
import { OperatorProcess, type OperatorProcessSpec } from './operator-process.ts';
import { freePorts } from '../../src/local-cluster/ports.ts';

export interface NodeAgentProcessOptions extends Partial<Pick<OperatorProcessSpec, 'name' | 'env' | 'killAt' | 'killAfter'>> {
  kubeconfigPath: string;
  localnetDir: string;
  /** Namespaces whose NosanaNodes it serves. */
  namespaces: readonly string[];
  pollInterval?: string;
  joinSettle?: string;
  unschedulableTimeout?: string;
  /** Off unless given: the Lease's namespace. */
  leaderElectionNamespace?: string;
  /** Further flags, appended last. */
  extraArgs?: readonly string[];
}

export function nodeAgentArgs(options: NodeAgentProcessOptions, ports: { metrics: number; probes: number }): string[] {
  return [
    'node',
    '--kubeconfig',
    options.kubeconfigPath,
    '--localnet',
    options.localnetDir,
    '--namespaces',
    options.namespaces.join(','),
    '--metrics-bind-address',
    `127.0.0.1:${ports.metrics}`,
    '--health-probe-bind-address',
    `127.0.0.1:${ports.probes}`,
    '--poll-interval',
    options.pollInterval ?? '500ms',
    '--join-settle',
    options.joinSettle ?? '3s',
    '--recheck-interval',
    '2s',
    '--start-retry',
    '1s',
    '--unschedulable-timeout',
    options.unschedulableTimeout ?? '5m',
    '--operator-image',
    'nosana-operator:test',
    '--log-level',
    'debug',
    ...(options.leaderElectionNamespace === undefined
      ? ['--leader-elect=false']
      : [
          '--leader-elect=true',
          '--leader-election-namespace',
          options.leaderElectionNamespace,
          '--lease-duration',
          '4s',
          '--renew-deadline',
          '3s',
          '--retry-period',
          '500ms',
        ]),
    ...(options.extraArgs ?? []),
  ];
}

/** Starts `nosana-operator node` on free loopback ports; it is not ready yet (see waitReady). */
export async function startNodeAgent(options: NodeAgentProcessOptions): Promise<OperatorProcess> {
  const [metrics, probes] = await freePorts(2);
  if (metrics === undefined || probes === undefined) throw new Error('no free ports for the node agent');
  const { name = 'node-agent', env, killAt, killAfter } = options;
  return OperatorProcess.start({
    name,
    ...(env === undefined ? {} : { env }),
    ...(killAt === undefined ? {} : { killAt }),
    ...(killAfter === undefined ? {} : { killAfter }),
    args: nodeAgentArgs(options, { metrics, probes }),
    metricsPort: metrics,
    probePort: probes,
  });
}
