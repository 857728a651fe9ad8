// Reading JSON-RPC positional params and their config objects, answering "Invalid params" with
// the field at fault.
import { PublicKey } from '@solana/web3.js';
import type { Commitment } from '../chain.ts';
import { RPC_ERROR, RpcError, invalidParams } from './rpc-error.ts';

export type Params = readonly unknown[];
export type Config = Record<string, unknown>;

export function stringParam(params: Params, index: number, what: string): string {
  const value = params[index];
  if (typeof value !== 'string') throw invalidParams(`Invalid params: ${what} (param ${index}) must be a string`);
  return value;
}

export function pubkeyParam(params: Params, index: number, what: string): PublicKey {
  return parsePubkey(stringParam(params, index, what), what);
}

export function parsePubkey(value: string, what: string): PublicKey {
  try {
    const key = new PublicKey(value);
    if (key.toBase58() !== value) throw new Error('not canonical');
    return key;
  } catch {
    throw invalidParams(`Invalid param: ${what} is not a valid public key: ${value}`);
  }
}

export function integerParam(params: Params, index: number, what: string): number {
  const value = params[index];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw invalidParams(`Invalid params: ${what} (param ${index}) must be a non-negative integer`);
  return value;
}

export function arrayParam(params: Params, index: number, what: string): unknown[] {
  const value = params[index];
  if (!Array.isArray(value)) throw invalidParams(`Invalid params: ${what} (param ${index}) must be an array`);
  return value;
}

/** The optional config object at `index` ({} when absent or null). */
export function configParam(params: Params, index: number): Config {
  const value = params[index];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidParams(`Invalid params: config (param ${index}) must be an object`);
  return value as Config;
}

export function optionalString(config: Config, field: string): string | undefined {
  const value = config[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidParams(`Invalid params: ${field} must be a string`);
  return value;
}

export function optionalBoolean(config: Config, field: string): boolean | undefined {
  const value = config[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalidParams(`Invalid params: ${field} must be a boolean`);
  return value;
}

export function optionalInteger(config: Config, field: string): number | undefined {
  const value = config[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw invalidParams(`Invalid params: ${field} must be a non-negative integer`);
  return value;
}

const COMMITMENTS: Record<string, Commitment> = {
  processed: 'processed',
  confirmed: 'confirmed',
  finalized: 'finalized',
  // Deprecated names Solana still accepts.
  recent: 'processed',
  single: 'confirmed',
  singleGossip: 'confirmed',
  root: 'finalized',
  max: 'finalized',
};

/** The config's commitment (`field`, usually "commitment"), finalized when absent, as Solana defaults. */
export function commitmentOf(config: Config, field = 'commitment'): Commitment {
  const name = optionalString(config, field);
  if (name === undefined) return 'finalized';
  const commitment = COMMITMENTS[name];
  if (!commitment)
    throw invalidParams(`Invalid params: unknown variant \`${name}\`, expected one of \`processed\`, \`confirmed\`, \`finalized\``);
  return commitment;
}

/**
 * Refuses to answer from a slot older than the client's minContextSlot, as Agave does (-32016):
 * `contextSlot` is the slot this request would be answered at (its commitment's slot, on this
 * node or on the lagging backend the lag fault sends it to).
 */
export function checkMinContextSlot(config: Config, contextSlot: number): void {
  const minContextSlot = optionalInteger(config, 'minContextSlot');
  if (minContextSlot !== undefined && minContextSlot > contextSlot) {
    throw new RpcError(RPC_ERROR.minContextSlotNotReached, 'Minimum context slot has not been reached', { contextSlot });
  }
}
