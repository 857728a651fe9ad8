// Program ids, mints and well-known accounts of each Nosana network, and the program-derived
// addresses the jobs flow needs. The localnet uses the devnet ids, as Nosana's own local network
// does, so the same client code runs unchanged against it.
import { PublicKey, SystemProgram, SYSVAR_RENT_PUBKEY } from '@solana/web3.js';
import { ASSOCIATED_TOKEN_PROGRAM_ID, TOKEN_PROGRAM_ID } from '@solana/spl-token';

export type NetworkName = 'mainnet' | 'devnet' | 'localnet';

export interface NosanaNetwork {
  name: NetworkName;
  jobsProgram: PublicKey;
  nosMint: PublicKey;
  stakingProgram: PublicKey;
  rewardsProgram: PublicKey;
  /** Signs the admin-only instructions (close_admin, quit_admin, clean_admin). */
  marketAdmin: PublicKey;
}

const STAKING_PROGRAM = new PublicKey('nosScmHY2uR24Zh751PmGj9ww9QRNHewh9H59AfrTJE');
const REWARDS_PROGRAM = new PublicKey('nosRB8DUV67oLNrL45bo2pFLrmsWPiewe2Lk2DRNYCp');

const DEVNET: NosanaNetwork = {
  name: 'devnet',
  jobsProgram: new PublicKey('nosJTmGQxvwXy23vng5UjkTbfv91Bzf9jEuro78dAGR'),
  nosMint: new PublicKey('devr1BGQndEW5k5zfvG5FsLyZv1Ap73vNgAHcQ9sUVP'),
  stakingProgram: STAKING_PROGRAM,
  rewardsProgram: REWARDS_PROGRAM,
  marketAdmin: new PublicKey('XXXxddiNnmoD2h2LbQYaL76Swi21MaQbtBbRynAdQL8'),
};

export const NETWORKS: Readonly<Record<NetworkName, NosanaNetwork>> = {
  mainnet: {
    name: 'mainnet',
    jobsProgram: new PublicKey('nosJhNRqr2bc9g1nfGDcXXTXvYUmxD4cVwy2pMWhrYM'),
    nosMint: new PublicKey('nosXBVoaCTtYdLvKY6Csb4AC8JCdQKKAaWYtx2ZMoo7'),
    stakingProgram: STAKING_PROGRAM,
    rewardsProgram: REWARDS_PROGRAM,
    marketAdmin: new PublicKey('AdmMVMMU3po5BP3bVWsF9GgN6NNEfpfxpTDGTzjgb72S'),
  },
  devnet: DEVNET,
  localnet: { ...DEVNET, name: 'localnet' },
};

/** An open market's access key: the system program id means "no NFT required". */
export const OPEN_MARKET_ACCESS_KEY = SystemProgram.programId;
export const METAPLEX_METADATA_PROGRAM = new PublicKey('metaqbxxUerdq28cj1RbAWkYQm3ybzjb6a8bt518x1s');

export { ASSOCIATED_TOKEN_PROGRAM_ID, SYSVAR_RENT_PUBKEY, TOKEN_PROGRAM_ID };
export const SYSTEM_PROGRAM_ID = SystemProgram.programId;

/** How many derived addresses are kept: a node agent or controller derives the same few per object on every reconcile. */
const DERIVED_ADDRESSES_KEPT = 10_000;
const derived = new Map<string, [PublicKey, number]>();

/**
 * findProgramAddressSync, remembered. WHY: a derivation hashes and tests points on the curve in
 * JavaScript, up to 255 times; the node agent derived the same token and stake accounts on every
 * reconcile, which made it a visible share of its CPU. An address is a pure function of its seeds
 * and program, so a remembered one is always right; the oldest is forgotten past the bound.
 */
function pda(seeds: (Buffer | Uint8Array)[], program: PublicKey): [PublicKey, number] {
  const key = `${program.toBase58()}:${seeds.map((seed) => Buffer.from(seed).toString('hex')).join(':')}`;
  const known = derived.get(key);
  if (known !== undefined) return known;
  const found = Object.freeze(PublicKey.findProgramAddressSync(seeds, program)) as [PublicKey, number];
  if (derived.size >= DERIVED_ADDRESSES_KEPT) derived.delete(derived.keys().next().value!);
  derived.set(key, found);
  return found;
}

/** The market's token vault: a NOS token account whose authority is the PDA itself. */
export function marketVault(network: NosanaNetwork, market: PublicKey): [PublicKey, number] {
  return pda([market.toBuffer(), network.nosMint.toBuffer()], network.jobsProgram);
}

export function stakeAccount(network: NosanaNetwork, node: PublicKey): [PublicKey, number] {
  return pda([Buffer.from('stake'), network.nosMint.toBuffer(), node.toBuffer()], network.stakingProgram);
}

export function stakeVault(network: NosanaNetwork, node: PublicKey): [PublicKey, number] {
  return pda([Buffer.from('vault'), network.nosMint.toBuffer(), node.toBuffer()], network.stakingProgram);
}

export function rewardsReflection(network: NosanaNetwork): PublicKey {
  return pda([Buffer.from('reflection')], network.rewardsProgram)[0];
}

export function rewardsVault(network: NosanaNetwork): PublicKey {
  return pda([network.nosMint.toBuffer()], network.rewardsProgram)[0];
}

/** The owner's associated NOS token account. */
export function nosTokenAccount(network: NosanaNetwork, owner: PublicKey): PublicKey {
  return associatedTokenAccount(network.nosMint, owner);
}

/** The owner's associated token account of `mint` (as spl-token derives it, owners off the curve allowed), remembered. */
export function associatedTokenAccount(mint: PublicKey, owner: PublicKey): PublicKey {
  return pda([owner.toBuffer(), TOKEN_PROGRAM_ID.toBuffer(), mint.toBuffer()], ASSOCIATED_TOKEN_PROGRAM_ID)[0];
}

export function metaplexMetadata(mint: PublicKey): PublicKey {
  return pda([Buffer.from('metadata'), METAPLEX_METADATA_PROGRAM.toBuffer(), mint.toBuffer()], METAPLEX_METADATA_PROGRAM)[0];
}

export function networkByName(name: string): NosanaNetwork {
  if (name === 'mainnet' || name === 'devnet' || name === 'localnet') return NETWORKS[name];
  throw new Error(`unknown Nosana network "${name}": expected mainnet, devnet or localnet`);
}
