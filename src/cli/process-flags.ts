// What the two long-running commands, `nosana-operator controller` and `nosana-operator node`, have
// in common: the cluster and network flags (controller-runtime's names, so the manifests and habits
// of Go operators carry over), their help, and how the process runs until a signal or a lost Lease.
// One copy, so that the two Deployments of a chart are configured the same way.
import { isIP } from 'node:net';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { NOSANA_NETWORKS } from '../api/crds/nosana-market.ts';
import { parseDuration } from '../api/duration.ts';
import type { NetworkName } from '../chain/addresses.ts';
import { endpointOrigin } from '../chain/network-detect.ts';
import { operatorNetworkDefaults } from '../controllers/network-settings.ts';
import type { NetworkFlags, OperatorNetworkDefaults } from '../controllers/network-settings.ts';
import type { LeaderElectionSettings, ManagerExit } from '../controllers/process-lifecycle.ts';
import { parseBindAddress } from '../runtime/health-server.ts';
import { createLogger } from '../runtime/logger.ts';
import { EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE } from './io.ts';
import type { CommandIo } from './io.ts';
import { loadKubeConfig } from './kube-config.ts';
import { readLocalnetInfo } from './network-options.ts';

const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** The flags both commands take. The Lease's name has no default here: each command has its own Lease. */
export const PROCESS_OPTIONS = {
  kubeconfig: { type: 'string' },
  namespaces: { type: 'string' },
  workers: { type: 'string' },
  'leader-elect': { type: 'string', default: 'true' },
  'leader-election-namespace': { type: 'string' },
  'leader-election-id': { type: 'string' },
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
  help: { type: 'boolean', short: 'h' },
} as const;

type ProcessValues = ReturnType<typeof parseArgs<{ options: typeof PROCESS_OPTIONS }>>['values'];

/** What the help of each command says where the two differ. */
export interface ClusterHelp {
  /** What --namespaces selects, e.g. "namespaces to watch". */
  namespaces: string;
  /** What --workers counts, e.g. "concurrent reconciles per controller". */
  workers: string;
  /** The command's own defaults. */
  defaults: CommandDefaults;
}

/** Where the two commands differ in their defaults. */
export interface CommandDefaults {
  /** The Lease's name. */
  leaseName: string;
  /** Concurrent reconciles. */
  workers: number;
}

/** The "Cluster:" block of a command's help. */
export function clusterHelp(help: ClusterHelp): string {
  return `Cluster:
  --kubeconfig PATH                  kubeconfig to use (default $KUBECONFIG, else the in-cluster config)
  --namespaces A,B                   ${help.namespaces} (default all; env NOSANA_WATCH_NAMESPACES)
  --workers N                        ${help.workers} (default ${help.defaults.workers})
  --leader-elect=true|false          elect one active replica through a Lease (default true)
  --leader-election-namespace NS     the Lease's namespace (default the pod's namespace, else "default")
  --leader-election-id NAME          the Lease's name (default ${help.defaults.leaseName})
  --lease-duration D                 (default 15s)
  --renew-deadline D                 (default 10s)
  --retry-period D                   (default 2s)
  --metrics-bind-address HOST:PORT   /metrics (default :8080)
  --health-probe-bind-address HOST:PORT
                                     /healthz and /readyz (default :8081)
  --log-level LEVEL                  debug, info, warn or error (default info; env NOSANA_LOG_LEVEL)
`;
}

/** The "Networks" block of a command's help; `pinned` says what the command pins ("definitions", "results"). */
export function networksHelp(pinned: string): string {
  return `Networks (a NosanaMarket's own settings win over these):
  --network NAME                     network of markets given by bare address: mainnet, devnet or
                                     localnet (default mainnet, or localnet with --localnet)
  --localnet DIR                     the localnet network's RPC and IPFS from DIR/localnet.json
  --rpc-url NETWORK=URL              Solana RPC of a network (repeatable); mainnet and devnet have
                                     no default: public endpoints are too rate-limited for this
  --ipfs-gateway URL                 IPFS gateway, tried in order (repeatable; default Nosana's)
  --pinning-provider pinata|kubo     where ${pinned} are pinned (default pinata)
  --pinning-url URL                  the pinning API (default Pinata's); the JWT comes from $PINATA_JWT
  --service-domain NETWORK=DOMAIN    domain of service URLs (repeatable; mainnet node.k8s.prd.nos.ci)
  --market-directory-url [NETWORK=]URL
                                     where market slugs are resolved (repeatable; a bare URL is for
                                     the --network network; default Nosana's for mainnet and devnet)
`;
}

