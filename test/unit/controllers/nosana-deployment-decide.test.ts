// The transitions of a NosanaDeployment as a table: its status so far, its replicas as the cache
// shows them, the probes, the budget ledger and the spec → the phase and reason shown, the replica
// counts, the Available and BudgetExhausted conditions, the Events and the one action. Each row's
// reason is its specification; together they cover every row of decide.ts's table. The sequences
// below play many reconciles against a small simulated cluster and check what must hold across
// them: a replica's number is never reused, and a rolling update never leaves fewer replicas ready
// than spec.replicas less maxUnavailable.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { z } from 'zod';
import { nosanaDeploymentSpec } from '../../../src/api/crds/nosana-deployment.ts';
import type { DeploymentEndpoint, NosanaDeploymentPhase, NosanaDeploymentStatus } from '../../../src/api/crds/nosana-deployment.ts';
import { decideDeployment } from '../../../src/controllers/nosana-deployment/decide.ts';
import type {
  DeploymentAction,
  DeploymentDecision,
  DeploymentWorld,
  RemovalReason,
  ReplicaTerms,
} from '../../../src/controllers/nosana-deployment/decide.ts';
import type { EndpointProbe } from '../../../src/controllers/nosana-deployment/endpoints.ts';
import type { ReplicaView } from '../../../src/controllers/nosana-deployment/replicas.ts';
import { deploymentSettings, SpecError } from '../../../src/controllers/nosana-deployment/settings.ts';
import type { LedgerEntry } from '../../../src/controllers/nosana-job/spend-ledger.ts';
import { findCondition } from '../../../src/runtime/conditions.ts';
import { isoSeconds } from '../../../src/runtime/kube-time.ts';

const NOW = new Date('2026-06-01T12:01:00Z');
const SECOND = 1_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const at = (offsetMs: number): Date => new Date(NOW.getTime() + offsetMs);
const iso = (offsetMs: number): string => isoSeconds(at(offsetMs));

const NAME = 'web';
const GENERATION = 4;
/** The current template's revision, and the one before it. */
const REV = 'a1b2c3d4e5';
const OLD = 'f6e5d4c3b2';
const NOS = 1_000_000n;
const TIMEOUT = 3_600n;
const PRICE = 100n;
/** What the budget reserves for a replica: 2 NOS. */
const RESERVATION = 2n * NOS;
const TERMS: ReplicaTerms = { timeoutSeconds: TIMEOUT, reservation: RESERVATION, pricePerSecond: PRICE };
/** The round of the Scheduled rows: every five minutes ticked at 12:00, a minute before NOW. */
const TICK_S = Date.parse('2026-06-01T12:00:00Z') / 1000;
const PREVIOUS_TICK_S = TICK_S - 300;

const nameOf = (number: number, revision = REV): string => `${NAME}-${revision}-${number}`;

// ---------------------------------------------------------------------------------------------
// The spec, as a user writes it

type SpecInput = Omit<z.input<typeof nosanaDeploymentSpec>, 'template'>;
const TEMPLATE = { spec: { market: 'gpu-market', timeout: Number(TIMEOUT) } };

/** The settings of a spec, as the reconciler builds them: a SpecError becomes the error the decision shows. */
function settingsOf(spec: SpecInput): DeploymentWorld['settings'] {
  try {
    return deploymentSettings(nosanaDeploymentSpec.parse({ template: TEMPLATE, ...spec }));
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    return { error: error.message };
  }
}

// ---------------------------------------------------------------------------------------------
// The replicas, as the cache shows them

type ReplicaState = 'queued' | 'running' | 'succeeded' | 'failed' | 'stalled';

/** Replica `number` of the current revision (unless `change` says another), created two hours ago. */
function replica(number: number, state: ReplicaState, change: Partial<ReplicaView> = {}): ReplicaView {
  const revision = change.revision ?? REV;
  const view: ReplicaView = {
    name: nameOf(number, revision),
    uid: `uid-${revision}-${number}`,
    number,
    revision,
    createdAt: at(-2 * HOUR),
    deleting: false,
    ended: false,
    succeeded: false,
    stalled: false,
    running: false,
    serviceUrls: [],
  };
  const startedAt = change.startedAt ?? at(-30 * MINUTE);
  const ran = { startedAt: at(-90 * MINUTE), endedAt: at(-HOUR), timeoutSeconds: TIMEOUT };
  const byState: Record<ReplicaState, Partial<ReplicaView>> = {
    queued: { phase: 'Queued', reason: 'Queued' },
    running: {
      phase: 'Running',
      reason: 'Running',
      running: true,
      startedAt,
      timeoutSeconds: TIMEOUT,
      endsAt: new Date(startedAt.getTime() + Number(TIMEOUT) * SECOND),
    },
    succeeded: { phase: 'Succeeded', reason: 'Succeeded', ended: true, succeeded: true, ...ran },
    failed: { phase: 'Failed', reason: 'OpFailed', ended: true, ...ran },
    stalled: { phase: 'Pending', reason: 'InvalidDefinition', message: 'ops[0] has no image', stalled: true },
  };
  return { ...view, ...byState[state], ...change };
}

/** A running replica whose paid time runs out `ms` from now. */
const endsIn = (ms: number): Partial<ReplicaView> => ({ startedAt: at(ms - Number(TIMEOUT) * SECOND) });
/** A replica that ended `ms` after it was created, just now: a rapid failure when inside the window. */
const endedAfter = (ms: number, endedAt = NOW): Partial<ReplicaView> => ({ createdAt: new Date(endedAt.getTime() - ms), endedAt });
const urlOf = (number: number): string => `https://web-${number}.example.net/`;
const serving = (number: number): Partial<ReplicaView> => ({ serviceUrls: [{ op: 'web', port: 8080, url: urlOf(number) }] });

function probe(number: number, ok: boolean): EndpointProbe {
  return { replica: nameOf(number), op: 'web', port: 8080, url: urlOf(number), ok, detail: ok ? 'HTTP 200' : 'connect ECONNREFUSED' };
}

/** The endpoint as a previous look recorded it: failing since `since`. */
function failingEndpoint(number: number, since: Date): DeploymentEndpoint {
  return {
    replica: nameOf(number),
    op: 'web',
    port: 8080,
    url: urlOf(number),
    ready: false,
    failingSince: isoSeconds(since),
    lastProbe: 'connect ECONNREFUSED',
  };
}

function entry(key: string, amount: bigint, when: Date): LedgerEntry {
  return { key, job: key.split('@')[0] ?? key, amount, at: when };
}

// ---------------------------------------------------------------------------------------------
// The table

interface WorldChange {
  spec?: SpecInput;
  settings?: DeploymentWorld['settings'];
  replicas?: ReplicaView[];
  probes?: EndpointProbe[];
  terms?: DeploymentWorld['terms'];
  budget?: DeploymentWorld['budget'];
  resetToken?: string;
  createdAt?: Date;
  highestTakenNumber?: number;
}

function world(change: WorldChange = {}): DeploymentWorld {
  return {
    now: NOW,
    name: NAME,
    generation: GENERATION,
    settings: change.settings ?? settingsOf(change.spec ?? {}),
    revision: REV,
    replicas: change.replicas ?? [],
    probes: change.probes ?? [],
    terms: change.terms ?? TERMS,
    ...(change.budget === undefined ? {} : { budget: change.budget }),
    ...(change.resetToken === undefined ? {} : { resetToken: change.resetToken }),
    ...(change.createdAt === undefined ? {} : { createdAt: change.createdAt }),
    ...(change.highestTakenNumber === undefined ? {} : { highestTakenNumber: change.highestTakenNumber }),
  };
}

