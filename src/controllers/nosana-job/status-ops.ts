// status.ops: what each op of a finished job did, as the resource keeps it. The whole status must
// stay well under what the API server can store (etcd refuses a request above 1.5 MiB by
// default): a status that cannot be written would leave the job unfinished and its result unkept.
// The CRD bounds the number of ops, each log tail and each extracted value, but not how many
// expressions an op extracts, so the ops share one byte budget. Full logs and results stay in the
// result document (status.ipfsResult) and the logs ConfigMap.
import type { NosanaJobStatus } from '../../api/crds/nosana-job.ts';
import { tailWithin } from './logs-configmap.ts';
import type { OpOutcome } from './result.ts';

export type OpSummary = NonNullable<NosanaJobStatus['ops']>[number];

/** The CRD's bounds on status.ops. */
const MAX_OPS = 64;
const MAX_LOG_TAIL_BYTES = 4096;
/** The JSON of all op summaries together stays within this (the rest of the status is small). */
export const STATUS_OPS_MAX_BYTES = 384 * 1024;
/** What `"results":{}` and a separating comma add to a summary. */
const RESULTS_FIELD_BYTES = 14;

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8');

/**
 * Each op gets an equal share of the budget: its log tail at most half of it, its extracted
 * results what remains. 64 ops still get 6 KiB each, a full CRD-sized log tail included.
 */
export function opSummaries(ops: readonly OpOutcome[], logTailMaxBytes: number): OpSummary[] {
  const kept = ops.slice(0, MAX_OPS);
  const share = Math.floor(STATUS_OPS_MAX_BYTES / Math.max(1, kept.length));
  return kept.map((op) => opSummary(op, Math.min(logTailMaxBytes, MAX_LOG_TAIL_BYTES, Math.floor(share / 2)), share));
}

function opSummary(op: OpOutcome, logTailBytes: number, share: number): OpSummary {
  const logTail = tailWithin(op.logs, logTailBytes).text;
  const summary: OpSummary = {
    id: op.id.slice(0, 128),
    status: op.status.slice(0, 32),
    ...(op.exitCode === undefined ? {} : { exitCode: op.exitCode }),
    ...(op.startTime === undefined ? {} : { startTime: op.startTime }),
    ...(op.endTime === undefined ? {} : { endTime: op.endTime }),
    ...(logTail === '' ? {} : { logTail }),
  };
  const results = op.results === undefined ? undefined : resultsWithin(op.results, share - jsonBytes(summary) - RESULTS_FIELD_BYTES);
  return results === undefined ? summary : { ...summary, results };
}

/**
 * The results that fit in `maxBytes` of JSON: expressions in the order the node listed them, each
 * keeping its latest values (the node appends every match, so the last one is the current one).
 * Sizes are counted generously (a comma for every entry), so the JSON never exceeds the bound.
 */
function resultsWithin(results: Readonly<Record<string, readonly string[]>>, maxBytes: number): Record<string, string[]> | undefined {
  const kept: Record<string, string[]> = {};
  let used = 0;
  for (const [key, values] of Object.entries(results)) {
    // "key":[] and a comma
    let size = used + jsonBytes(key) + 4;
    const fitting: string[] = [];
    for (let index = values.length - 1; index >= 0; index -= 1) {
      const value = values[index] ?? '';
      const bytes = jsonBytes(value) + 1;
      if (size + bytes > maxBytes) break;
      fitting.unshift(value);
      size += bytes;
    }
    if (fitting.length === 0) continue;
    kept[key] = fitting;
    used = size;
  }
  return Object.keys(kept).length === 0 ? undefined : kept;
}
