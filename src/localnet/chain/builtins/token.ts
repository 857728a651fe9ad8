// The SPL Token program (legacy, Tokenkeg…): mints, token accounts, transfers, minting, burning,
// delegation and closing, with SPL's instruction encoding, account layouts, error codes and log
// lines. Not implemented: multisig authorities, wrapped SOL (native mint), freeze/thaw,
// SetAuthority and the amount/UI conversions; they fail with a message saying so.
import { NATIVE_MINT } from '@solana/spl-token';
import type { PublicKey } from '@solana/web3.js';
import { SYSTEM_PROGRAM_ID, TOKEN_PROGRAM_ID } from '../addresses.ts';
import { InstructionFault, ProgramFailure, type LedgerAccount } from '../program.ts';
import {
  TOKEN_ACCOUNT_SIZE,
  TOKEN_ACCOUNT_STATE,
  TOKEN_MINT_SIZE,
  decodeMint,
  decodeTokenAccount,
  encodeMint,
  encodeTokenAccount,
  type MintState,
  type TokenAccountState,
} from '../token-state.ts';
import { InstructionData, accountAt, isSigner } from './instruction-data.ts';
import type { RuntimeContext, RuntimeProgram } from './runtime-program.ts';

// TokenError: code and the message SPL prints as "Error: <message>".
const TOKEN_ERRORS = {
  NotRentExempt: [0, 'Lamport balance below rent-exempt threshold'],
  InsufficientFunds: [1, 'insufficient funds'],
  InvalidMint: [2, 'Invalid Mint'],
  MintMismatch: [3, 'Account not associated with this Mint'],
  OwnerMismatch: [4, 'owner does not match'],
  FixedSupply: [5, 'the total supply of this token is fixed'],
  AlreadyInUse: [6, 'account or token already in use'],
  NativeNotSupported: [10, 'Instruction does not support native tokens'],
  NonNativeHasBalance: [11, 'Non-native account can only be closed if its balance is zero'],
  InvalidInstruction: [12, 'Invalid instruction'],
  Overflow: [14, 'Operation overflowed'],
  AccountFrozen: [17, 'Account is frozen'],
  MintDecimalsMismatch: [18, 'decimals different from the Mint decimals'],
} as const;

type TokenErrorName = keyof typeof TOKEN_ERRORS;

function tokenError(name: TokenErrorName): ProgramFailure {
  const [code, message] = TOKEN_ERRORS[name];
  return new ProgramFailure(name, code, message);
}

// A built-in ProgramError, printed the way SPL's PrintProgramError does.
function programError(variant: string): InstructionFault {
  return new InstructionFault(variant, `Program log: Error: ${variant}`);
}

// Compute units, close to what the real program reports for each instruction.
const UNITS: Record<string, number> = {
  InitializeMint: 2_967,
  InitializeMint2: 2_828,
  InitializeAccount: 3_443,
  InitializeAccount2: 3_288,
  InitializeAccount3: 3_158,
  Transfer: 4_645,
  TransferChecked: 6_200,
  MintTo: 4_492,
  MintToChecked: 4_540,
  Burn: 4_753,
  BurnChecked: 4_700,
  CloseAccount: 2_915,
  Approve: 2_904,
  ApproveChecked: 4_457,
  Revoke: 2_697,
  InitializeImmutableOwner: 1_405,
};

const INSTRUCTION_NAMES: Record<number, string> = {
  0: 'InitializeMint',
  1: 'InitializeAccount',
  2: 'InitializeMultisig',
  3: 'Transfer',
  4: 'Approve',
  5: 'Revoke',
  6: 'SetAuthority',
  7: 'MintTo',
  8: 'Burn',
  9: 'CloseAccount',
  10: 'FreezeAccount',
  11: 'ThawAccount',
  12: 'TransferChecked',
  13: 'ApproveChecked',
  14: 'MintToChecked',
  15: 'BurnChecked',
  16: 'InitializeAccount2',
  17: 'SyncNative',
  18: 'InitializeAccount3',
  19: 'InitializeMultisig2',
  20: 'InitializeMint2',
  21: 'GetAccountDataSize',
  22: 'InitializeImmutableOwner',
  23: 'AmountToUiAmount',
  24: 'UiAmountToAmount',
};

