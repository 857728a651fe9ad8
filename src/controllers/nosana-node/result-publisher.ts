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
// to the NosanaJob that posted it. Logs are what make a result large (up to 24,999 entries per op,
// each as long as a container cares to write), so when the document does not fit, the oldest log
// entries are dropped, sharing the room fairly between ops (one noisy op cannot crowd out the
// others), and each op that lost entries starts with a `nodeerr` entry saying how many. Nosana's
// node already keeps only an op's newest entries; this extends the same rule to bytes. Failing
// instead would leave a finished job unpaid. Only a document too large even without any log is
// refused.
import type { FlowState, LogEntry, OpState } from '../../executor/flow-state.ts';
import { CidMismatchError } from '../../ipfs/errors.ts';
import { DEFAULT_GATEWAY_MAX_BYTES } from '../../ipfs/gateway.ts';
import { encodeJsonForPinning } from '../../ipfs/json.ts';
import type { PinningClient } from '../../ipfs/pinning-client.ts';
import { computeCidV0 } from '../../ipfs/unixfs.ts';
import type { PinnedResult } from './decision.ts';

/** The largest result document published: what the poster side's gateway reader accepts (16 MiB). */
export const RESULT_MAX_BYTES = DEFAULT_GATEWAY_MAX_BYTES;

// Room kept per op for the entry that says how many were dropped (its text is under 150 bytes).
const DROP_NOTE_BYTES = 256;

/** Statuses of a flow that has not ended: a result saying so would read as "running" forever. */
const UNENDED = new Set(['init', 'running', 'waiting-for-result']);

/** The document to pin and its exact bytes. */
export interface ResultDocument {
  document: FlowState;
  bytes: Uint8Array;
  /** Log entries dropped to fit the bound, over all ops (0 when the document fit as it was). */
  droppedLogEntries: number;
}

/** A result document that cannot be published (not ended, or too large without logs). */
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
}

export interface PublishOptions {
  /** A name for the pin (Pinata metadata, Kubo's file name). */
  name?: string;
  signal?: AbortSignal;
  /** Default RESULT_MAX_BYTES. */
  maxBytes?: number;
}

/**
 * The result document of an ended flow: `secrets` emptied, the oldest log entries dropped when
 * the document would exceed `maxBytes`. Pure; throws UnpublishableResultError when the flow has not
 * ended or does not fit even without logs.
 */
export function resultDocument(flow: FlowState, maxBytes = RESULT_MAX_BYTES): ResultDocument {
  if (UNENDED.has(flow.status) || flow.endTime === null)
    throw new UnpublishableResultError(`a flow that has not ended (status ${flow.status}) has no result to publish`);
  const document: FlowState = { ...flow, secrets: {} };
  const bytes = encodeJsonForPinning(document);
  if (bytes.length <= maxBytes) return { document, bytes, droppedLogEntries: 0 };

  const bare = encodeJsonForPinning({ ...document, opStates: document.opStates.map((op) => ({ ...op, logs: [] })) });
  const fixed = bare.length + DROP_NOTE_BYTES * document.opStates.length;
  if (fixed > maxBytes)
    throw new UnpublishableResultError(
      `the result document takes ${bare.length} bytes without any log, more than the ${maxBytes} bytes published`,
    );
  const entrySizes = document.opStates.map((op) => op.logs.map(entrySize));
  const caps = fairShares(
    entrySizes.map((sizes) => sizes.reduce((sum, size) => sum + size, 0)),
    maxBytes - fixed,
  );
  let droppedLogEntries = 0;
  const opStates = document.opStates.map((op, index): OpState => {
    const kept = newestWithin(op.logs, entrySizes[index] ?? [], caps[index] ?? 0);
    const dropped = op.logs.length - kept.length;
    droppedLogEntries += dropped;
    return dropped === 0 ? op : { ...op, logs: [dropNote(dropped, maxBytes), ...kept] };
  });
  const trimmed: FlowState = { ...document, opStates };
  const trimmedBytes = encodeJsonForPinning(trimmed);
  // The shares are computed from the same serialisation, so this holds; checked all the same.
  if (trimmedBytes.length > maxBytes)
    throw new UnpublishableResultError(
      `the result document still takes ${trimmedBytes.length} bytes after dropping logs, over ${maxBytes}`,
    );
  return { document: trimmed, bytes: trimmedBytes, droppedLogEntries };
}

/** An entry's bytes inside the document's `logs` array, its separating comma included. */
function entrySize(entry: LogEntry): number {
  return Buffer.byteLength(JSON.stringify(entry), 'utf8') + 1;
}

/**
 * Shares `budget` between totals: those under their share are kept whole and what they leave is
 * split among the larger ones (water-filling).
 */
function fairShares(totals: readonly number[], budget: number): number[] {
  const order = totals.map((_, index) => index).sort((a, b) => (totals[a] ?? 0) - (totals[b] ?? 0));
  const caps = totals.map(() => 0);
  let remaining = budget;
  order.forEach((index, position) => {
    const cap = Math.min(totals[index] ?? 0, Math.floor(remaining / (order.length - position)));
    caps[index] = cap;
    remaining -= cap;
  });
  return caps;
}

/** The newest entries whose sizes add up to at most `cap`, in their order. */
function newestWithin(logs: readonly LogEntry[], sizes: readonly number[], cap: number): LogEntry[] {
  let used = 0;
  let first = logs.length;
  while (first > 0 && used + (sizes[first - 1] ?? 0) <= cap) {
    used += sizes[first - 1] ?? 0;
    first -= 1;
  }
  return logs.slice(first);
}

function dropNote(dropped: number, maxBytes: number): LogEntry {
  return { type: 'nodeerr', log: `${dropped} earlier log entries were dropped to keep the result within ${maxBytes} bytes\n` };
}

/**
 * Pins the flow's result document through `pinning` and returns its CID, checked against the CID
 * computed here for the same bytes (CidMismatchError when the service stored anything else).
 */
export async function publishResult(pinning: PinningClient, flow: FlowState, options: PublishOptions = {}): Promise<PublishedResult> {
  const { document, bytes, droppedLogEntries } = resultDocument(flow, options.maxBytes);
  const cid = await computeCidV0(bytes);
  // pinJson serialises with the same encoder, so the service receives exactly `bytes`.
  const returned = await pinning.pinJson(document, {
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  if (returned !== cid) throw new CidMismatchError(`the ${pinning.kind} pinning service`, cid, returned);
  return { cid, flowStatus: document.status, size: bytes.length, droppedLogEntries };
}
