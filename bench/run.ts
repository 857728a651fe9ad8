// `npm run bench`: runs the benchmark scenarios against one control plane and one localnet (the
// control plane alone takes 10-40 s to start), prints each scenario's figures as a table once it
// is done, and writes them, with the machine they were measured on, as JSON. Figures are printed,
// never asserted: absolute times depend on the machine, so what a reader compares is the ratio
// between the modes or sides of one run.
//
//   node bench/run.ts [--only chain-follow|posting|arrival|end-to-end|memory] [--out FILE]
//                     [--jobs N] [--hold SECONDS] [--modes polling,subscription]   (chain-follow)
//                     [--posting-jobs N[,N...]]                                      (posting)
//                     [--arrival-rate PER_SECOND] [--arrival-seconds S]              (arrival)
//                     [--e2e-jobs N[,N...]]                                          (end-to-end)
//                     [--memory-objects N]                                           (memory)
import { mkdir, writeFile } from 'node:fs/promises';
import { arch, cpus, release, totalmem, type } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MARKET_QUEUE_CAPACITY } from '../src/chain/accounts.ts';
import { REPO_ROOT } from '../src/local-cluster/binaries.ts';
import { chainFollowRatios, chainFollowReport, MODES, runChainFollow, type Mode } from './chain-follow.ts';
import { endToEndRatios, endToEndReport, runEndToEnd, type EndToEndResult } from './end-to-end.ts';
import { useDeployedOperator } from './deployed.ts';
import { seconds, withEnvironment, type BenchEnvironment } from './environment.ts';
import { memoryRatios, memoryReport, runMemory } from './memory.ts';
import { postingRatios, postingReport, runPosting, type PostingResult } from './posting.ts';
import { postingChartSvg } from './chart.ts';

// memory last: it leaves its objects to the control plane's end
const SCENARIOS = ['chain-follow', 'posting', 'arrival', 'end-to-end', 'memory'] as const;
type Scenario = (typeof SCENARIOS)[number];

const USAGE = `usage: node bench/run.ts [--only ${SCENARIOS.join('|')}] [--out FILE]
  chain-follow: [--jobs N] [--hold SECONDS] [--modes ${MODES.join(',')}]
  posting:      [--posting-jobs N[,N...]]
  arrival:      [--arrival-rate PER_SECOND] [--arrival-seconds S]
  end-to-end:   [--e2e-jobs N[,N...]]
  memory:       [--memory-objects N]`;

interface Arguments {
  scenarios: readonly Scenario[];
  out: string;
  jobs: number;
  holdMs: number;
  modes: readonly Mode[];
  /** One posting run per count, in the order given. */
  postingJobs: number[];
  /** The arrival scenario: NosanaJobs (and batch Jobs) created at this rate for this long. */
  arrivalRate: number;
  arrivalSeconds: number;
  /** One end-to-end run per count (jobs in flight at once), in the order given. */
  e2eJobs: number[];
  memoryObjects: number;
}

function wholeNumber(text: string | undefined, flag: string, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`${flag} must be a whole number from 1 to ${max}, got ${text}`);
  return value;
}

function parseArguments(argv: readonly string[]): Arguments {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      only: { type: 'string' },
      out: { type: 'string', default: join(REPO_ROOT, 'bench', 'results', 'latest.json') },
      jobs: { type: 'string', default: '40' },
      // jobs run minutes in production: long enough here for polling's steady cost to show
      hold: { type: 'string', default: '60' },
      modes: { type: 'string', default: MODES.join(',') },
      'posting-jobs': { type: 'string', default: '100,300,1000' },
      'arrival-rate': { type: 'string', default: '20' },
      'arrival-seconds': { type: 'string', default: '60' },
      'e2e-jobs': { type: 'string', default: '1,100,1000' },
      'memory-objects': { type: 'string', default: '10000' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    console.log(USAGE);
    process.exit(0);
  }
  const only = values.only;
  if (only !== undefined && !(SCENARIOS as readonly string[]).includes(only)) {
    throw new Error(`--only must be one of ${SCENARIOS.join(', ')}, got ${only}`);
  }
  // a market's queue holds this many jobs; more would be refused by `list`
  const jobs = wholeNumber(values.jobs, '--jobs', MARKET_QUEUE_CAPACITY);
  const hold = Number(values.hold);
  if (!Number.isFinite(hold) || hold < 0) throw new Error(`--hold must be a number of seconds, 0 or more, got ${values.hold}`);
  const modes = values.modes.split(',').map((mode) => mode.trim());
  const unknown = modes.filter((mode) => !(MODES as readonly string[]).includes(mode));
  if (unknown.length > 0 || modes.length === 0) throw new Error(`--modes takes ${MODES.join(', ')} (comma-separated), got ${values.modes}`);
  return {
    scenarios: only === undefined ? SCENARIOS : [only as Scenario],
    out: resolve(values.out),
    jobs,
    holdMs: hold * 1_000,
    modes: MODES.filter((mode) => modes.includes(mode)),
    // spread over markets of at most 250 jobs each, so no queue limit; this bounds the run's length
    postingJobs: values['posting-jobs'].split(',').map((count) => wholeNumber(count.trim(), '--posting-jobs', 5_000)),
    arrivalRate: wholeNumber(values['arrival-rate'], '--arrival-rate', 200),
    arrivalSeconds: wholeNumber(values['arrival-seconds'], '--arrival-seconds', 600),
    e2eJobs: values['e2e-jobs'].split(',').map((count) => wholeNumber(count.trim(), '--e2e-jobs', 5_000)),
    memoryObjects: wholeNumber(values['memory-objects'], '--memory-objects', 100_000),
  };
}