interface Loaded<T> {
  address: PublicKey;
  account: LedgerAccount;
  state: T;
}

function loadTokenAccount(ctx: RuntimeContext, address: PublicKey): Loaded<TokenAccountState> {
  const account = ctx.get(address);
  const state = account ? decodeTokenAccount(account.data) : undefined;
  if (!account || !state) throw programError('InvalidAccountData');
  if (state.state === TOKEN_ACCOUNT_STATE.uninitialized) throw programError('UninitializedAccount');
  return { address, account, state };
}

function loadMint(ctx: RuntimeContext, address: PublicKey): Loaded<MintState> {
  const account = ctx.get(address);
  const state = account ? decodeMint(account.data) : undefined;
  if (!account || !state) throw programError('InvalidAccountData');
  if (!state.isInitialized) throw programError('UninitializedAccount');
  return { address, account, state };
}

function saveTokenAccount(ctx: RuntimeContext, loaded: Loaded<TokenAccountState>, state: TokenAccountState): void {
  ctx.set(loaded.address, { ...loaded.account, data: encodeTokenAccount(state) });
}

function saveMint(ctx: RuntimeContext, loaded: Loaded<MintState>, state: MintState): void {
  ctx.set(loaded.address, { ...loaded.account, data: encodeMint(state) });
}

/** The authority must be the expected key and sign (PDAs sign through the caller's invoke). */
function validateOwner(ctx: RuntimeContext, expected: PublicKey, authority: PublicKey): void {
  if (!expected.equals(authority)) throw tokenError('OwnerMismatch');
  if (!isSigner(ctx, authority)) throw programError('MissingRequiredSignature');
}

const U64_MAX = (1n << 64n) - 1n;

function checkedAdd(a: bigint, b: bigint): bigint {
  if (a + b > U64_MAX) throw tokenError('Overflow');
  return a + b;
}

function initializeMint(ctx: RuntimeContext, data: InstructionData): void {
  const decimals = data.u8();
  const mintAuthority = data.pubkey();
  const freezeAuthority = data.optionalPubkey();
  const address = accountAt(ctx, 0).pubkey;
  const account = ctx.get(address);
  if (!account || account.data.length !== TOKEN_MINT_SIZE) throw programError('InvalidAccountData');
  if (decodeMint(account.data)?.isInitialized) throw tokenError('AlreadyInUse');
  if (account.lamports < ctx.rentExemptMinimum(account.data.length)) throw tokenError('NotRentExempt');
  ctx.set(address, { ...account, data: encodeMint({ mintAuthority, supply: 0n, decimals, isInitialized: true, freezeAuthority }) });
}

function initializeAccount(ctx: RuntimeContext, owner: PublicKey): void {
  const address = accountAt(ctx, 0).pubkey;
  const mintAddress = accountAt(ctx, 1).pubkey;
  const account = ctx.get(address);
  if (!account || account.data.length !== TOKEN_ACCOUNT_SIZE) throw programError('InvalidAccountData');
  if (decodeTokenAccount(account.data)?.state !== TOKEN_ACCOUNT_STATE.uninitialized) throw tokenError('AlreadyInUse');
  if (account.lamports < ctx.rentExemptMinimum(account.data.length)) throw tokenError('NotRentExempt');
  if (mintAddress.equals(NATIVE_MINT))
    throw new InstructionFault('InvalidArgument', 'localnet: wrapped SOL (the native mint) is not implemented');
  const mint = ctx.get(mintAddress);
  if (!mint || !mint.owner.equals(TOKEN_PROGRAM_ID) || !decodeMint(mint.data)?.isInitialized) throw tokenError('InvalidMint');
  ctx.set(address, {
    ...account,
    data: encodeTokenAccount({
      mint: mintAddress,
      owner,
      amount: 0n,
      delegate: null,
      state: TOKEN_ACCOUNT_STATE.initialized,
      isNative: null,
      delegatedAmount: 0n,
      closeAuthority: null,
    }),
  });
}

function initializeImmutableOwner(ctx: RuntimeContext): void {
  const account = ctx.get(accountAt(ctx, 0).pubkey);
  if (!account || account.data.length !== TOKEN_ACCOUNT_SIZE) throw programError('InvalidAccountData');
  if (decodeTokenAccount(account.data)?.state !== TOKEN_ACCOUNT_STATE.uninitialized) throw tokenError('AlreadyInUse');
  ctx.log('Please upgrade to SPL Token 2022 for immutable owner support');
}

