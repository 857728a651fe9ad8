// The one staking-program instruction the jobs flow needs: `stake`, which creates a node's stake
// account (and its token vault). Nodes create a zero stake so `work` finds the account it checks.
import type { PublicKey } from '@solana/web3.js';
import type { NosanaNetwork } from '../../chain/addresses.ts';
import { stakeAccount, stakeVault } from '../../chain/addresses.ts';
import { STAKE_INSTRUCTIONS } from '../../chain/idl.ts';
import { decodeStakeInstruction } from '../../chain/instructions.ts';
import { COMMON_ERRORS, STAKE_ERRORS } from '../../chain/program-errors.ts';
import type { LocalProgram, ProgramContext } from '../chain/program.ts';
import { ProgramFailure } from '../chain/program.ts';
import { AnchorInstruction, logInstruction } from './anchor-support.ts';

const DAY = 86_400n;
export const STAKE_DURATION_MIN = 14n * DAY;
export const STAKE_DURATION_MAX = 365n * DAY;
/** xNOS grows with the lock duration: amount × (1 + duration / XNOS_DURATION_DIVISOR). */
export const XNOS_DURATION_DIVISOR = 10_512_000n;

export function xnosOf(amount: bigint, duration: bigint): bigint {
  return amount + (amount * duration) / XNOS_DURATION_DIVISOR;
}

export class StakeProgram implements LocalProgram {
  readonly programId: PublicKey;
  readonly name = 'nosana-staking';
  private readonly network: NosanaNetwork;

  constructor(network: NosanaNetwork) {
    this.network = network;
    this.programId = network.stakingProgram;
  }

  execute(ctx: ProgramContext): void {
    const decoded = decodeStakeInstruction(ctx.data);
    if (decoded?.name !== 'stake') {
      throw new ProgramFailure('InstructionFallbackNotFound', 101, 'the localnet staking program implements only `stake`');
    }
    logInstruction(ctx, 'stake');
    ctx.consume(25_000);
    const ix = new AnchorInstruction(ctx, STAKE_INSTRUCTIONS.stake.accounts, [...STAKE_ERRORS, ...COMMON_ERRORS]);
    const amount = decoded.args.amount as bigint;
    const duration = decoded.args.duration as bigint;
    const authority = ix.key('authority');
    ix.require(ix.key('mint').equals(this.network.nosMint), 'InvalidMint', 'mint');
    ix.require(duration >= STAKE_DURATION_MIN, 'DurationTooShort');
    ix.require(duration <= STAKE_DURATION_MAX, 'DurationTooLong');
    const [vault, vaultBump] = stakeVault(this.network, authority);
    ix.require(ix.key('vault').equals(vault), 'ConstraintSeeds', 'vault');
    ix.require(ix.key('stake').equals(stakeAccount(this.network, authority)[0]), 'ConstraintSeeds', 'stake');
    ix.createSelfOwnedTokenAccount('vault', this.network.nosMint, 'authority');
    ix.create('stake', 'StakeAccount', 'authority', {
      amount,
      authority,
      duration,
      timeUnstake: 0n,
      vault,
      vaultBump,
      xnos: xnosOf(amount, duration),
    });
    ix.transfer('user', 'vault', authority, amount);
  }
}
