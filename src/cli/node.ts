// `nosana-operator node`: the node agent, as a Deployment runs it. NosanaNodes make this cluster a
// Nosana node; what bounds every job (egress denied, resource ceilings, volume size) is set here,
// by whoever deploys the agent, and never by a NosanaNode, so editing one cannot loosen it. The
// cluster and network flags and the process's run loop are the controller's (process-flags.ts);
// the agent has a Lease of its own, so that it never contends with the controller for one.
import { nosanaNodeSpec } from '../api/crds/nosana-node.ts';
import { LAMPORTS_PER_SOL, formatSol } from '../chain/money.ts';
import { runNodeAgent } from '../controllers/node-agent.ts';
import type { NodeAgentOptions } from '../controllers/node-agent.ts';
import { DEFAULT_NODE_TIMINGS } from '../controllers/nosana-node/agent-options.ts';
import type { Containment, NodeTimings } from '../controllers/nosana-node/agent-options.ts';
import { isLabelValue } from '../executor/labels.ts';
import { isDnsLabel } from '../executor/names.ts';
import { DEFAULT_EXECUTOR_SETTINGS } from '../executor/settings.ts';
import type { ResourceLimits } from '../executor/settings.ts';
import type { CommandIo } from './io.ts';
import {
  PROCESS_OPTIONS,
  boolean,
  cidr,
  clusterHelp,
  duration,
  networksHelp,
  parseProcessFlags,
  podNamespace,
  positiveInteger,
  processSettings,
  runProcessCommand,
} from './process-flags.ts';
import type { CommandDefaults, ProcessOptions } from './process-flags.ts';

// A NosanaNode's reconcile spends most of its time waiting on the chain (a join waits for its
// confirmation, a round for its reads), which costs nothing in one event loop; with a few workers,
// nodes ready for their next step waited behind others' waits (npm run bench, end to end: 32
// nodes took 2.2 times the batch Jobs' time with 4 workers, 1.6 with 32).
const DEFAULTS: CommandDefaults = { leaseName: 'nosana-operator-node', workers: 32 };
const SOL_DECIMALS = 9;
const MAX_DNS_SUBDOMAIN_LENGTH = 253;

/** The agent's options, apart from the kubeconfig and the logger (built from these). */
export type NodeAgentSettings = Omit<NodeAgentOptions, 'kubeConfig' | 'log'> & { kubeconfig: string | undefined; logLevel: string };

