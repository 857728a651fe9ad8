// JSON logs (pino) with secrets redacted by construction: every value that reaches a log line
// (the logged object, child bindings, the message, errors) goes through redactValue first.
//
// Why not pino's `redact` option: it takes fixed paths (with single-level wildcards), so it can
// only hide secrets where someone thought to list them. A Keypair passed three levels down in
// an error's context, or a Secret's bytes under an unexpected key, would slip through. Here the
// check is on what a value *is* (a keypair, raw key bytes, a 64-byte JSON array in a string) and
// on key names at any depth, so nothing has to be listed in advance. Strings also go through
// redactSecrets (http/redact.ts): credentials in URLs and Authorization/Bearer values in text.
import { ed25519PublicKeyOf } from '../chain/ed25519.ts';
import bs58 from 'bs58';
import { pino } from 'pino';
import type { Bindings, ChildLoggerOptions, DestinationStream, LevelWithSilent, Logger } from 'pino';
import { REDACTED, redactSecrets } from '../http/redact.ts';

export { REDACTED };

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const satisfies readonly LevelWithSilent[];

export interface LoggerOptions {
  level: string;
  /** Where lines go; defaults to stdout, written synchronously so a crash loses nothing. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  if (!(LOG_LEVELS as readonly string[]).includes(options.level)) {
    throw new Error(`unknown log level "${options.level}": expected one of ${LOG_LEVELS.join(', ')}`);
  }
  const settings = {
    level: options.level,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label: string) => ({ level: label }),
      bindings: (bindings: Record<string, unknown>) => redactRecord(bindings),
      log: (object: Record<string, unknown>) => redactRecord(object),
    },
    serializers: {
      // The log formatter has already turned errors into plain, redacted objects; pino's default
      // error serializer would copy every enumerable property of what it gets, so it is replaced.
      err: (value: unknown) => redactValue(value),
      // The message: a format string's arguments, or an Error's message when an Error is logged alone.
      msg: (value: unknown) => redactValue(value),
    },
  };
  const logger = pino(settings, options.destination ?? pino.destination({ dest: 1, sync: true }));
  // pino applies formatters.bindings to the root logger's bindings only (a child resets it), so
  // child bindings are redacted here. Children inherit this method through their prototype.
  const pinoChild = logger.child;
  logger.child = function child(this: Logger, bindings: Bindings, childOptions?: ChildLoggerOptions<string>) {
    return Reflect.apply(pinoChild, this, [redactRecord(bindings), childOptions]) as Logger<string>;
  } as Logger['child'];
  return logger;
}

/** Key names whose values are never logged (compared lowercased, without "_" or "-"). */
const SENSITIVE_KEY = /(secret|secretkey|privatekey|keypair|jwt|authorization|password|passphrase|token|apikey|cookie|headers|mnemonic)$/;

const MAX_DEPTH = 12;

function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key.toLowerCase().replace(/[-_]/g, ''));
}

function redactRecord(record: Record<string, unknown>): Record<string, unknown> {
  const redacted = redactValue(record);
  return typeof redacted === 'object' && redacted !== null && !Array.isArray(redacted)
    ? (redacted as Record<string, unknown>)
    : { value: redacted };
}

/**
 * A copy of `value` that is safe to log: secrets replaced by "[redacted]", errors reduced to
 * name/message/code/stack/cause, bigints as decimal strings (JSON numbers would round them).
 */
export function redactValue(value: unknown): unknown {
  return redact(value, 0, new WeakSet());
}

function redact(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  switch (typeof value) {
    case 'string':
      return scrubString(value);
    case 'bigint':
      return value.toString();
    case 'function':
    case 'symbol':
      return undefined;
    case 'object':
      break;
    default:
      return value;
  }
  if (value === null) return null;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  seen.add(value);
  try {
    return redactObject(value, depth, seen);
  } catch {
    // A throwing getter, proxy or toJSON must not turn a log call into an exception.
    return '[unloggable]';
  } finally {
    // Only ancestors count as cycles; an object referenced twice side by side is logged twice.
    seen.delete(value);
  }
}

function redactObject(value: object, depth: number, seen: WeakSet<object>): unknown {
  // Raw bytes are never logged: a 64-byte secret key, a 32-byte seed and a public key all look
  // alike, and binary is unreadable in a log line anyway.
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) return REDACTED;
  if (isKeyBytes(value)) return REDACTED;
  // A Keypair (or anything like one) exposes its secret through an accessor that a walk over own
  // properties would not see, so the whole object goes; an own property is redacted by its name.
  if (hasHiddenSecret(value)) return REDACTED;
  if (value instanceof Error) return redactError(value, depth, seen);
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1, seen));
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  // PublicKey, Date, URL and BN render themselves; what they render is checked like anything else.
  if (typeof toJSON === 'function') return redact(toJSON.call(value), depth + 1, seen);
  const record = value as Record<string, unknown>;
  // A Kubernetes Secret's data is secret whatever its keys are called.
  const isSecretObject = record['kind'] === 'Secret';
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(record)) {
    const hidden = isSensitiveKey(key) || (isSecretObject && (key === 'data' || key === 'stringData'));
    copy[key] = hidden ? REDACTED : redact(record[key], depth + 1, seen);
  }
  return copy;
}

function redactError(error: Error, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const serialized: Record<string, unknown> = { name: error.name, message: scrubString(error.message) };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') serialized['code'] = code;
  if (error.stack !== undefined) serialized['stack'] = scrubString(error.stack);
  if (error.cause !== undefined) serialized['cause'] = redact(error.cause, depth + 1, seen);
  return serialized;
}

function hasHiddenSecret(value: object): boolean {
  return ['secretKey', 'privateKey'].some((name) => name in value && !Object.prototype.propertyIsEnumerable.call(value, name));
}

/** The Solana CLI keypair format once parsed: 64 integers 0-255. */
function isKeyBytes(value: object): boolean {
  return Array.isArray(value) && value.length === 64 && value.every((item) => Number.isInteger(item) && item >= 0 && item <= 255);
}

// 64 small integers in brackets: a keypair file's content, pasted into an error message or a string.
const JSON_KEY_BYTES = /\[\s*(?:\d{1,3}\s*,\s*){63}\d{1,3}\s*\]/g;
// Base58 runs long enough to hold 64 bytes (87-88 characters, fewer with leading zero bytes).
const BASE58_RUN = /[1-9A-HJ-NP-Za-km-z]{80,90}/g;

/**
 * Secrets inside text. A base58 string of 64 bytes is either a secret key or a transaction
 * signature; signatures belong in logs, so a run is redacted only when its second half is the
 * ed25519 public key of its first half, which is what makes 64 bytes a Solana secret key.
 */
function scrubString(text: string): string {
  return redactSecrets(text)
    .replace(JSON_KEY_BYTES, REDACTED)
    .replace(BASE58_RUN, (run) => (isBase58SecretKey(run) ? REDACTED : run));
}

function isBase58SecretKey(run: string): boolean {
  const bytes = bs58.decodeUnsafe(run);
  if (bytes === undefined || bytes.length !== 64) return false;
  return Buffer.compare(ed25519PublicKeyOf(bytes.subarray(0, 32)), bytes.subarray(32)) === 0;
}
