// `kubectl nosana wait JOB`: blocks until a NosanaJob completes (or meets the condition, phase or
// deletion asked for) and says how it went in its exit code, so scripts and CI steps can chain on
// it. Also what `post --wait` waits with.
import type { NosanaJobObject } from '../api/crds/nosana-job.ts';
import { duration } from '../cli/process-flags.ts';
import type { CacheEvent } from '../runtime/types.ts';
import { COMMON_HELP, COMMON_OPTIONS, parseCommandArgs, positionalArguments } from './args.ts';
import { Cluster } from './cluster.ts';
import { printedHelp } from './command.ts';
import type { PluginIo } from './command.ts';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_UNAVAILABLE, PluginError, badValue } from './errors.ts';
import { JOBS, qualifiedName } from './kinds.ts';
import { formatSeconds } from './table.ts';
import { describeTarget, judgeJob, parseWaitTarget } from './wait-condition.ts';
import type { WaitTarget, WaitVerdict } from './wait-condition.ts';
import { waitForObject, watchKind } from './watch.ts';

const HELP = `Usage: kubectl nosana wait JOB [--for Completed] [--timeout 10m] [options]

Waits for a NosanaJob and says how it went in the exit status.

Options:
      --for Completed      until the job ended (the default): exit 0 when it Succeeded, 1 when it
                           Failed or was Stopped
      --for CONDITION      until a condition is True: Ready, Posted, Failed, Reconciling, Stalled
                           (also written condition=Ready)
      --for phase=PHASE    until the job is in that phase: Pending, Posting, Queued, Running, …
      --for delete         until the NosanaJob is gone
      --timeout D          give up after D, e.g. 90s, 10m, 1h (default 10m): exit 1
${COMMON_HELP}

A job that ends otherwise, or stalls until a person acts (an invalid definition, a post whose
outcome is unknown), ends the wait at once with exit 1 and the reason.
Exit status: 0 met, 1 not met (or timed out), 2 usage, 3 no such job or no cluster.
`;

const DEFAULT_TIMEOUT = '10m';

export function durationFlag(value: string, flag: string): number {
  try {
    return duration(value, flag);
  } catch (error) {
    throw badValue((error as Error).message);
  }
}

export interface AwaitJobOptions {
  namespace: string;
  name: string;
  target: WaitTarget;
  timeoutMs: number;
  io: PluginIo;
  /** Told of every change of the job while waiting (post --wait prints its phases). */
  onChange?: (event: CacheEvent<NosanaJobObject>) => void;
}

/** Waits for a job; the verdict says what to print and which exit code it means. */
export async function awaitJob(cluster: Cluster, options: AwaitJobOptions): Promise<WaitVerdict> {
  const { namespace, name, target, io } = options;
  const current = await cluster.find<NosanaJobObject>(JOBS, namespace, name);
  if (current === undefined && !('deleted' in target)) {
    throw new PluginError(`${JOBS.kind} "${name}" not found in namespace "${namespace}"`, EXIT_UNAVAILABLE);
  }
  const now = judgeJob(current, target);
  if (now !== undefined) return now;
  const informer = watchKind<NosanaJobObject>(cluster, JOBS, { namespace, name }, io);
  if (options.onChange !== undefined) informer.on(options.onChange);
  const outcome = await waitForObject(informer, { namespace, name }, (job) => judgeJob(job, target), {
    timeoutMs: options.timeoutMs,
    signal: io.signal,
  });
  if ('verdict' in outcome) return outcome.verdict;
  if ('timedOut' in outcome) {
    return {
      exitCode: EXIT_FAILED,
      message: `timed out after ${formatSeconds(Math.ceil(options.timeoutMs / 1000))} waiting for ${describeTarget(target)}`,
    };
  }
  return { exitCode: EXIT_INTERRUPTED, message: 'interrupted' };
}

/** The verdict's line: on stdout when met, on stderr when not. */
export function printVerdict(verdict: WaitVerdict, name: string, io: PluginIo): number {
  const line = `${qualifiedName(JOBS, name)} ${verdict.message}\n`;
  if (verdict.exitCode === EXIT_OK) io.stdout.write(line);
  else io.stderr.write(line);
  return verdict.exitCode;
}

export async function runWait(args: readonly string[], io: PluginIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    ...COMMON_OPTIONS,
    for: { type: 'string', default: 'Completed' },
    timeout: { type: 'string', default: DEFAULT_TIMEOUT },
  });
  if (printedHelp(values, HELP, io)) return EXIT_OK;
  const [name = ''] = positionalArguments(positionals, ['JOB']);
  const target = parseWaitTarget(values.for);
  const timeoutMs = durationFlag(values.timeout, '--timeout');
  const cluster = Cluster.open(values, io.env, io.signal);
  const verdict = await awaitJob(cluster, { namespace: cluster.namespace, name, target, timeoutMs, io });
  return printVerdict(verdict, name, io);
}
