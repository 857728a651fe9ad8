// `kubectl nosana extend JOB --by 10m`: raises spec.timeout by a duration. The controller pays the
// extension on chain (price × the added time, from the job's wallet, within maxCost and the
// market's spend limit) and the node moves the job's deadline. The write is a merge patch made only
// on the version that was read, so two extensions at once never add up to less than both.
import type { NosanaJobObject } from '../api/crds/nosana-job.ts';
import type { NosanaMarketObject } from '../api/crds/nosana-market.ts';
import { formatNos } from '../chain/money.ts';
import { durationSeconds } from '../controllers/nosana-job/spec-values.ts';
import { COMMON_HELP, COMMON_OPTIONS, parseCommandArgs, positionalArguments } from './args.ts';
import { Cluster } from './cluster.ts';
import { printedHelp } from './command.ts';
import type { PluginIo } from './command.ts';
import { EXIT_FAILED, EXIT_OK, PluginError, usageError } from './errors.ts';
import { JOBS, MARKETS, objectPath, qualifiedName } from './kinds.ts';
import { formatSeconds } from './table.ts';
import { durationFlag } from './wait.ts';

const HELP = `Usage: kubectl nosana extend JOB --by D [options]

Raises the job's timeout (spec.timeout) by D, e.g. 30m or 1h. Once the job is posted, the controller
extends it on chain, paying the market's price × D from the job's wallet (refused past spec.maxCost
or the market's dailySpendLimit). A timeout can only grow.

Options:
      --by D               how much longer the job may run
${COMMON_HELP}

Exit status: 0 raised, 1 refused (the job ended, or changed meanwhile), 2 usage, 3 no such job or no cluster.
`;

const ENDED_PHASES: readonly string[] = ['Succeeded', 'Failed', 'Stopped'];

export interface Extension {
  fromSeconds: bigint;
  toSeconds: bigint;
  /** What the extension costs, when the job's price is known. */
  costBaseUnits?: bigint;
}

/**
 * The new timeout: the current one (spec.timeout, else the market's job timeout, which is what was
 * posted) plus `bySeconds`. Throws when the job ended or no current timeout is known.
 */
export function planExtension(job: NosanaJobObject, marketTimeoutSeconds: number | undefined, bySeconds: bigint): Extension {
  const phase = job.status?.phase;
  if (phase !== undefined && ENDED_PHASES.includes(phase)) {
    throw new PluginError(`the job has ended (${phase}): there is nothing to extend`, EXIT_FAILED);
  }
  const fromSeconds =
    job.spec.timeout !== undefined
      ? durationSeconds(job.spec.timeout, 'spec.timeout')
      : marketTimeoutSeconds !== undefined
        ? BigInt(marketTimeoutSeconds)
        : undefined;
  if (fromSeconds === undefined) {
    throw new PluginError(
      `spec.timeout is unset and the job timeout of market "${job.spec.market}" is not known here: set spec.timeout to the timeout the job was posted with`,
      EXIT_FAILED,
    );
  }
  const price = job.status?.priceBaseUnits;
  return {
    fromSeconds,
    toSeconds: fromSeconds + bySeconds,
    ...(price === undefined || !/^\d+$/.test(price) ? {} : { costBaseUnits: BigInt(price) * bySeconds }),
  };
}

/** The line `extend` prints. */
export function extensionLine(name: string, job: NosanaJobObject, extension: Extension): string {
  const added = formatSeconds(extension.toSeconds - extension.fromSeconds);
  const change = `timeout ${formatSeconds(extension.fromSeconds)} → ${formatSeconds(extension.toSeconds)} (spec.timeout ${extension.toSeconds})`;
  const address = job.status?.jobAddress;
  const cost =
    extension.costBaseUnits === undefined ? `the price × ${added}` : `${formatNos(extension.costBaseUnits)} NOS (the price × ${added})`;
  const onChain =
    address === undefined
      ? 'the job is posted with it'
      : `the controller extends job ${address} on chain, paying ${cost} from the job's wallet`;
  return `${qualifiedName(JOBS, name)} extended: ${change}; ${onChain}\n`;
}

async function marketTimeout(cluster: Cluster, job: NosanaJobObject, namespace: string): Promise<number | undefined> {
  if (job.spec.timeout !== undefined) return undefined;
  const market = await cluster.find<NosanaMarketObject>(MARKETS, namespace, job.spec.market).catch(() => undefined);
  return market?.status?.jobTimeout;
}

export async function runExtend(args: readonly string[], io: PluginIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { ...COMMON_OPTIONS, by: { type: 'string' } });
  if (printedHelp(values, HELP, io)) return EXIT_OK;
  const [name = ''] = positionalArguments(positionals, ['JOB']);
  if (values.by === undefined) throw usageError('--by D is required: how much longer the job may run, e.g. --by 30m');
  const bySeconds = BigInt(Math.ceil(durationFlag(values.by, '--by') / 1000));
  const cluster = Cluster.open(values, io.env, io.signal);
  const { namespace } = cluster;
  const job = await cluster.get<NosanaJobObject>(JOBS, namespace, name);
  const extension = planExtension(job, await marketTimeout(cluster, job, namespace), bySeconds);
  await cluster.request(`extend ${JOBS.kind} ${namespace}/${name}`, 'PATCH', objectPath(JOBS, namespace, name), {
    contentType: 'application/merge-patch+json',
    // the version read is a precondition: a concurrent change answers 409 instead of being overwritten
    body: { metadata: { resourceVersion: job.metadata?.resourceVersion }, spec: { timeout: Number(extension.toSeconds) } },
  });
  io.stdout.write(extensionLine(name, job, extension));
  return EXIT_OK;
}