/** The settings both commands' processes take, plus the kubeconfig path and log level they are built from. */
export interface ProcessSettings {
  kubeconfig: string | undefined;
  logLevel: string;
  namespaces: readonly string[];
  workers: number;
  leaderElection: LeaderElectionSettings | undefined;
  metricsAddress: string;
  probeAddress: string;
  networks: OperatorNetworkDefaults;
}

/** A bare `--leader-elect` means true, as Go's boolean flags do; node's parser wants a value. */
export function normaliseBooleanFlags(args: readonly string[]): string[] {
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

export function httpUrl(value: string, flag: string): string {
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

export function positiveInteger(value: string, flag: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 1) throw new Error(`${flag} must be a whole number of at least 1, got "${value}"`);
  return parsed;
}

/** Milliseconds of a duration flag that must be longer than zero. */
export function duration(value: string, flag: string): number {
  const ms = parseDuration(value, flag);
  if (ms <= 0) throw new Error(`${flag} must be longer than zero, got "${value}"`);
  return ms;
}

export function boolean(value: string, flag: string): boolean {
  if (value !== 'true' && value !== 'false') throw new Error(`${flag} must be true or false, got "${value}"`);
  return value === 'true';
}

/** The namespace this process's Pod runs in, else "default" (outside a cluster). */
export async function podNamespace(): Promise<string> {
  try {
    return (await readFile(SERVICE_ACCOUNT_NAMESPACE_FILE, 'utf8')).trim() || 'default';
  } catch {
    return 'default';
  }
}

async function networkDefaults(values: ProcessValues, env: NodeJS.ProcessEnv): Promise<OperatorNetworkDefaults> {
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

/**
 * Parses a command's arguments (its options include PROCESS_OPTIONS). Strict: an unknown option
 * throws parseArgs's ERR_PARSE_ARGS error; a positional argument is refused by name.
 */
export function parseProcessFlags<const Options extends typeof PROCESS_OPTIONS>(
  args: readonly string[],
  options: Options,
): ReturnType<typeof parseArgs<{ options: Options; allowPositionals: true; strict: true }>>['values'] | 'help' {
  const { values, positionals } = parseArgs({ args: normaliseBooleanFlags(args), options, allowPositionals: true, strict: true });
  // PROCESS_OPTIONS has help, so every Options does; the generic type cannot show it.
  if ((values as { help?: boolean }).help === true) return 'help';
  if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0] ?? ''}"`);
  return values;
}

