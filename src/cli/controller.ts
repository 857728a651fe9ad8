// `nosana-operator controller`: the operator's controllers, as a Deployment runs them. Flags follow
// controller-runtime's names (--leader-elect, --metrics-bind-address, --health-probe-bind-address)
// so the manifests and habits of Go operators carry over; a few settings also come from the
// environment, which is how Helm charts and GitOps tools usually pass them.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from './kube-config.ts';
import { NOSANA_NETWORKS } from '../api/crds/nosana-market.ts';
import type { NetworkName } from '../chain/addresses.ts';
import { endpointOrigin } from '../chain/network-detect.ts';
import { runManager } from '../controllers/manager.ts';
import type { LeaderElectionSettings, ManagerOptions } from '../controllers/manager.ts';
import { operatorNetworkDefaults } from '../controllers/network-settings.ts';
import type { NetworkFlags, OperatorNetworkDefaults } from '../controllers/network-settings.ts';
import { parseDuration } from '../api/duration.ts';
import { parseBindAddress } from '../runtime/health-server.ts';
import { createLogger } from '../runtime/logger.ts';
import { EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE } from './io.ts';
import type { CommandIo } from './io.ts';
import { readLocalnetInfo } from './network-options.ts';

const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
/** The status tail of each op's logs; the full logs go to the logs ConfigMap. */
const LOG_TAIL_MAX_BYTES = 2048;

const HELP = `Usage: nosana-operator controller [options]

Runs the NosanaJob and NosanaMarket controllers: posts NosanaJobs to Nosana markets and mirrors
them and the markets from the chain. Logs are JSON lines on stdout.

Cluster:
  --kubeconfig PATH                  kubeconfig to use (default $KUBECONFIG, else the in-cluster config)
  --namespaces A,B                   namespaces to watch (default all; env NOSANA_WATCH_NAMESPACES)
  --workers N                        concurrent reconciles per controller (default 4)
  --leader-elect=true|false          elect one active replica through a Lease (default true)
  --leader-election-namespace NS     the Lease's namespace (default the pod's namespace, else "default")
  --leader-election-id NAME          the Lease's name (default nosana-operator)
  --lease-duration D                 (default 15s)
  --renew-deadline D                 (default 10s)
  --retry-period D                   (default 2s)
  --metrics-bind-address HOST:PORT   /metrics (default :8080)
  --health-probe-bind-address HOST:PORT
                                     /healthz and /readyz (default :8081)
  --log-level LEVEL                  debug, info, warn or error (default info; env NOSANA_LOG_LEVEL)

Networks (a NosanaMarket's own settings win over these):
  --network NAME                     network of markets given by bare address: mainnet, devnet or
                                     localnet (default mainnet, or localnet with --localnet)
  --localnet DIR                     the localnet network's RPC and IPFS from DIR/localnet.json
  --rpc-url NETWORK=URL              Solana RPC of a network (repeatable); mainnet and devnet have
                                     no default: public endpoints are too rate-limited for this
  --ipfs-gateway URL                 IPFS gateway, tried in order (repeatable; default Nosana's)
  --pinning-provider pinata|kubo     where definitions are pinned (default pinata)
  --pinning-url URL                  the pinning API (default Pinata's); the JWT comes from $PINATA_JWT
  --service-domain NETWORK=DOMAIN    domain of service URLs (repeatable; mainnet node.k8s.prd.nos.ci)
  --market-directory-url [NETWORK=]URL
                                     where market slugs are resolved (repeatable; a bare URL is for
                                     the --network network; default Nosana's for mainnet and devnet)

Jobs:
  --poll-interval D                  how often queued and running jobs are read (default 5s)
  --dead-node-grace D                a running job past its timeout by this much is ended (default 2m)
  --result-wait D                    how long an ended job waits for its result (default 5m)
  --logs-configmap-max-bytes N       cap of each job's <name>-logs ConfigMap (default 1048576)

Durations D are like "30s", "2m" or "1h30m".
  -h, --help                         this help
`;

