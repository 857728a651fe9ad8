// The text `kubectl nosana result` prints: a few lines on the job (where it ran, its result CID, what
// it cost), then each op in the words Nosana's own CLI uses for a result, so that users who know
// `nosana job get` read it at a glance: "- Executed step <op> in <s>s", the op's log lines, "Exited
// with status <status> with code <exit code>". Pure: the job and its logs in, text out.
import type { NosanaJobObject } from '../api/crds/nosana-job.ts';
import { formatNos } from '../chain/money.ts';
import type { OpLog } from './job-logs.ts';
import { formatSeconds } from './table.ts';

type OpSummary = NonNullable<NonNullable<NosanaJobObject['status']>['ops']>[number];

/** Seconds between two RFC 3339 times, with up to three decimals ("2.013"), or undefined. */
export function secondsBetween(start: string | undefined, end: string | undefined): string | undefined {
  if (start === undefined || end === undefined) return undefined;
  const ms = Date.parse(end) - Date.parse(start);
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  return String(Math.round(ms) / 1000);
}

function header(job: NosanaJobObject): string[] {
  const status = job.status ?? {};
  const cost =
    status.costBaseUnits !== undefined && /^\d+$/.test(status.costBaseUnits) ? formatNos(BigInt(status.costBaseUnits)) : status.cost;
  const fields: [string, string | undefined][] = [
    ['Job', status.jobAddress],
    ['Status', status.phase ?? 'Pending'],
    ['Node', status.node],
    ['Result', status.ipfsResult],
    ['Duration', status.duration === undefined ? undefined : formatSeconds(status.duration)],
    ['Cost', cost === undefined ? undefined : `${cost} NOS`],
  ];
  return fields.flatMap(([label, value]) => (value === undefined ? [] : [`${`${label}:`.padEnd(10)}${value}`]));
}

function opLines(op: OpSummary, log: string | undefined): string[] {
  const seconds = secondsBetween(op.startTime, op.endTime);
  const lines = [`- Executed step ${op.id}${seconds === undefined ? '' : ` in ${seconds}s`}`];
  const text = log ?? op.logTail ?? '';
  if (text !== '') lines.push(...text.replace(/\n$/, '').split('\n'));
  lines.push(`Exited with status ${op.status}${op.exitCode === undefined ? '' : ` with code ${op.exitCode}`}`);
  return lines;
}

/**
 * The result text. `logs` holds each op's full log (from the logs ConfigMap), when known; an op
 * without one shows the log tail its status keeps.
 */
export function resultText(job: NosanaJobObject, logs: readonly OpLog[]): string {
  const full = new Map(logs.map((log) => [log.id, log.logs]));
  const ops = job.status?.ops ?? [];
  const blocks = [header(job), ...ops.map((op) => opLines(op, full.get(op.id)))];
  return `${blocks.map((lines) => lines.join('\n')).join('\n\n')}\n`;
}
