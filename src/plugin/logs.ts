// `kubectl nosana logs JOB`: a job's logs from wherever they are now. While a NosanaNode of this
// cluster runs the job, live from its op Pods (-f follows them, op after op, until the job ends);
// once the job ended, the full logs the controller kept in the ConfigMap `<name>-logs` (else the
// status' log tails). A job run by a Nosana node elsewhere has no live logs here yet.
import { setTimeout as sleep } from 'node:timers/promises';
import type { NosanaJobObject } from '../api/crds/nosana-job.ts';
import { COMMON_HELP, COMMON_OPTIONS, parseCommandArgs, positionalArguments } from './args.ts';
import { Cluster } from './cluster.ts';
import { printedHelp } from './command.ts';
import type { PluginIo } from './command.ts';
import { EXIT_FAILED, EXIT_OK, EXIT_UNAVAILABLE, PluginError } from './errors.ts';
import { formatLog, selectOp, storedLogs } from './job-logs.ts';
import type { LogSource } from './job-logs.ts';
import { JOBS } from './kinds.ts';
import { findJobPods, followPodLog, readPodLog } from './pod-logs.ts';
import type { FollowEnd, JobPod } from './pod-logs.ts';

const HELP = `Usage: kubectl nosana logs JOB [--op ID] [-f] [options]

Prints a job's logs. While a NosanaNode of this cluster runs the job, they are read live from its
op Pods; once the job ended, the full logs kept in the ConfigMap <job>-logs are printed (or, when
that is gone, the last lines each op's status keeps). With several ops, each line starts with [op].

Live logs of a job run by a Nosana node outside this cluster are later work: such a job's logs are
shown once it ended (-f waits for that).

Options:
      --op ID              only this op's logs
  -f, --follow             go on printing as the job runs, until it ends (or Ctrl-C)
${COMMON_HELP}

Exit status: 0 printed, 1 no logs yet, 2 usage, 3 no such job (or op) or no cluster.
`;

const ENDED_PHASES: readonly string[] = ['Succeeded', 'Failed', 'Stopped'];
const POLL_MS = 1_000;
/** How long live streams may go on reading once the job ended, before they are cut. */
const DRAIN_MS = 3_000;

function ended(job: NosanaJobObject): boolean {
  return ENDED_PHASES.includes(job.status?.phase ?? '');
}

/** Several ops are shown when the definition has several and no --op narrows it. */
function severalOps(job: NosanaJobObject, op: string | undefined): boolean {
  if (op !== undefined) return false;
  return (job.spec.definition?.ops.length ?? job.status?.ops?.length ?? 1) > 1;
}

function sourceNote(source: LogSource): string {
  return 'configMap' in source
    ? `(logs kept in ConfigMap ${source.configMap})`
    : '(the logs ConfigMap is not there: only the last lines the status keeps of each op)';
}

/** Why there is nothing to print for a job that has not ended and has no Pods (of the op asked for) here. */
function noLiveLogs(job: NosanaJobObject, name: string, op: string | undefined): string {
  const phase = job.status?.phase ?? 'Pending';
  if (phase !== 'Running') return `job "${name}" is ${phase}: it has no logs until a node runs it`;
  const where = `job "${name}" runs on Nosana node ${job.status?.node ?? '?'}`;
  const elsewhere =
    'live logs from Nosana nodes outside this cluster are later work; the logs are kept when the job ends (-f waits for them)';
  if (op !== undefined) return `${where} and has no Pod of op "${op}" in this cluster: the op has not started yet, or ${elsewhere}`;
  return `${where}, which has no Pods of it in this cluster: ${elsewhere}`;
}

async function printStored(cluster: Cluster, job: NosanaJobObject, name: string, op: string | undefined, io: PluginIo): Promise<number> {
  const { logs, source } = await storedLogs(cluster, job);
  const selected = selectOp(logs, op, name);
  const prefix = selected.length > 1;
  for (const log of selected) io.stdout.write(formatLog(log, prefix));
  io.stderr.write(`${sourceNote(source)}\n`);
  return EXIT_OK;
}

