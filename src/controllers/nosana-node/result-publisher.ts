// Publishing a run's result document: the executor's FlowState as compact JSON, its CID computed
// here before anything is sent, pinned through the network's pinning service, and the CID the
// service returns accepted only when it is the one computed here. That CID goes on chain with
// `finish` and is what the poster pays for, so a service that stored other bytes is an error,
// never a silently different result.
//
// What is published is the whole FlowState, as Nosana's node pins it (NODE.md §3.1), with
// `secrets` empty: it holds exposed-URL bookkeeping while the flow runs and the runner empties it
// at the end; it is emptied here again so that no caller can publish it by mistake. (publicCopy
// in flow-state.ts is something else: the reduced document of a job whose full result is
// delivered off-chain by `logistics.receive`.)
//
// The document is bounded by RESULT_MAX_BYTES, the most this operator's own poster side reads
// from a gateway (ipfs/gateway.ts): a larger result would be pinned and paid for, yet unreadable
// to the NosanaJob that posted it. Logs and `results` values are what make a result large (up to
// 24,999 log entries per op, each as long as a container cares to write, and a greedy results
// regex repeats them), so when the document does not fit it is cut, oldest first, in this order:
//   1. logs: the results values stay whole and the log entries share what room is left fairly
//      between ops (one noisy op cannot crowd out the others);
//   2. results values, when they alone do not fit: every log entry goes, and the values share the
//      room fairly, each keeping its newest items.
// Each op or value that lost something starts with a note saying how many. Nosana's node already
// keeps only an op's newest log entries; this extends the same rule to bytes. Failing instead
// would leave a finished job unpaid, so a document too large even without logs and values (huge
// error lists, a great many ops) is replaced by a small summary that keeps the flow's status and
// times and says why; only a bound too small for that summary is refused.
import type { FlowState, LogEntry, OpState, ResultValue } from '../../executor/flow-state.ts';
import { fairShares, newestWithin } from '../../executor/results.ts';
import { CidMismatchError } from '../../ipfs/errors.ts';
import { DEFAULT_GATEWAY_MAX_BYTES } from '../../ipfs/gateway.ts';
import { encodeJsonForPinning } from '../../ipfs/json.ts';
import type { PinningClient } from '../../ipfs/pinning-client.ts';
import { computeCidV0 } from '../../ipfs/unixfs.ts';
import type { PinnedResult } from './decision.ts';

/** The largest result document published: what the poster side's gateway reader accepts (16 MiB). */
export const RESULT_MAX_BYTES = DEFAULT_GATEWAY_MAX_BYTES;

// Room kept per op's logs and per results value for the note that says how many were dropped
// (its text is under 150 bytes).
const DROP_NOTE_BYTES = 256;

/** Statuses of a flow that has not ended: a result saying so would read as "running" forever. */
const UNENDED = new Set(['init', 'running', 'waiting-for-result']);

/** The document to pin and its exact bytes. */
export interface ResultDocument {
  document: FlowState;
  bytes: Uint8Array;
  /** Log entries dropped to fit the bound, over all ops (0 when the document fit as it was). */
  droppedLogEntries: number;
  /** Items of results values dropped to fit the bound, over all ops. */
  droppedResultItems: number;
  /** The document is only a summary: even without logs and results values the flow did not fit. */
  summaryOnly: boolean;
}

/** A result document that cannot be published (not ended, or a bound too small even for a summary). */
export class UnpublishableResultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnpublishableResultError';
  }
}

/** The pinned result, as the run's record keeps it, and what publishing it took. */
export interface PublishedResult extends PinnedResult {
  /** The document's size in bytes. */
  size: number;
  droppedLogEntries: number;
  droppedResultItems: number;
  summaryOnly: boolean;
}

export interface PublishOptions {
  /** A name for the pin (Pinata metadata, Kubo's file name). */
  name?: string;
  signal?: AbortSignal;
  /** Default RESULT_MAX_BYTES. */
  maxBytes?: number;
}

/**
 * The result document of an ended flow (or its public copy): `secrets` emptied, the oldest log entries and then the
 * oldest results items dropped when the document would exceed `maxBytes`, or only a summary when
 * even that is not enough. Pure; throws UnpublishableResultError when the flow has not ended or
 * `maxBytes` cannot hold even the summary.
 */