// Spending from a token account, by its owner or, within the approved amount, its delegate.
// Returns the account state after the delegation was charged.
function authorizeSpend(ctx: RuntimeContext, source: TokenAccountState, authority: PublicKey, amount: bigint): TokenAccountState {
  if (source.delegate?.equals(authority)) {
    validateOwner(ctx, source.delegate, authority);
    if (source.delegatedAmount < amount) throw tokenError('InsufficientFunds');
    const delegatedAmount = source.delegatedAmount - amount;
    return { ...source, delegatedAmount, delegate: delegatedAmount === 0n ? null : source.delegate };
  }
  validateOwner(ctx, source.owner, authority);
  return source;
}

function transfer(ctx: RuntimeContext, amount: bigint, checked: { decimals: number } | undefined): void {
  const sourceKey = accountAt(ctx, 0).pubkey;
  const mintKey = checked ? accountAt(ctx, 1).pubkey : undefined;
  const destinationKey = accountAt(ctx, checked ? 2 : 1).pubkey;
  const authority = accountAt(ctx, checked ? 3 : 2).pubkey;
  const source = loadTokenAccount(ctx, sourceKey);
  const destination = loadTokenAccount(ctx, destinationKey);
  if (source.state.state === TOKEN_ACCOUNT_STATE.frozen || destination.state.state === TOKEN_ACCOUNT_STATE.frozen)
    throw tokenError('AccountFrozen');
  if (source.state.amount < amount) throw tokenError('InsufficientFunds');
  if (!source.state.mint.equals(destination.state.mint)) throw tokenError('MintMismatch');
  if (checked && mintKey) {
    if (!mintKey.equals(source.state.mint)) throw tokenError('MintMismatch');
    if (loadMint(ctx, mintKey).state.decimals !== checked.decimals) throw tokenError('MintDecimalsMismatch');
  }
  const charged = authorizeSpend(ctx, source.state, authority, amount);
  if (sourceKey.equals(destinationKey)) {
    saveTokenAccount(ctx, source, charged);
    return;
  }
  saveTokenAccount(ctx, source, { ...charged, amount: charged.amount - amount });
  saveTokenAccount(ctx, destination, { ...destination.state, amount: checkedAdd(destination.state.amount, amount) });
}

function mintTo(ctx: RuntimeContext, amount: bigint, checked: { decimals: number } | undefined): void {
  const mint = loadMint(ctx, accountAt(ctx, 0).pubkey);
  const destination = loadTokenAccount(ctx, accountAt(ctx, 1).pubkey);
  const authority = accountAt(ctx, 2).pubkey;
  if (destination.state.state === TOKEN_ACCOUNT_STATE.frozen) throw tokenError('AccountFrozen');
  if (!destination.state.mint.equals(mint.address)) throw tokenError('MintMismatch');
  if (checked && checked.decimals !== mint.state.decimals) throw tokenError('MintDecimalsMismatch');
  if (!mint.state.mintAuthority) throw tokenError('FixedSupply');
  validateOwner(ctx, mint.state.mintAuthority, authority);
  saveTokenAccount(ctx, destination, { ...destination.state, amount: checkedAdd(destination.state.amount, amount) });
  saveMint(ctx, mint, { ...mint.state, supply: checkedAdd(mint.state.supply, amount) });
}

function burn(ctx: RuntimeContext, amount: bigint, checked: { decimals: number } | undefined): void {
  const source = loadTokenAccount(ctx, accountAt(ctx, 0).pubkey);
  const mint = loadMint(ctx, accountAt(ctx, 1).pubkey);
  const authority = accountAt(ctx, 2).pubkey;
  if (source.state.state === TOKEN_ACCOUNT_STATE.frozen) throw tokenError('AccountFrozen');
  if (!source.state.mint.equals(mint.address)) throw tokenError('MintMismatch');
  if (checked && checked.decimals !== mint.state.decimals) throw tokenError('MintDecimalsMismatch');
  if (source.state.amount < amount) throw tokenError('InsufficientFunds');
  const charged = authorizeSpend(ctx, source.state, authority, amount);
  saveTokenAccount(ctx, source, { ...charged, amount: charged.amount - amount });
  saveMint(ctx, mint, { ...mint.state, supply: mint.state.supply - amount });
}

