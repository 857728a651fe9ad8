// The rewards program exists on the localnet only as an account: the current jobs program sends
// no network fee (JOB_FEE_FRACTION = 0), so `list` and `extend` pass it without calling it.
import type { PublicKey } from '@solana/web3.js';
import type { NosanaNetwork } from '../../chain/addresses.ts';
import type { LocalProgram } from '../chain/program.ts';
import { ProgramFailure } from '../chain/program.ts';

export class RewardsProgram implements LocalProgram {
  readonly programId: PublicKey;
  readonly name = 'nosana-rewards';

  constructor(network: NosanaNetwork) {
    this.programId = network.rewardsProgram;
  }

  execute(): void {
    throw new ProgramFailure(
      'InstructionFallbackNotFound',
      101,
      'the localnet rewards program has no instructions: the jobs program charges no network fee',
    );
  }
}