export function resultDocument(flow: FlowState, maxBytes = RESULT_MAX_BYTES): ResultDocument {
  if (UNENDED.has(flow.status) || flow.endTime === null)
    throw new UnpublishableResultError(`a flow that has not ended (status ${flow.status}) has no result to publish`);
  // A public copy (logistics deliver the full result elsewhere) has no secrets field and gets none.
  const document: FlowState = flow.secrets === undefined ? flow : { ...flow, secrets: {} };
  const bytes = encodeJsonForPinning(document);
  if (bytes.length <= maxBytes) return { document, bytes, droppedLogEntries: 0, droppedResultItems: 0, summaryOnly: false };

  const ops = document.opStates;
  const values = ops.flatMap((op, index) =>
    Object.entries(op.results ?? {}).flatMap(([key, value]) => (Array.isArray(value) ? [{ index, key, items: value }] : [])),
  );
  const bare = encodeJsonForPinning({ ...document, opStates: ops.map((op) => withKept(op, [], new Map())) });
  const fixed = bare.length + DROP_NOTE_BYTES * (ops.length + values.length);
  if (fixed > maxBytes) {
    return summary(document, maxBytes, `it takes ${bare.length} bytes even without its logs and results values`);
  }
  const room = maxBytes - fixed;
  const entrySizes = ops.map((op) => op.logs.map(entrySize));
  const itemSizes = values.map(({ items }) => items.map(itemSize));
  const resultTotals = itemSizes.map((sizes) => sum(sizes));
  const resultsFit = sum(resultTotals) <= room;
  // Results first: they are what the poster asked for by name; logs get what they leave.
  const itemCaps = resultsFit ? resultTotals : fairShares(resultTotals, room);
  const logCaps = resultsFit ? fairShares(entrySizes.map(sum), room - sum(resultTotals)) : ops.map(() => 0);

  let droppedResultItems = 0;
  const trimmedValues = values.map((value, position) => {
    const kept = newestWithin(value.items, itemSizes[position] ?? [], itemCaps[position] ?? 0);
    const dropped = value.items.length - kept.length;
    droppedResultItems += dropped;
    return { ...value, items: dropped === 0 ? kept : [resultsDropNote(dropped, maxBytes), ...kept] };
  });
  let droppedLogEntries = 0;
  const opStates = ops.map((op, index): OpState => {
    const kept = newestWithin(op.logs, entrySizes[index] ?? [], logCaps[index] ?? 0);
    const dropped = op.logs.length - kept.length;
    droppedLogEntries += dropped;
    return withKept(op, dropped === 0 ? op.logs : [dropNote(dropped, maxBytes), ...kept], keptValues(trimmedValues, index));
  });
  const trimmed: FlowState = { ...document, opStates };
  const trimmedBytes = encodeJsonForPinning(trimmed);
  // The shares are computed from the same serialisation, so this holds; checked all the same.
  if (trimmedBytes.length > maxBytes) {
    return summary(document, maxBytes, `it still takes ${trimmedBytes.length} bytes after dropping logs and results items`);
  }
  return { document: trimmed, bytes: trimmedBytes, droppedLogEntries, droppedResultItems, summaryOnly: false };
}

/** The results values of op `index` in `values`, by key: what replaces that op's array values. */
function keptValues(values: readonly { index: number; key: string; items: ResultValue }[], index: number): Map<string, ResultValue> {
  return new Map(values.filter((value) => value.index === index).map(({ key, items }) => [key, items]));
}

/** `op` with `logs`, and each array results value replaced by its entry in `arrays` (empty when absent). */
function withKept(op: OpState, logs: LogEntry[], arrays: Map<string, ResultValue>): OpState {
  if (op.results === undefined) return { ...op, logs };
  const results = Object.fromEntries(
    Object.entries(op.results).map(([key, value]) => [key, Array.isArray(value) ? (arrays.get(key) ?? []) : value]),
  );
  return { ...op, logs, results };
}

/**
 * A small valid result for a flow too large to publish even cut: its status and times, and why
 * nothing else is there. The poster still gets an answer, and the node is still paid.
 */
function summary(document: FlowState, maxBytes: number, why: string): ResultDocument {
  const short: FlowState = {
    status: document.status,
    startTime: document.startTime,
    endTime: document.endTime,
    errors: [`the result document did not fit in ${maxBytes} bytes (${why}); only this summary was published`],
    secrets: {},
    opStates: [],
  };
  const bytes = encodeJsonForPinning(short);
  if (bytes.length > maxBytes)
    throw new UnpublishableResultError(
      `even a summary of the result takes ${bytes.length} bytes, more than the ${maxBytes} bytes published`,
    );
  const droppedResultItems = sum(
    document.opStates.flatMap((op) => Object.values(op.results ?? {}).map((value) => (Array.isArray(value) ? value.length : 0))),
  );
  return {
    document: short,
    bytes,
    droppedLogEntries: sum(document.opStates.map((op) => op.logs.length)),
    droppedResultItems,
    summaryOnly: true,
  };
}

function sum(numbers: readonly number[]): number {
  return numbers.reduce((total, value) => total + value, 0);
}

/** A results item's bytes inside its value's array, its separating comma included (undefined is null there). */
function itemSize(item: string | undefined): number {
  return (item === undefined ? 4 : Buffer.byteLength(JSON.stringify(item), 'utf8')) + 1;
}

function resultsDropNote(dropped: number, maxBytes: number): string {
  return `[${dropped} earlier items were dropped to keep the result within ${maxBytes} bytes]`;
}

/** An entry's bytes inside the document's `logs` array, its separating comma included. */
function entrySize(entry: LogEntry): number {
  return Buffer.byteLength(JSON.stringify(entry), 'utf8') + 1;
}

function dropNote(dropped: number, maxBytes: number): LogEntry {
  return { type: 'nodeerr', log: `${dropped} earlier log entries were dropped to keep the result within ${maxBytes} bytes\n` };
}

/**
 * Pins the flow's result document through `pinning` and returns its CID, checked against the CID
 * computed here for the same bytes (CidMismatchError when the service stored anything else).
 */
export async function publishResult(pinning: PinningClient, flow: FlowState, options: PublishOptions = {}): Promise<PublishedResult> {
  const { document, bytes, droppedLogEntries, droppedResultItems, summaryOnly } = resultDocument(flow, options.maxBytes);
  const cid = await computeCidV0(bytes);
  // pinJson serialises with the same encoder, so the service receives exactly `bytes`.
  const returned = await pinning.pinJson(document, {
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  if (returned !== cid) throw new CidMismatchError(`the ${pinning.kind} pinning service`, cid, returned);
  return { cid, flowStatus: document.status, size: bytes.length, droppedLogEntries, droppedResultItems, summaryOnly };
}
