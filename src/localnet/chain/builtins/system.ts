// The System program: account creation, transfers, assignment and allocation, with Solana's
// instruction encoding (u32 LE index, then bincode fields), error codes and log lines.
import { createHash } from 'node:crypto';
import { PublicKey } from '@solana/web3.js';
import { SYSTEM_PROGRAM_ID } from '../addresses.ts';
import { InstructionFault, ProgramFailure, type InstructionAccount, type LedgerAccount } from '../program.ts';
import { MAX_ACCOUNT_DATA_LENGTH } from '../rent.ts';
import { InstructionData, accountAt, isSigner } from './instruction-data.ts';
import type { RuntimeContext, RuntimeProgram } from './runtime-program.ts';

const SYSTEM_UNITS = 150;
const MAX_SEED_LENGTH = 32;

// SystemError codes, reported as custom program errors.
const SYSTEM_ERRORS = {
  AccountAlreadyInUse: 0,
  ResultWithNegativeLamports: 1,
  InvalidAccountDataLength: 3,
  MaxSeedLengthExceeded: 4,
  AddressWithSeedMismatch: 5,
} as const;

// Real System instructions the localnet does not implement (nonces, *WithSeed variants).
const NOT_IMPLEMENTED: Record<number, string> = {
  4: 'AdvanceNonceAccount',
  5: 'WithdrawNonceAccount',
  6: 'InitializeNonceAccount',
  7: 'AuthorizeNonceAccount',
  9: 'AllocateWithSeed',
  10: 'AssignWithSeed',
  11: 'TransferWithSeed',
  12: 'UpgradeNonceAccount',
};

const EMPTY: LedgerAccount = { lamports: 0n, owner: SYSTEM_PROGRAM_ID, data: Buffer.alloc(0), executable: false };

function fail(ctx: RuntimeContext, error: keyof typeof SYSTEM_ERRORS, line: string): never {
  // The System program prints its own wording (no "Program log:" prefix) before failing.
  ctx.logRaw(line);
  throw new ProgramFailure(error, SYSTEM_ERRORS[error], line);
}

function read(ctx: RuntimeContext, account: InstructionAccount): LedgerAccount {
  return ctx.get(account.pubkey) ?? EMPTY;
}

function describeAddress(address: PublicKey, base?: PublicKey): string {
  return `Address { address: ${address.toBase58()}, base: ${base ? `Some(${base.toBase58()})` : 'None'} }`;
}

function transfer(ctx: RuntimeContext, from: InstructionAccount, to: InstructionAccount, lamports: bigint): void {
  if (!isSigner(ctx, from.pubkey)) {
    throw new InstructionFault('MissingRequiredSignature', `Transfer: \`from\` account ${from.pubkey.toBase58()} must sign`);
  }
  const source = read(ctx, from);
  if (source.data.length > 0) throw new InstructionFault('InvalidArgument', 'Transfer: `from` must not carry data');
  if (lamports > source.lamports)
    fail(ctx, 'ResultWithNegativeLamports', `Transfer: insufficient lamports ${source.lamports}, need ${lamports}`);
  ctx.set(from.pubkey, { ...source, lamports: source.lamports - lamports });
  const destination = read(ctx, to);
  ctx.set(to.pubkey, { ...destination, lamports: destination.lamports + lamports });
}

function allocate(ctx: RuntimeContext, target: InstructionAccount, space: bigint, signer: PublicKey, base?: PublicKey): void {
  if (!isSigner(ctx, signer))
    throw new InstructionFault('MissingRequiredSignature', `Allocate: 'to' account ${describeAddress(target.pubkey, base)} must sign`);
  const account = read(ctx, target);
  if (account.data.length > 0 || !account.owner.equals(SYSTEM_PROGRAM_ID)) {
    fail(ctx, 'AccountAlreadyInUse', `Allocate: account ${describeAddress(target.pubkey, base)} already in use`);
  }
  if (space > BigInt(MAX_ACCOUNT_DATA_LENGTH))
    fail(ctx, 'InvalidAccountDataLength', `Allocate: requested ${space}, max allowed ${MAX_ACCOUNT_DATA_LENGTH}`);
  ctx.set(target.pubkey, { ...account, data: Buffer.alloc(Number(space)) });
}

