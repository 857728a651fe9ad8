// What `wait` and `post --wait` wait for, and the verdict on a NosanaJob as it is now: met (exit 0),
// never going to be met (exit 1: it ended otherwise, it is stalled until a person acts, or it was
// deleted), or not yet. `--for Completed` is met by any ending, and its verdict is the job's own:
// 0 when it Succeeded, 1 when it Failed or was Stopped. Pure, so every case is a table row.
import { NOSANA_JOB_PHASES } from '../api/crds/nosana-job.ts';
import type { NosanaJobObject, NosanaJobPhase } from '../api/crds/nosana-job.ts';
import { kstatusOf } from '../api/health.ts';
import type { ConditionType } from '../api/health.ts';
import { findCondition } from '../runtime/conditions.ts';
import { EXIT_FAILED, EXIT_OK, badValue } from './errors.ts';

export type WaitTarget = { condition: ConditionType } | { phase: NosanaJobPhase } | { deleted: true };

export interface WaitVerdict {
  exitCode: number;
  /** What happened, after the job's name: "Succeeded", "condition Posted met", "ended Failed (OpFailed: …)". */
  message: string;
}

const CONDITION_TYPES: readonly ConditionType[] = ['Completed', 'Ready', 'Posted', 'Failed', 'Reconciling', 'Stalled'];
const ENDED_PHASES: readonly string[] = ['Succeeded', 'Failed', 'Stopped'];

function caseless<T extends string>(choices: readonly T[], text: string): T | undefined {
  return choices.find((choice) => choice.toLowerCase() === text.toLowerCase());
}

/** `--for` as kubectl wait spells it: a condition (`Completed`, `condition=Ready`), `phase=Running`, or `delete`. */
export function parseWaitTarget(text: string): WaitTarget {
  if (text === 'delete') return { deleted: true };
  const [key, value] = text.includes('=') ? [text.slice(0, text.indexOf('=')), text.slice(text.indexOf('=') + 1)] : ['condition', text];
  if (key === 'phase') {
    const phase = caseless(NOSANA_JOB_PHASES, value);
    if (phase === undefined) throw badValue(`--for phase=${value}: a NosanaJob's phase is one of ${NOSANA_JOB_PHASES.join(', ')}`);
    return { phase };
  }
  if (key === 'condition') {
    const condition = caseless(CONDITION_TYPES, value);
    if (condition === undefined) throw badValue(`--for ${text}: a NosanaJob's conditions are ${CONDITION_TYPES.join(', ')}`);
    return { condition };
  }
  throw badValue(`--for ${text}: expected a condition (${CONDITION_TYPES.join(', ')}), phase=PHASE or delete`);
}

/** What the target reads as in messages. */
export function describeTarget(target: WaitTarget): string {
  if ('deleted' in target) return 'deletion';
  if ('phase' in target) return `phase ${target.phase}`;
  return `condition ${target.condition}`;
}

function readySummary(job: NosanaJobObject): string {
  const ready = findCondition(job.status?.conditions, 'Ready');
  return ready === undefined ? '' : ` (${ready.reason}: ${ready.message})`;
}

/** The verdict on `job` (undefined: it does not exist); undefined while it may still come. */
export function judgeJob(job: NosanaJobObject | undefined, target: WaitTarget): WaitVerdict | undefined {
  if ('deleted' in target) return job === undefined ? { exitCode: EXIT_OK, message: 'gone' } : undefined;
  if (job === undefined) return { exitCode: EXIT_FAILED, message: `deleted before ${describeTarget(target)}` };
  const phase = job.status?.phase;
  const ended = phase !== undefined && ENDED_PHASES.includes(phase);
  if ('condition' in target && target.condition === 'Completed') {
    const completed = findCondition(job.status?.conditions, 'Completed')?.status === 'True';
    if (!completed && !ended) return stalled(job, target);
    return phase === 'Succeeded'
      ? { exitCode: EXIT_OK, message: 'Succeeded' }
      : { exitCode: EXIT_FAILED, message: `${phase ?? 'ended'}${readySummary(job)}` };
  }
  if ('condition' in target && findCondition(job.status?.conditions, target.condition)?.status === 'True') {
    return { exitCode: EXIT_OK, message: `condition ${target.condition} met` };
  }
  if ('phase' in target && phase === target.phase) return { exitCode: EXIT_OK, message: phase };
  if (ended) return { exitCode: EXIT_FAILED, message: `ended ${phase}${readySummary(job)} without ${describeTarget(target)}` };
  return stalled(job, target);
}

/** A job that will not move until its spec or the world is fixed: waiting on would only time out. */
function stalled(job: NosanaJobObject, target: WaitTarget): WaitVerdict | undefined {
  if (kstatusOf(job) !== 'Failed') return undefined;
  return {
    exitCode: EXIT_FAILED,
    message: `stalled in ${job.status?.phase ?? 'Pending'}${readySummary(job)} before ${describeTarget(target)}`,
  };
}