interface Want {
  phase: NosanaDeploymentPhase;
  /** The Ready condition's reason. */
  reason: string;
  /** A pattern the Ready condition's message must match. */
  says?: RegExp;
  action: DeploymentAction['kind'];
  /** The replica the action names: the one created, deleted, extended or settled. */
  replica?: string;
  why?: RemovalReason;
  /** Fields the action must carry (a create's: of its plan, and its reservation). */
  with?: Record<string, unknown>;
  /** status.replicas, readyReplicas, updatedReplicas, overlapReplicas. */
  counts: [number, number, number, number];
  /** status.ready, "ready/wanted". */
  shows: string;
  available: boolean;
  /** BudgetExhausted: False with this reason (NoBudget when absent), or True with a message matching the pattern. */
  budget?: 'NoBudget' | 'WithinBudget' | RegExp;
  /** The Events' reasons, in order (none when absent). */
  events?: string[];
  /** A pattern the last Event's note must match. */
  note?: RegExp;
  /** Status fields as they must be (undefined: absent). */
  status?: Partial<Record<keyof NosanaDeploymentStatus, unknown>>;
  requeue?: number;
}

interface Row {
  reason: string;
  status?: NosanaDeploymentStatus;
  world: WorldChange;
  want: Want;
}

/** The replica an action names. */
function named(action: DeploymentAction): string | undefined {
  switch (action.kind) {
    case 'none':
      return undefined;
    case 'create':
      return action.plan.name;
    case 'settle':
      return action.replica;
    case 'delete':
    case 'extend':
      return action.replica.name;
  }
}

function fields(action: DeploymentAction): Record<string, unknown> {
  return action.kind === 'create' ? { ...action.plan, reservation: action.reservation } : { ...action };
}

function check(decision: DeploymentDecision, want: Want): void {
  const { status, action } = decision;
  const ready = findCondition(status.conditions, 'Ready');
  assert.deepEqual([status.phase, ready?.reason], [want.phase, want.reason], 'the phase and the Ready reason');
  if (want.says !== undefined) assert.match(ready?.message ?? '', want.says);
  assert.equal(status.observedGeneration, GENERATION);
  assert.equal(action.kind, want.action, 'the action');
  assert.equal(named(action), want.replica, 'the replica the action names');
  assert.equal(action.kind === 'delete' ? action.why : undefined, want.why, 'why the replica goes');
  for (const [key, value] of Object.entries(want.with ?? {})) assert.deepEqual(fields(action)[key], value, `action ${key}`);
  assert.deepEqual(
    [status.replicas, status.readyReplicas, status.updatedReplicas, status.overlapReplicas],
    want.counts,
    'replicas, readyReplicas, updatedReplicas, overlapReplicas',
  );
  assert.equal(status.availableReplicas, want.counts[1], 'availableReplicas are the ready ones');
  assert.equal(status.ready, want.shows, 'status.ready');
  assert.equal(findCondition(status.conditions, 'Available')?.status, want.available ? 'True' : 'False', 'Available');
  const budget = findCondition(status.conditions, 'BudgetExhausted');
  if (want.budget instanceof RegExp) {
    assert.equal(budget?.status, 'True', 'BudgetExhausted');
    assert.match(budget?.message ?? '', want.budget);
  } else {
    assert.deepEqual([budget?.status, budget?.reason], ['False', want.budget ?? 'NoBudget'], 'BudgetExhausted');
  }
  assert.deepEqual(
    decision.events.map((event) => event.reason),
    want.events ?? [],
    'the Events',
  );
  if (want.note !== undefined) assert.match(decision.events.at(-1)?.note ?? '', want.note);
  for (const [key, value] of Object.entries(want.status ?? {})) {
    assert.deepEqual(status[key as keyof NosanaDeploymentStatus], value, `status.${key}`);
  }
  if (want.requeue !== undefined) assert.equal(decision.requeueAfterMs, want.requeue, 'requeue');
}

const BUDGET = { budget: '5' } as const;
const EXTEND = { mode: 'Extend', replicas: 1, extendBy: '1h' } as const;
const ONCE = { mode: 'Once', replicas: 2 } as const;
const scheduled = (schedule: Partial<NonNullable<SpecInput['schedule']>> = {}): SpecInput => ({
  mode: 'Scheduled',
  replicas: 1,
  schedule: { cron: '*/5 * * * *', ...schedule },
});
/** Three rapid failures of the current revision, ended 3, 2 and 1 minutes ago. */
const THREE_FAILED = [0, 1, 2].map((number) => replica(number, 'failed', endedAfter(30 * SECOND, at((number - 3) * MINUTE))));
const THREE_COUNTED = [0, 1, 2].map((number) => nameOf(number));

