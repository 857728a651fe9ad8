// What the node agent does next for a NosanaNode: one pure function of what one reconcile read
// (the object, its key, the chain, the cluster's capacity, the run's record, the executor's state)
// and the agent's options. It returns the status to show, at most one action, when to look again
// and the Events to record; a thin layer performs the action. Reading and deciding never spend
// money. Phases and Ready reasons are the phase table's (api/health.ts); what keeps the node from
// serving is a condition of its own (decision.ts's NODE_PROBLEMS), named by its type.
//
// One node identity takes one job at a time. Money is sacred: a run gets exactly one ending
// (finish, complete or quit), signed and written to the run's record before it is broadcast, so a
// process killed at any instant finds it and sends the same bytes again, never a second ending.
// The node is paid only for work done: a job that expired before it started, a cluster that lost
// the job's Pods or cannot schedule them, a plan larger than the cluster: `quit`. Image pulls,
// OOM kills and failing commands are the job's own failures: `finish`, with the reason in the result.
//
// Which part of the table applies follows from the world alone, in this order:
//
//   world                                                                  part
//   the key Secret missing or malformed                                    key
//   the chain could not be read                                            unreadable
//   a run record: a pinned result, or a signed ending                      ending   (decide-ending.ts)
//   a run held on chain, the executor busy, or the status naming a run     run      (decide-running.ts)
//   otherwise                                                              idle     (decide-idle.ts)
//
// Then (→ phase / Ready reason, the condition that changes, [Events], action). "Busy" is Running /
// Running, or Draining / Draining when the node is paused or being deleted; "at rest" is Idle /
// Joining, or Idle / Paused when it is. A Ready reason that names a problem (KeyUnavailable,
// MarketUnavailable, StakeBelowMinimum, AccessKeyRequired, PlacementRefused, LowBalance, NoCapacity) has a condition
// of that type beside it, True while it holds and announced once. LowBalance follows the SOL
// balance wherever it is read; it keeps the node from joining, never from ending a run. NoCapacity's
// condition carries the capacity verdict's cause as its reason (GpusInUse, NoSuitableNode,
// CapacityUnknown) and the verdict's reason in its message; an unknown count is never called a full
// cluster.
//
//   key         an ending signed and still pending              → unchanged, KeyUnavailable                 broadcast
//   key         deleting, no run named                          → unchanged [KeyUnavailable]                removeFinalizer
//   key         otherwise                                       → Error / KeyUnavailable                    —  (backoff)
//   unreadable  an ending signed and still pending              → unchanged, ChainUnreadable                broadcast
//   unreadable  otherwise                                       → unchanged, ChainUnreadable                —  (backoff)
//   ending      neither a result nor an ending                  → unchanged                                 releaseRun
//   ending      signed by another key than the node's           → Error / EndingFailed [EndingFailed, once] —
//   ending      settled, and the status still names the run     → at rest, counted once [Finished | Quit | EndingLost]  —
//   ending      settled, the status no longer names the run     → unchanged (it was counted)                releaseRun
//   ending      unsettled, the status does not name the run     → busy (the run adopted back)               —
//   ending      result pinned, the poster ended the job         → busy                                      prepare complete
//   ending      result pinned, the run held                     → busy                                      prepare finish
//   ending      signed, pending, its work still to do           → busy                                      broadcast (the same bytes)
//   ending      signed, outcome unknown or unreadable           → busy                                      —  (backoff)
//   ending      a finish whose run the poster's `end` closed    → busy                                      prepare complete (same result)
//   ending      signed, failed maxEndingFailures times          → Error / EndingFailed [EndingFailed, once] —
//   ending      failed or expired, its work still to do (the run open for finish and quit, the job
//               ended on this node without a result for complete)
//                                                               → busy [EndingFailed | EndingExpired]       resign
//     The signed rows follow chain/node-transaction-step.ts, the one rule for recorded node
//     transactions. Settled: the ending landed (its signature, or its effect: this node's result on
//     the job; for a quit, the run closed), or nothing can be sent any more (the job gone, the run
//     closed by someone else, a quit overtaken by the poster's end, a complete for a job not ended
//     on this node) [EndingLost]. A pending
//     finish gives way to complete only because the closed run means it can never take.
//   run         the executor busy with a run other than the held one  → busy                            stopRun (run-lost) | releaseRun
//   run         a held run the status does not name, ready to start
//                                                               → busy [Claimed]                            startRun, after the status write
//   run         a held run the status does not name, otherwise  → busy [Claimed]                            —  (adopted first)
//   run         held, its job unread                            → busy                                      —  (backoff)
//   run         held, not started, past run start + timeout     → busy                                      prepare quit
//   run         held, not started, the containment refuses its placement, or the placement changed
//               since the node joined (status.joinedPlacement)  → busy                                      prepare quit
//   run         held, not started                               → busy                                      startRun (deadline = run start + timeout)
//   run         held, fetch failed, past the deadline           → busy                                      prepare quit
//   run         held, fetch failed, retry not due yet           → busy                                      —
//   run         held, fetch failed, retry due                   → busy [DefinitionUnavailable]              startRun
//   run         held, the plan needs more GPUs than there are   → busy                                      prepare quit
//   run         held, a cluster failure (evicted, preempted, node lost, unschedulable past the bound)
//                                                               → busy                                      prepare quit
//   run         held, running, the job's timeout changed        → busy                                      moveDeadline
//   run         held, running                                   → busy                                      —  (poll)
//   run         held, ended (failed ops included)               → busy                                      pinResult
//   run         not held, running, the poster ended the job     → busy [JobEnded]                           stopRun (job-ended)
//   run         not held, running, the run closed elsewhere     → busy [RunLost]                            stopRun (run-lost)
//   run         not held, a stop asked, still running           → busy                                      —  (poll)
//   run         not held, ended, the poster ended the job       → busy                                      pinResult (then complete)
//   run         not held, otherwise                             → at rest [JobEnded | RunLost]              releaseRun
//   idle        deleting or paused, in the queue                → Draining / Draining                       leaveQueue
//   idle        deleting, out of the queue                      → Idle / Paused                             removeFinalizer
//   idle        paused, out of the queue                        → Idle / Paused                             —
//   idle        the market missing or disabled                  → Error / MarketUnavailable                 —  (recheck)
//   idle        the containment refuses the placement, in the queue
//                                                               → Error / PlacementRefused                  leaveQueue
//   idle        the containment refuses the placement           → Error / PlacementRefused                  —  (recheck)
//   idle        in the queue, the cluster has no room now (or it cannot be judged)
//                                                               → Idle / NoCapacity                         leaveQueue
//   idle        in the queue                                    → Queued / Queued, its position             —  (poll)
//   idle        stake below the market's nodeXnosMinimum        → Error / StakeBelowMinimum                 —  (recheck)
//   idle        the market needs an access key (holding one is not checked yet)
//                                                               → Error / AccessKeyRequired                 —  (recheck)
//   idle        SOL below the threshold                         → Idle / LowBalance                         —  (backoff)
//   idle        the NOS account or the stake account missing    → Idle / Joining                            ensureAccounts
//   idle        the cluster has no room for one more job now (or it cannot be judged)
//                                                               → Idle / NoCapacity                         —  (poll)
//   idle        `work` sent less than joinSettleMs ago          → Idle / Joining                            —  (look again)
//   idle        otherwise                                       → Idle / Joining [Joined]                   joinQueue (joinedPlacement noted)
//
// The stake and access-key rows come before SOL: a node short of both reads as stalled (it will
// not get in by being funded), with LowBalance still reported as a condition.
//
// The counters (jobsCompleted, jobsFailed, jobsQuit; earnings) change exactly once per run: a run
// is adopted into the status (currentRun, and startedAt: the run's start as the chain recorded it)
// before anything is signed for it, the status write that counts its ending also stops naming it,
// and a settled record whose run the status no longer names is only released. A finish counts as
// completed or failed by the flow's status; a quit that landed counts as quit; a lost ending counts
// as nothing. lastError keeps the last error met (the key, a chain read, an ending that failed on
// chain, a definition fetch, a cluster failure): one short line, never key material.
import { decideEnding } from './decide-ending.ts';
import { decideIdle } from './decide-idle.ts';
import { decideRunning } from './decide-running.ts';
import { ENDING_POLL_MS, NodeDraft, lowBalanceNote } from './decision.ts';
import type { NodeContext, NodeDecision, NodeSettings, NodeWorld } from './decision.ts';

