// `npm run bench`: runs the benchmarks, prints their figures as a table and writes them, with the
// machine they were measured on, as JSON. Figures are printed, never asserted: absolute times
// depend on the machine, so what a reader compares is the ratio between modes of one run.
//
//   node bench/run.ts [--jobs N] [--hold SECONDS] [--out FILE] [--only polling|subscription]
import { mkdir, writeFile } from 'node:fs/promises';
import { arch, cpus, release, totalmem, type } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MARKET_QUEUE_CAPACITY } from '../src/chain/accounts.ts';
import { REPO_ROOT } from '../src/local-cluster/binaries.ts';
import { MODES, runChainFollow, type ChainFollowResult, type Mode, type ModeResult } from './chain-follow.ts';
import { formatMs, formatNumber, formatRatio, formatTable, ratio } from './stats.ts';

const USAGE = `usage: node bench/run.ts [--jobs N] [--hold SECONDS] [--out FILE] [--only ${MODES.join('|')}]`;

interface Arguments {
  jobs: number;
  holdMs: number;
  out: string;
  modes: readonly Mode[];
}

function parseArguments(argv: readonly string[]): Arguments {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      jobs: { type: 'string', default: '40' },
      // jobs run minutes in production: long enough here for polling's steady cost to show
      hold: { type: 'string', default: '60' },
      out: { type: 'string', default: join(REPO_ROOT, 'bench', 'results', 'latest.json') },
      only: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    console.log(USAGE);
    process.exit(0);
  }
  const jobs = Number(values.jobs);
  // a market's queue holds this many jobs; more would be refused by `list`
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > MARKET_QUEUE_CAPACITY) {
    throw new Error(`--jobs must be a whole number from 1 to ${MARKET_QUEUE_CAPACITY}, got ${values.jobs}`);
  }
  const hold = Number(values.hold);
  if (!Number.isFinite(hold) || hold < 0) throw new Error(`--hold must be a number of seconds, 0 or more, got ${values.hold}`);
  const only = values.only;
  if (only !== undefined && !(MODES as readonly string[]).includes(only)) {
    throw new Error(`--only must be one of ${MODES.join(', ')}, got ${only}`);
  }
  return { jobs, holdMs: hold * 1_000, out: resolve(values.out), modes: only === undefined ? MODES : [only as Mode] };
}

/** Each figure as subscription / polling, when both ran: below 1 means subscribing is faster or cheaper. */
function ratios(modes: readonly ModeResult[]): Record<string, number> | undefined {
  const polling = modes.find((mode) => mode.mode === 'polling');
  const subscription = modes.find((mode) => mode.mode === 'subscription');
  if (polling === undefined || subscription === undefined) return undefined;
  const figures = (mode: ModeResult): Record<string, number> => ({
    applyToQueuedP50: mode.applyToQueuedMs.p50,
    applyToQueuedP99: mode.applyToQueuedMs.p99,
    claimToRunningP50: mode.claimToRunningMs.p50,
    claimToRunningP99: mode.claimToRunningMs.p99,
    finishToSucceededP50: mode.finishToSucceededMs.p50,
    finishToSucceededP99: mode.finishToSucceededMs.p99,
    rpcRequestsPerJob: mode.rpcRequestsPerJob,
  });
  const base = figures(polling);
  return Object.fromEntries(Object.entries(figures(subscription)).map(([name, value]) => [name, ratio(value, base[name]!)]));
}

function report(result: ChainFollowResult, ratio: Record<string, number> | undefined): string {
  const { settings } = result;
  const header = ['mode', 'apply→Queued p50', 'p99', 'claim→Running p50', 'p99', 'finish→Succeeded p50', 'p99', 'RPC req/job', 'wall'];
  const rows = result.modes.map((mode) => [
    mode.mode,
    formatMs(mode.applyToQueuedMs.p50),
    formatMs(mode.applyToQueuedMs.p99),
    formatMs(mode.claimToRunningMs.p50),
    formatMs(mode.claimToRunningMs.p99),
    formatMs(mode.finishToSucceededMs.p50),
    formatMs(mode.finishToSucceededMs.p99),
    formatNumber(mode.rpcRequestsPerJob),
    `${mode.wallSeconds.toFixed(0)} s`,
  ]);
  if (ratio !== undefined) {
    rows.push([
      'subscription/polling',
      formatRatio(ratio['applyToQueuedP50']!),
      formatRatio(ratio['applyToQueuedP99']!),
      formatRatio(ratio['claimToRunningP50']!),
      formatRatio(ratio['claimToRunningP99']!),
      formatRatio(ratio['finishToSucceededP50']!),
      formatRatio(ratio['finishToSucceededP99']!),
      formatRatio(ratio['rpcRequestsPerJob']!),
      '',
    ]);
  }
  const methods = [...new Set(result.modes.flatMap((mode) => Object.keys(mode.rpcRequestsPerJobByMethod)))];
  const methodRows = methods.map((method) => [
    method,
    ...result.modes.map((mode) => formatNumber(mode.rpcRequestsPerJobByMethod[method] ?? 0, 2)),
  ]);
  methodRows.push(['(websocket notifications)', ...result.modes.map((mode) => formatNumber(mode.notificationsPerJob, 2))]);
  const { localnet } = settings;
  const returned = result.modes.map(
    (mode) =>
      `  ${mode.mode}: claim→Running p50 ${formatMs(mode.claimReturnedToRunningMs.p50)} p99 ${formatMs(mode.claimReturnedToRunningMs.p99)}, ` +
      `finish→Succeeded p50 ${formatMs(mode.finishReturnedToSucceededMs.p50)} p99 ${formatMs(mode.finishReturnedToSucceededMs.p99)}`,
  );
  return [
    `chain-follow: ${settings.jobs} NosanaJobs per mode, --poll-interval ${settings.pollInterval}, claims and finishes spread over ${
      settings.spreadMs / 1_000
    } s, jobs running ${settings.holdMs / 1_000} s; localnet ${localnet.slotMs} ms slots, finalized after ${localnet.finalizeAfterSlots} slots`,
    '',
    formatTable(header, rows),
    '',
    "Landed is when the localnet confirmed the node's transaction. Counted from when work() and finish() returned",
    'in the benchmark instead (the client polls for its confirmation, up to 400 ms late):',
    ...returned,
    '',
    'RPC requests per job, by method:',
    formatTable(['method', ...result.modes.map((mode) => mode.mode)], methodRows),
  ].join('\n');
}

async function main(): Promise<void> {
  const args = parseArguments(process.argv.slice(2));
  // exiting (rather than dying by the signal) runs the exit handlers that kill the control plane and controllers
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  const progress = (line: string): void => console.error(`# ${line}`);
  const date = new Date().toISOString();
  const result = await runChainFollow({ jobs: args.jobs, holdMs: args.holdMs, modes: args.modes, progress });
  const ratio = ratios(result.modes);
  console.log(report(result, ratio));
  const cpu = cpus();
  const output = {
    benchmark: 'chain-follow',
    date,
    machine: {
      cpu: cpu[0]?.model ?? 'unknown',
      cores: cpu.length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      os: `${type()} ${release()} ${arch()}`,
      node: process.version,
    },
    settings: result.settings,
    modes: result.modes,
    ...(ratio === undefined ? {} : { subscriptionOverPolling: ratio }),
  };
  await mkdir(dirname(args.out), { recursive: true });
  await writeFile(args.out, `${JSON.stringify(output, null, 2)}\n`);
  console.error(`# figures written to ${args.out}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
