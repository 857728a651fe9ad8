// What happens next to a NosanaJob: one pure function of the status so far, what was read of the
// chain, IPFS and the cluster (a world per stage), the spec and the clock. It returns the status to
// show, at most one action, when to look again and the Events to record; a thin layer per stage
// performs the action (post.ts, settle.ts, follow.ts, finalize.ts). Reading and deciding never
// spend money. Phases and reasons are the phase table's (api/health.ts).
//
// Which stage an object is in follows from the object alone (stageOf):
//
//   object                                                          stage     reads
//   deleting, finalizer gone                                        —         nothing (it is gone)
//   nosana.io annotations lost while the status still names them    restore   nothing (they are put back)
//   deleting, deletionPolicy Cancel, a post in flight               settle    the post's outcome
//   deleting                                                        delete    the job, fresh; finality
//   a post in flight (pending-post annotation)                      settle    the post's outcome
//   a job that ended for good (terminal phase-table row)            ended     nothing
//   spec.jobAddress, or the job-address annotation                  follow    the job, its queue, result
//   otherwise                                                       post      definition, market, wallet, funds, ledger
//
// Then, per stage (→ phase / reason, action):
//
//   post    definition, market or wallet unusable                 → Pending / its reason         —  (retry per refusal)
//   post    a job this object posted before a restore is on chain → (attempt recorded)           recordFound
//   post    may-pay.ts refuses (market, maxCost, funds, limit)    → Pending / its reason         —
//   post    otherwise                                             → (Posting once sent)          post
//   settle  annotation garbled, verified copy in status           → unchanged                    restoreRecord
//   settle  whose record it is cannot be told now                 → Posting / Posting            —  (backoff)
//   settle  the record is not this object's                       → unchanged                    clearRecord
//   settle  outcome unreadable now                                → Posting / Posting            —  (backoff)
//   settle  still pending                                         → Posting / Posting            rebroadcast
//   settle  landed (or confirmed landed, or not-landed refused
//           because the job exists), price within spec.maxCost    → (job address recorded)       land
//   settle  landed above spec.maxCost, queued or running          → Stopped / PriceAboveMaxCost  delist | end
//   settle  taken back before, still queued or running            → Stopped / PriceAboveMaxCost  delist | end (again)
//   settle  taken back before, closed or ended at finality        → (job address recorded)       land
//   settle  taken back before, missing but not yet at finality    → unchanged                    —  (look again)
//   settle  failed / never landed / confirmed not landed          → Pending / Pending            clearRecord
//   settle  unknown, no confirmation                              → Posting / PostOutcomeUnknown —  (a person decides)
//   ended   —                                                     → unchanged (observedGeneration)
//   follow  QUEUED, posted, past spec.queueTimeout                → Queued (intent)              delist
//   follow  QUEUED or RUNNING, posted, spec.timeout raised        → Queued | Running             extend
//   follow  QUEUED otherwise                                      → Queued / Queued              —
//   follow  RUNNING, posted, past run start + timeout + grace     → Running (intent)             end
//   follow  RUNNING otherwise                                     → Running / Running | ServiceRunning
//   follow  COMPLETED, no result yet, within the result wait      → Running / Running            —
//   follow  COMPLETED, no result past the wait                    → Failed / NoResult (Stopped / Cancelled if ended elsewhere)
//   follow  COMPLETED, result unreadable, transient, in the wait  → Running / Running            —
//   follow  COMPLETED, result document                            → Succeeded | Failed / OpFailed | Stopped   storeLogs
//   follow  STOPPED, adopted                                      → Stopped / NodeQuit           —
//   follow  STOPPED, posted                                       → (intent NodeQuit)            recover
//   follow  gone, intent QueueTimeout | NodeSilent                → Stopped / QueueTimeout | Failed / NoResult
//   follow  gone, intent NodeQuit, retries left                   → Pending (next attempt)       repost
//   follow  gone, intent NodeQuit, no retries left                → Stopped / NodeQuit           —
//   follow  gone, adopted, never seen                             → Pending / Pending            —
//   follow  gone, seen, missing < 1 min or still at finality      → unchanged                    —
//   follow  gone, missing for a minute, gone at finality          → Stopped / Cancelled          —
//   delete  no job, deletionPolicy Orphan, or an adopted job      → —                            removeFinalizer
//   delete  whose job it is cannot be told now                    → —  (CancelBlocked Event)     —
//   delete  ended or gone, and a finalized read agrees            → —                            removeFinalizer
//   delete  gone, never seen ended here, missing < 1 min          → (missingSince recorded)      —
//   delete  queued in a disabled market                           → —  (LeftOnChain Event)       removeFinalizer
//   delete  queued but not in the queue (a node is claiming it)   → —                            —  (look again)
//   delete  queued / running / node quit                          → (intent Cancelled)           delist | end | recover
//
// An "intent" is the ending the operator is about to cause, recorded in the attempt and written
// before the transaction: the job account disappears with delist and recover, and a crash right
// after must not be mistaken for someone else closing it.
import { NOSANA_JOB_FINALIZER, PENDING_POST_ANNOTATION } from '../../api/annotations.ts';
import type { NosanaJobObject, NosanaJobStatus } from '../../api/crds/nosana-job.ts';
import { healthRow } from '../../api/health.ts';
import { findCondition } from '../../runtime/conditions.ts';
import { decideDelete } from './decide-delete.ts';
import { decideFollow } from './decide-follow.ts';
import { decidePost } from './decide-post.ts';
import { decideSettle } from './decide-settle.ts';
import { Draft } from './decision.ts';
import type { Decision, DecisionSettings, World } from './decision.ts';
import { lostAnnotations } from './lost-record.ts';

