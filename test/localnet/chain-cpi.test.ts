// Cross-program invocation and the runtime's account rules, with a tiny program defined here that
// pays out of a token vault whose authority is the vault's own PDA (as the Nosana market vault).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TOKEN_PROGRAM_ID, getAssociatedTokenAddressSync } from '@solana/spl-token';
import { Connection, Keypair, PublicKey, Transaction, TransactionInstruction, type SignatureStatus } from '@solana/web3.js';
import { InstructionFault, ProgramFailure, type LocalProgram, type ProgramContext } from '../../src/localnet/chain/program.ts';
import { createChainServer, type ChainServer } from '../../src/localnet/chain/server.ts';
import { landed } from './support.ts';

const SLOT_MS = 20;
const PROGRAM_ID = Keypair.generate().publicKey;
const [VAULT] = PublicKey.findProgramAddressSync([Buffer.from('vault')], PROGRAM_ID);

const PAY_OUT = 0;
const PAY_OUT_WITHOUT_SIGNING = 1;
const FAIL_LOCKED = 2;
const WRITE_READONLY = 3;
const MINT_LAMPORTS = 4;
const SWALLOW_FAILED_INVOKE = 5;
const TOUCH_UNLISTED = 6;

function tokenTransfer(ctx: ProgramContext, amount: bigint, pdaSigners: PublicKey[]): void {
  const [vault, destination] = ctx.accounts;
  assert.ok(vault && destination);
  const data = Buffer.alloc(9);
  data.writeUInt8(3, 0);
  data.writeBigUInt64LE(amount, 1);
  ctx.invoke(
    TOKEN_PROGRAM_ID,
    [
      { pubkey: vault.pubkey, isSigner: false, isWritable: true },
      { pubkey: destination.pubkey, isSigner: false, isWritable: true },
      { pubkey: vault.pubkey, isSigner: true, isWritable: false },
    ],
    data,
    pdaSigners,
  );
}

// Accounts: vault (W), destination (W), token program; data: [kind, amount u64].
const vaultProgram: LocalProgram = {
  programId: PROGRAM_ID,
  name: 'test_vault',
  execute(ctx) {
    ctx.consume(500);
    const kind = ctx.data.readUInt8(0);
    const amount = ctx.data.length >= 9 ? ctx.data.readBigUInt64LE(1) : 0n;
    const [first, second] = ctx.accounts;
    assert.ok(first && second);
    switch (kind) {
      case PAY_OUT:
        ctx.log(`paying ${amount}`);
        return tokenTransfer(ctx, amount, [VAULT]);
      case PAY_OUT_WITHOUT_SIGNING:
        return tokenTransfer(ctx, amount, []);
      case FAIL_LOCKED:
        throw new ProgramFailure('VaultLocked', 6001, 'The vault is locked', 'vault');
      case WRITE_READONLY: {
        const account = ctx.get(second.pubkey);
        assert.ok(account);
        return ctx.set(second.pubkey, { ...account, data: Buffer.alloc(account.data.length, 1) });
      }
      case MINT_LAMPORTS: {
        const account = ctx.get(second.pubkey);
        assert.ok(account);
        return ctx.set(second.pubkey, { ...account, lamports: account.lamports + 1n });
      }
      case SWALLOW_FAILED_INVOKE:
        try {
          tokenTransfer(ctx, amount, [VAULT]);
        } catch {
          ctx.log('ignoring the failed transfer');
        }
        return;
      case TOUCH_UNLISTED:
        ctx.get(Keypair.generate().publicKey);
        return;
      default:
        throw new InstructionFault('InvalidInstructionData', `test_vault: unknown instruction ${kind}`);
    }
  },
};

