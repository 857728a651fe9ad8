// What happens next to a NosanaDeployment: one pure function of the status so far, its replicas
// as the cache shows them, the probes made while reading, the budget ledger, the spec and the
// clock. It returns the status to show, at most one action and when to look again; act.ts performs
// the action. Every replica the deployment wants is one action away, so a large change takes
// several reconciles, each starting from what the cluster shows (a crash between two loses nothing).
//
// The action, first match wins (live = not ended and not being deleted):
//
//   spec cannot be acted on                                   → Failed / InvalidSpec       —
//   an ended replica's ledger entry is not yet what it cost    →                            settle
//   spec.paused                                               → Paused / Paused            —
//   Extend: a running replica within rotateBefore of its end,
//           its extension fits the budget                     →                            extend
//   a replica unreachable for unreachableAfter, not every
//           replica failing, under the hourly cap             →                            delete (Unhealthy)
//   Scheduled: a round is due, or the last one is incomplete
//           (Forbid: none live; Allow: under three rounds)     →                            delete (Replace) | create
//   Recreate: a live replica of an old revision               →                            delete (Recreate)
//   Recreate: an old replica's job still being cancelled      →                            —
//   more live replicas of the current revision than wanted    →                            delete (ScaledDown)
//   fewer than wanted, room under maxSurge, no stalled one,
//           the fail-safe and the budget allow                →                            create
//   a replica of an old revision (or, Continuous, one within
//           rotateBefore of its end) whose removal keeps
//           replicas - maxUnavailable ready                   →                            delete (RolledOut | Rotated)
//   more ended replicas than revisionHistoryLimit             →                            delete (HistoryLimit)
//
// When every probed replica fails at once, none is replaced for its health (the operator's own way
// out is suspect) and the rest of the table goes on; at rest the reason is ProbesFailing.
// The phase follows from what is left (api/health.ts's NosanaDeployment rows).
import type { DeploymentEndpoint, NosanaDeploymentPhase, NosanaDeploymentStatus } from '../../api/crds/nosana-deployment.ts';
import { extensionCharge, formatNos } from '../../chain/money.ts';
import { setCondition } from '../../runtime/conditions.ts';
import { isoSeconds } from '../../runtime/kube-time.ts';
import type { EventType } from '../../runtime/types.ts';
import type { LedgerEntry } from '../nosana-job/spend-ledger.ts';
import { applyPhase } from '../phase.ts';
import { entriesOf, extensionKey, fitsAt, spentInWindow } from './budget.ts';
import { viewEndpoints } from './endpoints.ts';
import type { EndpointProbe } from './endpoints.ts';
import { countFailures, nextPostAt } from './fail-safe.ts';
import { replicaName, selectorOf } from './replicas.ts';
import type { ReplicaPlan, ReplicaView } from './replicas.ts';
import type { DeploymentSettings } from './settings.ts';

/** What a replica costs and runs for, as the template and its market say. */
export interface ReplicaTerms {
  timeoutSeconds: bigint;
  /** The most one replica can cost (its deposit, or the template's maxCost): what the budget reserves. */
  reservation?: bigint;
  /** The market price per second, for extensions. */
  pricePerSecond?: bigint;
}

export interface DeploymentWorld {
  now: Date;
  name: string;
  generation?: number;
  settings: DeploymentSettings | { error: string };
  /** The current template's revision. */
  revision: string;
  /** Every NosanaJob the deployment owns. */
  replicas: ReplicaView[];
  probes: EndpointProbe[];
  /** What the next replica's terms are; an error when they cannot be told (the message names the field). */
  terms: ReplicaTerms | { error: string };
  /** The budget ledger's entries, when spec.budget is set; an error when it cannot be read. */
  budget?: LedgerEntry[] | { error: string };
  /** The nosana.io/reset-failures annotation. */
  resetToken?: string;
  /** When the deployment was created: Scheduled, no round for a tick before it (as a CronJob). */
  createdAt?: Date;
  /** The highest replica number among NosanaJobs named like this deployment's replicas, its own or not. */
  highestTakenNumber?: number;
}

export type RemovalReason = 'Unhealthy' | 'Replaced' | 'Recreate' | 'ScaledDown' | 'RolledOut' | 'Rotated' | 'HistoryLimit';

export type DeploymentAction =
  | { kind: 'none' }
  | { kind: 'create'; plan: ReplicaPlan; reservation?: bigint }
  | { kind: 'delete'; replica: ReplicaView; why: RemovalReason }
  | { kind: 'extend'; replica: ReplicaView; timeoutSeconds: bigint; charge?: bigint }
  | { kind: 'settle'; replica: string; cost: bigint };