function assign(ctx: RuntimeContext, target: InstructionAccount, owner: PublicKey, signer: PublicKey, base?: PublicKey): void {
  const account = read(ctx, target);
  if (account.owner.equals(owner)) return;
  if (!isSigner(ctx, signer))
    throw new InstructionFault('MissingRequiredSignature', `Assign: account ${describeAddress(target.pubkey, base)} must sign`);
  ctx.set(target.pubkey, { ...account, owner });
}

function createAccount(
  ctx: RuntimeContext,
  from: InstructionAccount,
  to: InstructionAccount,
  fields: { lamports: bigint; space: bigint; owner: PublicKey; signer: PublicKey; base?: PublicKey },
): void {
  if (read(ctx, to).lamports > 0n)
    fail(ctx, 'AccountAlreadyInUse', `Create Account: account ${describeAddress(to.pubkey, fields.base)} already in use`);
  allocate(ctx, to, fields.space, fields.signer, fields.base);
  assign(ctx, to, fields.owner, fields.signer, fields.base);
  transfer(ctx, from, to, fields.lamports);
}

/** Address of `createAccountWithSeed`: sha256(base || seed || owner). */
export function addressWithSeed(base: PublicKey, seed: string, owner: PublicKey): PublicKey {
  return new PublicKey(createHash('sha256').update(base.toBuffer()).update(seed).update(owner.toBuffer()).digest());
}

export const systemProgram: RuntimeProgram = {
  programId: SYSTEM_PROGRAM_ID,
  name: 'system_program',
  loader: 'native',
  // Failures are logged where they happen, in the System program's own wording.
  failureLog: () => undefined,
  execute(ctx) {
    ctx.consume(SYSTEM_UNITS);
    const data = new InstructionData(ctx.data);
    const index = data.u32();
    switch (index) {
      case 0: {
        const fields = { lamports: data.u64(), space: data.u64(), owner: data.pubkey() };
        const from = accountAt(ctx, 0);
        const to = accountAt(ctx, 1);
        createAccount(ctx, from, to, { ...fields, signer: to.pubkey });
        return;
      }
      case 1:
        assign(ctx, accountAt(ctx, 0), data.pubkey(), accountAt(ctx, 0).pubkey);
        return;
      case 2:
        transfer(ctx, accountAt(ctx, 0), accountAt(ctx, 1), data.u64());
        return;
      case 3: {
        const base = data.pubkey();
        const seed = data.string();
        const fields = { lamports: data.u64(), space: data.u64(), owner: data.pubkey() };
        const from = accountAt(ctx, 0);
        const to = accountAt(ctx, 1);
        if (Buffer.byteLength(seed) > MAX_SEED_LENGTH)
          fail(ctx, 'MaxSeedLengthExceeded', `Create: seed of ${Buffer.byteLength(seed)} bytes exceeds ${MAX_SEED_LENGTH}`);
        const expected = addressWithSeed(base, seed, fields.owner);
        if (!expected.equals(to.pubkey))
          fail(
            ctx,
            'AddressWithSeedMismatch',
            `Create: address ${to.pubkey.toBase58()} does not match derived address ${expected.toBase58()}`,
          );
        createAccount(ctx, from, to, { ...fields, signer: base, base });
        return;
      }
      case 8:
        allocate(ctx, accountAt(ctx, 0), data.u64(), accountAt(ctx, 0).pubkey);
        return;
      default: {
        const name = NOT_IMPLEMENTED[index];
        throw new InstructionFault(
          'InvalidInstructionData',
          name ? `localnet: System instruction ${name} is not implemented` : `System program: unknown instruction ${index}`,
        );
      }
    }
  },
};
