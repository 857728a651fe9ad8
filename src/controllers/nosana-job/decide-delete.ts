// What deleting a NosanaJob does next (the delete rows of decide.ts's table): a queued job is
// delisted (its deposit refunded), a running one ended (its node paid for the time used, the rest
// refunded), one whose node quit recovered; a finished or closed job needs nothing. deletionPolicy
// Orphan leaves the job alone, and so does an adopted job (spec.jobAddress may name anyone's job).
// No single read lets the finalizer go: it goes only once a finalized read shows the job delisted,
// ended or closed, so a job a node claimed a moment ago is ended, not leaked. Pure: finalize.ts
// reads and acts.
import type { NosanaJobStatus } from '../../api/crds/nosana-job.ts';
import { Draft, UNSEEN_GRACE_MS } from './decision.ts';
import type { Decision, DecisionSettings, DeleteWorld } from './decision.ts';
import { isoSeconds } from './job-status.ts';

// Finality comes within seconds (about 13 s on Solana); look again at that pace, not the poll interval.
export const FINALITY_POLL_MS = 2_000;

export function decideDelete(status: NosanaJobStatus, world: DeleteWorld, settings: DecisionSettings): Decision {
  const draft = new Draft(status, settings);
  const address = world.address;
  if (address === undefined) return draft.decided({ kind: 'removeFinalizer' });
  if (settings.deletionPolicy === 'Orphan') {
    draft.event('Normal', 'Orphaned', `job ${address} is left on chain (deletionPolicy Orphan)`);
    return draft.decided({ kind: 'removeFinalizer' }, { forget: true });
  }
  if (world.origin === 'adopted' || draft.findAttempt(address)?.origin === 'adopted') {
    // A job named by spec.jobAddress may be anyone's: deleting the resource never cancels it.
    draft.event(
      'Warning',
      'LeftOnChain',
      `job ${address} was left on chain: it was adopted (spec.jobAddress, or an address this resource cannot prove it posted), and an adopted job is only mirrored`,
    );
    return draft.decided({ kind: 'removeFinalizer' }, { forget: true });
  }
  const job = world.job;
  if (job === undefined || job.status === 'COMPLETED') {
    // Gone after this resource cancelled it or saw it end: settled once finality agrees. Gone
    // without that (a job landed moments ago, read from a node that has not seen it yet) counts
    // only once it has stayed missing for a while.
    if (job === undefined && !endedHere(draft, address) && !missingLongEnough(draft, address, settings.now))
      return draft.decided({ kind: 'none' }, { afterMs: FINALITY_POLL_MS });
    if (world.settledAtFinality !== true) return draft.decided({ kind: 'none' }, { afterMs: FINALITY_POLL_MS });
    return draft.decided({ kind: 'removeFinalizer' }, { forget: true });
  }
  if (world.origin === undefined) {
    draft.event(
      'Warning',
      'CancelBlocked',
      `job ${address} is not cancelled yet: whether this resource posted it cannot be told now (its wallet or the definition it pinned cannot be read); set spec.deletionPolicy to Orphan to leave it on chain`,
    );
    return draft.decided({ kind: 'none' }, { afterMs: settings.pollIntervalMs });
  }
  if (job.status === 'QUEUED') {
    if (world.market?.disabled === true) {
      // A disabled market keeps deposits without queueing: such a job can never be delisted.
      draft.event(
        'Warning',
        'LeftOnChain',
        `job ${address} was left on chain: market ${job.account.market.toBase58()} is disabled, so the job is not in its queue and cannot be delisted`,
      );
      return draft.decided({ kind: 'removeFinalizer' }, { forget: true });
    }
    // Read between a node claiming it and its run showing up: the next read says RUNNING.
    if (world.market?.queued !== true) return draft.decided({ kind: 'none' }, { afterMs: FINALITY_POLL_MS });
  }
  // The intent, written before the transaction: the job disappears with it, and a crash right
  // after must not leave a gone job that looks as if it might not have landed yet.
  draft.updateAttempt(address, { outcome: 'Cancelled', endedAt: isoSeconds(settings.now) });
  // The finalizer stays until a finalized read shows the job delisted, ended or closed.
  const requeue = { afterMs: FINALITY_POLL_MS };
  switch (job.status) {
    case 'QUEUED':
      return draft.decided({ kind: 'delist', ending: 'Cancelled' }, requeue);
    case 'RUNNING':
      return draft.decided({ kind: 'end', ending: 'Cancelled' }, requeue);
    case 'STOPPED':
      return draft.decided({ kind: 'recover', ending: 'Cancelled' }, requeue);
  }
}

/** This resource cancelled the job, or saw its attempt end (the status says so). */
function endedHere(draft: Draft, address: string): boolean {
  const { status } = draft;
  const ended = status.phase === 'Succeeded' || status.phase === 'Failed' || status.phase === 'Stopped';
  return draft.findAttempt(address)?.outcome !== undefined || (status.jobAddress === address && ended);
}

/** Records when the job was first found missing; true once that is long enough ago. */
function missingLongEnough(draft: Draft, address: string, now: Date): boolean {
  const since = draft.attempt(address).missingSince;
  if (since === undefined) {
    draft.updateAttempt(address, { missingSince: isoSeconds(now) });
    return false;
  }
  return now.getTime() - Date.parse(since) >= UNSEEN_GRACE_MS;
}