export interface DeploymentEvent {
  type: EventType;
  reason: string;
  note: string;
}

export interface DeploymentDecision {
  status: NosanaDeploymentStatus;
  action: DeploymentAction;
  requeueAfterMs?: number;
  /** Recorded once the action is done (or at once when there is none). */
  events: DeploymentEvent[];
}

/** With nothing time-bound pending, the deployment is still looked at now and then. */
const IDLE_REQUEUE_MS = 60_000;
/** After an action, look again soon even if no watch event comes. */
const STEP_REQUEUE_MS = 1_000;
const HOUR_MS = 3_600_000;
/** Scheduled, concurrencyPolicy Allow: the most rounds with live replicas at once. */
export const MAX_ROUNDS_AT_ONCE = 3;

/** The earliest time something time-bound is due: when to look again. */
class Next {
  #at: number | undefined;
  readonly #now: Date;
  constructor(now: Date) {
    this.#now = now;
  }
  at(time: Date | undefined): void {
    if (time === undefined) return;
    const ms = Math.max(time.getTime() - this.#now.getTime(), 100);
    this.#at = this.#at === undefined ? ms : Math.min(this.#at, ms);
  }
  in(ms: number): void {
    this.#at = this.#at === undefined ? ms : Math.min(this.#at, ms);
  }
  get ms(): number {
    return Math.min(this.#at ?? IDLE_REQUEUE_MS, IDLE_REQUEUE_MS);
  }
}

function byNumber(a: ReplicaView, b: ReplicaView): number {
  return a.number - b.number;
}

export function decideDeployment(previous: NosanaDeploymentStatus, world: DeploymentWorld): DeploymentDecision {
  const { now, name, revision, generation } = world;
  const events: DeploymentEvent[] = [];
  const next = new Next(now);
  const replicas = [...world.replicas].sort(byNumber);
  const live = replicas.filter((replica) => !replica.ended && !replica.deleting);
  /** Replicas asked to go whose jobs are still being cancelled. */
  const cancelling = replicas.filter((replica) => replica.deleting && !replica.ended);
  // Never a number a NosanaJob of this name pattern holds, owned or not: a replica named like an
  // orphan (left by a deployment deleted with --cascade=orphan) would find the name taken.
  const nextNumber = Math.max(
    previous.nextReplica ?? 0,
    ...replicas.map((replica) => replica.number + 1),
    (world.highestTakenNumber ?? -1) + 1,
    0,
  );
  const base: NosanaDeploymentStatus = { ...previous, selector: selectorOf(name), updateRevision: revision, nextReplica: nextNumber };

  const finish = (
    status: NosanaDeploymentStatus,
    phase: NosanaDeploymentPhase,
    reason: string,
    message: string,
    action: DeploymentAction,
    extra: { available?: boolean; budgetBlocked?: string; budgetSet?: boolean } = {},
  ): DeploymentDecision => {
    // With none ready the phase is Starting, whose only progress reason is Starting: Updating and
    // Degraded are rows of Running (api/health.ts).
    const shown = phase === 'Starting' && (reason === 'Updating' || reason === 'Degraded') ? 'Starting' : reason;
    let next_ = applyPhase('NosanaDeployment', status, phase, shown, message, generation, now);
    const available = extra.available ?? true;
    next_ = {
      ...next_,
      conditions: setCondition(
        next_.conditions,
        {
          type: 'Available',
          status: available ? 'True' : 'False',
          reason: available ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
          message: `${next_.readyReplicas ?? 0} of ${status.ready?.split('/')[1] ?? '0'} wanted replicas are ready`,
        },
        generation,
        now,
      ),
    };
    next_ = {
      ...next_,
      conditions: setCondition(
        next_.conditions,
        extra.budgetBlocked !== undefined
          ? { type: 'BudgetExhausted', status: 'True', reason: 'BudgetExhausted', message: extra.budgetBlocked }
          : { type: 'BudgetExhausted', status: 'False', reason: extra.budgetSet === true ? 'WithinBudget' : 'NoBudget', message: '' },
        generation,
        now,
      ),
    };
    if (action.kind !== 'none') next.in(STEP_REQUEUE_MS);
    return { status: next_, action, requeueAfterMs: next.ms, events };
  };

  // --- the spec and the terms of a replica --------------------------------------------------
  if ('error' in world.settings) {
    return finish(countsOnly(base, live, new Set(), 0, revision), 'Failed', 'InvalidSpec', world.settings.error, { kind: 'none' });
  }
  const settings = world.settings;

  // --- endpoints, readiness and the fail-safe ----------------------------------------------
  const view = viewEndpoints(live, world.probes, previous.endpoints, settings.unreachableAfterMs, now);
  next.at(view.nextUnreachableAt);
  if (world.probes.length > 0) next.in(settings.probeIntervalMs);
  const failSafe = countFailures(previous, replicas, view.ready, settings, world.resetToken, now);
  for (const failed of failSafe.newlyFailed) {
    events.push({
      type: 'Warning',
      reason: 'RapidFailure',
      note: `replica ${failed.name} ended ${failed.phase ?? ''}${failed.reason === undefined ? '' : ` (${failed.reason})`} soon after it was posted: ${failSafe.rapidFailures} in a row`,
    });
  }
  const wanted = wantedReplicas(settings, replicas, revision);
  const status = countsOnly(
    {
      ...base,
      endpoints: view.endpoints,
      rapidFailures: failSafe.rapidFailures,
      countedEnded: failSafe.countedEnded,
      ...(failSafe.failuresResetBy === undefined ? {} : { failuresResetBy: failSafe.failuresResetBy }),
    },
    live,
    view.ready,
    wanted.count,
    revision,
  );
  if (failSafe.lastRapidFailure === undefined) delete status.lastRapidFailure;
  else status.lastRapidFailure = failSafe.lastRapidFailure;
  if (status.endpoints?.length === 0) delete status.endpoints;
  const budgetEntries = Array.isArray(world.budget) ? world.budget : undefined;
  if (budgetEntries !== undefined) {
    const spent = spentInWindow(budgetEntries, now);
    status.spent24h = formatNos(spent);
    status.spent24hBaseUnits = spent.toString();
  } else {
    delete status.spent24h;
    delete status.spent24hBaseUnits;
  }
  const replacedForHealth = (previous.replacedForHealth ?? []).filter((at) => now.getTime() - new Date(at).getTime() < HOUR_MS);
  if (replacedForHealth.length > 0) status.replacedForHealth = replacedForHealth;
  else delete status.replacedForHealth;
  if (settings.schedule !== undefined) {
    const rounds = replicas.map((replica) => replica.round ?? 0);
    const last = Math.max(0, ...rounds, previous.lastScheduleTime === undefined ? 0 : new Date(previous.lastScheduleTime).getTime() / 1000);
    if (last > 0) status.lastScheduleTime = isoSeconds(new Date(last * 1000));
  } else {
    delete status.lastScheduleTime;
  }
  const readyCount = view.ready.size;
  const minReady = Math.max(0, wanted.count - settings.maxUnavailable);
  const available = readyCount >= minReady;
  const budgetSet = settings.budget !== undefined;
  const running = readyCount > 0 ? 'Running' : 'Starting';

  // --- bookkeeping that counts money comes first ----------------------------------------------
  if (budgetEntries !== undefined) {
    for (const replica of replicas) {
      if (!replica.ended || replica.costBaseUnits === undefined) continue;
      const own = entriesOf(budgetEntries, replica.name);
      if (own.length === 0) continue;
      const counted = own.reduce((sum, entry) => sum + entry.amount, 0n);
      if (own.length === 1 && counted === replica.costBaseUnits) continue;
      if (replica.costBaseUnits > counted) continue; // never count more than was reserved and paid
      return finish(
        status,
        running,
        readyCount > 0 ? 'Updating' : 'Starting',
        `recording what replica ${replica.name} cost`,
        {
          kind: 'settle',
          replica: replica.name,
          cost: replica.costBaseUnits,
        },
        { available, budgetSet },
      );
    }
  }

  if (settings.paused) {
    return finish(
      status,
      'Paused',
      'Paused',
      'spec.paused is set: nothing is posted, replaced or cancelled',
      { kind: 'none' },
      { available, budgetSet },
    );
  }

  const terms = 'error' in world.terms ? undefined : world.terms;
  if (terms === undefined && wanted.count > 0) {
    return finish(status, 'Failed', 'InvalidSpec', (world.terms as { error: string }).error, { kind: 'none' }, { available, budgetSet });
  }
  if (
    terms !== undefined &&
    (settings.mode === 'Continuous' || settings.mode === 'Extend') &&
    Number(terms.timeoutSeconds) * 1000 <= settings.rotateBeforeMs
  ) {
    return finish(
      status,
      'Failed',
      'InvalidSpec',
      `spec.rotateBefore must be shorter than the replicas' timeout (${terms.timeoutSeconds}s): the replacement of a replica would be due before it starts`,
      { kind: 'none' },
      { available, budgetSet },
    );
  }
  if (world.budget !== undefined && !Array.isArray(world.budget)) {
    const why = `the budget cannot be checked: ${world.budget.error}`;
    return finish(status, running, 'BudgetExhausted', why, { kind: 'none' }, { available, budgetSet, budgetBlocked: why });
  }

  /**
   * Whether a payment of `amount` fits the budget now; the message when it does not. An entry
   * already under its ledger `key` is this same payment, written before a crash or a stale cache
   * (act.ts writes it again in its place): it is not counted twice.
   */
  const budgetRefusal = (amount: bigint | undefined, what: string, key: string): string | undefined => {
    if (settings.budget === undefined || budgetEntries === undefined) return undefined;
    if (amount === undefined) return `${what} cannot be counted: its price is unknown`;
    const others = budgetEntries.filter((entry) => entry.key !== key);
    const at = fitsAt(others, amount, settings.budget, now);
    if (at === undefined) return undefined;
    const summary = `${what} of up to ${formatNos(amount)} NOS would pass spec.budget of ${formatNos(settings.budget)} NOS (${status.spent24h ?? '0'} NOS committed in the last 24 h)`;
    if (at === null) return `${summary}, and exceeds it on its own: raise spec.budget or lower the replicas' timeout or maxCost`;
    next.at(at);
    return `${summary}; it fits again at ${isoSeconds(at)}`;
  };

  // --- Extend: raise the timeout of replicas near their end ---------------------------------
  let budgetBlocked: string | undefined;
  if (settings.mode === 'Extend' && terms !== undefined) {
    for (const replica of live) {
      if (!replica.running || replica.endsAt === undefined || replica.timeoutSeconds === undefined) continue;
      const dueAt = new Date(replica.endsAt.getTime() - settings.rotateBeforeMs);
      if (dueAt > now) {
        next.at(dueAt);
        continue;
      }
      const timeoutSeconds = replica.timeoutSeconds + settings.extendBySeconds;
      // charged at the price the job was posted at, not the market's price now
      const price = replica.priceBaseUnits ?? terms.pricePerSecond;
      const charge = price === undefined ? undefined : extensionCharge(price, replica.timeoutSeconds, timeoutSeconds);
      const refused = budgetRefusal(
        charge,
        `raising the timeout of replica ${replica.name} to ${timeoutSeconds}s`,
        extensionKey(replica.name, timeoutSeconds),
      );
      if (refused !== undefined) {
        budgetBlocked = refused;
        continue;
      }
      return finish(
        status,
        running,
        'Updating',
        `raising the timeout of replica ${replica.name} to ${timeoutSeconds}s`,
        {
          kind: 'extend',
          replica,
          timeoutSeconds,
          ...(charge === undefined ? {} : { charge }),
        },
        { available, budgetSet },
      );
    }
  }

  // --- health-driven replacement ----------------------------------------------------------------
  // Every replica failing at once points at the operator's own way out: none is replaced for its
  // health, but scaling and rotation go on (a new replica is not ready, so none is removed for it).
  const probesSuspect = view.allFailing
    ? `every replica fails its health checks at once (${view.endpoints.find((endpoint) => endpoint.failingSince !== undefined)?.lastProbe ?? ''}): the operator's own way out is suspected, so none is replaced`
    : undefined;
  const unreachable =
    probesSuspect !== undefined ? undefined : view.unreachable.find(({ replica }) => live.some((candidate) => candidate.name === replica));
  if (unreachable !== undefined) {
    const replica = live.find((candidate) => candidate.name === unreachable.replica)!;
    if (replacedForHealth.length < settings.maxReplacementsPerHour) {
      status.replacedForHealth = [...replacedForHealth, isoSeconds(now)];
      events.push({
        type: 'Warning',
        reason: 'Unhealthy',
        note: `replica ${replica.name}: ${unreachable.endpoint.url} (op ${unreachable.endpoint.op}, port ${unreachable.endpoint.port}) failed its health checks since ${unreachable.endpoint.failingSince ?? '?'} (${unreachable.endpoint.lastProbe ?? ''}); cancelling it, a replacement follows`,
      });
      return finish(
        status,
        running,
        readyCount >= minReady ? 'Updating' : 'Degraded',
        `replacing unreachable replica ${replica.name}`,
        {
          kind: 'delete',
          replica,
          why: 'Unhealthy',
        },
        { available, budgetSet },
      );
    }
    next.in(HOUR_MS / Math.max(1, settings.maxReplacementsPerHour));
  }

  const failSafeTripped = failSafe.rapidFailures >= settings.maxRapidFailures;
  if (failSafeTripped && (previous.rapidFailures ?? 0) < settings.maxRapidFailures) {
    events.push({
      type: 'Warning',
      reason: 'RapidFailures',
      note: `${failSafe.rapidFailures} replicas in a row ended soon after they were posted: posting stopped to protect the wallet; annotate nosana.io/reset-failures to start again`,
    });
  }
  const backoffUntil = failSafeTripped ? undefined : nextPostAt(failSafe, settings);
  const backingOff = backoffUntil !== undefined && backoffUntil > now;
  if (backingOff) next.at(backoffUntil);
  const stalled = live.find((replica) => replica.revision === revision && replica.stalled);

  /** The create action for the next replica, or why none may be posted now. */
  const create = (round?: number): { action?: DeploymentAction; blocked?: { reason: string; message: string } } => {
    if (terms === undefined) return {};
    if (failSafeTripped)
      return {
        blocked: { reason: 'RapidFailures', message: `${failSafe.rapidFailures} replicas in a row ended soon after they were posted` },
      };
    if (stalled !== undefined)
      return {
        blocked: {
          reason: 'ReplicaStalled',
          message: `replica ${stalled.name} cannot be posted (${stalled.reason ?? '?'}): ${stalled.message ?? ''}`,
        },
      };
    if (backingOff)
      return {
        blocked: {
          reason: 'BackingOff',
          message: `${failSafe.rapidFailures} replicas ended soon after they were posted; the next is posted at ${isoSeconds(backoffUntil!)}`,
        },
      };
    const refused = budgetRefusal(terms.reservation, 'another replica', replicaName(name, revision, nextNumber));
    if (refused !== undefined) {
      budgetBlocked = refused;
      return { blocked: { reason: 'BudgetExhausted', message: refused } };
    }
    const plan: ReplicaPlan = {
      name: replicaName(name, revision, nextNumber),
      number: nextNumber,
      revision,
      timeoutSeconds: terms.timeoutSeconds,
      ...(round === undefined ? {} : { round }),
      ...(terms.reservation === undefined || settings.budget === undefined ? {} : { maxCostBaseUnits: terms.reservation }),
    };
    // the number is spent once the replica is asked for, whether or not its creation is seen
    status.nextReplica = nextNumber + 1;
    return { action: { kind: 'create', plan, ...(plan.maxCostBaseUnits === undefined ? {} : { reservation: plan.maxCostBaseUnits }) } };
  };
  const created = (action: DeploymentAction): DeploymentEvent => ({
    type: 'Normal',
    reason: 'ReplicaCreated',
    note: `created replica ${(action as { plan: ReplicaPlan }).plan.name}`,
  });
  const blockedFinish = (blocked: { reason: string; message: string }): DeploymentDecision => {
    if (blocked.reason === 'RapidFailures' || blocked.reason === 'ReplicaStalled')
      return finish(
        status,
        'Failed',
        blocked.reason,
        blocked.message,
        { kind: 'none' },
        { available, budgetSet, ...(budgetBlocked === undefined ? {} : { budgetBlocked }) },
      );
    return finish(
      status,
      running,
      blocked.reason,
      blocked.message,
      { kind: 'none' },
      {
        available,
        budgetSet,
        ...(budgetBlocked === undefined ? {} : { budgetBlocked }),
      },
    );
  };

  // --- Scheduled: rounds ------------------------------------------------------------------------
  if (settings.mode === 'Scheduled' && settings.schedule !== undefined) {
    return decideRound();
  }

  // --- Continuous, Extend, Once: keep `wanted` replicas of the current revision ---------------
  const due = (replica: ReplicaView): boolean => {
    if (settings.mode !== 'Continuous' || !replica.running || replica.endsAt === undefined) return false;
    const dueAt = new Date(replica.endsAt.getTime() - settings.rotateBeforeMs);
    if (dueAt > now) {
      next.at(dueAt);
      return false;
    }
    return true;
  };
  const fresh = live.filter((replica) => replica.revision === revision && !due(replica));
  const stale = live.filter((replica) => !fresh.includes(replica));
  const oldRevision = stale.filter((replica) => replica.revision !== revision);

  if (settings.recreate && oldRevision.length > 0) {
    const victim = pickRemoval(oldRevision, view.ready, 'oldest');
    events.push({
      type: 'Normal',
      reason: 'Recreate',
      note: `cancelling replica ${victim.name} of revision ${victim.revision}: revision ${revision} is posted once every old replica is gone`,
    });
    return finish(
      status,
      running,
      'Updating',
      `cancelling replica ${victim.name} of revision ${victim.revision} before posting revision ${revision} (Recreate)`,
      {
        kind: 'delete',
        replica: victim,
        why: 'Recreate',
      },
      { available, budgetSet },
    );
  }
  // Recreate: the new revision waits until the old replicas' jobs are cancelled, not just asked to be.
  const cancellingOld = replicas.filter((replica) => replica.deleting && !replica.ended && replica.revision !== revision);
  if (settings.recreate && cancellingOld.length > 0) {
    return finish(
      status,
      running,
      'Updating',
      `waiting for ${cancellingOld
        .map((replica) => replica.name)
        .slice(0, 5)
        .join(', ')} to be cancelled before posting revision ${revision} (Recreate)`,
      { kind: 'none' },
      { available, budgetSet },
    );
  }
  if (fresh.length > wanted.count) {
    const victim = pickRemoval(fresh, view.ready, 'newest');
    events.push({ type: 'Normal', reason: 'ScaledDown', note: `cancelling replica ${victim.name}: ${wanted.count} wanted` });
    return finish(
      status,
      wanted.count === 0 ? 'Stopping' : running,
      wanted.count === 0 ? 'Stopping' : 'Updating',
      `cancelling replica ${victim.name}: ${wanted.count} wanted`,
      {
        kind: 'delete',
        replica: victim,
        why: 'ScaledDown',
      },
      { available, budgetSet },
    );
  }
  let blocked: { reason: string; message: string } | undefined;
  if (fresh.length < wanted.count && live.length < wanted.count + settings.maxSurge) {
    const attempt = create();
    if (attempt.action !== undefined) {
      events.push(created(attempt.action));
      return finish(
        status,
        running,
        readyCount >= minReady && readyCount > 0 ? 'Updating' : readyCount > 0 ? 'Degraded' : 'Starting',
        `posting replica ${(attempt.action as { plan: ReplicaPlan }).plan.name}`,
        attempt.action,
        { available, budgetSet },
      );
    }
    blocked = attempt.blocked;
  }
  // Old replicas go once enough new ones are ready; the not-ready first, which costs no availability.
  const removable = stale.filter((replica) => !view.ready.has(replica.name) || readyCount - 1 >= minReady);
  if (removable.length > 0) {
    const victim = pickRemoval(removable, view.ready, 'oldest');
    const why: RemovalReason = victim.revision === revision ? 'Rotated' : 'RolledOut';
    events.push({
      type: 'Normal',
      reason: why,
      note:
        why === 'Rotated'
          ? `cancelling replica ${victim.name}: its replacement took over before its timeout`
          : `cancelling replica ${victim.name} of revision ${victim.revision}: revision ${revision} is rolling out`,
    });
    const stopping = wanted.count === 0 && settings.replicas === 0;
    return finish(
      status,
      stopping ? 'Stopping' : running,
      stopping ? 'Stopping' : readyCount - (view.ready.has(victim.name) ? 1 : 0) >= minReady ? 'Updating' : 'Degraded',
      `cancelling replica ${victim.name}`,
      {
        kind: 'delete',
        replica: victim,
        why,
      },
      { available, budgetSet },
    );
  }
  if (blocked !== undefined) return blockedFinish(blocked);
  const pruned = pruneHistory(
    replicas,
    settings.revisionHistoryLimit,
    failSafe.countedEnded,
    settings.mode === 'Once' ? revision : undefined,
  );
  if (pruned !== undefined) {
    events.push(pruneEvent(pruned));
    return finish(
      status,
      phaseAtRest(),
      reasonAtRest(),
      messageAtRest(),
      { kind: 'delete', replica: pruned, why: 'HistoryLimit' },
      { available, budgetSet },
    );
  }
  if (probesSuspect !== undefined && (phaseAtRest() === 'Running' || phaseAtRest() === 'Starting')) {
    return finish(
      status,
      'Running',
      'ProbesFailing',
      probesSuspect,
      { kind: 'none' },
      { available, budgetSet, ...(budgetBlocked === undefined ? {} : { budgetBlocked }) },
    );
  }
  return finish(
    status,
    phaseAtRest(),
    reasonAtRest(),
    messageAtRest(),
    { kind: 'none' },
    {
      available,
      budgetSet,
      ...(budgetBlocked === undefined ? {} : { budgetBlocked }),
    },
  );

  function phaseAtRest(): NosanaDeploymentPhase {
    if (settings.mode === 'Once' && wanted.done >= settings.replicas && live.length === 0 && settings.replicas > 0) return 'Completed';
    if (wanted.count === 0 && settings.replicas === 0) return live.length === 0 && cancelling.length === 0 ? 'Stopped' : 'Stopping';
    if (wanted.count === 0) return live.length === 0 ? 'Completed' : 'Stopping';
    return running;
  }
  function reasonAtRest(): string {
    const phase = phaseAtRest();
    if (phase === 'Completed') return 'Completed';
    if (phase === 'Stopped') return 'ScaledToZero';
    if (phase === 'Stopping') return 'Stopping';
    if (phase === 'Starting') return 'Starting';
    if (readyCount >= wanted.count && fresh.length === wanted.count && stale.length === 0) return 'Available';
    return readyCount >= minReady ? 'Updating' : 'Degraded';
  }
  function messageAtRest(): string {
    const reason = reasonAtRest();
    if (reason === 'Completed') return `every replica of revision ${revision} ran to its end`;
    if (reason === 'ScaledToZero') return 'no replica is wanted';
    if (reason === 'Stopping') return `cancelling the last ${live.length + cancelling.length} replicas`;
    const waiting = live.filter((replica) => !view.ready.has(replica.name));
    const why =
      waiting.length === 0
        ? ''
        : `; waiting for ${waiting
            .map(
              (replica) =>
                `${replica.name} (${replica.phase ?? 'Pending'}${replica.reason !== undefined && replica.reason !== replica.phase ? ` ${replica.reason}` : ''})`,
            )
            .slice(0, 5)
            .join(', ')}`;
    return `${readyCount} of ${wanted.count} replicas ready${why}`;
  }

  function decideRound(): DeploymentDecision {
    const schedule = settings.schedule!;
    const lastRound = status.lastScheduleTime === undefined ? 0 : new Date(status.lastScheduleTime).getTime() / 1000;
    const latestTick = schedule.cron.previousRuns(1, now)[0];
    const nextTick = schedule.cron.nextRun(now) ?? undefined;
    next.at(nextTick ?? undefined);
    const members = (round: number) => replicas.filter((replica) => replica.round === round && !replica.deleting).length;
    let round: number | undefined;
    if (latestTick !== undefined) {
      const tick = Math.floor(latestTick.getTime() / 1000);
      const inDeadline = now.getTime() - latestTick.getTime() <= schedule.startingDeadlineMs;
      const afterCreation = world.createdAt === undefined || latestTick.getTime() > world.createdAt.getTime();
      if (inDeadline && afterCreation && (tick > lastRound || (tick === lastRound && members(tick) < settings.replicas))) round = tick;
    }
    const nextText = nextTick === undefined ? 'never' : isoSeconds(nextTick);
    if (round !== undefined) {
      const earlier = live.filter((replica) => (replica.round ?? 0) < round);
      if (earlier.length > 0 && members(round) === 0 && schedule.concurrencyPolicy === 'Forbid') {
        next.in(5_000);
        return finish(
          status,
          running,
          readyCount > 0 ? 'Updating' : 'Starting',
          `the round of ${isoSeconds(new Date(round * 1000))} waits for the previous one to end (concurrencyPolicy Forbid)`,
          { kind: 'none' },
          { available, budgetSet },
        );
      }
      // Allow: rounds overlap, but not without bound (replicas that never get posted, say for want
      // of a wallet, would otherwise pile up one round per tick).
      const earlierRounds = new Set(earlier.map((replica) => replica.round ?? 0)).size;
      if (schedule.concurrencyPolicy === 'Allow' && earlierRounds >= MAX_ROUNDS_AT_ONCE - 1 && members(round) === 0) {
        next.in(5_000);
        return finish(
          status,
          running,
          readyCount > 0 ? 'Updating' : 'Starting',
          `the round of ${isoSeconds(new Date(round * 1000))} waits: ${earlierRounds} earlier rounds still run, and at most ${MAX_ROUNDS_AT_ONCE} run at once (concurrencyPolicy Allow)`,
          { kind: 'none' },
          { available, budgetSet },
        );
      }
      if (earlier.length > 0 && schedule.concurrencyPolicy === 'Replace') {
        const victim = earlier[0]!;
        events.push({
          type: 'Normal',
          reason: 'Replaced',
          note: `cancelling replica ${victim.name} of the previous round: the round of ${isoSeconds(new Date(round * 1000))} replaces it (concurrencyPolicy Replace)`,
        });
        return finish(
          status,
          running,
          'Updating',
          `cancelling replica ${victim.name} of the previous round (concurrencyPolicy Replace)`,
          { kind: 'delete', replica: victim, why: 'Replaced' },
          { available, budgetSet },
        );
      }
      if (members(round) < settings.replicas) {
        const attempt = create(round);
        if (attempt.action !== undefined) {
          events.push(created(attempt.action));
          return finish(
            status,
            running,
            readyCount > 0 ? 'Updating' : 'Starting',
            `posting the round of ${isoSeconds(new Date(round * 1000))}`,
            attempt.action,
            { available, budgetSet },
          );
        }
        if (attempt.blocked !== undefined) return blockedFinish(attempt.blocked);
      }
    }
    const pruned = pruneHistory(replicas, settings.revisionHistoryLimit, failSafe.countedEnded, undefined);
    const action: DeploymentAction = pruned === undefined ? { kind: 'none' } : { kind: 'delete', replica: pruned, why: 'HistoryLimit' };
    if (pruned !== undefined) events.push(pruneEvent(pruned));
    if (live.length > 0) {
      const waiting = live.filter((replica) => !view.ready.has(replica.name)).length;
      const reason = running === 'Starting' ? 'Starting' : waiting === 0 ? 'Available' : 'Updating';
      return finish(status, running, reason, `${live.length} replicas of the round run; the next round is at ${nextText}`, action, {
        available: true,
        budgetSet,
      });
    }
    return finish(status, 'Waiting', 'Scheduled', `the next round is at ${nextText} (${schedule.text}, ${schedule.timeZone})`, action, {
      available: true,
      budgetSet,
    });
  }
}

function pruneEvent(replica: ReplicaView): DeploymentEvent {
  return {
    type: 'Normal',
    reason: 'HistoryLimit',
    note: `deleting ended replica ${replica.name} (${replica.phase ?? 'ended'}): more than spec.revisionHistoryLimit are kept`,
  };
}

/** How many live replicas of the current revision are wanted, and (Once) how many are done. */
function wantedReplicas(settings: DeploymentSettings, replicas: readonly ReplicaView[], revision: string): { count: number; done: number } {
  if (settings.mode === 'Scheduled') return { count: settings.replicas, done: 0 };
  if (settings.mode !== 'Once') return { count: settings.replicas, done: 0 };
  const done = replicas.filter(
    (replica) => replica.revision === revision && replica.ended && replica.succeeded && !replica.deleting,
  ).length;
  return { count: Math.max(0, settings.replicas - done), done };
}

/** The status's replica counts. */
function countsOnly(
  status: NosanaDeploymentStatus,
  live: readonly ReplicaView[],
  ready: ReadonlySet<string>,
  wanted: number,
  revision: string,
): NosanaDeploymentStatus {
  const readyCount = live.filter((replica) => ready.has(replica.name)).length;
  const oldest = live[0];
  return {
    ...status,
    replicas: live.length,
    readyReplicas: readyCount,
    updatedReplicas: live.filter((replica) => replica.revision === revision).length,
    availableReplicas: readyCount,
    ready: `${readyCount}/${wanted}`,
    overlapReplicas: Math.max(0, live.length - wanted),
    currentRevision: oldest?.revision ?? revision,
  };
}

/** Which replica to remove: the not-ready first (queued before pending before running), then the oldest or the newest. */
function pickRemoval(candidates: readonly ReplicaView[], ready: ReadonlySet<string>, order: 'oldest' | 'newest'): ReplicaView {
  const rank = (replica: ReplicaView): number => (ready.has(replica.name) ? 3 : replica.running ? 2 : replica.phase === 'Queued' ? 1 : 0);
  return [...candidates].sort((a, b) => rank(a) - rank(b) || (order === 'oldest' ? a.number - b.number : b.number - a.number))[0]!;
}

/**
 * The oldest ended replica beyond the history limit, once the fail-safe has counted it. Kept
 * regardless: the newest replica of all (the next one's number follows it) and, for Once, the
 * replicas of the current revision that succeeded (they are what "done" counts).
 */
function pruneHistory(
  replicas: readonly ReplicaView[],
  limit: number,
  counted: readonly string[],
  onceRevision: string | undefined,
): ReplicaView | undefined {
  const newest = replicas.reduce<ReplicaView | undefined>(
    (top, replica) => (top === undefined || replica.number > top.number ? replica : top),
    undefined,
  );
  const ended = replicas.filter(
    (replica) =>
      replica.ended &&
      !replica.deleting &&
      counted.includes(replica.name) &&
      replica !== newest &&
      !(onceRevision !== undefined && replica.revision === onceRevision && replica.succeeded),
  );
  if (ended.length <= limit) return undefined;
  return [...ended].sort(byNumber)[0];
}

export type { DeploymentEndpoint };
