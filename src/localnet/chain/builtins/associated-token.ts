// The Associated Token Account program: Create and CreateIdempotent derive the owner's token
// account for a mint and create it through the System and SPL Token programs, signing for the
// PDA, as the real program does. RecoverNested is not implemented.
import { PublicKey } from '@solana/web3.js';
import { ASSOCIATED_TOKEN_PROGRAM_ID, SYSTEM_PROGRAM_ID, TOKEN_PROGRAM_ID } from '../addresses.ts';
import { InstructionFault } from '../program.ts';
import { TOKEN_ACCOUNT_SIZE, decodeTokenAccount } from '../token-state.ts';
import { accountAt } from './instruction-data.ts';
import type { RuntimeContext, RuntimeProgram } from './runtime-program.ts';

const ATA_UNITS = 8_000;
const CREATE = 0;
const CREATE_IDEMPOTENT = 1;

export function associatedTokenAddress(wallet: PublicKey, mint: PublicKey, tokenProgramId: PublicKey = TOKEN_PROGRAM_ID): PublicKey {
  return PublicKey.findProgramAddressSync([wallet.toBuffer(), tokenProgramId.toBuffer(), mint.toBuffer()], ASSOCIATED_TOKEN_PROGRAM_ID)[0];
}

function systemInstruction(index: number, fields: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32LE(index);
  return Buffer.concat([head, fields]);
}

function u64(value: bigint): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(value);
  return out;
}

// Funds, sizes and assigns the PDA through the System program, topping up a pre-funded address.
function createPdaAccount(ctx: RuntimeContext, payer: PublicKey, address: PublicKey): void {
  const required = ctx.rentExemptMinimum(TOKEN_ACCOUNT_SIZE);
  const current = ctx.get(address)?.lamports ?? 0n;
  const writableSigner = (pubkey: PublicKey) => ({ pubkey, isSigner: true, isWritable: true });
  if (current === 0n) {
    const fields = Buffer.concat([u64(required), u64(BigInt(TOKEN_ACCOUNT_SIZE)), TOKEN_PROGRAM_ID.toBuffer()]);
    ctx.invoke(SYSTEM_PROGRAM_ID, [writableSigner(payer), writableSigner(address)], systemInstruction(0, fields), [address]);
    return;
  }
  if (required > current) {
    ctx.invoke(
      SYSTEM_PROGRAM_ID,
      [writableSigner(payer), { pubkey: address, isSigner: false, isWritable: true }],
      systemInstruction(2, u64(required - current)),
    );
  }
  ctx.invoke(SYSTEM_PROGRAM_ID, [writableSigner(address)], systemInstruction(8, u64(BigInt(TOKEN_ACCOUNT_SIZE))), [address]);
  ctx.invoke(SYSTEM_PROGRAM_ID, [writableSigner(address)], systemInstruction(1, TOKEN_PROGRAM_ID.toBuffer()), [address]);
}

function create(ctx: RuntimeContext, idempotent: boolean): void {
  const payer = accountAt(ctx, 0).pubkey;
  const address = accountAt(ctx, 1).pubkey;
  const wallet = accountAt(ctx, 2).pubkey;
  const mint = accountAt(ctx, 3).pubkey;
  const tokenProgramId = accountAt(ctx, 5).pubkey;
  if (!associatedTokenAddress(wallet, mint, tokenProgramId).equals(address)) {
    throw new InstructionFault('InvalidSeeds', 'Program log: Associated address does not match seed derivation');
  }
  const existing = ctx.get(address);
  if (idempotent && existing?.owner.equals(tokenProgramId)) {
    const state = decodeTokenAccount(existing.data);
    if (state && state.state !== 0) {
      if (!state.owner.equals(wallet)) throw new InstructionFault('IllegalOwner', 'Program log: Provided owner is not allowed');
      if (!state.mint.equals(mint)) throw new InstructionFault('InvalidAccountData', 'Program log: Error: InvalidAccountData');
      return;
    }
  }
  if (existing && !existing.owner.equals(SYSTEM_PROGRAM_ID))
    throw new InstructionFault('IllegalOwner', 'Program log: Provided owner is not allowed');
  createPdaAccount(ctx, payer, address);
  ctx.log('Initialize the associated token account');
  ctx.invoke(tokenProgramId, [{ pubkey: address, isSigner: false, isWritable: true }], Buffer.from([22]));
  ctx.invoke(
    tokenProgramId,
    [
      { pubkey: address, isSigner: false, isWritable: true },
      { pubkey: mint, isSigner: false, isWritable: false },
    ],
    Buffer.concat([Buffer.from([18]), wallet.toBuffer()]),
  );
}

export const associatedTokenProgram: RuntimeProgram = {
  programId: ASSOCIATED_TOKEN_PROGRAM_ID,
  name: 'spl_associated_token_account',
  loader: 'bpf-loader-2',
  failureLog: (failure) => `Error: ${failure.message}`,
  execute(ctx) {
    ctx.consume(ATA_UNITS);
    const kind = ctx.data.length === 0 ? CREATE : ctx.data[0];
    if (kind === CREATE || kind === CREATE_IDEMPOTENT) {
      ctx.log(kind === CREATE ? 'Create' : 'CreateIdempotent');
      create(ctx, kind === CREATE_IDEMPOTENT);
      return;
    }
    throw new InstructionFault('InvalidInstructionData', `localnet: Associated Token instruction ${kind} is not implemented`);
  },
};
