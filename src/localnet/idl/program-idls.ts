// The IDL accounts the localnet publishes, one for the jobs program and one for the staking
// program, as devnet and mainnet do: clients that call Anchor's `Program.fetchIdl` (Nosana's SDK
// does, before any read) then work against the localnet unmodified.
//
// Both IDLs are generated from the project's own description of the programs (src/chain/idl.ts,
// the same one the localnet's programs decode their instructions with), converted to the legacy
// format the Anchor 0.28/0.29 clients read. They therefore list exactly the instructions the
// localnet implements: the admin instructions of the jobs program, and every staking instruction
// but `stake`, are absent because the localnet does not run them.
import { createHash } from 'node:crypto';
import { Keypair } from '@solana/web3.js';
import type { PublicKey } from '@solana/web3.js';
import type { NosanaNetwork } from '../../chain/addresses.ts';
import { jobsIdl, stakeIdl } from '../../chain/idl.ts';
import { STAKE_ERRORS } from '../../chain/program-errors.ts';
import type { Ledger } from '../chain/ledger.ts';
import { encodeIdlAccount, idlAccountAddress } from './idl-account.ts';
import { toLegacyIdl } from './legacy-idl.ts';
import type { LegacyIdl } from './legacy-idl.ts';

/**
 * The authority recorded in the localnet's IDL accounts: a fixed key derived from a phrase, so it
 * is the same for every localnet and belongs to no real wallet. It can change nothing: the
 * localnet's programs do not implement Anchor's IDL-management instructions.
 */
export const LOCALNET_IDL_AUTHORITY: PublicKey = Keypair.fromSeed(
  createHash('sha256').update('nosana-operator localnet IDL authority').digest(),
).publicKey;

export interface PublishedIdl {
  programId: PublicKey;
  idl: LegacyIdl;
}

/** The legacy IDLs of the network's jobs and staking programs, addressed to its program ids. */
export function localnetIdls(network: NosanaNetwork): PublishedIdl[] {
  const jobsProgram = network.jobsProgram;
  const stakingProgram = network.stakingProgram;
  return [
    { programId: jobsProgram, idl: toLegacyIdl(jobsIdl(jobsProgram.toBase58())) },
    // The staking program's own error enum belongs in its IDL as the jobs program's does in its.
    { programId: stakingProgram, idl: toLegacyIdl({ ...stakeIdl(stakingProgram.toBase58()), errors: [...STAKE_ERRORS] }) },
  ];
}

/**
 * Writes (or rewrites) the IDL accounts into the ledger, owned by their programs and holding the
 * rent-exempt minimum. Called at every start, so a ledger loaded from a state file written by an
 * older localnet also gets the current IDLs.
 */
export async function seedIdlAccounts(ledger: Ledger, network: NosanaNetwork): Promise<void> {
  for (const { programId, idl } of localnetIdls(network)) {
    ledger.setAccount(await idlAccountAddress(programId), { owner: programId, data: encodeIdlAccount(LOCALNET_IDL_AUTHORITY, idl) });
  }
}
