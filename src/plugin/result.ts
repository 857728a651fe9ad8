// `kubectl nosana result JOB`: what an ended job produced, from its status and the logs ConfigMap:
// the result CID and cost, then each op's logs and exit code as Nosana's CLI shows them; -o json
// gives the status' per-op summaries to scripts. The exit status is the job's outcome.
import type { NosanaJobObject } from '../api/crds/nosana-job.ts';
import { COMMON_HELP, COMMON_OPTIONS, OUTPUT_OPTION, outputFormat, parseCommandArgs, positionalArguments } from './args.ts';
import { Cluster } from './cluster.ts';
import { printedHelp } from './command.ts';
import type { PluginIo } from './command.ts';
import { EXIT_FAILED, EXIT_OK } from './errors.ts';
import { storedLogs } from './job-logs.ts';
import { JOBS } from './kinds.ts';
import { formatValue } from './output.ts';
import { resultText } from './result-text.ts';

const HELP = `Usage: kubectl nosana result JOB [-o json|yaml] [options]

Prints the result of an ended job: where it ran, its result on IPFS and its cost, then for each op
"- Executed step OP in Ns", its logs (in full from the ConfigMap <job>-logs) and "Exited with
status STATUS with code N", as Nosana's CLI prints a result.

Options:
  -o, --output FORMAT      json or yaml: the per-op summaries of the job's status (status.ops)
${COMMON_HELP}

Exit status: 0 the job Succeeded, 1 it Failed, was Stopped or has not ended yet, 2 usage,
3 no such job or no cluster.
`;

const ENDED_PHASES: readonly string[] = ['Succeeded', 'Failed', 'Stopped'];

/** The job's outcome as an exit status. */
export function outcomeExitCode(job: NosanaJobObject): number {
  return job.status?.phase === 'Succeeded' ? EXIT_OK : EXIT_FAILED;
}

/** Prints the result text of an ended job, with its logs; used by `post --wait` too. */
export async function printResult(cluster: Cluster, job: NosanaJobObject, io: PluginIo): Promise<void> {
  const { logs } = await storedLogs(cluster, job);
  io.stdout.write(resultText(job, logs));
}

export async function runResult(args: readonly string[], io: PluginIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { ...COMMON_OPTIONS, ...OUTPUT_OPTION });
  if (printedHelp(values, HELP, io)) return EXIT_OK;
  const [name = ''] = positionalArguments(positionals, ['JOB']);
  const format = outputFormat(values.output, ['json', 'yaml']);
  const cluster = Cluster.open(values, io.env, io.signal);
  const job = await cluster.get<NosanaJobObject>(JOBS, cluster.namespace, name);
  const phase = job.status?.phase ?? 'Pending';
  if (!ENDED_PHASES.includes(phase)) {
    io.stderr.write(`kubectl nosana result: job "${name}" is ${phase}: it has no result until it ends (kubectl nosana wait ${name})\n`);
    return EXIT_FAILED;
  }
  if (format === 'json' || format === 'yaml') io.stdout.write(formatValue(job.status?.ops ?? [], format));
  else await printResult(cluster, job, io);
  return outcomeExitCode(job);
}