/** "5s", "1m": the defaults as a user would write them, for the help and the flags' defaults. */
function durationText(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** The flags of `node`: the shared ones, then pacing and containment. Exported for the help's test. */
export const NODE_OPTIONS = {
  ...PROCESS_OPTIONS,
  'poll-interval': { type: 'string', default: durationText(DEFAULT_NODE_TIMINGS.pollIntervalMs) },
  'chain-subscribe': { type: 'string', default: 'true' },
  'recheck-interval': { type: 'string', default: durationText(DEFAULT_NODE_TIMINGS.recheckMs) },
  'join-settle': { type: 'string', default: durationText(DEFAULT_NODE_TIMINGS.joinSettleMs) },
  'start-retry': { type: 'string', default: durationText(DEFAULT_NODE_TIMINGS.startRetryMs) },
  'max-ending-failures': { type: 'string', default: String(DEFAULT_NODE_TIMINGS.maxEndingFailures) },
  'low-balance': { type: 'string', default: formatSol(DEFAULT_NODE_TIMINGS.lowBalanceLamports) },
  'unschedulable-timeout': { type: 'string', default: durationText(DEFAULT_NODE_TIMINGS.unschedulableMs) },
  'denied-cidr': { type: 'string', multiple: true },
  'max-cpu': { type: 'string' },
  'max-memory': { type: 'string' },
  'max-ephemeral-storage': { type: 'string' },
  'operator-image': { type: 'string' },
  'volume-size': { type: 'string', default: DEFAULT_EXECUTOR_SETTINGS.volumeSize },
  'exposure-namespace': { type: 'string' },
  'agent-pod-labels': { type: 'string' },
} as const;

/** The default denied ranges, four to a help line. */
function deniedCidrsHelp(): string {
  const lines: string[] = [];
  for (let start = 0; start < DEFAULT_EXECUTOR_SETTINGS.deniedCidrs.length; start += 4) {
    lines.push(`${' '.repeat(37)}${DEFAULT_EXECUTOR_SETTINGS.deniedCidrs.slice(start, start + 4).join(', ')}`);
  }
  return lines.join(',\n');
}

const HELP = `Usage: nosana-operator node [options]

Runs the node agent: each NosanaNode serves a Nosana market from this cluster. It joins the
market's queue, claims jobs, runs their ops as GPU Pods, pins the result and finishes the job on
chain. Logs are JSON lines on stdout.

${clusterHelp({ namespaces: 'namespaces to serve', workers: 'concurrent reconciles', defaults: DEFAULTS })}
${networksHelp('results')}
Jobs:
  --poll-interval D                  how often queued and running nodes read the chain (default ${NODE_OPTIONS['poll-interval'].default})
  --chain-subscribe=true|false       also watch the RPC's websocket (the RPC port + 1, or wss on the same
                                     host) for runs of the nodes served, so a node given a job looks at
                                     once rather than at its next poll (default ${NODE_OPTIONS['chain-subscribe'].default})
  --recheck-interval D               how often stake, market and key are read again (default ${NODE_OPTIONS['recheck-interval'].default})
  --join-settle D                    how long a sent join may take to show before another is sent, and
                                     how long a fresh agent waits before its first; keep it longer
                                     than a blockhash lives (default ${NODE_OPTIONS['join-settle'].default})
  --start-retry D                    wait before fetching a definition again after it failed
                                     (default ${NODE_OPTIONS['start-retry'].default})
  --max-ending-failures N            failed endings of one job on chain before the node stops
                                     (default ${NODE_OPTIONS['max-ending-failures'].default})
  --low-balance SOL                  a node whose key holds less does not join (default ${NODE_OPTIONS['low-balance'].default})
  --unschedulable-timeout D          how long a job's Pods may wait for a Kubernetes node before the
                                     job is quit (default ${NODE_OPTIONS['unschedulable-timeout'].default})

Containment (every job gets it, whatever a NosanaNode says):
  --denied-cidr CIDR                 a range job Pods may never reach (repeatable; given once, it
                                     replaces the defaults:
${deniedCidrsHelp()})
  --max-cpu Q                        the most CPU a NosanaNode may give a job container (default none)
  --max-memory Q                     the most memory likewise (default none)
  --max-ephemeral-storage Q          the most ephemeral storage likewise (default none)
  --operator-image IMAGE             this release's operator image, whose download command fills
                                     resource caches (required; env NOSANA_OPERATOR_IMAGE)
  --volume-size Q                    size of each job volume and resource cache (default ${NODE_OPTIONS['volume-size'].default})
  --exposure-namespace NS            the ingress controller's or gateway's namespace, admitted to job
                                     Pods that expose ports (default none)
  --agent-pod-labels K=V,K2=V2       labels of the agent's own Pods (in the pod's namespace), admitted
                                     to job Pods for the health checks probes cannot run (default none)

Durations D are like "30s", "2m" or "1h30m"; quantities Q like "4", "500m" or "16Gi".
  -h, --help                         this help
`;

/** Decimal SOL to lamports, exactly: "0.5" → 500_000_000n. Zero is allowed (no floor). */
function lamports(value: string, flag: string): bigint {
  const match = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value.trim());
  if (match === null) {
    throw new Error(
      `${flag} must be an amount of SOL: a non-negative decimal with at most ${SOL_DECIMALS} decimals such as "0.01", got "${value}"`,
    );
  }
  return BigInt(match[1] ?? '0') * LAMPORTS_PER_SOL + BigInt((match[2] ?? '').padEnd(SOL_DECIMALS, '0'));
}

// The NosanaNode CRD's own check of spec.limits, so that a ceiling given here is a quantity a
// NosanaNode could state too.
const LIMIT_FIELDS = nosanaNodeSpec.shape.limits.unwrap().shape;

function quantity(value: string, flag: string, field: keyof ResourceLimits): string {
  const checked = LIMIT_FIELDS[field].safeParse(value);
  if (!checked.success) throw new Error(`${flag} ${checked.error.issues[0]?.message ?? 'is not a quantity'}, got "${value}"`);
  return value;
}

function namespaceName(value: string, flag: string): string {
  if (!isDnsLabel(value)) throw new Error(`${flag}: "${value}" is not a namespace name (a lowercase DNS label)`);
  return value;
}

/** A label key: an optional DNS-subdomain prefix and '/', then a name of label-value syntax. */
function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = key.slice(slash + 1);
  const prefixValid = prefix === undefined || (prefix.length <= MAX_DNS_SUBDOMAIN_LENGTH && prefix.split('.').every(isDnsLabel));
  return prefixValid && name !== '' && isLabelValue(name);
}

/** "k=v,k2=v2" → { k: 'v', k2: 'v2' }. */
function labels(value: string, flag: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const entry of value.split(',').map((part) => part.trim())) {
    const separator = entry.indexOf('=');
    const key = entry.slice(0, separator);
    const labelValue = entry.slice(separator + 1);
    if (separator < 0 || !isLabelKey(key) || !isLabelValue(labelValue)) {
      throw new Error(`${flag} takes KEY=VALUE,… with Kubernetes label keys and values, got "${entry}"`);
    }
    result[key] = labelValue;
  }
  return result;
}

