// Derived addresses are remembered; a remembered one must equal a fresh derivation by the libraries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getAssociatedTokenAddressSync } from '@solana/spl-token';
import { Keypair, PublicKey } from '@solana/web3.js';
import { NETWORKS, associatedTokenAccount, marketVault, nosTokenAccount, stakeAccount } from '../../../src/chain/addresses.ts';

const NETWORK = NETWORKS.mainnet;

test('associated token accounts are those spl-token derives, the first time and every time after', () => {
  for (let round = 0; round < 20; round += 1) {
    const owner = Keypair.generate().publicKey;
    const mint = Keypair.generate().publicKey;
    const expected = getAssociatedTokenAddressSync(mint, owner, true);
    assert.ok(associatedTokenAccount(mint, owner).equals(expected));
    assert.ok(associatedTokenAccount(mint, owner).equals(expected), 'remembered');
    assert.ok(nosTokenAccount(NETWORK, owner).equals(getAssociatedTokenAddressSync(NETWORK.nosMint, owner, true)));
  }
});

test('program addresses are those web3.js derives, and different seeds never share a remembered one', () => {
  const node = Keypair.generate().publicKey;
  const market = Keypair.generate().publicKey;
  const [stake, stakeBump] = stakeAccount(NETWORK, node);
  const [expected, expectedBump] = PublicKey.findProgramAddressSync(
    [Buffer.from('stake'), NETWORK.nosMint.toBuffer(), node.toBuffer()],
    NETWORK.stakingProgram,
  );
  assert.ok(stake.equals(expected));
  assert.equal(stakeBump, expectedBump);
  assert.deepEqual(stakeAccount(NETWORK, node), [stake, stakeBump]);
  assert.ok(!stakeAccount(NETWORK, Keypair.generate().publicKey)[0].equals(stake));
  assert.ok(!marketVault(NETWORK, market)[0].equals(marketVault(NETWORKS.devnet, Keypair.generate().publicKey)[0]));
});
