// `nosana-operator controller`: the operator's controllers, as a Deployment runs them. The cluster
// and network flags, and how the process runs, are shared with `node` (process-flags.ts); this file
// adds what posting and mirroring jobs need.
import { runManager } from '../controllers/manager.ts';
import type { ManagerOptions } from '../controllers/manager.ts';
import type { CommandIo } from './io.ts';
import {
  PROCESS_OPTIONS,
  boolean,
  cidr,
  clusterHelp,
  duration,
  httpUrl,
  networksHelp,
  parseProcessFlags,
  positiveInteger,
  processSettings,
  runProcessCommand,
} from './process-flags.ts';
import type { CommandDefaults } from './process-flags.ts';

/** The status tail of each op's logs; the full logs go to the logs ConfigMap. */
const LOG_TAIL_MAX_BYTES = 2048;
const DEFAULTS: CommandDefaults = { leaseName: 'nosana-operator', workers: 4 };

const HELP = `Usage: nosana-operator controller [options]

Runs the NosanaJob, NosanaMarket and NosanaDeployment controllers: posts NosanaJobs to Nosana
markets and mirrors them and the markets from the chain, and keeps NosanaDeployments' replicas.
Logs are JSON lines on stdout.

${clusterHelp({ namespaces: 'namespaces to watch', workers: 'concurrent reconciles per controller', defaults: DEFAULTS })}
${networksHelp('definitions')}
Jobs:
  --poll-interval D                  how often queued and running jobs are read (default 5s)
  --chain-subscribe=true|false       also follow jobs over the RPC's websocket (the RPC port + 1, or
                                     wss on the same host): changes wake their NosanaJobs at once,
                                     and while it is up jobs are polled every 30s only (default true)
  --dead-node-grace D                a running job past its timeout by this much is ended (default 2m)
  --result-wait D                    how long an ended job waits for its result (default 5m)
  --logs-configmap-max-bytes N       cap of each job's <name>-logs ConfigMap (default 1048576)

Deployments:
  --probe-gateway DOMAIN=URL         reach the service URLs of DOMAIN (and its subdomains) through the
                                     tunnel gateway at URL, the service's host in the Host header
                                     (repeatable; by default each URL is reached directly)
  --probe-denied-cidr CIDR           a range probes never reach, besides the private, link-local and
                                     cloud metadata ranges always denied (repeatable): the cluster's
                                     Pod and Service ranges when they are public addresses

Durations D are like "30s", "2m" or "1h30m".
  -h, --help                         this help
`;

const OPTIONS = {
  ...PROCESS_OPTIONS,
  'poll-interval': { type: 'string', default: '5s' },
  'chain-subscribe': { type: 'string', default: 'true' },
  'dead-node-grace': { type: 'string', default: '2m' },
  'result-wait': { type: 'string', default: '5m' },
  'logs-configmap-max-bytes': { type: 'string', default: '1048576' },
  'probe-gateway': { type: 'string', multiple: true },
  'probe-denied-cidr': { type: 'string', multiple: true },
} as const;

/** --probe-gateway DOMAIN=URL entries, each checked. */
function probeGateways(entries: readonly string[] | undefined): Map<string, string> {
  const gateways = new Map<string, string>();
  for (const entry of entries ?? []) {
    const separator = entry.indexOf('=');
    const domain = separator < 0 ? '' : entry.slice(0, separator).trim().toLowerCase();
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(domain))
      throw new Error(`--probe-gateway takes DOMAIN=URL with DOMAIN a DNS name, got "${entry}"`);
    gateways.set(domain, httpUrl(entry.slice(separator + 1), '--probe-gateway'));
  }
  return gateways;
}

/** The manager's options, apart from the kubeconfig and the logger (built from these). */
export interface ControllerSettings extends Omit<ManagerOptions, 'kubeConfig' | 'log'> {
  kubeconfig: string | undefined;
  logLevel: string;
}

/** Reads the flags and environment into the manager's settings; throws a usage error naming the flag. */
export async function parseControllerArgs(args: readonly string[], env: NodeJS.ProcessEnv): Promise<ControllerSettings | 'help'> {
  const values = parseProcessFlags(args, OPTIONS);
  if (values === 'help') return 'help';
  return {
    ...(await processSettings(values, env, DEFAULTS)),
    jobs: {
      pollIntervalMs: duration(values['poll-interval'], '--poll-interval'),
      chainSubscribe: boolean(values['chain-subscribe'], '--chain-subscribe'),
      deadNodeGraceMs: duration(values['dead-node-grace'], '--dead-node-grace'),
      resultWaitMs: duration(values['result-wait'], '--result-wait'),
      logsConfigMapMaxBytes: positiveInteger(values['logs-configmap-max-bytes'], '--logs-configmap-max-bytes'),
      logTailMaxBytes: LOG_TAIL_MAX_BYTES,
    },
    deployments: {
      probeGateways: probeGateways(values['probe-gateway']),
      probeDeniedCidrs: (values['probe-denied-cidr'] ?? []).map((range) => cidr(range, '--probe-denied-cidr')),
    },
  };
}

export async function runController(args: readonly string[], io: CommandIo): Promise<number> {
  return runProcessCommand(
    { name: 'controller', title: 'the controller', help: HELP, parse: parseControllerArgs, run: runManager },
    args,
    io,
  );
}