/** The shared settings from the shared flags and the environment; throws a usage error naming the flag. */
export async function processSettings(values: ProcessValues, env: NodeJS.ProcessEnv, defaults: CommandDefaults): Promise<ProcessSettings> {
  for (const flag of ['metrics-bind-address', 'health-probe-bind-address'] as const) parseBindAddress(values[flag], `--${flag}`);
  const namespaces = (values.namespaces ?? env['NOSANA_WATCH_NAMESPACES'] ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const leaderElection: LeaderElectionSettings | undefined = boolean(values['leader-elect'], '--leader-elect')
    ? {
        namespace: values['leader-election-namespace'] ?? (await podNamespace()),
        name: values['leader-election-id'] ?? defaults.leaseName,
        leaseDurationMs: duration(values['lease-duration'], '--lease-duration'),
        renewDeadlineMs: duration(values['renew-deadline'], '--renew-deadline'),
        retryPeriodMs: duration(values['retry-period'], '--retry-period'),
      }
    : undefined;
  return {
    kubeconfig: values.kubeconfig,
    logLevel: values['log-level'] ?? env['NOSANA_LOG_LEVEL'] ?? 'info',
    namespaces,
    workers: values.workers === undefined ? defaults.workers : positiveInteger(values.workers, '--workers'),
    leaderElection,
    metricsAddress: values['metrics-bind-address'],
    probeAddress: values['health-probe-bind-address'],
    networks: await networkDefaults(values, env),
  };
}

/** The networks as the log shows them: endpoints by origin (paths and queries may carry API keys), no tokens. */
export function describeNetworks(defaults: OperatorNetworkDefaults): Record<string, unknown> {
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

/** What a process runs with: its settings, the kubeconfig and logger built from them. */
export type ProcessOptions<Settings extends ProcessSettings> = Omit<Settings, 'kubeconfig' | 'logLevel'> & {
  kubeConfig: KubeConfig;
  log: Logger;
};

/** One long-running command: how it reads its flags, what its start line says, and what it runs. */
export interface ProcessCommand<Settings extends ProcessSettings> {
  /** The subcommand, as messages name it: "controller". */
  name: string;
  /** The process as its log lines call it: "the controller". */
  title: string;
  help: string;
  parse: (args: readonly string[], env: NodeJS.ProcessEnv) => Promise<Settings | 'help'>;
  /** What the start line says beyond the shared settings; never a secret. */
  describe?: (options: ProcessOptions<Settings>) => Record<string, unknown>;
  run: (options: ProcessOptions<Settings>, stop: AbortSignal) => Promise<ManagerExit>;
}

/**
 * Runs a command until SIGTERM or SIGINT (then it stops cleanly, exit 0) or until it loses the
 * leader Lease (then the process exits non-zero at once). A usage error prints the message, and
 * the help when the option itself is unknown or malformed.
 */
export async function runProcessCommand<Settings extends ProcessSettings>(
  command: ProcessCommand<Settings>,
  args: readonly string[],
  io: CommandIo,
): Promise<number> {
  let settings: Settings | 'help';
  let kubeConfig: KubeConfig;
  try {
    settings = await command.parse(args, process.env);
    if (settings === 'help') {
      io.stdout.write(command.help);
      return EXIT_OK;
    }
    kubeConfig = loadKubeConfig(settings.kubeconfig, process.env);
  } catch (error) {
    // An unknown or malformed option gets the help; a wrong value is named by its message.
    const parseError = String((error as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS');
    io.stderr.write(`nosana-operator ${command.name}: ${(error as Error).message}\n${parseError ? `\n${command.help}` : ''}`);
    return EXIT_USAGE;
  }
  const log = createLogger({ level: settings.logLevel });
  const { kubeconfig: _path, logLevel: _level, ...rest } = settings;
  const options: ProcessOptions<Settings> = { ...rest, kubeConfig, log };
  log.info(
    {
      namespaces: options.namespaces.length === 0 ? 'all' : options.namespaces,
      workers: options.workers,
      leaderElection: options.leaderElection ?? 'off',
      defaultNetwork: options.networks.defaultNetwork,
      networks: describeNetworks(options.networks),
      ...command.describe?.(options),
    },
    `starting ${command.title}`,
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
    const exit = await command.run(options, stop.signal);
    if (exit === 'lost-leadership') {
      log.error('lost the leader Lease: exiting so that the process restarts as a fresh candidate');
      // Reconciles of the lost term may still be winding down; they must not go on beside the new leader.
      process.exit(EXIT_PROBLEMS);
    }
    return EXIT_OK;
  } catch (error) {
    log.fatal({ err: error }, `${command.title} failed`);
    return EXIT_PROBLEMS;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

/** An IPv4 or IPv6 range as NetworkPolicy ipBlocks take it: ADDRESS/PREFIX. */
export function cidr(value: string, flag: string): string {
  const [address = '', prefix = '', ...rest] = value.split('/');
  const family = address.includes('%') ? 0 : isIP(address);
  const maxPrefix = family === 4 ? 32 : 128;
  if (rest.length > 0 || family === 0 || !/^(0|[1-9]\d{0,2})$/.test(prefix) || Number(prefix) > maxPrefix) {
    throw new Error(`${flag}: "${value}" is not a CIDR such as 10.0.0.0/8 or fc00::/7`);
  }
  return value;
}
