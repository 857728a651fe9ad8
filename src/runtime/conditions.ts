// metav1.Condition bookkeeping: one condition per type, and lastTransitionTime moves only when
// the status flips, so re-applying the same observation is a no-op (and writes nothing).
// Messages quote errors, which quote URLs: credentials in them are redacted (http/redact.ts)
// before they reach a status anyone with read access to the resource can see.
import type { Condition } from '../api/crds/common.ts';
import { redactSecrets } from '../http/redact.ts';
import { isoSeconds } from './kube-time.ts';

export interface ConditionUpdate {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/** Returns a new list with `update` applied; other types are kept in order. */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  generation: number | undefined,
  now: Date,
): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === update.type);
  const previous = index >= 0 ? list[index] : undefined;
  const message = redactSecrets(update.message);
  const next: Condition = {
    type: update.type,
    status: update.status,
    reason: update.reason,
    // the API server caps messages at 32 KiB
    message: message.length > 32_768 ? `${message.slice(0, 32_700)}… (truncated)` : message,
    lastTransitionTime: previous !== undefined && previous.status === update.status ? previous.lastTransitionTime : isoSeconds(now),
    ...(generation === undefined ? {} : { observedGeneration: generation }),
  };
  if (index >= 0) list[index] = next;
  else list.push(next);
  return list;
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}