const rows: Row[] = [
  // --- scaling ---------------------------------------------------------------------------------
  {
    reason: 'scale up from none: the first replica is <deployment>-<revision>-0, nothing reserved without a budget; Starting',
    world: { spec: { replicas: 1 } },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      says: /^posting replica web-a1b2c3d4e5-0$/,
      action: 'create',
      replica: 'web-a1b2c3d4e5-0',
      with: { number: 0, revision: REV, timeoutSeconds: TIMEOUT, round: undefined, maxCostBaseUnits: undefined, reservation: undefined },
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
      events: ['ReplicaCreated'],
      note: /^created replica web-a1b2c3d4e5-0$/,
      status: { nextReplica: 1, selector: 'nosana.io/deployment=web', updateRevision: REV, currentRevision: REV },
      requeue: SECOND,
    },
  },
  {
    reason: 'numbers are never reused: replicas 0 to 4 deleted and gone, the next is 5 (status.nextReplica)',
    status: { nextReplica: 5 },
    world: { spec: { replicas: 1 } },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      action: 'create',
      replica: nameOf(5),
      with: { number: 5 },
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
      events: ['ReplicaCreated'],
      status: { nextReplica: 6 },
    },
  },
  {
    reason: 'a NosanaJob not its own holds a replica name (an orphan of a deployment of the same name): the next number passes it',
    world: { spec: { replicas: 1 }, highestTakenNumber: 3 },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      action: 'create',
      replica: nameOf(4),
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
      events: ['ReplicaCreated'],
      status: { nextReplica: 5 },
    },
  },
  {
    reason: 'the next number follows the highest replica seen, even when status.nextReplica lags behind; Degraded while 1 of 2 is ready',
    status: { nextReplica: 1 },
    world: { spec: { replicas: 2 }, replicas: [replica(6, 'running')] },
    want: {
      phase: 'Running',
      reason: 'Degraded',
      action: 'create',
      replica: nameOf(7),
      counts: [1, 1, 1, 0],
      shows: '1/2',
      available: false,
      events: ['ReplicaCreated'],
      status: { nextReplica: 8 },
    },
  },
  {
    reason: 'scale down: a replica that is not ready goes first, even the older one (ScaledDown)',
    world: { spec: { replicas: 1 }, replicas: [replica(0, 'queued'), replica(1, 'running')] },
    want: {
      phase: 'Running',
      reason: 'Updating',
      action: 'delete',
      replica: nameOf(0),
      why: 'ScaledDown',
      counts: [2, 1, 2, 1],
      shows: '1/1',
      available: true,
      events: ['ScaledDown'],
      note: /^cancelling replica web-a1b2c3d4e5-0: 1 wanted$/,
    },
  },
  {
    reason: 'scale down among replicas equally ready: the newest goes',
    world: { spec: { replicas: 1 }, replicas: [replica(0, 'running'), replica(1, 'running')] },
    want: {
      phase: 'Running',
      reason: 'Updating',
      action: 'delete',
      replica: nameOf(1),
      why: 'ScaledDown',
      counts: [2, 2, 2, 1],
      shows: '2/1',
      available: true,
      events: ['ScaledDown'],
    },
  },
  {
    reason: 'scaled to 0: the live replicas are cancelled; Stopping',
    world: { spec: { replicas: 0 }, replicas: [replica(0, 'running')] },
    want: {
      phase: 'Stopping',
      reason: 'Stopping',
      action: 'delete',
      replica: nameOf(0),
      why: 'ScaledDown',
      counts: [1, 1, 1, 1],
      shows: '1/0',
      available: true,
      events: ['ScaledDown'],
    },
  },
  {
    reason: 'scaled to 0 with the last replica being cancelled: Stopping until its job is cancelled (it no longer counts as live)',
    world: { spec: { replicas: 0 }, replicas: [replica(0, 'running', { deleting: true })] },
    want: {
      phase: 'Stopping',
      reason: 'Stopping',
      says: /^cancelling the last 1 replicas$/,
      action: 'none',
      counts: [0, 0, 0, 0],
      shows: '0/0',
      available: true,
    },
  },
  {
    reason: 'scaled to 0 with none live: Stopped / ScaledToZero, the ended replica kept as history and counted',
    world: { spec: { replicas: 0 }, replicas: [replica(0, 'succeeded')] },
    want: {
      phase: 'Stopped',
      reason: 'ScaledToZero',
      action: 'none',
      counts: [0, 0, 0, 0],
      shows: '0/0',
      available: true,
      status: { countedEnded: [nameOf(0)], rapidFailures: 0 },
      requeue: 60_000,
    },
  },
  {
    reason: 'every wanted replica current and ready: Running / Available, nothing to do',
    world: { spec: { replicas: 2 }, replicas: [replica(0, 'running'), replica(1, 'running')] },
    want: {
      phase: 'Running',
      reason: 'Available',
      says: /^2 of 2 replicas ready$/,
      action: 'none',
      counts: [2, 2, 2, 0],
      shows: '2/2',
      available: true,
      requeue: 60_000,
    },
  },

  // --- RollingUpdate ---------------------------------------------------------------------------
  {
    reason: 'a new template: a replica of the new revision is created within maxSurge while the old one serves',
    world: { spec: { replicas: 1 }, replicas: [replica(0, 'running', { revision: OLD })] },
    want: {
      phase: 'Running',
      reason: 'Updating',
      action: 'create',
      replica: nameOf(1),
      counts: [1, 1, 0, 0],
      shows: '1/1',
      available: true,
      events: ['ReplicaCreated'],
      status: { currentRevision: OLD, updateRevision: REV },
    },
  },
  {
    reason: 'the new replica not ready yet: the old one stays (removing it would leave none ready), overlapReplicas 1',
    world: { spec: { replicas: 1 }, replicas: [replica(0, 'running', { revision: OLD }), replica(1, 'queued')] },
    want: {
      phase: 'Running',
      reason: 'Updating',
      says: /^1 of 1 replicas ready; waiting for web-a1b2c3d4e5-1 \(Queued\)$/,
      action: 'none',
      counts: [2, 1, 1, 1],
      shows: '1/1',
      available: true,
    },
  },
  {
    reason: 'the new replica ready: the old one is cancelled (RolledOut), one ready remains',
    world: { spec: { replicas: 1 }, replicas: [replica(0, 'running', { revision: OLD }), replica(1, 'running')] },
    want: {
      phase: 'Running',
      reason: 'Updating',
      action: 'delete',
      replica: nameOf(0, OLD),
      why: 'RolledOut',
      counts: [2, 2, 1, 1],
      shows: '2/1',
      available: true,
      events: ['RolledOut'],
      note: /^cancelling replica web-f6e5d4c3b2-0 of revision f6e5d4c3b2: revision a1b2c3d4e5 is rolling out$/,
    },
  },
  {
    reason: 'two wanted, maxUnavailable 0: the last old replica stays until the second new one is ready',
    world: {
      spec: { replicas: 2 },
      replicas: [replica(1, 'running', { revision: OLD }), replica(2, 'running'), replica(3, 'queued')],
    },
    want: { phase: 'Running', reason: 'Updating', action: 'none', counts: [3, 2, 2, 1], shows: '2/2', available: true },
  },
  {
    reason: 'maxSurge 0 and maxUnavailable 1: the old replica is cancelled before its successor is posted',
    world: {
      spec: { replicas: 1, strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } } },
      replicas: [replica(0, 'running', { revision: OLD })],
    },
    want: {
      phase: 'Running',
      reason: 'Updating',
      action: 'delete',
      replica: nameOf(0, OLD),
      why: 'RolledOut',
      counts: [1, 1, 0, 0],
      shows: '1/1',
      available: true,
      events: ['RolledOut'],
    },
  },
  {
    reason: 'maxSurge 0 and maxUnavailable 1, the old replica being cancelled: its successor is posted',
    world: {
      spec: { replicas: 1, strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } } },
      replicas: [replica(0, 'running', { revision: OLD, deleting: true })],
    },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      action: 'create',
      replica: nameOf(1),
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: true,
      events: ['ReplicaCreated'],
    },
  },
  {
    reason: 'an old replica that is not ready goes at once: it costs no availability',
    world: { spec: { replicas: 1 }, replicas: [replica(0, 'queued', { revision: OLD }), replica(1, 'running')] },
    want: {
      phase: 'Running',
      reason: 'Updating',
      action: 'delete',
      replica: nameOf(0, OLD),
      why: 'RolledOut',
      counts: [2, 1, 1, 1],
      shows: '1/1',
      available: true,
      events: ['RolledOut'],
    },
  },
  {
    reason: 'nothing ready on either side: the old queued replica goes all the same; Starting, since none is ready',
    world: { spec: { replicas: 1 }, replicas: [replica(0, 'queued', { revision: OLD }), replica(1, 'queued')] },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      action: 'delete',
      replica: nameOf(0, OLD),
      why: 'RolledOut',
      counts: [2, 0, 1, 1],
      shows: '0/1',
      available: false,
      events: ['RolledOut'],
    },
  },

  // --- Recreate --------------------------------------------------------------------------------
  {
    reason: 'Recreate: a live replica of the old revision is cancelled before anything is posted',
    world: { spec: { replicas: 1, strategy: { type: 'Recreate' } }, replicas: [replica(0, 'running', { revision: OLD })] },
    want: {
      phase: 'Running',
      reason: 'Updating',
      says: /^cancelling replica web-f6e5d4c3b2-0 of revision f6e5d4c3b2 before posting revision a1b2c3d4e5 \(Recreate\)$/,
      action: 'delete',
      replica: nameOf(0, OLD),
      why: 'Recreate',
      counts: [1, 1, 0, 0],
      shows: '1/1',
      available: true,
      events: ['Recreate'],
    },
  },
  {
    reason: 'Recreate, the old replica still queued: it is cancelled all the same; Starting, since none is ready',
    world: { spec: { replicas: 1, strategy: { type: 'Recreate' } }, replicas: [replica(0, 'queued', { revision: OLD })] },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      action: 'delete',
      replica: nameOf(0, OLD),
      why: 'Recreate',
      counts: [1, 0, 0, 0],
      shows: '0/1',
      available: true,
      events: ['Recreate'],
    },
  },
  {
    reason: 'Recreate, the old replica being cancelled: nothing is posted until its job is cancelled',
    world: {
      spec: { replicas: 1, strategy: { type: 'Recreate' } },
      replicas: [replica(0, 'running', { revision: OLD, deleting: true })],
    },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      says: /^waiting for web-f6e5d4c3b2-0 to be cancelled before posting revision a1b2c3d4e5 \(Recreate\)$/,
      action: 'none',
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: true,
    },
  },
  {
    reason: 'Recreate, the old replica cancelled (ended, still being deleted): the new revision is posted',
    world: {
      spec: { replicas: 1, strategy: { type: 'Recreate' } },
      replicas: [replica(0, 'failed', { revision: OLD, deleting: true })],
    },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      action: 'create',
      replica: nameOf(1),
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: true,
      events: ['ReplicaCreated'],
    },
  },

  // --- Continuous: rotation ahead of the timeout ---------------------------------------------
  {
    reason: 'a replica within rotateBefore of its end: its replacement is posted while it serves',
    world: { spec: { replicas: 1 }, replicas: [replica(0, 'running', endsIn(5 * MINUTE))] },
    want: {
      phase: 'Running',
      reason: 'Updating',
      action: 'create',
      replica: nameOf(1),
      counts: [1, 1, 1, 0],
      shows: '1/1',
      available: true,
      events: ['ReplicaCreated'],
    },
  },
  {
    reason: 'the replacement not ready yet: both run (overlapReplicas 1) and the old one is not cancelled',
    world: { spec: { replicas: 1 }, replicas: [replica(0, 'running', endsIn(5 * MINUTE)), replica(1, 'queued')] },
    want: { phase: 'Running', reason: 'Updating', action: 'none', counts: [2, 1, 2, 1], shows: '1/1', available: true },
  },
  {
    reason: 'the replacement ready: the old one is cancelled (Rotated)',
    world: { spec: { replicas: 1 }, replicas: [replica(0, 'running', endsIn(5 * MINUTE)), replica(1, 'running')] },
    want: {
      phase: 'Running',
      reason: 'Updating',
      action: 'delete',
      replica: nameOf(0),
      why: 'Rotated',
      counts: [2, 2, 2, 1],
      shows: '2/1',
      available: true,
      events: ['Rotated'],
      note: /^cancelling replica web-a1b2c3d4e5-0: its replacement took over before its timeout$/,
    },
  },
  {
    reason: 'a replica further from its end than rotateBefore: nothing to do, looked at again when the rotation is due',
    world: { spec: { replicas: 1 }, replicas: [replica(0, 'running', endsIn(10 * MINUTE + 20 * SECOND))] },
    want: {
      phase: 'Running',
      reason: 'Available',
      action: 'none',
      counts: [1, 1, 1, 0],
      shows: '1/1',
      available: true,
      requeue: 20 * SECOND,
    },
  },

  // --- health ----------------------------------------------------------------------------------
  {
    reason: 'an endpoint failing for unreachableAfter: its replica is cancelled (Unhealthy) with a Warning naming the URL',
    status: { endpoints: [failingEndpoint(0, at(-2 * MINUTE))] },
    world: {
      spec: { replicas: 2 },
      replicas: [replica(0, 'running', serving(0)), replica(1, 'running', serving(1))],
      probes: [probe(0, false), probe(1, true)],
    },
    want: {
      phase: 'Running',
      reason: 'Degraded',
      says: /^replacing unreachable replica web-a1b2c3d4e5-0$/,
      action: 'delete',
      replica: nameOf(0),
      why: 'Unhealthy',
      counts: [2, 1, 2, 0],
      shows: '1/2',
      available: false,
      events: ['Unhealthy'],
      note: /^replica web-a1b2c3d4e5-0: https:\/\/web-0\.example\.net\/ \(op web, port 8080\) failed its health checks since 2026-06-01T11:59:00Z \(connect ECONNREFUSED\)/,
      status: {
        replacedForHealth: [isoSeconds(NOW)],
        endpoints: [
          { ...failingEndpoint(0, at(-2 * MINUTE)) },
          { replica: nameOf(1), op: 'web', port: 8080, url: urlOf(1), ready: true, lastProbe: 'HTTP 200' },
        ],
      },
    },
  },
  {
    reason: 'the only replica unreachable: it is cancelled too; Starting, since none is ready',
    status: { endpoints: [failingEndpoint(0, at(-2 * MINUTE))] },
    world: { spec: { replicas: 1 }, replicas: [replica(0, 'running', serving(0))], probes: [probe(0, false)] },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      action: 'delete',
      replica: nameOf(0),
      why: 'Unhealthy',
      counts: [1, 0, 1, 0],
      shows: '0/1',
      available: false,
      events: ['Unhealthy'],
    },
  },
  {
    reason: 'failing for less than unreachableAfter: kept, its failure remembered, looked at again with the next probe',
    world: {
      spec: { replicas: 2 },
      replicas: [replica(0, 'running', serving(0)), replica(1, 'running', serving(1))],
      probes: [probe(0, false), probe(1, true)],
    },
    want: {
      phase: 'Running',
      reason: 'Degraded',
      action: 'none',
      counts: [2, 1, 2, 0],
      shows: '1/2',
      available: false,
      status: {
        replacedForHealth: undefined,
        endpoints: [
          failingEndpoint(0, NOW),
          { replica: nameOf(1), op: 'web', port: 8080, url: urlOf(1), ready: true, lastProbe: 'HTTP 200' },
        ],
      },
      requeue: 10 * SECOND,
    },
  },
  {
    reason: 'every probed replica failing at once: none is cancelled, ProbesFailing (the operator’s own way out is suspect)',
    status: { endpoints: [failingEndpoint(0, at(-2 * MINUTE)), failingEndpoint(1, at(-2 * MINUTE))] },
    world: {
      spec: { replicas: 2 },
      replicas: [replica(0, 'running', serving(0)), replica(1, 'running', serving(1))],
      probes: [probe(0, false), probe(1, false)],
    },
    want: {
      phase: 'Running',
      reason: 'ProbesFailing',
      says: /every replica fails its health checks at once \(connect ECONNREFUSED\).*none is replaced$/,
      action: 'none',
      counts: [2, 0, 2, 0],
      shows: '0/2',
      available: false,
    },
  },
  {
    reason: 'every probed replica failing at once while scaled up: none is cancelled, but the wanted replica is still posted',
    status: { endpoints: [failingEndpoint(0, at(-2 * MINUTE)), failingEndpoint(1, at(-2 * MINUTE))] },
    world: {
      spec: { replicas: 3 },
      replicas: [replica(0, 'running', serving(0)), replica(1, 'running', serving(1))],
      probes: [probe(0, false), probe(1, false)],
    },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      action: 'create',
      replica: nameOf(2),
      counts: [2, 0, 2, 0],
      shows: '0/3',
      available: false,
      events: ['ReplicaCreated'],
    },
  },
  {
    reason: 'spec.health.maxReplacementsPerHour reached: the unreachable replica is kept and only reported',
    status: { endpoints: [failingEndpoint(0, at(-2 * MINUTE))], replacedForHealth: [iso(-10 * MINUTE), iso(-20 * MINUTE)] },
    world: {
      spec: { replicas: 2, health: { maxReplacementsPerHour: 2 } },
      replicas: [replica(0, 'running', serving(0)), replica(1, 'running', serving(1))],
      probes: [probe(0, false), probe(1, true)],
    },
    want: {
      phase: 'Running',
      reason: 'Degraded',
      action: 'none',
      counts: [2, 1, 2, 0],
      shows: '1/2',
      available: false,
      status: { replacedForHealth: [iso(-10 * MINUTE), iso(-20 * MINUTE)] },
    },
  },
  {
    reason: 'a health replacement more than an hour old no longer counts toward the cap',
    status: { endpoints: [failingEndpoint(0, at(-2 * MINUTE))], replacedForHealth: [iso(-2 * HOUR), iso(-10 * MINUTE)] },
    world: {
      spec: { replicas: 2, health: { maxReplacementsPerHour: 2 } },
      replicas: [replica(0, 'running', serving(0)), replica(1, 'running', serving(1))],
      probes: [probe(0, false), probe(1, true)],
    },
    want: {
      phase: 'Running',
      reason: 'Degraded',
      action: 'delete',
      replica: nameOf(0),
      why: 'Unhealthy',
      counts: [2, 1, 2, 0],
      shows: '1/2',
      available: false,
      events: ['Unhealthy'],
      status: { replacedForHealth: [iso(-10 * MINUTE), isoSeconds(NOW)] },
    },
  },

  // --- the crash-loop fail-safe ----------------------------------------------------------------
  {
    reason: 'a replica that ended within rapidFailureWindow of its creation: a RapidFailure Warning, BackingOff for initialBackoff',
    world: { spec: { replicas: 1 }, replicas: [replica(0, 'failed', endedAfter(2 * MINUTE))] },
    want: {
      phase: 'Starting',
      reason: 'BackingOff',
      says: /^1 replicas ended soon after they were posted; the next is posted at 2026-06-01T12:01:30Z$/,
      action: 'none',
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
      events: ['RapidFailure'],
      note: /^replica web-a1b2c3d4e5-0 ended Failed \(OpFailed\) soon after it was posted: 1 in a row$/,
      status: { rapidFailures: 1, lastRapidFailure: isoSeconds(NOW), countedEnded: [nameOf(0)] },
      requeue: 30 * SECOND,
    },
  },
  {
    reason: 'a second rapid failure in a row: the wait doubles',
    status: { rapidFailures: 1, lastRapidFailure: iso(-MINUTE), countedEnded: [nameOf(0)] },
    world: {
      spec: { replicas: 1 },
      replicas: [replica(0, 'failed', endedAfter(MINUTE, at(-MINUTE))), replica(1, 'failed', endedAfter(30 * SECOND, at(-10 * SECOND)))],
    },
    want: {
      phase: 'Starting',
      reason: 'BackingOff',
      action: 'none',
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
      events: ['RapidFailure'],
      status: { rapidFailures: 2, lastRapidFailure: iso(-10 * SECOND), countedEnded: [nameOf(0), nameOf(1)] },
      requeue: 50 * SECOND,
    },
  },
  {
    reason: 'the wait over: the next replica is posted, the count kept until one proves up',
    status: { rapidFailures: 1, lastRapidFailure: iso(-31 * SECOND), countedEnded: [nameOf(0)] },
    world: { spec: { replicas: 1 }, replicas: [replica(0, 'failed', endedAfter(MINUTE, at(-31 * SECOND)))] },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      action: 'create',
      replica: nameOf(1),
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
      events: ['ReplicaCreated'],
      status: { rapidFailures: 1 },
    },
  },
  {
    reason: 'maxRapidFailures in a row: Failed / RapidFailures, nothing posted, one RapidFailures Warning',
    status: { rapidFailures: 2, lastRapidFailure: iso(-2 * MINUTE), countedEnded: THREE_COUNTED.slice(0, 2) },
    world: { spec: { replicas: 1, failSafe: { maxRapidFailures: 3 } }, replicas: THREE_FAILED },
    want: {
      phase: 'Failed',
      reason: 'RapidFailures',
      action: 'none',
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
      events: ['RapidFailure', 'RapidFailures'],
      note: /^3 replicas in a row ended soon after they were posted: posting stopped to protect the wallet; annotate nosana\.io\/reset-failures/,
      status: { rapidFailures: 3 },
    },
  },
  {
    reason: 'posting already stopped: no Warning again, still nothing posted',
    status: { rapidFailures: 3, lastRapidFailure: iso(-MINUTE), countedEnded: THREE_COUNTED },
    world: { spec: { replicas: 1, failSafe: { maxRapidFailures: 3 } }, replicas: THREE_FAILED },
    want: { phase: 'Failed', reason: 'RapidFailures', action: 'none', counts: [0, 0, 0, 0], shows: '0/1', available: false, events: [] },
  },
  {
    reason: 'a new nosana.io/reset-failures token: the count clears and posting resumes',
    status: { rapidFailures: 3, lastRapidFailure: iso(-MINUTE), countedEnded: THREE_COUNTED },
    world: { spec: { replicas: 1, failSafe: { maxRapidFailures: 3 } }, replicas: THREE_FAILED, resetToken: 'fixed-the-image' },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      action: 'create',
      replica: nameOf(3),
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
      events: ['ReplicaCreated'],
      status: { rapidFailures: 0, lastRapidFailure: undefined, failuresResetBy: 'fixed-the-image', countedEnded: THREE_COUNTED },
    },
  },
  {
    reason: 'the reset token already acted on: posting stays stopped',
    status: { rapidFailures: 3, lastRapidFailure: iso(-MINUTE), countedEnded: THREE_COUNTED, failuresResetBy: 'fixed-the-image' },
    world: { spec: { replicas: 1, failSafe: { maxRapidFailures: 3 } }, replicas: THREE_FAILED, resetToken: 'fixed-the-image' },
    want: {
      phase: 'Failed',
      reason: 'RapidFailures',
      action: 'none',
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
      status: { rapidFailures: 3, failuresResetBy: 'fixed-the-image' },
    },
  },
  {
    reason: 'a replica that ended after a whole window is no rapid failure: the count resets and posting goes on at once',
    status: { rapidFailures: 2, lastRapidFailure: iso(-HOUR), countedEnded: [nameOf(0)] },
    world: { spec: { replicas: 1 }, replicas: [replica(0, 'failed'), replica(1, 'failed', endedAfter(20 * MINUTE))] },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      action: 'create',
      replica: nameOf(2),
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
      events: ['ReplicaCreated'],
      status: { rapidFailures: 0, lastRapidFailure: undefined },
    },
  },
  {
    reason: 'a replica the deployment is cancelling is never a rapid failure',
    world: { spec: { replicas: 1 }, replicas: [replica(0, 'failed', { ...endedAfter(MINUTE), deleting: true })] },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      action: 'create',
      replica: nameOf(1),
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
      events: ['ReplicaCreated'],
      status: { rapidFailures: 0, countedEnded: [] },
    },
  },
  {
    reason: 'an old replica up for days does not excuse the new revision’s rapid failures: the back-off holds',
    status: { rapidFailures: 1, lastRapidFailure: iso(-10 * SECOND), countedEnded: [nameOf(1)] },
    world: {
      spec: { replicas: 1 },
      replicas: [
        replica(0, 'running', { revision: OLD, startedAt: at(-48 * HOUR), endsAt: at(HOUR) }),
        replica(1, 'failed', endedAfter(MINUTE, at(-10 * SECOND))),
      ],
    },
    want: {
      phase: 'Running',
      reason: 'BackingOff',
      action: 'none',
      counts: [1, 1, 0, 0],
      shows: '1/1',
      available: true,
      status: { rapidFailures: 1 },
      requeue: 20 * SECOND,
    },
  },
  {
    reason: 'a replica posted after the last rapid failure and up a whole window proves the template: the count resets',
    status: { rapidFailures: 2, lastRapidFailure: iso(-HOUR), countedEnded: [nameOf(0)] },
    world: {
      spec: { replicas: 1 },
      replicas: [replica(0, 'failed'), replica(1, 'running', { createdAt: at(-50 * MINUTE), startedAt: at(-45 * MINUTE) })],
    },
    want: {
      phase: 'Running',
      reason: 'Available',
      action: 'none',
      counts: [1, 1, 1, 0],
      shows: '1/1',
      available: true,
      status: { rapidFailures: 0, lastRapidFailure: undefined },
    },
  },

  // --- the budget ------------------------------------------------------------------------------
  {
    reason: 'the next reservation would pass spec.budget: nothing posted, BudgetExhausted True naming the budget and when it fits',
    world: { spec: { replicas: 1, ...BUDGET }, budget: [entry(nameOf(0, OLD), 3_500_000n, at(-HOUR))] },
    want: {
      phase: 'Starting',
      reason: 'BudgetExhausted',
      action: 'none',
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
      budget:
        /^another replica of up to 2 NOS would pass spec\.budget of 5 NOS \(3\.5 NOS committed in the last 24 h\); it fits again at 2026-06-02T11:01:00Z$/,
      status: { spent24h: '3.5', spent24hBaseUnits: '3500000' },
    },
  },
  {
    reason: 'the reservation fits: the create carries it, as the replica’s maxCost',
    world: { spec: { replicas: 1, ...BUDGET }, budget: [entry(nameOf(0, OLD), NOS, at(-HOUR))] },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      action: 'create',
      replica: nameOf(0),
      with: { maxCostBaseUnits: RESERVATION, reservation: RESERVATION },
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
      budget: 'WithinBudget',
      events: ['ReplicaCreated'],
      status: { spent24h: '1', spent24hBaseUnits: '1000000' },
    },
  },
  {
    reason: 'entries older than the rolling day no longer count',
    world: { spec: { replicas: 1, ...BUDGET }, budget: [entry(nameOf(0, OLD), 4n * NOS, at(-25 * HOUR))] },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      action: 'create',
      replica: nameOf(0),
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
      budget: 'WithinBudget',
      events: ['ReplicaCreated'],
      status: { spent24h: '0' },
    },
  },
  {
    reason: 'a reservation larger than spec.budget on its own: refused, the message says what to change',
    world: { spec: { replicas: 1, budget: '1' }, budget: [] },
    want: {
      phase: 'Starting',
      reason: 'BudgetExhausted',
      action: 'none',
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
      budget: /would pass spec\.budget of 1 NOS .*and exceeds it on its own: raise spec\.budget or lower the replicas' timeout or maxCost$/,
    },
  },
  {
    reason: 'a reservation written just before a crash is not counted twice: the create of that replica is retried',
    status: { nextReplica: 1 },
    world: {
      spec: { replicas: 1, ...BUDGET },
      budget: [entry(nameOf(0, OLD), RESERVATION, at(-HOUR)), entry(nameOf(1), RESERVATION, at(-5 * SECOND))],
    },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      action: 'create',
      replica: nameOf(1),
      with: { reservation: RESERVATION },
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
      budget: 'WithinBudget',
      events: ['ReplicaCreated'],
    },
  },
  {
    reason: 'an ended replica whose ledger entry is still its reservation: what it cost is settled first',
    world: {
      spec: { replicas: 1, ...BUDGET },
      replicas: [replica(0, 'succeeded', { costBaseUnits: 500_000n })],
      budget: [entry(nameOf(0), RESERVATION, at(-2 * HOUR))],
    },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      says: /^recording what replica web-a1b2c3d4e5-0 cost$/,
      action: 'settle',
      replica: nameOf(0),
      with: { cost: 500_000n },
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
      budget: 'WithinBudget',
      status: { spent24h: '2' },
    },
  },
  {
    reason: 'an ended replica with a reservation and an extension: settled into one entry of what it cost',
    world: {
      spec: { replicas: 1, ...BUDGET },
      replicas: [replica(0, 'succeeded', { costBaseUnits: 2_200_000n })],
      budget: [entry(nameOf(0), RESERVATION, at(-2 * HOUR)), entry(`${nameOf(0)}@extend:7200`, 360_000n, at(-HOUR))],
    },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      action: 'settle',
      replica: nameOf(0),
      with: { cost: 2_200_000n },
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
      budget: 'WithinBudget',
    },
  },
  {
    reason: 'settled already: never settled again, the next replica is posted',
    world: {
      spec: { replicas: 1, ...BUDGET },
      replicas: [replica(0, 'succeeded', { costBaseUnits: 500_000n })],
      budget: [entry(nameOf(0), 500_000n, at(-2 * HOUR))],
    },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      action: 'create',
      replica: nameOf(1),
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
      budget: 'WithinBudget',
      events: ['ReplicaCreated'],
    },
  },
  {
    reason: 'the ledger cannot be read: nothing posted (an unread ledger is never an empty one), BudgetExhausted True',
    world: { spec: { replicas: 1, ...BUDGET }, budget: { error: 'configmaps "nosana-budget-web" is forbidden' } },
    want: {
      phase: 'Starting',
      reason: 'BudgetExhausted',
      action: 'none',
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
      budget: /^the budget cannot be checked: configmaps "nosana-budget-web" is forbidden$/,
      status: { spent24h: undefined },
    },
  },

  // --- Extend ----------------------------------------------------------------------------------
  {
    reason: 'Extend: a replica within rotateBefore of its end has its timeout raised by extendBy, charged price × extendBy',
    world: { spec: EXTEND, replicas: [replica(0, 'running', endsIn(5 * MINUTE))] },
    want: {
      phase: 'Running',
      reason: 'Updating',
      says: /^raising the timeout of replica web-a1b2c3d4e5-0 to 7200s$/,
      action: 'extend',
      replica: nameOf(0),
      with: { timeoutSeconds: 7_200n, charge: PRICE * 3_600n },
      counts: [1, 1, 1, 0],
      shows: '1/1',
      available: true,
    },
  },
  {
    reason: 'Extend: a replica further from its end than rotateBefore is left alone',
    world: { spec: EXTEND, replicas: [replica(0, 'running', endsIn(30 * MINUTE))] },
    want: { phase: 'Running', reason: 'Available', action: 'none', counts: [1, 1, 1, 0], shows: '1/1', available: true },
  },
  {
    reason: 'Extend: an extension the budget cannot fit is refused, BudgetExhausted True; the replica runs to its end',
    world: {
      spec: { ...EXTEND, budget: '1' },
      replicas: [replica(0, 'running', endsIn(5 * MINUTE))],
      budget: [entry(nameOf(0), 800_000n, at(-55 * MINUTE))],
    },
    want: {
      phase: 'Running',
      reason: 'Available',
      action: 'none',
      counts: [1, 1, 1, 0],
      shows: '1/1',
      available: true,
      budget: /^raising the timeout of replica web-a1b2c3d4e5-0 to 7200s of up to 0\.36 NOS would pass spec\.budget of 1 NOS/,
    },
  },
  {
    reason: 'Extend: an extension counted just before a crash is not counted twice: the timeout is raised again',
    world: {
      spec: { ...EXTEND, budget: '1' },
      replicas: [replica(0, 'running', endsIn(5 * MINUTE))],
      budget: [entry(nameOf(0), 500_000n, at(-55 * MINUTE)), entry(`${nameOf(0)}@extend:7200`, 360_000n, at(-5 * SECOND))],
    },
    want: {
      phase: 'Running',
      reason: 'Updating',
      action: 'extend',
      replica: nameOf(0),
      with: { timeoutSeconds: 7_200n, charge: 360_000n },
      counts: [1, 1, 1, 0],
      shows: '1/1',
      available: true,
      budget: 'WithinBudget',
    },
  },

  // --- Once ------------------------------------------------------------------------------------
  {
    reason: 'Once: a replica that succeeded is done; one more is posted for the rest',
    world: { spec: ONCE, replicas: [replica(0, 'succeeded')] },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      action: 'create',
      replica: nameOf(1),
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
      events: ['ReplicaCreated'],
    },
  },
  {
    reason: 'Once: a replica that failed is not done: another is posted',
    world: { spec: ONCE, replicas: [replica(0, 'succeeded'), replica(1, 'failed')] },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      action: 'create',
      replica: nameOf(2),
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
      events: ['ReplicaCreated'],
    },
  },
  {
    reason: 'Once: every replica succeeded: Completed',
    world: { spec: ONCE, replicas: [replica(0, 'succeeded'), replica(1, 'succeeded')] },
    want: {
      phase: 'Completed',
      reason: 'Completed',
      says: /^every replica of revision a1b2c3d4e5 ran to its end$/,
      action: 'none',
      counts: [0, 0, 0, 0],
      shows: '0/0',
      available: true,
    },
  },

  // --- Scheduled -------------------------------------------------------------------------------
  {
    reason: 'Scheduled, the last round posted and over: Waiting / Scheduled, the message gives the next round',
    world: { spec: scheduled(), replicas: [replica(0, 'succeeded', { round: TICK_S, ...endedAfter(40 * SECOND) })] },
    want: {
      phase: 'Waiting',
      reason: 'Scheduled',
      says: /^the next round is at 2026-06-01T12:05:00Z \(\*\/5 \* \* \* \*, UTC\)$/,
      action: 'none',
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: true,
      status: { lastScheduleTime: '2026-06-01T12:00:00Z', rapidFailures: 0 },
    },
  },
  {
    reason: 'Scheduled, a tick due: a replica of its round is posted, labelled with the tick in Unix seconds',
    status: { lastScheduleTime: '2026-06-01T11:55:00Z' },
    world: { spec: scheduled() },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      says: /^posting the round of 2026-06-01T12:00:00Z$/,
      action: 'create',
      replica: nameOf(0),
      with: { round: TICK_S },
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
      events: ['ReplicaCreated'],
      status: { lastScheduleTime: '2026-06-01T11:55:00Z' },
    },
  },
  {
    reason: 'Scheduled, created after the latest tick: no round for a time before the deployment existed (as a CronJob)',
    world: { spec: scheduled(), createdAt: at(-30 * SECOND) },
    want: {
      phase: 'Waiting',
      reason: 'Scheduled',
      says: /^the next round is at 2026-06-01T12:05:00Z/,
      action: 'none',
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: true,
    },
  },
  {
    reason: 'Scheduled, created before the latest tick: its round is posted',
    world: { spec: scheduled(), createdAt: at(-2 * MINUTE) },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      action: 'create',
      replica: nameOf(0),
      with: { round: TICK_S },
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
      events: ['ReplicaCreated'],
    },
  },
  {
    reason: 'Scheduled, Forbid: the previous round still runs, so the new round waits',
    world: { spec: scheduled(), replicas: [replica(0, 'running', { round: PREVIOUS_TICK_S })] },
    want: {
      phase: 'Running',
      reason: 'Updating',
      says: /^the round of 2026-06-01T12:00:00Z waits for the previous one to end \(concurrencyPolicy Forbid\)$/,
      action: 'none',
      counts: [1, 1, 1, 0],
      shows: '1/1',
      available: true,
      status: { lastScheduleTime: '2026-06-01T11:55:00Z' },
      requeue: 5 * SECOND,
    },
  },
  {
    reason: 'Scheduled, Replace: the previous round’s replica is cancelled before the new round is posted',
    world: { spec: scheduled({ concurrencyPolicy: 'Replace' }), replicas: [replica(0, 'running', { round: PREVIOUS_TICK_S })] },
    want: {
      phase: 'Running',
      reason: 'Updating',
      action: 'delete',
      replica: nameOf(0),
      why: 'Replaced',
      counts: [1, 1, 1, 0],
      shows: '1/1',
      available: true,
      events: ['Replaced'],
    },
  },
  {
    reason: 'Scheduled, Replace, the previous round still queued: it is cancelled all the same; Starting, since none is ready',
    world: { spec: scheduled({ concurrencyPolicy: 'Replace' }), replicas: [replica(0, 'queued', { round: PREVIOUS_TICK_S })] },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      action: 'delete',
      replica: nameOf(0),
      why: 'Replaced',
      counts: [1, 0, 1, 0],
      shows: '0/1',
      available: false,
      events: ['Replaced'],
    },
  },
  {
    reason: 'Scheduled, Allow: the previous round runs on and the new round is posted beside it',
    world: { spec: scheduled({ concurrencyPolicy: 'Allow' }), replicas: [replica(0, 'running', { round: PREVIOUS_TICK_S })] },
    want: {
      phase: 'Running',
      reason: 'Updating',
      action: 'create',
      replica: nameOf(1),
      with: { round: TICK_S },
      counts: [1, 1, 1, 0],
      shows: '1/1',
      available: true,
      events: ['ReplicaCreated'],
    },
  },
  {
    reason:
      'Scheduled, Allow, two earlier rounds still live (say never posted, for want of a wallet): the new round waits, at most three at once',
    world: {
      spec: scheduled({ concurrencyPolicy: 'Allow' }),
      replicas: [replica(0, 'queued', { round: PREVIOUS_TICK_S - 300 }), replica(1, 'queued', { round: PREVIOUS_TICK_S })],
    },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      says: /waits: 2 earlier rounds still run, and at most 3 run at once \(concurrencyPolicy Allow\)$/,
      action: 'none',
      counts: [2, 0, 2, 1],
      shows: '0/1',
      available: false,
    },
  },
  {
    reason: 'Scheduled, a tick older than startingDeadline is skipped: Waiting for the next one',
    status: { lastScheduleTime: '2026-06-01T11:55:00Z' },
    world: { spec: scheduled({ startingDeadline: '30s' }) },
    want: {
      phase: 'Waiting',
      reason: 'Scheduled',
      action: 'none',
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: true,
      status: { lastScheduleTime: '2026-06-01T11:55:00Z' },
    },
  },

  // --- history ---------------------------------------------------------------------------------
  {
    reason: 'ended replicas beyond revisionHistoryLimit: the oldest counted one is deleted (HistoryLimit)',
    status: { countedEnded: [nameOf(0), nameOf(1), nameOf(2)] },
    world: {
      spec: { replicas: 1, revisionHistoryLimit: 1 },
      replicas: [replica(2, 'failed'), replica(0, 'failed'), replica(1, 'succeeded'), replica(3, 'running')],
    },
    want: {
      phase: 'Running',
      reason: 'Available',
      action: 'delete',
      replica: nameOf(0),
      why: 'HistoryLimit',
      counts: [1, 1, 1, 0],
      shows: '1/1',
      available: true,
      events: ['HistoryLimit'],
    },
  },
  {
    reason: 'within revisionHistoryLimit: nothing pruned',
    status: { countedEnded: [nameOf(0), nameOf(1)] },
    world: {
      spec: { replicas: 1, revisionHistoryLimit: 2 },
      replicas: [replica(0, 'failed'), replica(1, 'succeeded'), replica(2, 'running')],
    },
    want: { phase: 'Running', reason: 'Available', action: 'none', counts: [1, 1, 1, 0], shows: '1/1', available: true },
  },
  {
    reason: 'revisionHistoryLimit 0: the newest replica is kept even when it ended (the next number follows it)',
    status: { countedEnded: [nameOf(1)] },
    world: { spec: { replicas: 0, revisionHistoryLimit: 0 }, replicas: [replica(1, 'failed')] },
    want: { phase: 'Stopped', reason: 'ScaledToZero', action: 'none', counts: [0, 0, 0, 0], shows: '0/0', available: true },
  },

  // --- paused, and specs that cannot be acted on ----------------------------------------------
  {
    reason: 'paused: Paused, nothing posted though a replica is missing',
    world: { spec: { replicas: 2, paused: true }, replicas: [replica(0, 'running')] },
    want: { phase: 'Paused', reason: 'Paused', action: 'none', counts: [1, 1, 1, 0], shows: '1/2', available: false },
  },
  {
    reason: 'paused still settles what an ended replica cost: counting money moves none',
    world: {
      spec: { replicas: 1, paused: true, ...BUDGET },
      replicas: [replica(0, 'succeeded', { costBaseUnits: 500_000n })],
      budget: [entry(nameOf(0), RESERVATION, at(-2 * HOUR))],
    },
    want: {
      phase: 'Starting',
      reason: 'Starting',
      action: 'settle',
      replica: nameOf(0),
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
      budget: 'WithinBudget',
    },
  },
  {
    reason: 'a spec the operator cannot act on (maxSurge neither a number nor a percentage): Failed / InvalidSpec naming the field',
    world: { spec: { replicas: 1, strategy: { rollingUpdate: { maxSurge: 'lots' } } }, replicas: [replica(0, 'running')] },
    want: {
      phase: 'Failed',
      reason: 'InvalidSpec',
      says: /^spec\.strategy\.rollingUpdate\.maxSurge must be a number or a percentage such as "25%", got "lots"$/,
      action: 'none',
      counts: [1, 0, 1, 1],
      shows: '0/0',
      available: true,
    },
  },
  {
    reason: 'a cron expression that is not one: Failed / InvalidSpec naming spec.schedule.cron',
    world: { spec: scheduled({ cron: 'every five minutes' }) },
    want: {
      phase: 'Failed',
      reason: 'InvalidSpec',
      says: /^spec\.schedule\.cron must have five fields/,
      action: 'none',
      counts: [0, 0, 0, 0],
      shows: '0/0',
      available: true,
    },
  },
  {
    reason: 'terms that cannot be told: Failed / InvalidSpec with their message',
    world: {
      spec: { replicas: 1 },
      terms: { error: 'spec.template.spec.timeout is needed: market gpu-market is not a NosanaMarket of this namespace' },
    },
    want: {
      phase: 'Failed',
      reason: 'InvalidSpec',
      says: /^spec\.template\.spec\.timeout is needed/,
      action: 'none',
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
    },
  },
  {
    reason: 'terms that cannot be told with no replica wanted: nothing to post, so no InvalidSpec',
    world: { spec: { replicas: 0 }, terms: { error: 'spec.template.spec.timeout is needed' } },
    want: { phase: 'Stopped', reason: 'ScaledToZero', action: 'none', counts: [0, 0, 0, 0], shows: '0/0', available: true },
  },
  {
    reason: 'Continuous with a timeout no longer than rotateBefore: Failed / InvalidSpec (a replacement would be due before it starts)',
    world: { spec: { replicas: 1 }, terms: { ...TERMS, timeoutSeconds: 600n } },
    want: {
      phase: 'Failed',
      reason: 'InvalidSpec',
      says: /^spec\.rotateBefore must be shorter than the replicas' timeout \(600s\)/,
      action: 'none',
      counts: [0, 0, 0, 0],
      shows: '0/1',
      available: false,
    },
  },
  {
    reason: 'a replica of the current template stalled: Failed / ReplicaStalled with its own reason, nothing more posted',
    world: { spec: { replicas: 2 }, replicas: [replica(0, 'stalled')] },
    want: {
      phase: 'Failed',
      reason: 'ReplicaStalled',
      says: /^replica web-a1b2c3d4e5-0 cannot be posted \(InvalidDefinition\): ops\[0\] has no image$/,
      action: 'none',
      counts: [1, 0, 1, 0],
      shows: '0/2',
      available: false,
    },
  },
];

