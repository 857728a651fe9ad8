// The settings the demo runs the controller and the node agent with: what `nosana-operator
// controller --localnet DIR` and `nosana-operator node --localnet DIR` would get, with leader
// election off (one of each, in one process), probes on free loopback ports, and short intervals so
// that a job goes round in seconds instead of minutes. Pure: the demo's tests check them as data.
import type { ManagerOptions } from '../controllers/manager.ts';
import type { NodeAgentOptions } from '../controllers/node-agent.ts';
import { operatorNetworkDefaults } from '../controllers/network-settings.ts';
import type { OperatorNetworkDefaults } from '../controllers/network-settings.ts';
import { DEFAULT_NODE_TIMINGS } from '../controllers/nosana-node/agent-options.ts';
import type { NodeTimings } from '../controllers/nosana-node/agent-options.ts';
import { DEFAULT_EXECUTOR_SETTINGS } from '../executor/settings.ts';
import type { LocalnetInfo } from '../localnet/localnet.ts';
import { DEMO } from './manifests.ts';

/** An operator image no one pulls: the demo's job has no resources to download. */
export const DEMO_OPERATOR_IMAGE = 'nosana-operator:demo';
// Port 0: the kernel picks a free port, so the demo never collides with anything listening.
const LOOPBACK_ANY_PORT = '127.0.0.1:0';
const POLL_INTERVAL_MS = 500;

export type DemoManagerSettings = Omit<ManagerOptions, 'kubeConfig' | 'log'>;
export type DemoNodeAgentSettings = Omit<NodeAgentOptions, 'kubeConfig' | 'log'>;

/** What `--localnet DIR` makes of a localnet's endpoints: the localnet network is the default one. */
export function demoNetworks(localnet: Pick<LocalnetInfo, 'rpcUrl' | 'ipfsApiUrl' | 'gatewayUrl'>): OperatorNetworkDefaults {
  return operatorNetworkDefaults({
    localnet: { rpcUrl: localnet.rpcUrl, ipfsApiUrl: localnet.ipfsApiUrl, gatewayUrl: localnet.gatewayUrl },
  });
}

function processSettings(networks: OperatorNetworkDefaults) {
  return {
    namespaces: [DEMO.namespace],
    workers: 2,
    leaderElection: undefined,
    metricsAddress: LOOPBACK_ANY_PORT,
    probeAddress: LOOPBACK_ANY_PORT,
    networks,
    // Nothing in flight is worth waiting long for when the demo stops.
    drainTimeoutMs: 5_000,
  };
}

export function demoManagerSettings(networks: OperatorNetworkDefaults): DemoManagerSettings {
  return {
    ...processSettings(networks),
    jobs: {
      pollIntervalMs: POLL_INTERVAL_MS,
      chainSubscribe: true,
      deadNodeGraceMs: 2 * 60_000,
      resultWaitMs: 2 * 60_000,
      logsConfigMapMaxBytes: 1024 * 1024,
      logTailMaxBytes: 2048,
    },
    deployments: { probeGateways: new Map(), probeDeniedCidrs: [] },
  };
}

/** The agent's pacing: a fresh agent joins after two seconds instead of ninety. */
export const DEMO_NODE_TIMINGS: NodeTimings = {
  ...DEFAULT_NODE_TIMINGS,
  pollIntervalMs: POLL_INTERVAL_MS,
  recheckMs: 2_000,
  joinSettleMs: 2_000,
  startRetryMs: 1_000,
  unschedulableMs: 2 * 60_000,
};

export function demoNodeAgentSettings(networks: OperatorNetworkDefaults): DemoNodeAgentSettings {
  return {
    ...processSettings(networks),
    timings: DEMO_NODE_TIMINGS,
    chainSubscribe: true,
    containment: {
      deniedCidrs: [...DEFAULT_EXECUTOR_SETTINGS.deniedCidrs],
      operatorImage: DEMO_OPERATOR_IMAGE,
      volumeSize: DEFAULT_EXECUTOR_SETTINGS.volumeSize,
    },
  };
}