const OPTIONS = {
  kubeconfig: { type: 'string' },
  namespaces: { type: 'string' },
  workers: { type: 'string', default: '4' },
  'leader-elect': { type: 'string', default: 'true' },
  'leader-election-namespace': { type: 'string' },
  'leader-election-id': { type: 'string', default: 'nosana-operator' },
  'lease-duration': { type: 'string', default: '15s' },
  'renew-deadline': { type: 'string', default: '10s' },
  'retry-period': { type: 'string', default: '2s' },
  'metrics-bind-address': { type: 'string', default: ':8080' },
  'health-probe-bind-address': { type: 'string', default: ':8081' },
  'log-level': { type: 'string' },
  network: { type: 'string' },
  localnet: { type: 'string' },
  'rpc-url': { type: 'string', multiple: true },
  'ipfs-gateway': { type: 'string', multiple: true },
  'pinning-provider': { type: 'string' },
  'pinning-url': { type: 'string' },
  'service-domain': { type: 'string', multiple: true },
  'market-directory-url': { type: 'string', multiple: true },
  'poll-interval': { type: 'string', default: '5s' },
  'dead-node-grace': { type: 'string', default: '2m' },
  'result-wait': { type: 'string', default: '5m' },
  'logs-configmap-max-bytes': { type: 'string', default: '1048576' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

/** The manager's options, apart from the kubeconfig and the logger (built from these). */
export interface ControllerSettings extends Omit<ManagerOptions, 'kubeConfig' | 'log'> {
  kubeconfig: string | undefined;
  logLevel: string;
}

/** A bare `--leader-elect` means true, as Go's boolean flags do; node's parser wants a value. */
function normaliseBooleanFlags(args: readonly string[]): string[] {
  return args.map((arg, index) =>
    arg === '--leader-elect' && !['true', 'false'].includes(args[index + 1] ?? '') ? '--leader-elect=true' : arg,
  );
}

function isNetwork(name: string): name is NetworkName {
  return (NOSANA_NETWORKS as readonly string[]).includes(name);
}

function network(name: string, flag: string): NetworkName {
  if (!isNetwork(name)) throw new Error(`${flag}: unknown network "${name}": expected ${NOSANA_NETWORKS.join(', ')}`);
  return name;
}

function httpUrl(value: string, flag: string): string {
  if (!/^https?:\/\/\S+$/.test(value)) throw new Error(`${flag}: "${value}" is not an http(s) URL`);
  return value;
}

/** NETWORK=VALUE pairs; with `bareNetwork`, a value without a network prefix is for that network. */
function perNetwork(
  entries: readonly string[] | undefined,
  flag: string,
  check: (value: string) => string,
  bareNetwork?: NetworkName,
): Partial<Record<NetworkName, string>> {
  const result: Partial<Record<NetworkName, string>> = {};
  for (const entry of entries ?? []) {
    const separator = entry.indexOf('=');
    const prefix = separator < 0 ? '' : entry.slice(0, separator);
    if (isNetwork(prefix)) {
      result[prefix] = check(entry.slice(separator + 1));
    } else if (bareNetwork !== undefined) {
      result[bareNetwork] = check(entry);
    } else {
      throw new Error(`${flag} takes NETWORK=VALUE with NETWORK one of ${NOSANA_NETWORKS.join(', ')}, got "${entry}"`);
    }
  }
  return result;
}

function positiveInteger(value: string, flag: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 1) throw new Error(`${flag} must be a whole number of at least 1, got "${value}"`);
  return parsed;
}

function duration(value: string, flag: string): number {
  const ms = parseDuration(value, flag);
  if (ms <= 0) throw new Error(`${flag} must be longer than zero, got "${value}"`);
  return ms;
}

function boolean(value: string, flag: string): boolean {
  if (value !== 'true' && value !== 'false') throw new Error(`${flag} must be true or false, got "${value}"`);
  return value === 'true';
}

async function podNamespace(): Promise<string> {
  try {
    return (await readFile(SERVICE_ACCOUNT_NAMESPACE_FILE, 'utf8')).trim() || 'default';
  } catch {
    return 'default';
  }
}

async function networkDefaults(values: Values, env: NodeJS.ProcessEnv): Promise<OperatorNetworkDefaults> {
  const defaultNetwork = values.network === undefined ? undefined : network(values.network, '--network');
  const provider = values['pinning-provider'];
  if (provider !== undefined && provider !== 'pinata' && provider !== 'kubo') {
    throw new Error(`--pinning-provider must be pinata or kubo, got "${provider}"`);
  }
  const localnet = values.localnet === undefined ? undefined : await readLocalnetInfo(values.localnet);
  const flags: NetworkFlags = {
    ...(defaultNetwork === undefined ? {} : { defaultNetwork }),
    ...(localnet === undefined ? {} : { localnet }),
    rpcUrls: perNetwork(values['rpc-url'], '--rpc-url', (url) => httpUrl(url, '--rpc-url')),
    gatewayUrls: (values['ipfs-gateway'] ?? []).map((url) => httpUrl(url, '--ipfs-gateway')),
    ...(provider === undefined ? {} : { pinningProvider: provider }),
    ...(values['pinning-url'] === undefined ? {} : { pinningUrl: httpUrl(values['pinning-url'], '--pinning-url') }),
    ...(env['PINATA_JWT'] === undefined || env['PINATA_JWT'].trim() === '' ? {} : { pinataJwt: env['PINATA_JWT'].trim() }),
    serviceDomains: perNetwork(values['service-domain'], '--service-domain', (domain) => domain),
    marketDirectoryUrls: perNetwork(
      values['market-directory-url'],
      '--market-directory-url',
      (url) => httpUrl(url, '--market-directory-url'),
      defaultNetwork ?? (localnet === undefined ? 'mainnet' : 'localnet'),
    ),
  };
  return operatorNetworkDefaults(flags);
}

/** Reads the flags and environment into the manager's settings; throws a usage error naming the flag. */
export async function parseControllerArgs(args: readonly string[], env: NodeJS.ProcessEnv): Promise<ControllerSettings | 'help'> {
  const { values, positionals } = parseArgs({ args: normaliseBooleanFlags(args), options: OPTIONS, allowPositionals: true, strict: true });
  if (values.help === true) return 'help';
  if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0] ?? ''}"`);
  for (const flag of ['metrics-bind-address', 'health-probe-bind-address'] as const) parseBindAddress(values[flag], `--${flag}`);
  const namespaces = (values.namespaces ?? env['NOSANA_WATCH_NAMESPACES'] ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const leaderElection: LeaderElectionSettings | undefined = boolean(values['leader-elect'], '--leader-elect')
    ? {
        namespace: values['leader-election-namespace'] ?? (await podNamespace()),
        name: values['leader-election-id'],
        leaseDurationMs: duration(values['lease-duration'], '--lease-duration'),
        renewDeadlineMs: duration(values['renew-deadline'], '--renew-deadline'),
        retryPeriodMs: duration(values['retry-period'], '--retry-period'),
      }
    : undefined;
  return {
    kubeconfig: values.kubeconfig,
    logLevel: values['log-level'] ?? env['NOSANA_LOG_LEVEL'] ?? 'info',
    namespaces,
    workers: positiveInteger(values.workers, '--workers'),
    leaderElection,
    metricsAddress: values['metrics-bind-address'],
    probeAddress: values['health-probe-bind-address'],
    networks: await networkDefaults(values, env),
    jobs: {
      pollIntervalMs: duration(values['poll-interval'], '--poll-interval'),
      deadNodeGraceMs: duration(values['dead-node-grace'], '--dead-node-grace'),
      resultWaitMs: duration(values['result-wait'], '--result-wait'),
      logsConfigMapMaxBytes: positiveInteger(values['logs-configmap-max-bytes'], '--logs-configmap-max-bytes'),
      logTailMaxBytes: LOG_TAIL_MAX_BYTES,
    },
  };
}