describe('decideDeployment: a NosanaDeployment', () => {
  for (const row of rows) {
    test(row.reason, () => {
      const status = row.status ?? {};
      const before = structuredClone(status);
      const decision = decideDeployment(status, world(row.world));
      assert.deepEqual(status, before, 'the input status is not changed');
      check(decision, row.want);
    });
  }

  test('a look that sees nothing new decides nothing new: no Event, the same status', () => {
    const input = world({ spec: { replicas: 2 }, replicas: [replica(0, 'running'), replica(1, 'running')] });
    const first = decideDeployment({}, input);
    const again = decideDeployment(first.status, input);
    assert.deepEqual([again.action.kind, again.events], ['none', []]);
    assert.deepEqual(again.status, first.status);
  });

  test('the fail-safe announces that posting stopped once, however often it is looked at again', () => {
    const input = world({ spec: { replicas: 1, failSafe: { maxRapidFailures: 3 } }, replicas: THREE_FAILED });
    const first = decideDeployment({}, input);
    const again = decideDeployment(first.status, input);
    assert.deepEqual(
      first.events.map((event) => event.reason),
      ['RapidFailure', 'RapidFailure', 'RapidFailure', 'RapidFailures'],
    );
    assert.deepEqual([again.status.phase, again.action.kind, again.events], ['Failed', 'none', []]);
  });
});