function closeAccount(ctx: RuntimeContext): void {
  const sourceKey = accountAt(ctx, 0).pubkey;
  const destinationKey = accountAt(ctx, 1).pubkey;
  const authority = accountAt(ctx, 2).pubkey;
  if (sourceKey.equals(destinationKey)) throw programError('InvalidAccountData');
  const source = loadTokenAccount(ctx, sourceKey);
  if (source.state.amount !== 0n) throw tokenError('NonNativeHasBalance');
  validateOwner(ctx, source.state.closeAuthority ?? source.state.owner, authority);
  // A destination that does not exist yet becomes a plain System account.
  const destination = ctx.get(destinationKey) ?? { lamports: 0n, owner: SYSTEM_PROGRAM_ID, data: Buffer.alloc(0), executable: false };
  ctx.set(sourceKey, undefined);
  ctx.set(destinationKey, { ...destination, lamports: destination.lamports + source.account.lamports });
}

function approve(ctx: RuntimeContext, amount: bigint, checked: { decimals: number } | undefined): void {
  const source = loadTokenAccount(ctx, accountAt(ctx, 0).pubkey);
  const mintKey = checked ? accountAt(ctx, 1).pubkey : undefined;
  const delegate = accountAt(ctx, checked ? 2 : 1).pubkey;
  const owner = accountAt(ctx, checked ? 3 : 2).pubkey;
  if (source.state.state === TOKEN_ACCOUNT_STATE.frozen) throw tokenError('AccountFrozen');
  if (checked && mintKey) {
    if (!mintKey.equals(source.state.mint)) throw tokenError('MintMismatch');
    if (loadMint(ctx, mintKey).state.decimals !== checked.decimals) throw tokenError('MintDecimalsMismatch');
  }
  validateOwner(ctx, source.state.owner, owner);
  saveTokenAccount(ctx, source, { ...source.state, delegate, delegatedAmount: amount });
}

function revoke(ctx: RuntimeContext): void {
  const source = loadTokenAccount(ctx, accountAt(ctx, 0).pubkey);
  const owner = accountAt(ctx, 1).pubkey;
  if (source.state.state === TOKEN_ACCOUNT_STATE.frozen) throw tokenError('AccountFrozen');
  validateOwner(ctx, source.state.owner, owner);
  saveTokenAccount(ctx, source, { ...source.state, delegate: null, delegatedAmount: 0n });
}

export const tokenProgram: RuntimeProgram = {
  programId: TOKEN_PROGRAM_ID,
  name: 'spl_token',
  loader: 'bpf-loader-2',
  failureLog: (failure) => `Error: ${failure.message}`,
  execute(ctx) {
    const data = new InstructionData(ctx.data);
    const tag = data.u8();
    const name = INSTRUCTION_NAMES[tag];
    if (!name) throw tokenError('InvalidInstruction');
    ctx.log(`Instruction: ${name}`);
    ctx.consume(UNITS[name] ?? 3_000);
    switch (tag) {
      case 0:
        return initializeMint(ctx, data);
      case 20:
        return initializeMint(ctx, data);
      case 1:
        return initializeAccount(ctx, accountAt(ctx, 2).pubkey);
      case 16:
        return initializeAccount(ctx, data.pubkey());
      case 18:
        return initializeAccount(ctx, data.pubkey());
      case 22:
        return initializeImmutableOwner(ctx);
      case 3:
        return transfer(ctx, data.u64(), undefined);
      case 12:
        return transfer(ctx, data.u64(), { decimals: data.u8() });
      case 7:
        return mintTo(ctx, data.u64(), undefined);
      case 14:
        return mintTo(ctx, data.u64(), { decimals: data.u8() });
      case 8:
        return burn(ctx, data.u64(), undefined);
      case 15:
        return burn(ctx, data.u64(), { decimals: data.u8() });
      case 9:
        return closeAccount(ctx);
      case 4:
        return approve(ctx, data.u64(), undefined);
      case 13:
        return approve(ctx, data.u64(), { decimals: data.u8() });
      case 5:
        return revoke(ctx);
      default:
        throw new InstructionFault('InvalidInstructionData', `localnet: SPL Token instruction ${name} is not implemented`);
    }
  },
};
