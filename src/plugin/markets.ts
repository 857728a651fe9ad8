// `kubectl nosana markets`: the NosanaMarkets a job can be posted to, as a poster chooses between
// them: the price per second and per hour in NOS, the job timeout (what the deposit covers when a
// job sets none) and who waits in the queue: jobs for nodes, or nodes for jobs.
import type { NosanaMarketObject } from '../api/crds/nosana-market.ts';
import { formatNos } from '../chain/money.ts';
import { findCondition } from '../runtime/conditions.ts';
import {
  ALL_NAMESPACES_HELP,
  ALL_NAMESPACES_OPTION,
  COMMON_HELP,
  COMMON_OPTIONS,
  OUTPUT_OPTION,
  outputFormat,
  parseCommandArgs,
  positionalArguments,
} from './args.ts';
import { Cluster } from './cluster.ts';
import { printedHelp } from './command.ts';
import type { PluginIo } from './command.ts';
import { EXIT_OK } from './errors.ts';
import { MARKETS } from './kinds.ts';
import { formatObjects } from './output.ts';
import { sortedObjects } from './resource-table.ts';
import { formatSeconds, renderTable } from './table.ts';

const HELP = `Usage: kubectl nosana markets [options]

Lists the NosanaMarkets: network, price, job timeout, queue and whether the market could be read.

Options:
  -o, --output FORMAT      json or yaml
${ALL_NAMESPACES_HELP}
${COMMON_HELP}
`;

const SECONDS_PER_HOUR = 3600n;

function price(market: NosanaMarketObject): { perSecond: string; perHour: string } {
  const baseUnits = market.status?.jobPriceBaseUnits;
  if (baseUnits === undefined || !/^\d+$/.test(baseUnits)) return { perSecond: market.status?.jobPrice ?? '', perHour: '' };
  return { perSecond: formatNos(BigInt(baseUnits)), perHour: formatNos(BigInt(baseUnits) * SECONDS_PER_HOUR) };
}

function queue(market: NosanaMarketObject): string {
  const { queueType, queueLength } = market.status ?? {};
  if (queueType === undefined) return '';
  if (queueType === 'Empty') return 'empty';
  return `${queueLength ?? '?'} ${queueType.toLowerCase()} waiting`;
}

function ready(market: NosanaMarketObject): string {
  const condition = findCondition(market.status?.conditions, 'Ready');
  if (condition === undefined) return '';
  return condition.status === 'True' ? 'True' : `${condition.status} (${condition.reason})`;
}

/** The markets table: one row per market, in kubectl's order. */
export function marketsTable(markets: readonly NosanaMarketObject[], allNamespaces: boolean): string {
  const header = [...(allNamespaces ? ['NAMESPACE'] : []), 'NAME', 'NETWORK', 'PRICE (NOS/S)', 'NOS/HOUR', 'TIMEOUT', 'QUEUE', 'READY'];
  const rows = sortedObjects(markets).map((market) => {
    const { perSecond, perHour } = price(market);
    const timeout = market.status?.jobTimeout;
    return [
      ...(allNamespaces ? [market.metadata?.namespace ?? ''] : []),
      market.metadata?.name ?? '',
      market.spec.network,
      perSecond,
      perHour,
      timeout === undefined ? '' : formatSeconds(timeout),
      queue(market),
      ready(market),
    ];
  });
  return renderTable(header, rows);
}

export async function runMarkets(args: readonly string[], io: PluginIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { ...COMMON_OPTIONS, ...ALL_NAMESPACES_OPTION, ...OUTPUT_OPTION });
  if (printedHelp(values, HELP, io)) return EXIT_OK;
  positionalArguments(positionals, []);
  const format = outputFormat(values.output, ['json', 'yaml']);
  const allNamespaces = values['all-namespaces'] === true;
  const cluster = Cluster.open(values, io.env, io.signal);
  const markets = await cluster.list<NosanaMarketObject>(MARKETS, allNamespaces ? undefined : cluster.namespace);
  if (format === 'json' || format === 'yaml') {
    io.stdout.write(formatObjects(sortedObjects(markets), format, false));
  } else if (markets.length === 0) {
    io.stderr.write(allNamespaces ? 'No NosanaMarkets found\n' : `No NosanaMarkets found in ${cluster.namespace} namespace.\n`);
  } else {
    io.stdout.write(marketsTable(markets, allNamespaces));
  }
  return EXIT_OK;
}
