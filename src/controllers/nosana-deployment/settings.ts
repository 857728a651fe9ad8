// A NosanaDeployment's spec as the decision works with it: durations in milliseconds, surge and
// unavailability as replica counts, the schedule parsed, the budget in base units. The API
// server's rules catch most mistakes; what only the operator can check (a cron expression, a time
// zone, a percentage of replicas) is refused here with a message naming the field.
import { Cron } from 'croner';
import type { DeploymentMode, NosanaDeploymentSpec } from '../../api/crds/nosana-deployment.ts';
import { parseDuration } from '../../api/duration.ts';
import { nosAmount } from '../nosana-job/spec-values.ts';

export interface ScheduleSettings {
  cron: Cron;
  text: string;
  timeZone: string;
  concurrencyPolicy: 'Forbid' | 'Replace' | 'Allow';
  startingDeadlineMs: number;
}

export interface DeploymentSettings {
  replicas: number;
  mode: DeploymentMode;
  recreate: boolean;
  maxSurge: number;
  maxUnavailable: number;
  rotateBeforeMs: number;
  extendBySeconds: bigint;
  schedule?: ScheduleSettings;
  budget?: bigint;
  unreachableAfterMs: number;
  probeIntervalMs: number;
  maxReplacementsPerHour: number;
  rapidFailureWindowMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  maxRapidFailures: number;
  endpointsConfigMap: boolean;
  paused: boolean;
  revisionHistoryLimit: number;
}

export class SpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpecError';
  }
}

function ms(text: string | undefined, fallback: string, field: string): number {
  try {
    return parseDuration(text ?? fallback, field);
  } catch (error) {
    throw new SpecError((error as Error).message);
  }
}

/** A number or a percentage of `replicas`, rounded up (surge) or down (unavailable), as a Deployment does. */
function replicaCount(value: number | string | undefined, fallback: number, replicas: number, roundUp: boolean, field: string): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number') return value;
  const match = /^([0-9]{1,3})%$/.exec(value);
  if (match === null) throw new SpecError(`${field} must be a number or a percentage such as "25%", got ${JSON.stringify(value)}`);
  const share = (Number(match[1]) * replicas) / 100;
  return roundUp ? Math.ceil(share) : Math.floor(share);
}

const CRON_MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

function scheduleSettings(schedule: NonNullable<NosanaDeploymentSpec['schedule']>): ScheduleSettings {
  const text = schedule.cron.trim();
  // A CronJob's five fields and macros; a sixth, leading field of seconds for rounds closer than a minute.
  const fields = text.split(/\s+/).length;
  const macro = CRON_MACROS.has(text.toLowerCase());
  if (!macro && fields !== 5 && fields !== 6)
    throw new SpecError(
      `spec.schedule.cron must have five fields (minute hour day-of-month month day-of-week), six with a leading seconds field, or be one of ${[...CRON_MACROS].join(', ')}; got ${JSON.stringify(schedule.cron)}`,
    );
  const timeZone = schedule.timeZone ?? 'UTC';
  // Croner reads an empty zone as the operator's own, not UTC (a CronJob refuses it too).
  if (timeZone.trim() === '')
    throw new SpecError('spec.schedule.timeZone must name a time zone such as "Europe/Amsterdam", or be left out for UTC; got ""');
  let cron: Cron;
  try {
    cron = new Cron(text, { timezone: timeZone, paused: true });
    cron.nextRun(new Date(0));
  } catch (error) {
    const problem = (error as Error).message;
    const field = /timezone/i.test(problem) ? 'spec.schedule.timeZone' : 'spec.schedule.cron';
    throw new SpecError(`${field} is not valid: ${problem.split('. ')[0] ?? problem}`);
  }
  return {
    cron,
    text,
    timeZone,
    concurrencyPolicy: schedule.concurrencyPolicy,
    startingDeadlineMs: ms(schedule.startingDeadline, '10m', 'spec.schedule.startingDeadline'),
  };
}

/** The spec's settings; throws a SpecError naming the field when one cannot be acted on. */
export function deploymentSettings(spec: NosanaDeploymentSpec): DeploymentSettings {
  const replicas = spec.replicas;
  const recreate = spec.strategy?.type === 'Recreate';
  const rolling = spec.strategy?.rollingUpdate;
  const maxSurge = recreate ? 0 : replicaCount(rolling?.maxSurge, 1, replicas, true, 'spec.strategy.rollingUpdate.maxSurge');
  const maxUnavailable = recreate
    ? replicas
    : replicaCount(rolling?.maxUnavailable, 0, replicas, false, 'spec.strategy.rollingUpdate.maxUnavailable');
  if (!recreate && maxSurge === 0 && maxUnavailable === 0 && replicas > 0)
    throw new SpecError('spec.strategy.rollingUpdate: maxSurge and maxUnavailable cannot both be 0 (no replica could ever be replaced)');
  const extendByMs = ms(spec.extendBy, '1h', 'spec.extendBy');
  let budget: bigint | undefined;
  try {
    budget = spec.budget === undefined ? undefined : nosAmount(spec.budget, 'spec.budget');
  } catch (error) {
    throw new SpecError((error as Error).message);
  }
  return {
    replicas,
    mode: spec.mode,
    recreate,
    maxSurge,
    maxUnavailable: Math.min(maxUnavailable, replicas),
    rotateBeforeMs: ms(spec.rotateBefore, '10m', 'spec.rotateBefore'),
    extendBySeconds: BigInt(Math.ceil(extendByMs / 1000)),
    ...(spec.schedule === undefined ? {} : { schedule: scheduleSettings(spec.schedule) }),
    ...(budget === undefined ? {} : { budget }),
    unreachableAfterMs: ms(spec.health?.unreachableAfter, '60s', 'spec.health.unreachableAfter'),
    probeIntervalMs: ms(spec.health?.probeInterval, '10s', 'spec.health.probeInterval'),
    maxReplacementsPerHour: spec.health?.maxReplacementsPerHour ?? 6,
    rapidFailureWindowMs: ms(spec.failSafe?.rapidFailureWindow, '5m', 'spec.failSafe.rapidFailureWindow'),
    initialBackoffMs: ms(spec.failSafe?.initialBackoff, '30s', 'spec.failSafe.initialBackoff'),
    maxBackoffMs: ms(spec.failSafe?.maxBackoff, '1h', 'spec.failSafe.maxBackoff'),
    maxRapidFailures: spec.failSafe?.maxRapidFailures ?? 8,
    endpointsConfigMap: spec.endpointsConfigMap,
    paused: spec.paused,
    revisionHistoryLimit: spec.revisionHistoryLimit,
  };
}
