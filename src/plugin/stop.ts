// `kubectl nosana stop JOB`: deletes the NosanaJob, which is how a job is cancelled: the controller
// delists it (queued) or ends it (running) on chain before the resource goes. What that means for
// this job, given its phase and deletion policy, is said in the output: stopping costs or refunds NOS.
import type { NosanaJobObject } from '../api/crds/nosana-job.ts';
import { COMMON_HELP, COMMON_OPTIONS, parseCommandArgs, positionalArguments } from './args.ts';
import { Cluster } from './cluster.ts';
import { printedHelp } from './command.ts';
import type { PluginIo } from './command.ts';
import { EXIT_OK } from './errors.ts';
import { JOBS, objectPath, qualifiedName } from './kinds.ts';
import { awaitJob, durationFlag, printVerdict } from './wait.ts';

const HELP = `Usage: kubectl nosana stop JOB [--wait] [--timeout 2m] [options]

Deletes the NosanaJob. With spec.deletionPolicy Cancel (the default) the controller cancels its job
on chain first: a queued job is delisted and its deposit refunded; a running job is ended, its node
paid for the time it ran and the rest refunded. Then the NosanaJob goes. With Orphan, the job on
chain is left alone.

Options:
      --wait               wait until the NosanaJob is gone
      --timeout D          how long --wait waits (default 2m)
${COMMON_HELP}

Exit status: 0 deleted (and gone, with --wait), 1 not gone in time, 2 usage, 3 no such job or no cluster.
`;

/** What deleting this job does on chain. */
export function stopConsequence(job: NosanaJobObject): string {
  const status = job.status ?? {};
  if (job.spec.deletionPolicy === 'Orphan') return 'deletionPolicy is Orphan: its job on chain is left alone';
  switch (status.phase) {
    case 'Succeeded':
    case 'Failed':
    case 'Stopped':
      return `the job had ended (${status.phase}): there is nothing to cancel`;
    case 'Running':
      return `the controller ends job ${status.jobAddress ?? ''} on chain (its node is paid for the time it ran, the rest of the deposit is refunded), then the NosanaJob goes`;
    case 'Queued':
      return `the controller delists job ${status.jobAddress ?? ''} on chain (the deposit is refunded), then the NosanaJob goes`;
    case 'Posting':
      return 'the controller settles the post under way first, then cancels the job on chain if it landed';
    default:
      return 'nothing was posted: there is nothing to cancel on chain';
  }
}

export async function runStop(args: readonly string[], io: PluginIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    ...COMMON_OPTIONS,
    wait: { type: 'boolean' },
    timeout: { type: 'string', default: '2m' },
  });
  if (printedHelp(values, HELP, io)) return EXIT_OK;
  const [name = ''] = positionalArguments(positionals, ['JOB']);
  const timeoutMs = durationFlag(values.timeout, '--timeout');
  const cluster = Cluster.open(values, io.env, io.signal);
  const { namespace } = cluster;
  const job = await cluster.get<NosanaJobObject>(JOBS, namespace, name);
  await cluster.request(`delete ${JOBS.kind} ${namespace}/${name}`, 'DELETE', objectPath(JOBS, namespace, name), {
    // only the object that was read: one created again meanwhile under the same name is not stopped
    body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: job.metadata?.uid } },
  });
  io.stdout.write(`${qualifiedName(JOBS, name)} deleted: ${stopConsequence(job)}\n`);
  if (values.wait !== true) return EXIT_OK;
  const verdict = await awaitJob(cluster, { namespace, name, target: { deleted: true }, timeoutMs, io });
  return printVerdict(verdict, name, io);
}
