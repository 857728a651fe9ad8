// What to do next with a recorded node transaction, from how it resolved and the job as just
// read. Pure, so the node controller decides in one place and the table test is the specification.
//
// The rule that matters: a new transaction may replace a recorded one only when the recorded one
// can no longer land ("expired") or landed and failed beyond rollback ("failed"), AND the work is
// still to be done — for finish and quit the node's run is still open. A finish whose run is
// closed is never signed again: either its result is on chain (done), or the poster ended the job
// (complete instead), or the run went some other way (give up).
import { bytes32ToCid, isNoResult } from '../ipfs/cid.ts';
import type { JobStatus, JobView, NodeTransactionResolution } from './jobs-client.ts';
import type { NodeTransactionRecord } from './node-transaction-record.ts';

/** The part of a job account the decision reads, addresses as base58. */
export interface ObservedJob {
  status: JobStatus;
  /** The node the job was completed by (set by finish and end); meaningless before that. */
  node: string;
  /** The result CIDv0 on chain; undefined while the job has none. */
  resultCid: string | undefined;
  /** The job's open run, when it has one. */
  run: { address: string; node: string } | undefined;
}

export function observeJob(view: JobView | undefined): ObservedJob | undefined {
  if (view === undefined) return undefined;
  const { account, run } = view;
  return {
    status: view.status,
    node: account.node.toBase58(),
    resultCid: isNoResult(account.ipfsResult) ? undefined : bytes32ToCid(account.ipfsResult),
    run: run === undefined ? undefined : { address: run.address.toBase58(), node: run.account.node.toBase58() },
  };
}

export type NodeTransactionStep =
  /** Nothing is left to do for this record: drop it. */
  | {
      step: 'done';
      reason: 'landed' | 'effect-on-chain' | 'completed-otherwise' | 'run-closed' | 'already-queued' | 'not-queued';
      message: string;
    }
  /** It may still land: send the same bytes again (harmless) and look again later. */
  | { step: 'resend'; message: string }
  /** Its fate cannot be told yet: send nothing new and look again later. */
  | { step: 'wait'; message: string }
  /** It did not take effect and never will, and the work is still to be done: a new transaction may be signed. */
  | { step: 'resign'; reason: 'expired' | 'failed'; message: string }
  /** Its work can no longer be done this way: drop the record; the reason says what happened instead. */
  | { step: 'give-up'; reason: 'ended-by-poster' | 'run-gone' | 'job-gone' | 'not-ended-on-node'; message: string };

function failureText(resolution: Extract<NodeTransactionResolution, { outcome: 'failed' }>): string {
  return resolution.error === undefined ? resolution.detail : resolution.error.name;
}

/** The common tail once the world says the work is still to be done. */
function stillToDo(record: NodeTransactionRecord, resolution: NodeTransactionResolution): NodeTransactionStep {
  switch (resolution.outcome) {
    case 'landed':
      return { step: 'done', reason: 'landed', message: `the ${record.kind} landed` };
    case 'pending':
      return { step: 'resend', message: `the ${record.kind} may still land` };
    case 'expired':
      return { step: 'resign', reason: 'expired', message: `the ${record.kind} did not land and never can; a new one may be signed` };
    case 'failed':
      return {
        step: 'resign',
        reason: 'failed',
        message: `the ${record.kind} failed (${failureText(resolution)}); nothing changed, a new one may be signed`,
      };
    case 'unknown':
      return { step: 'wait', message: `whether the ${record.kind} landed cannot be told yet: ${resolution.reason}` };
  }
}

function ranOnNode(record: NodeTransactionRecord, job: ObservedJob | undefined): boolean {
  return job?.status === 'COMPLETED' && job.node === record.node;
}

function decideFinishOrComplete(
  record: Extract<NodeTransactionRecord, { kind: 'finish' | 'complete' }>,
  resolution: NodeTransactionResolution,
  job: ObservedJob | undefined,
): NodeTransactionStep {
  if (resolution.outcome === 'landed') return stillToDo(record, resolution);
  if (ranOnNode(record, job) && job?.resultCid === record.resultCid) {
    return { step: 'done', reason: 'effect-on-chain', message: `the job is completed by this node with this result` };
  }
  if (job === undefined)
    return { step: 'give-up', reason: 'job-gone', message: `the job account is gone; nothing is left to ${record.kind}` };
  if (ranOnNode(record, job) && job.resultCid !== undefined) {
    return {
      step: 'done',
      reason: 'completed-otherwise',
      message: `the job is completed by this node with another result (${job.resultCid})`,
    };
  }
  if (record.kind === 'complete') {
    if (!ranOnNode(record, job)) {
      return {
        step: 'give-up',
        reason: 'not-ended-on-node',
        message: `the job is ${job.status} and was not ended on this node; nothing to complete`,
      };
    }
    return stillToDo(record, resolution);
  }
  const runOpen = job.run?.address === record.run && job.run.node === record.node;
  if (runOpen) return stillToDo(record, resolution);
  if (ranOnNode(record, job)) {
    return {
      step: 'give-up',
      reason: 'ended-by-poster',
      message: 'the poster ended the job, which paid this node; post the result with complete',
    };
  }
  return { step: 'give-up', reason: 'run-gone', message: `the run is closed and the job is ${job.status}; it is never finished again` };
}

/**
 * The next step for `record`, given its resolution and its job as read now (undefined when the
 * job account does not exist; ignored for work and leave-queue).
 */
export function decideNodeTransactionStep(
  record: NodeTransactionRecord,
  resolution: NodeTransactionResolution,
  job: ObservedJob | undefined,
): NodeTransactionStep {
  switch (record.kind) {
    case 'finish':
    case 'complete':
      return decideFinishOrComplete(record, resolution, job);
    case 'quit': {
      if (resolution.outcome === 'landed') return stillToDo(record, resolution);
      const runOpen = job?.run?.address === record.run && job.run.node === record.node;
      if (!runOpen) return { step: 'done', reason: 'run-closed', message: 'the run is closed; nothing is left to quit' };
      return stillToDo(record, resolution);
    }
    case 'work':
      // A second work while queued fails with NodeAlreadyQueued: the queue already holds the node.
      if (resolution.outcome === 'failed' && resolution.error?.name === 'NodeAlreadyQueued') {
        return { step: 'done', reason: 'already-queued', message: 'the node is already in the market queue' };
      }
      return stillToDo(record, resolution);
    case 'leave-queue':
      if (resolution.outcome === 'failed' && ['NotInMarketQueue', 'MarketInWrongState'].includes(resolution.error?.name ?? '')) {
        return { step: 'done', reason: 'not-queued', message: 'the node is not in the market queue' };
      }
      return stillToDo(record, resolution);
  }
}
