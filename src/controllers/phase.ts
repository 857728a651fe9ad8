// Sets a resource's phase and the conditions the phase table (api/health.ts) gives it, so every
// controller reports a state the same way and kstatus, `kubectl wait` and Argo CD agree.
import type { Condition } from '../api/crds/common.ts';
import type { NosanaKind } from '../api/crds/crd.ts';
import { healthRow } from '../api/health.ts';
import { setCondition } from '../runtime/conditions.ts';

export interface StatusWithConditions {
  phase?: string;
  conditions?: Condition[];
  observedGeneration?: number;
}

/**
 * Moves `status` to (phase, reason): phase, observedGeneration and every condition of the table
 * row. Every condition carries the reason (so `Posted=False InsufficientFunds` reads well); the
 * message goes on Ready and on the conditions that are True.
 * Throws for a (phase, reason) the table lacks: a state nobody documented is a bug.
 */
export function applyPhase<S extends StatusWithConditions>(
  kind: NosanaKind,
  status: S,
  phase: string | undefined,
  reason: string,
  message: string,
  generation: number | undefined,
  now: Date,
): S {
  const row = healthRow(kind, phase, reason);
  if (row === undefined) throw new Error(`no phase table row for ${kind} phase ${phase ?? '-'} reason ${reason}`);
  let conditions = status.conditions;
  for (const [type, value] of Object.entries(row.conditions)) {
    const carriesMessage = type === 'Ready' || value === 'True';
    conditions = setCondition(conditions, { type, status: value, reason, message: carriesMessage ? message : '' }, generation, now);
  }
  const next: S = { ...status, conditions };
  if (phase !== undefined) next.phase = phase;
  if (generation !== undefined) next.observedGeneration = generation;
  return next;
}