// ---------------------------------------------------------------------------------------------
// Sequences: reconciles against a cluster that creates, starts and removes replicas

interface Cluster {
  status: NosanaDeploymentStatus;
  replicas: ReplicaView[];
  created: string[];
  deleted: string[];
}

/** Performs the action as act.ts and the NosanaJob controller would: a create is queued, a delete is gone. */
function perform(cluster: Cluster, action: DeploymentAction): void {
  if (action.kind === 'create') {
    cluster.created.push(action.plan.name);
    cluster.replicas = [...cluster.replicas, replica(action.plan.number, 'queued', { revision: action.plan.revision, createdAt: NOW })];
  } else if (action.kind === 'delete') {
    cluster.deleted.push(action.replica.name);
    cluster.replicas = cluster.replicas.filter((candidate) => candidate.name !== action.replica.name);
  } else {
    assert.equal(action.kind, 'none', 'only creates and deletes in these sequences');
  }
}

/** Every queued replica is taken by a node; true when one was. */
function start(cluster: Cluster): boolean {
  const queued = cluster.replicas.filter((candidate) => candidate.phase === 'Queued');
  cluster.replicas = cluster.replicas.map((candidate) =>
    candidate.phase === 'Queued'
      ? replica(candidate.number, 'running', { revision: candidate.revision, createdAt: NOW, startedAt: at(-MINUTE) })
      : candidate,
  );
  return queued.length > 0;
}

