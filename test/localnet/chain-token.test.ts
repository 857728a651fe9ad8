// The SPL Token and Associated Token built-ins, driven by @solana/spl-token's own instruction
// builders and account decoders over HTTP.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  MINT_SIZE,
  TOKEN_PROGRAM_ID,
  createApproveInstruction,
  createAssociatedTokenAccountIdempotentInstruction,
  createBurnCheckedInstruction,
  createAssociatedTokenAccountInstruction,
  createCloseAccountInstruction,
  createInitializeMint2Instruction,
  createMintToInstruction,
  createTransferCheckedInstruction,
  createTransferInstruction,
  getAccount,
  getAssociatedTokenAddressSync,
  getMint,
} from '@solana/spl-token';
import {
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  SystemProgram,
  Transaction,
  type PublicKey,
  type SignatureStatus,
  type TransactionInstruction,
} from '@solana/web3.js';
import { createChainServer, type ChainServer } from '../../src/localnet/chain/server.ts';
import { landed } from './support.ts';

const SLOT_MS = 20;

describe('localnet SPL Token and Associated Token programs', () => {
  let server: ChainServer;
  let connection: Connection;
  const payer = Keypair.generate();
  const mintAuthority = Keypair.generate();
  const mint = Keypair.generate();
  const alice = Keypair.generate();
  const bob = Keypair.generate();
  let aliceAta: PublicKey;
  let bobAta: PublicKey;

  async function send(
    instructions: TransactionInstruction[],
    signers: Keypair[],
    skipPreflight = true,
  ): Promise<SignatureStatus & { signature: string; logs: string[] }> {
    const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash('confirmed');
    const tx = new Transaction({ feePayer: payer.publicKey, blockhash, lastValidBlockHeight }).add(...instructions);
    tx.sign(payer, ...signers);
    const signature = await connection.sendRawTransaction(tx.serialize(), { skipPreflight });
    const status = await landed(connection, signature, SLOT_MS);
    const details = await connection.getTransaction(signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
    return { ...status, signature, logs: details?.meta?.logMessages ?? [] };
  }

  async function amountOf(account: PublicKey): Promise<string> {
    return (await connection.getTokenAccountBalance(account, 'confirmed')).value.amount;
  }

  before(async () => {
    server = await createChainServer({ programs: [], slotMs: SLOT_MS, blockhashLifetime: 500, finalizeAfterSlots: 4 });
    connection = new Connection(server.url, 'confirmed');
    await landed(connection, await connection.requestAirdrop(payer.publicKey, 10 * LAMPORTS_PER_SOL), SLOT_MS);
    aliceAta = getAssociatedTokenAddressSync(mint.publicKey, alice.publicKey);
    bobAta = getAssociatedTokenAddressSync(mint.publicKey, bob.publicKey);
  });

  after(() => server.close());

  test('a mint created by transaction decodes with spl-token', async () => {
    const rent = await connection.getMinimumBalanceForRentExemption(MINT_SIZE);
    const status = await send(
      [
        SystemProgram.createAccount({
          fromPubkey: payer.publicKey,
          newAccountPubkey: mint.publicKey,
          lamports: rent,
          space: MINT_SIZE,
          programId: TOKEN_PROGRAM_ID,
        }),
        createInitializeMint2Instruction(mint.publicKey, 6, mintAuthority.publicKey, null),
      ],
      [mint],
      false,
    );
    assert.equal(status.err, null);
    const decoded = await getMint(connection, mint.publicKey, 'confirmed');
    assert.equal(decoded.decimals, 6);
    assert.equal(decoded.supply, 0n);
    assert.ok(decoded.mintAuthority?.equals(mintAuthority.publicKey));
    assert.ok(status.logs.includes('Program log: Instruction: InitializeMint2'));
  });

  test('CreateIdempotent twice in one transaction and again in another creates one ATA', async () => {
    const create = () => createAssociatedTokenAccountIdempotentInstruction(payer.publicKey, aliceAta, alice.publicKey, mint.publicKey);
    const first = await send([create(), create()], [], false);
    assert.equal(first.err, null);
    const second = await send([create()], [], false);
    assert.equal(second.err, null);
    const account = await getAccount(connection, aliceAta, 'confirmed');
    assert.ok(account.owner.equals(alice.publicKey));
    assert.ok(account.mint.equals(mint.publicKey));
    assert.equal(account.amount, 0n);
    assert.equal((await connection.getAccountInfo(aliceAta))?.lamports, 2_039_280);
    assert.ok(first.logs.includes('Program log: Initialize the associated token account'));
    assert.ok(first.logs.includes('Program 11111111111111111111111111111111 invoke [2]'));
  });

  test('the non-idempotent Create fails on an existing ATA', async () => {
    const status = await send([createAssociatedTokenAccountInstruction(payer.publicKey, aliceAta, alice.publicKey, mint.publicKey)], []);
    assert.deepEqual(status.err, { InstructionError: [0, 'IllegalOwner'] });
  });

  test('mintTo by the mint authority raises the balance and the supply; anyone else is refused', async () => {
    const status = await send([createMintToInstruction(mint.publicKey, aliceAta, mintAuthority.publicKey, 1_000_000n)], [mintAuthority]);
    assert.equal(status.err, null);
    assert.equal(await amountOf(aliceAta), '1000000');
    assert.equal((await getMint(connection, mint.publicKey, 'confirmed')).supply, 1_000_000n);
    const impostor = Keypair.generate();
    const refused = await send([createMintToInstruction(mint.publicKey, aliceAta, impostor.publicKey, 1n)], [impostor]);
    assert.deepEqual(refused.err, { InstructionError: [0, { Custom: 4 }] });
    assert.ok(refused.logs.includes('Program log: Error: owner does not match'));
  });

  test('transferChecked into a freshly created ATA moves tokens; balances agree across RPC methods', async () => {
    const status = await send(
      [
        createAssociatedTokenAccountIdempotentInstruction(payer.publicKey, bobAta, bob.publicKey, mint.publicKey),
        createTransferCheckedInstruction(aliceAta, mint.publicKey, bobAta, alice.publicKey, 400_000n, 6),
      ],
      [alice],
    );
    assert.equal(status.err, null);
    assert.equal(await amountOf(aliceAta), '600000');
    const bobBalance = await connection.getTokenAccountBalance(bobAta);
    assert.deepEqual(bobBalance.value, { amount: '400000', decimals: 6, uiAmount: 0.4, uiAmountString: '0.4' });
    const byMint = await connection.getTokenAccountsByOwner(bob.publicKey, { mint: mint.publicKey });
    assert.deepEqual(
      byMint.value.map((a) => a.pubkey.toBase58()),
      [bobAta.toBase58()],
    );
    const byProgram = await connection.getParsedTokenAccountsByOwner(alice.publicKey, { programId: TOKEN_PROGRAM_ID });
    assert.equal(byProgram.value.length, 1);
    assert.equal(byProgram.value[0]?.account.data.parsed.info.tokenAmount.amount, '600000');
    const details = await connection.getTransaction(status.signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
    const post = details?.meta?.postTokenBalances?.find((b) => b.owner === bob.publicKey.toBase58());
    assert.equal(post?.uiTokenAmount.amount, '400000');
  });

  test('spending more than the balance fails with InsufficientFunds and moves nothing', async () => {
    const status = await send([createTransferInstruction(aliceAta, bobAta, alice.publicKey, 600_001n)], [alice]);
    assert.deepEqual(status.err, { InstructionError: [0, { Custom: 1 }] });
    assert.ok(status.logs.includes('Program log: Error: insufficient funds'));
    assert.equal(await amountOf(aliceAta), '600000');
    assert.equal(await amountOf(bobAta), '400000');
  });

  test('a transfer the owner did not sign fails with MissingRequiredSignature', async () => {
    const instruction = createTransferInstruction(aliceAta, bobAta, alice.publicKey, 1n);
    const unsigned = { ...instruction, keys: instruction.keys.map((k) => ({ ...k, isSigner: false })) } as TransactionInstruction;
    const status = await send([unsigned], []);
    assert.deepEqual(status.err, { InstructionError: [0, 'MissingRequiredSignature'] });
  });

  test('a delegate spends within its allowance; burning lowers balance and supply', async () => {
    const delegate = Keypair.generate();
    await send([createApproveInstruction(aliceAta, delegate.publicKey, alice.publicKey, 50_000n)], [alice]);
    const spent = await send([createTransferInstruction(aliceAta, bobAta, delegate.publicKey, 30_000n)], [delegate]);
    assert.equal(spent.err, null);
    const overspent = await send([createTransferInstruction(aliceAta, bobAta, delegate.publicKey, 30_000n)], [delegate]);
    assert.deepEqual(overspent.err, { InstructionError: [0, { Custom: 1 }] });
    assert.equal((await getAccount(connection, aliceAta, 'confirmed')).delegatedAmount, 20_000n);
    const supply = (await getMint(connection, mint.publicKey, 'confirmed')).supply;
    assert.equal((await send([createBurnCheckedInstruction(aliceAta, mint.publicKey, alice.publicKey, 70_000n, 6)], [alice])).err, null);
    assert.equal(await amountOf(aliceAta), '500000');
    assert.equal((await getMint(connection, mint.publicKey, 'confirmed')).supply, supply - 70_000n);
    await send([createTransferInstruction(bobAta, aliceAta, bob.publicKey, 30_000n)], [bob]);
  });

  test('an emptied token account closes and returns its rent to the destination', async () => {
    await send([createTransferInstruction(bobAta, aliceAta, bob.publicKey, 400_000n)], [bob]);
    const refusedWhileFunded = await send([createCloseAccountInstruction(aliceAta, alice.publicKey, alice.publicKey)], [alice]);
    assert.deepEqual(refusedWhileFunded.err, { InstructionError: [0, { Custom: 11 }] });
    const status = await send([createCloseAccountInstruction(bobAta, bob.publicKey, bob.publicKey)], [bob]);
    assert.equal(status.err, null);
    assert.equal(await connection.getAccountInfo(bobAta), null);
    assert.equal(await connection.getBalance(bob.publicKey), 2_039_280);
  });
});
