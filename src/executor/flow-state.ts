// The result document a Nosana node pins to IPFS when a job ends (NODE.md §3.1–3.2), and the small
// rules that decide what goes into it (§2.5–2.6). Posters, explorers and `nosana job get` read this
// document, so its field names, status words and timestamp units are those of the reference node,
// even where Kubernetes would name things differently. Everything here is data in, data out: the
// runner owns the clock and the cluster, these functions only say what the document becomes.
import type { V1ContainerStatus } from '@kubernetes/client-node';
import type { DefinitionProblem, Execution, LogType } from '../api/job-definition/index.ts';

// ---------------------------------------------------------------------------------------------
// The document

/** Flow statuses (§3.2). `waiting-for-result` is transient: the uploaded copy keeps the status before it. */
export type FlowStatus =
  | 'init'
  | 'running'
  | 'success'
  | 'failed'
  | 'stopped'
  | 'waiting-for-job-definition'
  | 'logistics-error'
  | 'validation-error'
  | 'init error'
  | 'waiting-for-result';

export type OpStatus = 'init' | 'running' | 'success' | 'failed' | 'stopped';

/** One chunk of an op's output; `nodeerr` entries are written by the node itself (e.g. a literal that did not resolve). */
export interface LogEntry {
  type: LogType;
  log: string;
  /** RFC 3339 from the container runtime; the reference node falls back to `Date.now().toString()`. */
  timestamp?: string;
}

/** What went wrong outside the container (§2.5); `code` is an HTTP status found in the message, if any. */
export type OpErrorEvent = 'image-pull-error' | 'resource-error' | 'container-runtime-error' | 'operation-error';

export interface OpError {
  event: OpErrorEvent;
  message: string;
  code?: number;
}

/**
 * A results value (§2.8): the match and capture groups of every matching log entry, in order
 * (an optional group that did not take part is `undefined`, `null` once serialised), or the error
 * text when the regex does not compile.
 */
export type ResultValue = (string | undefined)[] | string;

/** Why an op ended when it did not end by itself. */
export interface DiagnosticsReason {
  hostShutDown: boolean;
  jobStopped: boolean;
  jobExpired: boolean;
  reason?: string;
}

/**
 * The container's last state, under the names of Docker's `State` (the reference node saves
 * `inspect().State` plus `RestartCount`). Filled from a Pod's container status here, see
 * `containerStateDiagnostics`.
 */
export interface ContainerStateDiagnostics {
  /** Docker's vocabulary: `created`, `running`, `restarting` or `exited`. */
  Status: 'created' | 'running' | 'restarting' | 'exited';
  Running: boolean;
  ExitCode: number;
  OOMKilled: boolean;
  /** Why the runtime could not start the container (or, before a first start, why it waits); "" otherwise, as in Docker. */
  Error: string;
  /** RFC 3339; Docker's zero time when the container never got that far. */
  StartedAt: string;
  FinishedAt: string;
  RestartCount: number;
}

export interface Diagnostics {
  reason: DiagnosticsReason;
  state?: ContainerStateDiagnostics;
}

export interface OpState {
  operationId: string;
  /** `execution.group`, or the op id: an ungrouped op is a group of its own. */
  group: string;
  /** The reference node's container id; here, whatever identifies the op's Pod to the runner. */
  providerId: string | null;
  status: OpStatus;
  /** ms since the epoch. */
  startTime: number | null;
  endTime: number | null;
  exitCode: number | null;
  logs: LogEntry[];
  /** Only when the op declares `results`. */
  results?: Record<string, ResultValue>;
  errors: OpError[];
  diagnostics: Diagnostics;
}

/** Flow-level errors: messages, or structured validation problems. */
export type FlowError = string | DefinitionProblem | Record<string, unknown>;

export interface FlowState {
  status: FlowStatus;
  /** ms since the epoch. */
  startTime: number;
  /** ms since the epoch; null until the flow ends. */
  endTime: number | null;
  errors?: FlowError[];
  /** Exposed-URL bookkeeping while the flow runs; emptied at the end, never published with URLs in it. */
  secrets?: Record<string, unknown>;
  /** One per op, in `ops` order. */
  opStates: OpState[];
}

/** The smaller document IPFS gets when results are delivered off-chain (§3.4). */
export interface PublicFlowState {
  status: FlowStatus;
  startTime: number;
  endTime: number | null;
  opStates: [];
  errors: FlowError[];
}

// ---------------------------------------------------------------------------------------------
// Building it

/** The reference node keeps at most this many log entries per op, dropping the oldest. */
export const MAX_LOG_ENTRIES = 24_999;

/** What the flow needs to know about an op before it runs. */
export interface OpIdentity {
  id?: string | undefined;
  execution?: Pick<Execution, 'group'> | undefined;
}

function initialOpState(op: OpIdentity): OpState {
  // An op without an id (allowed, with a warning, for one op) has no name to show; the reference
  // node leaves the field out, an empty string keeps the type simple.
  const operationId = op.id ?? '';
  return {
    operationId,
    group: op.execution?.group ?? operationId,
    providerId: null,
    status: 'init',
    startTime: null,
    endTime: null,
    exitCode: null,
    logs: [],
    errors: [],
    diagnostics: { reason: { hostShutDown: false, jobStopped: false, jobExpired: false } },
  };
}

/** The flow as the node creates it when it takes a job: every op waiting, nothing ended. */
export function initialFlowState(ops: readonly OpIdentity[], now: number): FlowState {
  return { status: 'init', startTime: now, endTime: null, secrets: {}, opStates: ops.map(initialOpState) };
}

/**
 * The op's logs with `added` appended, keeping the newest MAX_LOG_ENTRIES. Takes a batch so that
 * a runner streaming many lines copies the list once per batch, not once per line.
 */