export type Stage =
  | { kind: 'gone' }
  | { kind: 'restore'; annotations: Record<string, string> }
  | { kind: 'settle'; record: string }
  | { kind: 'delete' }
  | { kind: 'ended' }
  | { kind: 'follow' }
  | { kind: 'post' };

/** Nothing more will happen to the job (its phase-table row is terminal). */
function isTerminal(status: NosanaJobStatus | undefined): boolean {
  const reason = findCondition(status?.conditions, 'Ready')?.reason;
  return reason !== undefined && healthRow('NosanaJob', status?.phase, reason)?.terminal === true;
}

/** The stage of `object`, from the object alone (the header's first table). */
export function stageOf(object: NosanaJobObject, jobAddress: string | undefined): Stage {
  const { metadata, spec } = object;
  const deleting = metadata?.deletionTimestamp !== undefined;
  if (deleting && !(metadata?.finalizers ?? []).includes(NOSANA_JOB_FINALIZER)) return { kind: 'gone' };
  // Deletion included: a job whose record lost its annotations would be posted again, or leaked.
  const lost = lostAnnotations(object);
  if (lost !== undefined) return { kind: 'restore', annotations: lost };
  const record = metadata?.annotations?.[PENDING_POST_ANNOTATION];
  // Orphan leaves the chain alone, a post in flight included; Cancel must know whether it landed.
  if (record !== undefined && !(deleting && spec.deletionPolicy === 'Orphan')) return { kind: 'settle', record };
  if (deleting) return { kind: 'delete' };
  if (jobAddress === undefined) return { kind: 'post' };
  return isTerminal(object.status) ? { kind: 'ended' } : { kind: 'follow' };
}

/** Decides what happens next, from the status so far and what was read for the object's stage. */
export function decide(status: NosanaJobStatus, world: World, settings: DecisionSettings): Decision {
  switch (world.stage) {
    case 'post':
      return decidePost(status, world, settings);
    case 'settle':
      return decideSettle(status, world, settings);
    case 'follow':
      return decideFollow(status, world, settings);
    case 'delete':
      return decideDelete(status, world, settings);
    case 'ended': {
      // Say the current spec was seen (kstatus reads an old observedGeneration as in progress).
      const draft = new Draft(status, settings);
      if (settings.generation !== undefined) draft.status.observedGeneration = settings.generation;
      return draft.decided({ kind: 'none' });
    }
  }
}