/** The networks as the log shows them: endpoints by origin (paths and queries may carry API keys), no tokens. */
function describeNetworks(defaults: OperatorNetworkDefaults): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(defaults.networks).map(([name, network]) => [
      name,
      {
        rpc: network.rpcUrl === undefined ? 'unset' : endpointOrigin(network.rpcUrl),
        gateways: network.gatewayUrls.map(endpointOrigin),
        pinning: network.pinning === undefined ? 'unset' : `${network.pinning.provider} ${endpointOrigin(network.pinning.url)}`,
        serviceDomain: network.serviceDomain,
        marketDirectory: network.marketDirectoryUrl ?? 'unset',
      },
    ]),
  );
}

export async function runController(args: readonly string[], io: CommandIo): Promise<number> {
  let settings: ControllerSettings | 'help';
  let kubeConfig: KubeConfig;
  try {
    settings = await parseControllerArgs(args, process.env);
    if (settings === 'help') {
      io.stdout.write(HELP);
      return EXIT_OK;
    }
    kubeConfig = loadKubeConfig(settings.kubeconfig, process.env);
  } catch (error) {
    // An unknown or malformed option gets the help; a wrong value is named by its message.
    const parseError = String((error as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS');
    io.stderr.write(`nosana-operator controller: ${(error as Error).message}\n${parseError ? `\n${HELP}` : ''}`);
    return EXIT_USAGE;
  }
  const log = createLogger({ level: settings.logLevel });
  const { kubeconfig: _path, logLevel: _level, ...options } = settings;
  log.info(
    {
      namespaces: options.namespaces.length === 0 ? 'all' : options.namespaces,
      workers: options.workers,
      leaderElection: options.leaderElection ?? 'off',
      defaultNetwork: options.networks.defaultNetwork,
      networks: describeNetworks(options.networks),
    },
    'starting the controller',
  );

  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    log.info({ signal }, 'stop requested');
    stop.abort();
  };
  // once: a second signal gets Node's default handling and ends the process at once.
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    const exit = await runManager({ ...options, kubeConfig, log }, stop.signal);
    if (exit === 'lost-leadership') {
      log.error('lost the leader Lease: exiting so that the process restarts as a fresh candidate');
      // Reconciles of the lost term may still be winding down; they must not go on beside the new leader.
      process.exit(EXIT_PROBLEMS);
    }
    return EXIT_OK;
  } catch (error) {
    log.fatal({ err: error }, 'the controller failed');
    return EXIT_PROBLEMS;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
