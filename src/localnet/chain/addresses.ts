// Well-known Solana addresses the localnet runtime itself needs (programs, loaders, sysvars).
import { ASSOCIATED_TOKEN_PROGRAM_ID, TOKEN_PROGRAM_ID } from '@solana/spl-token';
import {
  BPF_LOADER_PROGRAM_ID,
  ComputeBudgetProgram,
  PublicKey,
  SYSVAR_CLOCK_PUBKEY,
  SYSVAR_RENT_PUBKEY,
  SystemProgram,
} from '@solana/web3.js';

export { ASSOCIATED_TOKEN_PROGRAM_ID, TOKEN_PROGRAM_ID };
export const SYSTEM_PROGRAM_ID = SystemProgram.programId;
export const COMPUTE_BUDGET_PROGRAM_ID = ComputeBudgetProgram.programId;

/** Owner of built-in (native) programs such as System and ComputeBudget. */
export const NATIVE_LOADER_ID = new PublicKey('NativeLoader1111111111111111111111111111111');
/** Owner of the SPL programs on mainnet (non-upgradeable BPF loader v2). */
export const BPF_LOADER_2_ID = BPF_LOADER_PROGRAM_ID;
/** Owner of upgradeable programs such as the Nosana ones. */
export const BPF_LOADER_UPGRADEABLE_ID = new PublicKey('BPFLoaderUpgradeab1e11111111111111111111111');

export const SYSVAR_OWNER_ID = new PublicKey('Sysvar1111111111111111111111111111111111111');
export const SYSVAR_CLOCK_ID = SYSVAR_CLOCK_PUBKEY;
export const SYSVAR_RENT_ID = SYSVAR_RENT_PUBKEY;
