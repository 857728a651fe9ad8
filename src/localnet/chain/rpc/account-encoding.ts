// Accounts as the RPC returns them: base58/base64/base64+zstd data (optionally sliced), or SPL
// token accounts and mints parsed to JSON ("jsonParsed"); other accounts fall back to base64.
import { zstdCompressSync } from 'node:zlib';
import bs58 from 'bs58';
import { TOKEN_PROGRAM_ID } from '../addresses.ts';
import type { LedgerAccount } from '../program.ts';
import { TOKEN_ACCOUNT_STATE, decodeMint, decodeTokenAccount, uiTokenAmount } from '../token-state.ts';
import { optionalInteger, optionalString, type Config } from './params.ts';
import { RPC_ERROR, RpcError, invalidParams } from './rpc-error.ts';

export type AccountEncoding = 'binary' | 'base58' | 'base64' | 'base64+zstd' | 'jsonParsed';

const ENCODINGS: readonly AccountEncoding[] = ['binary', 'base58', 'base64', 'base64+zstd', 'jsonParsed'];
/** Solana refuses base58 for more data than this. */
const MAX_BASE58_BYTES = 128;
/** Solana reports u64::MAX as the rent epoch of rent-exempt accounts; JSON clients read it as this double. */
const RENT_EXEMPT_EPOCH = 2 ** 64;

export interface DataSlice {
  offset: number;
  length: number;
}

export interface AccountView {
  encoding: AccountEncoding;
  dataSlice: DataSlice | undefined;
}

/** Encoding and dataSlice of a config; Solana's default encoding is legacy "binary" (base58). */
export function accountViewOf(config: Config, fallback: AccountEncoding = 'binary'): AccountView {
  const name = optionalString(config, 'encoding') ?? fallback;
  if (!ENCODINGS.includes(name as AccountEncoding)) throw invalidParams(`Invalid params: unknown encoding \`${name}\``);
  const slice = config['dataSlice'];
  let dataSlice: DataSlice | undefined;
  if (slice !== undefined && slice !== null) {
    if (typeof slice !== 'object') throw invalidParams('Invalid params: dataSlice must be an object');
    dataSlice = { offset: optionalInteger(slice as Config, 'offset') ?? 0, length: optionalInteger(slice as Config, 'length') ?? 0 };
  }
  return { encoding: name as AccountEncoding, dataSlice };
}

/** `readMint` resolves a token account's mint for jsonParsed (its decimals). */
export function encodeAccount(account: LedgerAccount, view: AccountView, readMint: (address: string) => LedgerAccount | undefined) {
  return {
    data: encodeData(account, view, readMint),
    executable: account.executable,
    lamports: Number(account.lamports),
    owner: account.owner.toBase58(),
    rentEpoch: RENT_EXEMPT_EPOCH,
    space: account.data.length,
  };
}

function encodeData(account: LedgerAccount, view: AccountView, readMint: (address: string) => LedgerAccount | undefined): unknown {
  if (view.encoding === 'jsonParsed') {
    const parsed = parseTokenData(account, readMint);
    if (parsed) return parsed;
  }
  const data = view.dataSlice ? account.data.subarray(view.dataSlice.offset, view.dataSlice.offset + view.dataSlice.length) : account.data;
  switch (view.encoding) {
    case 'binary':
    case 'base58':
      if (data.length > MAX_BASE58_BYTES) {
        throw new RpcError(
          RPC_ERROR.invalidRequest,
          `Encoded binary (base 58) data should be less than ${MAX_BASE58_BYTES} bytes, please use Base64 encoding.`,
        );
      }
      return view.encoding === 'binary' ? bs58.encode(data) : [bs58.encode(data), 'base58'];
    case 'base64+zstd':
      return [zstdCompressSync(data).toString('base64'), 'base64+zstd'];
    default:
      return [data.toString('base64'), 'base64'];
  }
}

function parseTokenData(account: LedgerAccount, readMint: (address: string) => LedgerAccount | undefined) {
  if (!account.owner.equals(TOKEN_PROGRAM_ID)) return undefined;
  const mint = decodeMint(account.data);
  if (mint?.isInitialized) {
    return {
      program: 'spl-token',
      parsed: {
        type: 'mint',
        info: {
          decimals: mint.decimals,
          freezeAuthority: mint.freezeAuthority?.toBase58() ?? null,
          isInitialized: true,
          mintAuthority: mint.mintAuthority?.toBase58() ?? null,
          supply: mint.supply.toString(),
        },
      },
      space: account.data.length,
    };
  }
  const token = decodeTokenAccount(account.data);
  if (!token || token.state === TOKEN_ACCOUNT_STATE.uninitialized) return undefined;
  const mintAccount = readMint(token.mint.toBase58());
  const decimals = mintAccount ? decodeMint(mintAccount.data)?.decimals : undefined;
  if (decimals === undefined) return undefined;
  return {
    program: 'spl-token',
    parsed: {
      type: 'account',
      info: {
        isNative: token.isNative !== null,
        mint: token.mint.toBase58(),
        owner: token.owner.toBase58(),
        state: token.state === TOKEN_ACCOUNT_STATE.frozen ? 'frozen' : 'initialized',
        tokenAmount: uiTokenAmount(token.amount, decimals),
        ...(token.delegate ? { delegate: token.delegate.toBase58(), delegatedAmount: uiTokenAmount(token.delegatedAmount, decimals) } : {}),
        ...(token.closeAuthority ? { closeAuthority: token.closeAuthority.toBase58() } : {}),
      },
    },
    space: account.data.length,
  };
}
