// Reading built-in instruction data and accounts, failing the way Solana programs do when either
// is too short.
import { PublicKey } from '@solana/web3.js';
import { InstructionFault, type InstructionAccount, type ProgramContext } from '../program.ts';

export class InstructionData {
  readonly #data: Buffer;
  #offset = 0;

  constructor(data: Buffer) {
    this.#data = data;
  }

  #take(length: number): Buffer {
    if (this.#offset + length > this.#data.length) {
      throw new InstructionFault(
        'InvalidInstructionData',
        `instruction data too short: needs ${this.#offset + length} bytes, has ${this.#data.length}`,
      );
    }
    const slice = this.#data.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return slice;
  }

  u8(): number {
    return this.#take(1).readUInt8(0);
  }

  u32(): number {
    return this.#take(4).readUInt32LE(0);
  }

  u64(): bigint {
    return this.#take(8).readBigUInt64LE(0);
  }

  pubkey(): PublicKey {
    return new PublicKey(this.#take(32));
  }

  /** SPL's COption<Pubkey> in instruction data: tag byte, then the key only when the tag is 1. */
  optionalPubkey(): PublicKey | null {
    return this.u8() === 1 ? this.pubkey() : null;
  }

  /** bincode string: u64 LE length, then UTF-8 bytes. */
  string(): string {
    const length = this.u64();
    if (length > BigInt(this.#data.length))
      throw new InstructionFault('InvalidInstructionData', `string length ${length} exceeds the instruction data`);
    return this.#take(Number(length)).toString('utf8');
  }
}

export function accountAt(ctx: ProgramContext, index: number): InstructionAccount {
  const account = ctx.accounts[index];
  if (!account)
    throw new InstructionFault('NotEnoughAccountKeys', `instruction needs at least ${index + 1} accounts, got ${ctx.accounts.length}`);
  return account;
}

/** Signer in this instruction (an account may be listed more than once). */
export function isSigner(ctx: ProgramContext, pubkey: PublicKey): boolean {
  return ctx.accounts.some((a) => a.isSigner && a.pubkey.equals(pubkey));
}