/** What a scenario leaves: its table and its JSON section. */
interface Outcome {
  report: string;
  figures: Record<string, unknown>;
}

async function runScenario(scenario: Scenario, env: BenchEnvironment, args: Arguments): Promise<Outcome> {
  switch (scenario) {
    case 'chain-follow': {
      const result = await runChainFollow(env, { jobs: args.jobs, holdMs: args.holdMs, modes: args.modes });
      const ratio = chainFollowRatios(result.modes);
      return {
        report: chainFollowReport(result, ratio),
        figures: { settings: result.settings, modes: result.modes, ...(ratio === undefined ? {} : { subscriptionOverPolling: ratio }) },
      };
    }
    case 'posting': {
      const runs: (PostingResult & { oursOverPeer: Record<string, number> })[] = [];
      const reports: string[] = [];
      for (const jobs of args.postingJobs) {
        const result = await runPosting(env, { jobs });
        const ratio = postingRatios(result);
        runs.push({ ...result, oursOverPeer: ratio });
        reports.push(postingReport(result, ratio));
      }
      const chart = join(dirname(args.out), 'posting.svg');
      await writeFile(chart, postingChartSvg(runs));
      env.progress(`posting chart written to ${chart}`);
      return { report: reports.join('\n\n'), figures: { runs } };
    }
    case 'arrival': {
      const result = await runPosting(env, { jobs: args.arrivalRate * args.arrivalSeconds, ratePerSecond: args.arrivalRate });
      const ratio = postingRatios(result);
      return { report: postingReport(result, ratio), figures: { ...result, oursOverPeer: ratio } };
    }
    case 'end-to-end': {
      const runs: (EndToEndResult & { oursOverPeer: Record<string, number> })[] = [];
      const reports: string[] = [];
      for (const jobs of args.e2eJobs) {
        const result = await runEndToEnd(env, { jobs });
        const ratio = endToEndRatios(result);
        runs.push({ ...result, oursOverPeer: ratio });
        reports.push(endToEndReport(result, ratio));
      }
      return { report: reports.join('\n\n'), figures: { runs } };
    }
    case 'memory': {
      const result = await runMemory(env, { objects: args.memoryObjects });
      const ratio = memoryRatios(result);
      return { report: memoryReport(result, ratio), figures: { ...result, oursOverPeer: ratio } };
    }
  }
}

async function main(): Promise<void> {
  const args = parseArguments(process.argv.slice(2));
  // exiting (rather than dying by the signal) runs the exit handlers that kill the control plane and controllers
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  const progress = (line: string): void => console.error(`# ${line}`);
  const cpu = cpus();
  const output = {
    date: new Date().toISOString(),
    machine: {
      cpu: cpu[0]?.model ?? 'unknown',
      cores: cpu.length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      os: `${type()} ${release()} ${arch()}`,
      node: process.version,
    },
    scenarios: {} as Partial<Record<Scenario, Record<string, unknown>>>,
  };
  await mkdir(dirname(args.out), { recursive: true });
  const built = Date.now();
  const deployed = await useDeployedOperator();
  const heaps = Object.entries(deployed.heaps).map(([name, heap]) => `${name} ${heap.heapMiB} MiB (Pod limit ${heap.limitMiB} MiB)`);
  progress(
    `operator compiled as its image runs it (${relative(process.cwd(), deployed.launcher)}) in ${seconds(built)}; V8 old space: ${heaps.join(', ')}`,
  );
  await withEnvironment(progress, async (env) => {
    for (const [index, scenario] of args.scenarios.entries()) {
      const { report, figures } = await runScenario(scenario, env, args);
      if (index > 0) console.log('');
      console.log(report);
      output.scenarios[scenario] = figures;
      // after each scenario, so a later failure keeps what was measured
      await writeFile(args.out, `${JSON.stringify(output, null, 2)}\n`);
      progress(`${scenario} figures written to ${args.out}`);
    }
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