export function appendLogs(logs: readonly LogEntry[], added: readonly LogEntry[]): LogEntry[] {
  const all = [...logs, ...added];
  return all.length > MAX_LOG_ENTRIES ? all.slice(all.length - MAX_LOG_ENTRIES) : all;
}

/** Why the node cut an op short (the reference node's stop reasons). */
export type StopReason = 'completed' | 'expired' | 'stopped' | 'restart' | 'quit' | 'unknown';

/**
 * An aborted op's status: a job that completed or ran out of time was paid for work that was
 * fine; a stop or a restart is the owner's decision; a node shutdown or an unknown cause is a failure.
 */
export function abortedOpStatus(reason: StopReason): OpStatus {
  switch (reason) {
    case 'completed':
    case 'expired':
      return 'success';
    case 'stopped':
    case 'restart':
      return 'stopped';
    case 'quit':
    case 'unknown':
      return 'failed';
  }
}

/**
 * The diagnostics flags the newest node sets when the whole flow is aborted: only expiry, a stop
 * and a node shutdown are recorded; other reasons leave the diagnostics as they were.
 */
export function abortDiagnosticsReason(reason: StopReason): Partial<DiagnosticsReason> {
  const text = { reason: `Operation stopped due to flow ${reason}` };
  switch (reason) {
    case 'expired':
      return { jobExpired: true, ...text };
    case 'stopped':
      return { jobStopped: true, ...text };
    case 'quit':
      return { hostShutDown: true, ...text };
    default:
      return {};
  }
}

/** The diagnostics reason of an op aborted by its own `execution.timeout` (§2.7); its status is `success`. */
export function opTimeoutReason(timeoutSeconds: number): Partial<DiagnosticsReason> {
  return { reason: `Operation killed after exceeding its timeout of ${timeoutSeconds}s` };
}

/**
 * The flow's final status, by the newest node's rule: `failed` if any op failed, else `success`,
 * also when the job was stopped or expired (how it ended shows in the op statuses). The older
 * in-CLI node did not let a failed op fail the flow; the newest one does, and that is followed here.
 */
export function finalFlowStatus(opStates: readonly Pick<OpState, 'status'>[]): 'success' | 'failed' {
  return opStates.some((opState) => opState.status === 'failed') ? 'failed' : 'success';
}

/**
 * The result of a definition that does not validate: nothing ran, the problems are the errors.
 * The reference node means to publish exactly this (and crashes on the way for non-logistics
 * jobs); here it is an ordinary failed result. The reference pushes the problem list as one
 * nested entry; here each problem is its own entry.
 */
export function validationFailureState(errors: readonly FlowError[], now: number): FlowState {
  return { status: 'validation-error', startTime: now, endTime: now, errors: [...errors], secrets: {}, opStates: [] };
}

/**
 * What IPFS gets when the definition's `logistics.receive` delivers the full result elsewhere:
 * status, times and errors only. `flowState.status` must be the status before
 * `waiting-for-result`. `deliveryErrors` are added when handing the full result over failed.
 */
export function publicCopy(flowState: FlowState, deliveryErrors: readonly FlowError[] = []): PublicFlowState {
  return {
    status: flowState.status,
    startTime: flowState.startTime,
    endTime: flowState.endTime,
    opStates: [],
    errors: [...(flowState.errors ?? []), ...deliveryErrors],
  };
}

// ---------------------------------------------------------------------------------------------
// diagnostics.state from a Pod

/** Docker's "never happened" time. */
export const DOCKER_ZERO_TIME = '0001-01-01T00:00:00Z';

/** Termination reasons that mean the runtime could not start the container; their message says why. */
const START_FAILURE_REASONS = new Set(['StartError', 'ContainerCannotRun']);

/** Informers may hand over timestamps as the JSON strings they arrived as, not as Dates. */
function rfc3339(value: Date | string | undefined): string {
  if (value === undefined) return DOCKER_ZERO_TIME;
  if (typeof value === 'string') return value;
  return Number.isNaN(value.getTime()) ? DOCKER_ZERO_TIME : value.toISOString();
}

/**
 * diagnostics.state from the op container's status in its Pod: the state it ended in (or, when it
 * is waiting to be restarted, the run that just ended), with the restart count.
 */
export function containerStateDiagnostics(status: V1ContainerStatus): ContainerStateDiagnostics {
  const state = status.state ?? {};
  const RestartCount = status.restartCount;
  if (state.running !== undefined) {
    return {
      Status: 'running',
      Running: true,
      ExitCode: 0,
      OOMKilled: false,
      Error: '',
      StartedAt: rfc3339(state.running.startedAt),
      FinishedAt: DOCKER_ZERO_TIME,
      RestartCount,
    };
  }
  const waiting = state.waiting;
  const ended = state.terminated ?? (waiting === undefined ? undefined : status.lastState?.terminated);
  if (ended === undefined) {
    return {
      Status: 'created',
      Running: false,
      ExitCode: 0,
      OOMKilled: false,
      Error: waiting?.message ?? '',
      StartedAt: DOCKER_ZERO_TIME,
      FinishedAt: DOCKER_ZERO_TIME,
      RestartCount,
    };
  }
  const startFailure = ended.reason !== undefined && START_FAILURE_REASONS.has(ended.reason) ? (ended.message ?? '') : '';
  return {
    Status: state.terminated === undefined ? 'restarting' : 'exited',
    Running: false,
    ExitCode: ended.exitCode,
    OOMKilled: ended.reason === 'OOMKilled',
    Error: startFailure,
    StartedAt: rfc3339(ended.startedAt),
    FinishedAt: rfc3339(ended.finishedAt),
    RestartCount,
  };
}