describe('localnet cross-program invocation and account rules', () => {
  let server: ChainServer;
  let connection: Connection;
  const payer = Keypair.generate();
  const recipient = Keypair.generate().publicKey;
  let mint: PublicKey;
  let recipientAta: PublicKey;

  async function call(kind: number, amount: bigint, destinationWritable = true): Promise<SignatureStatus & { logs: string[] }> {
    const data = Buffer.alloc(9);
    data.writeUInt8(kind, 0);
    data.writeBigUInt64LE(amount, 1);
    const instruction = new TransactionInstruction({
      programId: PROGRAM_ID,
      keys: [
        { pubkey: VAULT, isSigner: false, isWritable: true },
        { pubkey: recipientAta, isSigner: false, isWritable: destinationWritable },
        { pubkey: TOKEN_PROGRAM_ID, isSigner: false, isWritable: false },
      ],
      data,
    });
    const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash('confirmed');
    const tx = new Transaction({ feePayer: payer.publicKey, blockhash, lastValidBlockHeight }).add(instruction);
    tx.sign(payer);
    const signature = await connection.sendRawTransaction(tx.serialize(), { skipPreflight: true });
    const status = await landed(connection, signature, SLOT_MS);
    const details = await connection.getTransaction(signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
    return { ...status, logs: details?.meta?.logMessages ?? [] };
  }

  async function amountOf(account: PublicKey): Promise<string> {
    return (await connection.getTokenAccountBalance(account, 'confirmed')).value.amount;
  }

  before(async () => {
    server = await createChainServer({ programs: [vaultProgram], slotMs: SLOT_MS, blockhashLifetime: 500, finalizeAfterSlots: 4 });
    connection = new Connection(server.url, 'confirmed');
    server.ledger.airdrop(payer.publicKey, 10_000_000_000n);
    mint = server.ledger.createMint({ mintAuthority: payer.publicKey, decimals: 6 });
    server.ledger.createTokenAccount({ mint, owner: VAULT, address: VAULT, amount: 1_000n });
    recipientAta = server.ledger.createTokenAccount({ mint, owner: recipient });
  });

  after(() => server.close());

  test('the registered program has an executable account owned by the upgradeable loader', async () => {
    const account = await connection.getAccountInfo(PROGRAM_ID);
    assert.equal(account?.executable, true);
    assert.equal(account?.owner.toBase58(), 'BPFLoaderUpgradeab1e11111111111111111111111');
    assert.equal(recipientAta.toBase58(), getAssociatedTokenAddressSync(mint, recipient).toBase58());
  });

  test('a program pays out of its PDA-owned vault through the token program, signing for the PDA', async () => {
    const status = await call(PAY_OUT, 300n);
    assert.equal(status.err, null);
    assert.equal(await amountOf(VAULT), '700');
    assert.equal(await amountOf(recipientAta), '300');
    const programId = PROGRAM_ID.toBase58();
    const token = TOKEN_PROGRAM_ID.toBase58();
    assert.deepEqual(
      status.logs.filter((l) => !l.includes('consumed')),
      [
        `Program ${programId} invoke [1]`,
        'Program log: paying 300',
        `Program ${token} invoke [2]`,
        'Program log: Instruction: Transfer',
        `Program ${token} success`,
        `Program ${programId} success`,
      ],
    );
    assert.match(status.logs.find((l) => l.startsWith(`Program ${programId} consumed`)) ?? '', /consumed \d+ of 200000 compute units/);
  });

  test('without signing for the PDA the invocation is a privilege escalation and nothing moves', async () => {
    const status = await call(PAY_OUT_WITHOUT_SIGNING, 100n);
    assert.deepEqual(status.err, { InstructionError: [0, 'PrivilegeEscalation'] });
    assert.ok(status.logs.includes(`${VAULT.toBase58()}'s signer privilege escalated`));
    assert.equal(await amountOf(VAULT), '700');
  });

  test('a failing inner instruction fails the outer one with the same custom error', async () => {
    const status = await call(PAY_OUT, 5_000n);
    assert.deepEqual(status.err, { InstructionError: [0, { Custom: 1 }] });
    assert.ok(status.logs.includes(`Program ${PROGRAM_ID.toBase58()} failed: custom program error: 0x1`));
    assert.ok(status.logs.includes('Program log: Error: insufficient funds'));
  });

  test('a program cannot catch a failed invocation and carry on', async () => {
    const status = await call(SWALLOW_FAILED_INVOKE, 5_000n);
    assert.deepEqual(status.err, { InstructionError: [0, { Custom: 1 }] });
    assert.equal(await amountOf(recipientAta), '300');
  });

  test('a ProgramFailure is logged as an AnchorError and reported as its custom code', async () => {
    const status = await call(FAIL_LOCKED, 0n);
    assert.deepEqual(status.err, { InstructionError: [0, { Custom: 6001 }] });
    assert.ok(
      status.logs.includes(
        'Program log: AnchorError caused by account: vault. Error Code: VaultLocked. Error Number: 6001. Error Message: The vault is locked.',
      ),
    );
    assert.ok(status.logs.includes(`Program ${PROGRAM_ID.toBase58()} failed: custom program error: 0x1771`));
  });

  test('writing an account the program does not own, or that is read-only, is refused', async () => {
    const foreign = await call(WRITE_READONLY, 0n);
    assert.deepEqual(foreign.err, { InstructionError: [0, 'ExternalAccountDataModified'] });
    const readonly = await call(WRITE_READONLY, 0n, false);
    assert.deepEqual(readonly.err, { InstructionError: [0, 'ReadonlyDataModified'] });
  });

  test('creating lamports from nothing is refused', async () => {
    const status = await call(MINT_LAMPORTS, 0n);
    assert.deepEqual(status.err, { InstructionError: [0, 'UnbalancedInstruction'] });
  });

  test('reading an account the instruction was not given is refused', async () => {
    const status = await call(TOUCH_UNLISTED, 0n);
    assert.deepEqual(status.err, { InstructionError: [0, 'MissingAccount'] });
  });
});
