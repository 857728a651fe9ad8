// Ed25519 through node:crypto agrees with web3.js's keys: what one signs the other verifies.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Keypair, SystemProgram, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import {
  ED25519_SIGNATURE_BYTES,
  ed25519PublicKeyOf,
  ed25519Sign,
  ed25519Verify,
  transactionSignaturesVerify,
} from '../../../src/chain/ed25519.ts';

test('a signature by a Solana secret key verifies against its public key, and only for its message', () => {
  const key = Keypair.generate();
  const message = Buffer.from('nosana-operator');
  const signature = ed25519Sign(message, key.secretKey);
  assert.equal(signature.length, ED25519_SIGNATURE_BYTES);
  assert.ok(ed25519Verify(message, signature, key.publicKey.toBuffer()));
  assert.ok(!ed25519Verify(Buffer.from('nosana-operator!'), signature, key.publicKey.toBuffer()));
  assert.ok(!ed25519Verify(message, signature, Keypair.generate().publicKey.toBuffer()));
});

test("the public key of a seed is the second half of web3.js's secret key", () => {
  const key = Keypair.generate();
  assert.deepEqual(ed25519PublicKeyOf(key.secretKey.subarray(0, 32)), Buffer.from(key.publicKey.toBuffer()));
});

test('a transaction verifies only when every signer it requires signed its very message', () => {
  const payer = Keypair.generate();
  const cosigner = Keypair.generate();
  const message = new TransactionMessage({
    payerKey: payer.publicKey,
    recentBlockhash: Keypair.generate().publicKey.toBase58(),
    instructions: [SystemProgram.transfer({ fromPubkey: cosigner.publicKey, toPubkey: payer.publicKey, lamports: 1 })],
  }).compileToLegacyMessage();
  const signedBy = (...signers: Keypair[]) => {
    const transaction = new VersionedTransaction(message);
    transaction.sign(signers);
    return transaction;
  };
  const both = signedBy(payer, cosigner);
  assert.ok(transactionSignaturesVerify(both), 'both signed');
  assert.equal(both.signatures.length, 2);
  assert.ok(!transactionSignaturesVerify(signedBy(payer)), 'one required signature missing (all zero)');
  const tampered = VersionedTransaction.deserialize(both.serialize());
  tampered.signatures[1] = Uint8Array.from(tampered.signatures[0]!);
  assert.ok(!transactionSignaturesVerify(tampered), "a signature copied from another signer's place");
});