async function printLive(cluster: Cluster, pods: readonly JobPod[], prefix: boolean, io: PluginIo): Promise<void> {
  for (const pod of pods) {
    if (!pod.started) {
      io.stderr.write(`(op ${pod.op}: not started yet${pod.waitingReason === undefined ? '' : `: ${pod.waitingReason}`})\n`);
      continue;
    }
    const text = await readPodLog(cluster, pod).catch((error: unknown) => {
      // a Pod that went between the list and the read (its op ended and was cleaned up)
      if (error instanceof PluginError && error.exitCode === EXIT_UNAVAILABLE) return '';
      throw error;
    });
    io.stdout.write(formatLog({ id: pod.op, logs: text }, prefix));
  }
}

export async function runLogs(args: readonly string[], io: PluginIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    ...COMMON_OPTIONS,
    op: { type: 'string' },
    follow: { type: 'boolean', short: 'f' },
  });
  if (printedHelp(values, HELP, io)) return EXIT_OK;
  const [name = ''] = positionalArguments(positionals, ['JOB']);
  const cluster = Cluster.open(values, io.env, io.signal);
  const job = await cluster.get<NosanaJobObject>(JOBS, cluster.namespace, name);
  if (values.follow === true) return follow(cluster, job, name, values.op, io);
  if (ended(job)) return printStored(cluster, job, name, values.op, io);
  const address = job.status?.jobAddress;
  const pods = address === undefined ? [] : await findJobPods(cluster, address, cluster.namespace, values.op);
  if (pods.length > 0) {
    await printLive(cluster, pods, severalOps(job, values.op), io);
    return EXIT_OK;
  }
  io.stderr.write(`kubectl nosana logs: ${noLiveLogs(job, name, values.op)}\n`);
  return EXIT_FAILED;
}

/**
 * Streams each op Pod as it appears until the job ends; then, if nothing could be streamed (the
 * job ran elsewhere, or ended before any Pod was seen), prints the logs it was kept with.
 */
async function follow(cluster: Cluster, first: NosanaJobObject, name: string, op: string | undefined, io: PluginIo): Promise<number> {
  const namespace = cluster.namespace;
  const cut = new AbortController();
  const stop = AbortSignal.any([io.signal, cut.signal]);
  /** Pods (by uid) being followed or followed to their end; one whose stream did not open is tried again. */
  const streams = new Map<string, Promise<FollowEnd>>();
  let streamedAny = false;
  const write = (text: string): void => {
    streamedAny = true;
    io.stdout.write(text);
  };
  let job = first;
  let noted = false;
  try {
    while (!io.signal.aborted) {
      if (ended(job)) {
        await Promise.race([Promise.all(streams.values()), sleep(DRAIN_MS)]);
        return streamedAny ? EXIT_OK : await printStored(cluster, job, name, op, io);
      }
      const address = job.status?.jobAddress;
      const pods = address === undefined ? [] : await findJobPods(cluster, address, namespace, op);
      const prefix = severalOps(job, op) ? (pod: JobPod) => `[${pod.op}] ` : () => '';
      for (const pod of pods) {
        if (!pod.started || streams.has(pod.uid)) continue;
        const stream = followPodLog(cluster, pod, write, prefix(pod), stop);
        streams.set(pod.uid, stream);
        void stream.then((end) => end === 'unopened' && streams.delete(pod.uid));
      }
      if (streams.size === 0 && !noted) {
        const why = pods.length > 0 ? `the Pods of job "${name}" have not started yet` : noLiveLogs(job, name, op);
        io.stderr.write(`(${why}; waiting)\n`);
        noted = true;
      }
      await sleep(POLL_MS, undefined, { signal: io.signal }).catch(() => undefined);
      if (io.signal.aborted) break;
      const next = await cluster.find<NosanaJobObject>(JOBS, namespace, name);
      if (next === undefined) {
        io.stderr.write(`(the NosanaJob "${name}" was deleted)\n`);
        return EXIT_OK;
      }
      job = next;
    }
    return EXIT_OK;
  } finally {
    cut.abort();
  }
}
