// Turning the int-or-string fields of NosanaJob and NosanaMarket specs into the bigint numbers the
// chain works with: durations into whole seconds and NOS amounts into base units. (What a post
// costs is chain/money.ts's listCharge.)
import { BASE_UNITS_PER_NOS, parseNos } from '../../chain/money.ts';
import type { NosanaJobSpec } from '../../api/crds/nosana-job.ts';
import { ceilSeconds, durationNanos } from '../../api/duration.ts';

/**
 * Whole seconds from a spec field that is either an integer of seconds or a duration such as
 * "30m" or "1h30m". Fractions of a second round up: a job's timeout is paid for in whole seconds
 * and rounding down could cut a job short. `field` names the field in the error.
 */
export function durationSeconds(value: number | string, field: string): bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${field} must be a positive whole number of seconds, got ${value}`);
    return BigInt(value);
  }
  const nanos = durationNanos(value);
  if (nanos === undefined)
    throw new Error(`${field} must be a number of seconds or a duration such as "30m" or "1h30m", got ${JSON.stringify(value)}`);
  const seconds = ceilSeconds(nanos);
  if (seconds <= 0n) throw new Error(`${field} must be longer than zero, got ${JSON.stringify(value)}`);
  return seconds;
}

/** NOS base units from a spec amount: a whole number of NOS, or a decimal string such as "0.75". */
export function nosAmount(value: number | string, field: string): bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new Error(`${field} must be a non-negative whole number of NOS or a decimal string, got ${value}`);
    return BigInt(value) * BASE_UNITS_PER_NOS;
  }
  try {
    return parseNos(value);
  } catch (error) {
    throw new Error(`${field}: ${(error as Error).message}`, { cause: error });
  }
}

/** spec.maxCost in base units; undefined when the job sets no budget. */
export function maxCostBaseUnits(spec: Pick<NosanaJobSpec, 'maxCost'>): bigint | undefined {
  return spec.maxCost === undefined ? undefined : nosAmount(spec.maxCost, 'spec.maxCost');
}