/** Decides what the node agent does next for one NosanaNode. */
export function decide(world: NodeWorld, settings: NodeSettings): NodeDecision {
  const { node } = world;
  const draft = new NodeDraft(node.status, node.generation, settings.now);
  const draining = node.deleting ? 'deleting' : node.spec.paused ? 'paused' : undefined;
  const { key, chain } = world;
  if ('problem' in key) {
    const message = `${key.problem}; the node cannot sign, so it neither joins nor ends a run`;
    draft.problem('KeyUnavailable', message);
    draft.error(key.problem);
    const pending = pendingEnding(world);
    if (pending !== undefined) return pending(draft);
    if (node.deleting && node.status.currentRun === undefined) {
      // Nothing to finish, and without the key nothing can be signed, `stop` included: waiting
      // would keep the object forever. If the node was queued, the market may still hand it a job,
      // which its poster's timeout recovers.
      draft.event('Warning', 'KeyUnavailable', `${message}; deleted without leaving the market's queue, should it be in it`);
      return draft.decided({ kind: 'removeFinalizer' });
    }
    draft.stall('KeyUnavailable', message);
    return draft.decided({ kind: 'none' }, { backoff: true });
  }
  draft.problem('KeyUnavailable', undefined);
  draft.status.nodeAddress = key.address;
  if (chain === undefined || 'readError' in chain) {
    const why = chain === undefined ? 'not read' : chain.readError;
    draft.problem('ChainUnreadable', `the chain could not be read: ${why}`);
    if (chain !== undefined) draft.error(`the chain could not be read: ${why}`);
    const pending = pendingEnding(world);
    if (pending !== undefined) return pending(draft);
    // Nothing is known: the status stays as it was, and a node never shown gets its first phase.
    if (draft.status.phase === undefined) draft.setPhase('Idle', 'Joining', `the chain could not be read yet: ${why}`);
    return draft.decided({ kind: 'none' }, { backoff: true });
  }
  draft.problem('ChainUnreadable', undefined);
  draft.problem('LowBalance', lowBalanceNote(key.address, chain.balances.lamports, settings.lowBalanceLamports));
  const ctx: NodeContext = { draft, world, chain, address: key.address, settings, ...(draining === undefined ? {} : { draining }) };
  if (world.record !== undefined) return decideEnding(ctx, world.record);
  if (chain.run !== undefined || world.executor.state !== 'idle' || node.status.currentRun !== undefined) return decideRunning(ctx);
  return decideIdle(ctx);
}

/**
 * A signed ending that may still land is sent again even when nothing else can be done: the
 * bytes need no key and no fresh read, and a dropped transaction must not wait for either. Never
 * one another key signed (the record store refuses such a record; this is the second lock).
 */
function pendingEnding(world: NodeWorld): ((draft: NodeDraft) => NodeDecision) | undefined {
  const ending = world.record?.ending;
  if (ending?.outcome.outcome !== 'pending') return undefined;
  if ('address' in world.key && ending.signed.node !== world.key.address) return undefined;
  return (draft) => draft.decided({ kind: 'broadcast', signed: ending.signed }, { afterMs: ENDING_POLL_MS });
}
