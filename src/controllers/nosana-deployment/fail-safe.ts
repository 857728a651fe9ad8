// The crash-loop fail-safe: replicas that end soon after they were posted are counted, in a row,
// in the status; each one makes the next post wait longer (doubling from initialBackoff up to
// maxBackoff), and maxRapidFailures of them stop posting until a person resets the count with the
// nosana.io/reset-failures annotation. A replica that stays up a whole window, or ends after one,
// resets the count. A replica the deployment removed itself is never a failure.
import { createHash } from 'node:crypto';
import type { DeploymentMode, NosanaDeploymentStatus } from '../../api/crds/nosana-deployment.ts';
import { isoSeconds } from '../../runtime/kube-time.ts';
import type { ReplicaView } from './replicas.ts';
import type { DeploymentSettings } from './settings.ts';

/** Annotation a person sets (to any new value) to clear the count and let posting start again. */
export const RESET_FAILURES_ANNOTATION = 'nosana.io/reset-failures';

const MAX_COUNTED = 256;

export interface FailSafeState {
  rapidFailures: number;
  lastRapidFailure?: string;
  countedEnded: string[];
  failuresResetBy?: string;
  /** Replicas that ended rapidly in this look (for Events). */
  newlyFailed: ReplicaView[];
}

/** Whether a replica that ended counts as a rapid failure. */
export function isRapidFailure(replica: ReplicaView, mode: DeploymentMode, windowMs: number, now: Date): boolean {
  // A service that exits at once, even with success, is a crash loop; a run-once job that succeeds is not.
  if (replica.succeeded && (mode === 'Once' || mode === 'Scheduled')) return false;
  const ended = replica.endedAt ?? now;
  return ended.getTime() - replica.createdAt.getTime() < windowMs;
}

/** The count after this look at the replicas. */
export function countFailures(
  previous: NosanaDeploymentStatus,
  replicas: readonly ReplicaView[],
  ready: ReadonlySet<string>,
  settings: Pick<DeploymentSettings, 'mode' | 'rapidFailureWindowMs'>,
  resetToken: string | undefined,
  now: Date,
): FailSafeState {
  let rapidFailures = previous.rapidFailures ?? 0;
  let lastRapidFailure = previous.lastRapidFailure;
  let failuresResetBy = previous.failuresResetBy;
  // The status holds 128 characters of it: a longer token is kept as its hash, so it stays the same token.
  const token =
    resetToken === undefined || resetToken.length <= 64
      ? resetToken
      : `sha256:${createHash('sha256').update(resetToken).digest('hex').slice(0, 32)}`;
  if (token !== undefined && token !== failuresResetBy) {
    rapidFailures = 0;
    lastRapidFailure = undefined;
    failuresResetBy = token;
  }
  const present = new Set(replicas.map((replica) => replica.name));
  const counted = new Set((previous.countedEnded ?? []).filter((name) => present.has(name)));
  const newlyFailed: ReplicaView[] = [];
  const ended = replicas.filter((replica) => replica.ended && !replica.deleting && !counted.has(replica.name));
  for (const replica of ended.sort((a, b) => a.number - b.number)) {
    counted.add(replica.name);
    if (isRapidFailure(replica, settings.mode, settings.rapidFailureWindowMs, now)) {
      rapidFailures += 1;
      lastRapidFailure = isoSeconds(replica.endedAt ?? now);
      newlyFailed.push(replica);
    } else {
      rapidFailures = 0;
    }
  }
  // A replica up for a whole window since the last rapid failure shows the template works; one
  // already up before it (an old revision's, a healthy sibling) says nothing of the ones failing.
  const failedAt = lastRapidFailure === undefined ? undefined : new Date(lastRapidFailure).getTime();
  const provenUp = replicas.some(
    (replica) =>
      ready.has(replica.name) &&
      replica.startedAt !== undefined &&
      (failedAt === undefined || replica.startedAt.getTime() >= failedAt) &&
      now.getTime() - replica.startedAt.getTime() >= settings.rapidFailureWindowMs,
  );
  if (provenUp && newlyFailed.length === 0) rapidFailures = 0;
  return {
    rapidFailures,
    ...(rapidFailures === 0 || lastRapidFailure === undefined ? {} : { lastRapidFailure }),
    countedEnded: [...counted].slice(-MAX_COUNTED),
    ...(failuresResetBy === undefined ? {} : { failuresResetBy }),
    newlyFailed,
  };
}

/** When the next replica may be posted after `rapidFailures` in a row; undefined when at once. */
export function nextPostAt(
  state: Pick<FailSafeState, 'rapidFailures' | 'lastRapidFailure'>,
  settings: Pick<DeploymentSettings, 'initialBackoffMs' | 'maxBackoffMs'>,
): Date | undefined {
  if (state.rapidFailures === 0 || state.lastRapidFailure === undefined) return undefined;
  const wait = Math.min(settings.initialBackoffMs * 2 ** Math.min(state.rapidFailures - 1, 30), settings.maxBackoffMs);
  return new Date(new Date(state.lastRapidFailure).getTime() + wait);
}