/**
 * Reconciles until the deployment settles, nodes taking the queued replicas whenever nothing is
 * left to do; `after` is called with each decision once its action is performed.
 */
function settle(cluster: Cluster, spec: SpecInput, after: (decision: DeploymentDecision) => void = () => {}): DeploymentDecision {
  for (let step = 0; step < 60; step++) {
    const decision = decideDeployment(cluster.status, world({ spec, replicas: cluster.replicas }));
    perform(cluster, decision.action);
    cluster.status = decision.status;
    after(decision);
    if (decision.action.kind === 'none' && !start(cluster)) return decision;
  }
  assert.fail('the deployment did not settle within 60 reconciles');
}

describe('decideDeployment: sequences', () => {
  test('scaled 0 → 2 → 1 → 2: the replica removed is the newest, and its number is never reused', () => {
    const cluster: Cluster = { status: {}, replicas: [], created: [], deleted: [] };
    settle(cluster, { replicas: 2 });
    settle(cluster, { replicas: 1 });
    const last = settle(cluster, { replicas: 2 });
    assert.deepEqual(cluster.created, [nameOf(0), nameOf(1), nameOf(2)]);
    assert.deepEqual(cluster.deleted, [nameOf(1)]);
    assert.deepEqual(
      [last.status.phase, findCondition(last.status.conditions, 'Ready')?.reason, last.status.ready],
      ['Running', 'Available', '2/2'],
    );
    assert.equal(last.status.nextReplica, 3);
  });

  const strategies: { text: string; rollingUpdate: { maxSurge: number | string; maxUnavailable: number | string }; minReady: number }[] = [
    { text: 'maxSurge 1, maxUnavailable 0', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 }, minReady: 3 },
    { text: 'maxSurge 0, maxUnavailable 1', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 }, minReady: 2 },
    { text: 'maxSurge 50%, maxUnavailable 34%', rollingUpdate: { maxSurge: '50%', maxUnavailable: '34%' }, minReady: 2 },
  ];
  for (const { text, rollingUpdate, minReady } of strategies) {
    test(`a rolling update of 3 replicas (${text}) never leaves fewer than ${minReady} ready and ends Available on the new revision`, () => {
      const old = [0, 1, 2].map((number) => replica(number, 'running', { revision: OLD }));
      const cluster: Cluster = { status: { nextReplica: 3 }, replicas: old, created: [], deleted: [] };
      const spec: SpecInput = { replicas: 3, strategy: { rollingUpdate } };
      let surge = 0;
      const last = settle(cluster, spec, () => {
        const live = cluster.replicas.filter((candidate) => !candidate.ended && !candidate.deleting);
        const ready = live.filter((candidate) => candidate.running).length;
        assert.ok(ready >= minReady, `${ready} ready after ${cluster.deleted.at(-1) ?? 'no deletion'}`);
        surge = Math.max(surge, live.length - 3);
      });
      assert.deepEqual(cluster.deleted.toSorted(), old.map((view) => view.name).toSorted(), 'every old replica went, and only they');
      assert.deepEqual(cluster.created, [nameOf(3), nameOf(4), nameOf(5)]);
      assert.ok(surge <= (typeof rollingUpdate.maxSurge === 'number' ? rollingUpdate.maxSurge : 2), `surge ${surge}`);
      assert.deepEqual(
        [last.status.phase, findCondition(last.status.conditions, 'Ready')?.reason, last.status.ready, last.status.currentRevision],
        ['Running', 'Available', '3/3', REV],
      );
    });
  }
});
