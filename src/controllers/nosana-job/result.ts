// The result document a node pins when a job ends (the node's FlowState, NODE.md §3): read from
// IPFS through the network's verified gateway reader, parsed leniently (older nodes omit fields),
// and judged into the phase the NosanaJob ends in.
import { z } from 'zod';
import type { GatewayReader } from '../../ipfs/gateway.ts';
import { isPlainObject } from '../../api/job-definition/json-values.ts';

/** The CRD's bounds on status.ops[].results. */
const MAX_RESULT_VALUES = 32;
const MAX_RESULT_CHARS = 4096;

export interface OpOutcome {
  id: string;
  /** As the node reported it: success, failed, stopped, running, … */
  status: string;
  exitCode?: number;
  startTime?: string;
  endTime?: string;
  results?: Record<string, string[]>;
  /** The op's whole log, in the order the node recorded it. */
  logs: string;
}

export interface ResultDocument {
  /** The flow's status: success, failed, stopped, … */
  status: string;
  ops: OpOutcome[];
  /** The flow's errors, as text. */
  errors: string[];
}

/** The bytes behind a job's result CID are not a Nosana result document. */
export class ResultDocumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResultDocumentError';
  }
}

const epochMs = z.number().nullish();

const opStateSchema = z.looseObject({
  operationId: z.string(),
  status: z.string(),
  exitCode: z.number().nullish(),
  startTime: epochMs,
  endTime: epochMs,
  logs: z.array(z.unknown()).nullish(),
  results: z.record(z.string(), z.unknown()).nullish(),
});

const flowStateSchema = z.looseObject({
  status: z.string(),
  opStates: z.array(opStateSchema),
  errors: z.array(z.unknown()).nullish(),
});

function isoTime(ms: number | null | undefined): string | undefined {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return undefined;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/**
 * Joins the log entries' text. Node-side errors (`nodeerr`, e.g. an image that failed to pull)
 * get a line of their own marked [node], so they do not read as the container's output.
 */
function logText(entries: readonly unknown[] | null | undefined): string {
  let text = '';
  for (const entry of entries ?? []) {
    if (!isPlainObject(entry) || typeof entry.log !== 'string') continue;
    if (entry.type !== 'nodeerr') {
      text += entry.log;
      continue;
    }
    const separator = text === '' || text.endsWith('\n') ? '' : '\n';
    text += `${separator}[node] ${entry.log}${entry.log.endsWith('\n') ? '' : '\n'}`;
  }
  return text;
}

const asText = (value: unknown): string => (typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)));

/**
 * The node accumulates every match (and its groups) of a results expression over the whole log,
 * so a value can be long; the last entries are kept, as they hold the latest match.
 */
function resultValues(results: Record<string, unknown> | null | undefined): Record<string, string[]> | undefined {
  if (results === null || results === undefined) return undefined;
  const entries = Object.entries(results).map(([key, value]) => {
    const values = (Array.isArray(value) ? value : [value]).map((item) => asText(item).slice(0, MAX_RESULT_CHARS));
    return [key, values.slice(-MAX_RESULT_VALUES)] as const;
  });
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
}

export function parseResultDocument(value: unknown): ResultDocument {
  const parsed = flowStateSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.length === 0 ? '(root)' : issue.path.join('.')}: ${issue.message}`);
    throw new ResultDocumentError(`not a Nosana result document (status and opStates expected): ${issues.join('; ')}`);
  }
  const flow = parsed.data;
  return {
    status: flow.status,
    errors: (flow.errors ?? []).map(asText),
    ops: flow.opStates.map((op) => {
      const outcome: OpOutcome = { id: op.operationId, status: op.status, logs: logText(op.logs) };
      if (typeof op.exitCode === 'number' && Number.isInteger(op.exitCode)) outcome.exitCode = op.exitCode;
      const startTime = isoTime(op.startTime);
      if (startTime !== undefined) outcome.startTime = startTime;
      const endTime = isoTime(op.endTime);
      if (endTime !== undefined) outcome.endTime = endTime;
      const results = resultValues(op.results);
      if (results !== undefined) outcome.results = results;
      return outcome;
    }),
  };
}

/** Reads and parses the result document of `cid` (the reader checks the bytes hash to it). */
export async function readResultDocument(gateway: GatewayReader, cid: string, signal?: AbortSignal): Promise<ResultDocument> {
  const { value } = await gateway.readJson(cid, signal === undefined ? {} : { signal });
  return parseResultDocument(value);
}

export type ResultPhase = 'Succeeded' | 'Failed' | 'Stopped';

export interface ResultVerdict {
  phase: ResultPhase;
  /** A reason of the phase table (api/health.ts). */
  reason: 'Succeeded' | 'OpFailed' | 'Stopped' | 'Cancelled';
  message: string;
  /** What the attempt is recorded as. */
  outcome: 'Succeeded' | 'Failed' | 'Stopped' | 'Cancelled';
}

/** Who ended the job on chain: its node (finish), this operator (end), or someone else (end). */
export type EndedBy = 'node' | 'operator' | 'other';

// Statuses a flow ends with when nothing went wrong: it completed, or it was stopped on purpose.
const CLEAN_FLOW_STATUSES = new Set(['success', 'stopped']);

function describeFailure(op: OpOutcome): string {
  return `op "${op.id}" failed ${op.exitCode === undefined ? 'without an exit code' : `with exit code ${op.exitCode}`}`;
}

/**
 * The phase a finished job ends in. Ops are judged one by one (a failing op does not stop its
 * siblings, and some nodes report success for a flow with a failed op): any failed op, or a flow
 * that failed, is Failed; every op succeeded is Succeeded; otherwise the job was stopped.
 */
export function judgeResult(document: ResultDocument, endedBy: EndedBy): ResultVerdict {
  const failed = document.ops.filter((op) => op.status === 'failed');
  const first = failed[0];
  if (first !== undefined) {
    const more = failed.length > 1 ? ` (and ${failed.length - 1} more op${failed.length > 2 ? 's' : ''} failed)` : '';
    return { phase: 'Failed', reason: 'OpFailed', outcome: 'Failed', message: `${describeFailure(first)}${more}` };
  }
  if (!CLEAN_FLOW_STATUSES.has(document.status)) {
    const error = document.errors[0];
    return {
      phase: 'Failed',
      reason: 'OpFailed',
      outcome: 'Failed',
      message: `the job's flow ended with status "${document.status}"${error === undefined ? '' : `: ${error.slice(0, 512)}`}`,
    };
  }
  const unfinished = document.ops.filter((op) => op.status !== 'success');
  if (unfinished.length === 0) {
    return { phase: 'Succeeded', reason: 'Succeeded', outcome: 'Succeeded', message: `all ${document.ops.length} op(s) succeeded` };
  }
  const which = unfinished.map((op) => `"${op.id}" ${op.status}`).join(', ');
  if (endedBy === 'other') {
    return {
      phase: 'Stopped',
      reason: 'Cancelled',
      outcome: 'Cancelled',
      message: `the job was ended outside this resource before it finished (op ${which})`,
    };
  }
  return { phase: 'Stopped', reason: 'Stopped', outcome: 'Stopped', message: `the job stopped before every op finished (op ${which})` };
}
