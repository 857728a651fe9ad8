// SPL Token account (165 bytes) and mint (82 bytes) layouts, through @solana/spl-token's own
// buffer layouts so the bytes are exactly what clients decode.
import { ACCOUNT_SIZE, AccountLayout, MINT_SIZE, MintLayout, type AccountState } from '@solana/spl-token';
import { PublicKey } from '@solana/web3.js';

export const TOKEN_ACCOUNT_SIZE = ACCOUNT_SIZE;
export const TOKEN_MINT_SIZE = MINT_SIZE;

export const TOKEN_ACCOUNT_STATE = { uninitialized: 0, initialized: 1, frozen: 2 } as const;
export type TokenAccountStateCode = (typeof TOKEN_ACCOUNT_STATE)[keyof typeof TOKEN_ACCOUNT_STATE];

export interface TokenAccountState {
  mint: PublicKey;
  owner: PublicKey;
  amount: bigint;
  delegate: PublicKey | null;
  state: TokenAccountStateCode;
  /** Rent-exempt reserve of a wrapped-SOL account; null for ordinary accounts. */
  isNative: bigint | null;
  delegatedAmount: bigint;
  closeAuthority: PublicKey | null;
}

export interface MintState {
  mintAuthority: PublicKey | null;
  supply: bigint;
  decimals: number;
  isInitialized: boolean;
  freezeAuthority: PublicKey | null;
}

const NO_KEY = PublicKey.default;

/** Decodes a token account; undefined when the data is not 165 bytes. */
export function decodeTokenAccount(data: Buffer): TokenAccountState | undefined {
  if (data.length !== TOKEN_ACCOUNT_SIZE) return undefined;
  const raw = AccountLayout.decode(data);
  return {
    mint: raw.mint,
    owner: raw.owner,
    amount: raw.amount,
    delegate: raw.delegateOption ? raw.delegate : null,
    state: raw.state as TokenAccountStateCode,
    isNative: raw.isNativeOption ? raw.isNative : null,
    delegatedAmount: raw.delegatedAmount,
    closeAuthority: raw.closeAuthorityOption ? raw.closeAuthority : null,
  };
}

export function encodeTokenAccount(account: TokenAccountState): Buffer {
  const data = Buffer.alloc(TOKEN_ACCOUNT_SIZE);
  AccountLayout.encode(
    {
      mint: account.mint,
      owner: account.owner,
      amount: account.amount,
      delegateOption: account.delegate ? 1 : 0,
      delegate: account.delegate ?? NO_KEY,
      state: account.state as AccountState,
      isNativeOption: account.isNative === null ? 0 : 1,
      isNative: account.isNative ?? 0n,
      delegatedAmount: account.delegatedAmount,
      closeAuthorityOption: account.closeAuthority ? 1 : 0,
      closeAuthority: account.closeAuthority ?? NO_KEY,
    },
    data,
  );
  return data;
}

/** Decodes a mint; undefined when the data is not 82 bytes. */
export function decodeMint(data: Buffer): MintState | undefined {
  if (data.length !== TOKEN_MINT_SIZE) return undefined;
  const raw = MintLayout.decode(data);
  return {
    mintAuthority: raw.mintAuthorityOption ? raw.mintAuthority : null,
    supply: raw.supply,
    decimals: raw.decimals,
    isInitialized: raw.isInitialized,
    freezeAuthority: raw.freezeAuthorityOption ? raw.freezeAuthority : null,
  };
}

export function encodeMint(mint: MintState): Buffer {
  const data = Buffer.alloc(TOKEN_MINT_SIZE);
  MintLayout.encode(
    {
      mintAuthorityOption: mint.mintAuthority ? 1 : 0,
      mintAuthority: mint.mintAuthority ?? NO_KEY,
      supply: mint.supply,
      decimals: mint.decimals,
      isInitialized: mint.isInitialized,
      freezeAuthorityOption: mint.freezeAuthority ? 1 : 0,
      freezeAuthority: mint.freezeAuthority ?? NO_KEY,
    },
    data,
  );
  return data;
}

/** Exact decimal rendering of a token amount ("1.5", "0.000043", "12"), as uiAmountString. */
export function formatTokenAmount(amount: bigint, decimals: number): string {
  if (decimals === 0) return amount.toString();
  const digits = amount.toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, -decimals);
  const fraction = digits.slice(-decimals).replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : whole;
}

export interface UiTokenAmount {
  amount: string;
  decimals: number;
  /** A float for display only, as the RPC reports it; money math uses `amount`. */
  uiAmount: number | null;
  uiAmountString: string;
}

export function uiTokenAmount(amount: bigint, decimals: number): UiTokenAmount {
  const uiAmountString = formatTokenAmount(amount, decimals);
  return { amount: amount.toString(), decimals, uiAmount: Number(uiAmountString), uiAmountString };
}
