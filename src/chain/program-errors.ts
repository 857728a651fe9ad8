// Error names of the Nosana programs, and how to find them in a failed transaction.
//
// Numbers are not enough: the jobs program's own errors and the shared Nosana error enum both
// start at 6000, so 6000 can mean InvalidMarketAccount or Unauthorized. Anchor writes the name
// into the program logs, so clients identify errors by name.

export interface ProgramErrorInfo {
  code: number;
  name: string;
  msg: string;
}

/** Custom program errors are numbered from 6000 in declaration order. */
function numbered(entries: readonly string[]): ProgramErrorInfo[] {
  return entries.map((entry, index) => {
    const [name = '', msg = ''] = entry.split(':');
    return { code: 6000 + index, name, msg };
  });
}

/** The jobs program's own errors (numbered from 6000). */
export const JOB_ERRORS: readonly ProgramErrorInfo[] = numbered([
  'InvalidMarketAccount:the market account is not valid',
  'MarketInWrongState:the market queue is in the wrong state for this instruction',
  'NotInMarketQueue:the account is not in the market queue',
  'InvalidJobAccount:the job account is not valid',
  'JobInWrongState:the job is in the wrong state for this instruction',
  'JobNotExpired:the job has not expired yet',
  'JobResultNull:the job result must not be empty',
  'JobInvalidProject:the signer is not the job project',
  'JobTimeoutNotGreater:the new timeout must be greater than the current one',
  'JobInvalidRunAccount:the run account does not belong to this job',
  'JobResultsAlreadySet:the job already has a result',
  'NodeQueueDoesNotMatch:the node is not the one queued for this job',
  'NodeStakeUnauthorized:the stake account does not belong to the node',
  'NodeNotEnoughStake:the node does not have enough stake for this market',
  'NodeAlreadyQueued:the node is already in the market queue',
  'NodeNftWrongMetadata:the node NFT metadata does not match',
  'NodeNftWrongOwner:the node does not own the NFT',
  'NodeNftInvalidAmount:the node NFT amount is not 1',
  'NodeKeyInvalidCollection:the node NFT is not in the market access-key collection',
]);

/** The shared Nosana errors (common crate), also numbered from 6000 and absent from the IDL. */
export const COMMON_ERRORS: readonly ProgramErrorInfo[] = numbered([
  'Unauthorized:the signer is not authorized',
  'InvalidOwner:the account has the wrong owner',
  'LamportsNonNull:the account still holds lamports',
  'MissingSignature:a required signature is missing',
  'InvalidAccount:the account is not valid',
  'InvalidTokenAccount:the token account is not valid',
  'InvalidMint:the token mint is not NOS',
  'InvalidVault:the vault is not the market vault',
  'InvalidPayer:the payer does not match the account payer',
  'VaultEmpty:the vault is empty',
  'VaultNotEmpty:the vault is not empty',
  'InvalidATA:the token account is not the associated token account',
]);

/** Anchor's own framework errors the programs can raise through account constraints. */
export const ANCHOR_ERRORS: readonly ProgramErrorInfo[] = [
  { code: 2000, name: 'ConstraintMut', msg: 'a mut constraint was violated' },
  { code: 2001, name: 'ConstraintHasOne', msg: 'a has_one constraint was violated' },
  { code: 2002, name: 'ConstraintSigner', msg: 'a signer constraint was violated' },
  { code: 2003, name: 'ConstraintRaw', msg: 'a raw constraint was violated' },
  { code: 2006, name: 'ConstraintSeeds', msg: 'a seeds constraint was violated' },
  { code: 2012, name: 'ConstraintAddress', msg: 'an address constraint was violated' },
  { code: 2019, name: 'ConstraintTokenOwner', msg: 'a token owner constraint was violated' },
  { code: 2040, name: 'ConstraintDuplicateMutableAccount', msg: 'the same account was passed in two mutable slots' },
  { code: 3001, name: 'AccountDiscriminatorNotFound', msg: 'no account discriminator was found' },
  { code: 3002, name: 'AccountDiscriminatorMismatch', msg: 'the account discriminator did not match' },
  { code: 3004, name: 'AccountDidNotSerialize', msg: 'the account could not be serialized (it is full)' },
  { code: 3005, name: 'AccountNotEnoughKeys', msg: 'not enough account keys were given' },
  { code: 3007, name: 'AccountOwnedByWrongProgram', msg: 'the account is owned by a different program' },
  { code: 3012, name: 'AccountNotInitialized', msg: 'the account is not initialized' },
];

const ERROR_CODE_IN_LOG = /Error Code: (\w+)\. Error Number: (\d+)/;

export interface ParsedProgramError {
  name: string;
  code: number;
  message: string | undefined;
}

/**
 * Finds the Anchor error a failed transaction's logs name (`… Error Code: <Name>. Error Number: <n>.`).
 * Returns undefined when the logs carry none (the failure came from another program, fees, …).
 */
export function parseProgramError(logs: readonly string[] | null | undefined): ParsedProgramError | undefined {
  for (const line of logs ?? []) {
    const match = ERROR_CODE_IN_LOG.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) {
      const message = /Error Message: (.*?)\.?$/.exec(line)?.[1];
      return { name: match[1], code: Number(match[2]), message };
    }
  }
  return undefined;
}

export function errorInfoByName(name: string): ProgramErrorInfo | undefined {
  return [...JOB_ERRORS, ...COMMON_ERRORS, ...ANCHOR_ERRORS].find((info) => info.name === name);
}

/** The staking program's errors; only `stake` is used by the project. */
export const STAKE_ERRORS: readonly ProgramErrorInfo[] = numbered([
  'AmountNotEnough:the amount is not enough',
  'AlreadyInitialized:the stake is already initialized',
  'AlreadyClaimed:the stake is already claimed',
  'AlreadyStaked:the stake is already staked',
  'AlreadyUnstaked:the stake is already unstaked',
  'NotUnstaked:the stake is not unstaked yet',
  'Locked:the stake is still locked',
  'DurationTooShort:the stake duration is too short',
  'DurationTooLong:the stake duration is too long',
  'DoesNotExist:the stake account does not exist',
  'Decreased:the stake may not decrease',
  'HasReward:the stake still has a reward account',
  'InvalidStakeAccount:the stake does not belong to the authority',
]);