function operatorImage(value: string | undefined, env: NodeJS.ProcessEnv): string {
  const image = (value ?? env['NOSANA_OPERATOR_IMAGE'] ?? '').trim();
  // No default: a guessed tag would fill resource caches with another release's download command.
  if (image === '')
    throw new Error('--operator-image IMAGE (or env NOSANA_OPERATOR_IMAGE) is required: the image of this operator release');
  if (/\s/.test(image)) throw new Error(`--operator-image: "${image}" is not an image reference`);
  return image;
}

type NodeValues = Exclude<ReturnType<typeof parseProcessFlags<typeof NODE_OPTIONS>>, 'help'>;

function timings(values: NodeValues): NodeTimings {
  return {
    pollIntervalMs: duration(values['poll-interval'], '--poll-interval'),
    recheckMs: duration(values['recheck-interval'], '--recheck-interval'),
    joinSettleMs: duration(values['join-settle'], '--join-settle'),
    startRetryMs: duration(values['start-retry'], '--start-retry'),
    maxEndingFailures: positiveInteger(values['max-ending-failures'], '--max-ending-failures'),
    lowBalanceLamports: lamports(values['low-balance'], '--low-balance'),
    unschedulableMs: duration(values['unschedulable-timeout'], '--unschedulable-timeout'),
  };
}

async function containment(values: NodeValues, env: NodeJS.ProcessEnv): Promise<Containment> {
  const ceilingFlags = [
    ['cpu', 'max-cpu'],
    ['memory', 'max-memory'],
    ['ephemeralStorage', 'max-ephemeral-storage'],
  ] as const;
  const ceilings: Partial<ResourceLimits> = {};
  for (const [field, flag] of ceilingFlags) {
    const value = values[flag];
    if (value !== undefined) ceilings[field] = quantity(value, `--${flag}`, field);
  }
  const deniedCidrs = values['denied-cidr'];
  const exposureNamespace = values['exposure-namespace'];
  const agentPodLabels = values['agent-pod-labels'];
  return {
    deniedCidrs:
      deniedCidrs === undefined ? [...DEFAULT_EXECUTOR_SETTINGS.deniedCidrs] : deniedCidrs.map((range) => cidr(range, '--denied-cidr')),
    ...(Object.keys(ceilings).length === 0 ? {} : { ceilings }),
    operatorImage: operatorImage(values['operator-image'], env),
    volumeSize: quantity(values['volume-size'], '--volume-size', 'ephemeralStorage'),
    ...(exposureNamespace === undefined ? {} : { exposureNamespace: namespaceName(exposureNamespace, '--exposure-namespace') }),
    ...(agentPodLabels === undefined
      ? {}
      : { agentPods: { podLabels: labels(agentPodLabels, '--agent-pod-labels'), namespace: await podNamespace() } }),
  };
}

/** Reads the flags and environment into the agent's settings; throws a usage error naming the flag. */
export async function parseNodeArgs(args: readonly string[], env: NodeJS.ProcessEnv): Promise<NodeAgentSettings | 'help'> {
  const values = parseProcessFlags(args, NODE_OPTIONS);
  if (values === 'help') return 'help';
  return {
    ...(await processSettings(values, env, DEFAULTS)),
    timings: timings(values),
    chainSubscribe: boolean(values['chain-subscribe'], '--chain-subscribe'),
    containment: await containment(values, env),
  };
}

/** The start line's account of pacing and containment (the image, ranges and labels are not secrets). */
function describeNode(options: ProcessOptions<NodeAgentSettings>): Record<string, unknown> {
  const { timings: pace } = options;
  return {
    timings: {
      pollInterval: durationText(pace.pollIntervalMs),
      recheckInterval: durationText(pace.recheckMs),
      joinSettle: durationText(pace.joinSettleMs),
      startRetry: durationText(pace.startRetryMs),
      maxEndingFailures: pace.maxEndingFailures,
      lowBalanceSol: formatSol(pace.lowBalanceLamports),
      unschedulableTimeout: durationText(pace.unschedulableMs),
    },
    chainSubscribe: options.chainSubscribe,
    containment: options.containment,
  };
}

export async function runNode(args: readonly string[], io: CommandIo): Promise<number> {
  return runProcessCommand(
    { name: 'node', title: 'the node agent', help: HELP, parse: parseNodeArgs, describe: describeNode, run: runNodeAgent },
    args,
    io,
  );
}
