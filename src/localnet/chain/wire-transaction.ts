// Decoding and sanitizing wire transactions (legacy and v0 messages) into the flat view the
// processor works on: static account keys with their signer/writable flags and compiled
// instructions. Address-table lookups are refused: the localnet has no lookup tables.
import { createPublicKey, verify } from 'node:crypto';
import { VersionedMessage, VersionedTransaction, type PublicKey } from '@solana/web3.js';
import bs58 from 'bs58';

/** Solana's packet limit for a serialized transaction. */
export const MAX_TRANSACTION_BYTES = 1232;

export interface CompiledInstruction {
  programIndex: number;
  accountIndexes: number[];
  data: Buffer;
}

export interface MessageView {
  version: 'legacy' | 0;
  accountKeys: PublicKey[];
  numRequiredSignatures: number;
  numReadonlySigned: number;
  numReadonlyUnsigned: number;
  recentBlockhash: string;
  instructions: CompiledInstruction[];
}

export interface WireTransaction extends MessageView {
  bytes: Buffer;
  /** The transaction id: base58 of the first signature. */
  signature: string;
  signatures: Buffer[];
  messageBytes: Buffer;
}

/** The bytes are not a well-formed transaction (an RPC "invalid params" answer, not a tx error). */
export class MalformedTransaction extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedTransaction';
  }
}

export function decodeWireTransaction(bytes: Buffer): WireTransaction {
  if (bytes.length > MAX_TRANSACTION_BYTES) {
    throw new MalformedTransaction(`transaction too large: ${bytes.length} bytes (max: ${MAX_TRANSACTION_BYTES})`);
  }
  let transaction: VersionedTransaction;
  try {
    transaction = VersionedTransaction.deserialize(bytes);
  } catch (error) {
    throw new MalformedTransaction(`failed to deserialize transaction: ${(error as Error).message}`);
  }
  const message = viewMessage(transaction.message);
  const signatures = transaction.signatures.map((s) => Buffer.from(s));
  if (signatures.length !== message.numRequiredSignatures) {
    throw new MalformedTransaction(
      `transaction has ${signatures.length} signatures but its message requires ${message.numRequiredSignatures}`,
    );
  }
  const first = signatures[0];
  if (!first) throw new MalformedTransaction('transaction has no signature');
  const messageStart = shortVecLength(bytes) + 64 * signatures.length;
  return { ...message, bytes, signatures, signature: bs58.encode(first), messageBytes: bytes.subarray(messageStart) };
}

/** Decodes a serialized message alone (getFeeForMessage). */
export function decodeMessage(bytes: Buffer): MessageView {
  let message: VersionedMessage;
  try {
    message = VersionedMessage.deserialize(bytes);
  } catch (error) {
    throw new MalformedTransaction(`failed to deserialize message: ${(error as Error).message}`);
  }
  return viewMessage(message);
}

function viewMessage(message: VersionedMessage): MessageView {
  if (message.version !== 'legacy' && message.version !== 0) {
    throw new MalformedTransaction(`transaction version ${message.version} is not supported by the localnet`);
  }
  if (message.version === 0 && message.addressTableLookups.length > 0) {
    throw new MalformedTransaction('address table lookups are not supported by the localnet: list every account statically');
  }
  const view: MessageView = {
    version: message.version,
    accountKeys: message.staticAccountKeys,
    numRequiredSignatures: message.header.numRequiredSignatures,
    numReadonlySigned: message.header.numReadonlySignedAccounts,
    numReadonlyUnsigned: message.header.numReadonlyUnsignedAccounts,
    recentBlockhash: message.recentBlockhash,
    instructions: message.compiledInstructions.map((ix) => ({
      programIndex: ix.programIdIndex,
      accountIndexes: [...ix.accountKeyIndexes],
      data: Buffer.from(ix.data),
    })),
  };
  sanitize(view);
  return view;
}

// The checks Solana's sanitize step makes; a failure is reported as SanitizeFailure's wording.
function sanitize(view: MessageView): void {
  const keyCount = view.accountKeys.length;
  const fail = (why: string): never => {
    throw new MalformedTransaction(`Transaction failed to sanitize accounts offsets correctly (${why})`);
  };
  if (view.numRequiredSignatures < 1) fail('no required signature');
  if (view.numReadonlySigned >= view.numRequiredSignatures) fail('the fee payer is read-only');
  if (view.numRequiredSignatures + view.numReadonlyUnsigned > keyCount) fail('header counts exceed the account keys');
  const distinct = new Set(view.accountKeys.map((k) => k.toBase58()));
  if (distinct.size !== keyCount) fail('an account key is listed twice');
  view.instructions.forEach((ix, i) => {
    if (ix.programIndex === 0 || ix.programIndex >= keyCount) fail(`instruction ${i} has an invalid program index`);
    if (ix.accountIndexes.some((a) => a >= keyCount)) fail(`instruction ${i} references a missing account`);
  });
}

// Number of bytes of the compact-u16 signature count at the start of a transaction.
function shortVecLength(bytes: Buffer): number {
  let size = 0;
  while ((bytes[size] ?? 0) & 0x80) size++;
  return size + 1;
}

export function isSignerIndex(message: MessageView, index: number): boolean {
  return index < message.numRequiredSignatures;
}

/** Writable as the message header says (before the runtime demotes reserved accounts). */
export function isWritableIndex(message: MessageView, index: number): boolean {
  if (index < message.numRequiredSignatures) return index < message.numRequiredSignatures - message.numReadonlySigned;
  return index < message.accountKeys.length - message.numReadonlyUnsigned;
}

// DER header of an Ed25519 SubjectPublicKeyInfo; node:crypto wants raw keys wrapped in it.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
  return verify(null, message, key, signature);
}

/** True when every required signature is a valid Ed25519 signature of the message by its key. */
export function hasValidSignatures(transaction: WireTransaction): boolean {
  return transaction.signatures.every((signature, i) => {
    const key = transaction.accountKeys[i];
    return key !== undefined && verifyEd25519(key.toBytes(), transaction.messageBytes, signature);
  });
}
