// SPL Token reads: a token account's balance, a mint's supply, and an owner's token accounts;
// like every state read, as of an older slot when the lag fault picks the read.
import { TOKEN_PROGRAM_ID } from '../addresses.ts';
import type { LocalChain } from '../chain.ts';
import type { AccountsView } from '../ledger.ts';
import { decodeMint, decodeTokenAccount, uiTokenAmount, TOKEN_ACCOUNT_STATE } from '../token-state.ts';
import { accountViewOf, encodeAccount } from './account-encoding.ts';
import { checkMinContextSlot, configParam, optionalString, parsePubkey, pubkeyParam, type Params } from './params.ts';
import { withContext } from './response.ts';
import { invalidParams } from './rpc-error.ts';

function mintDecimals(accounts: AccountsView, mint: string): number {
  const account = accounts.get(mint);
  const state = account?.owner.equals(TOKEN_PROGRAM_ID) ? decodeMint(account.data) : undefined;
  if (!state) throw invalidParams('Invalid param: could not find mint');
  return state.decimals;
}

export const tokenMethods = {
  getTokenAccountBalance: (params: Params, chain: LocalChain) => {
    const address = pubkeyParam(params, 0, 'token account');
    const slot = chain.readSlot();
    checkMinContextSlot(configParam(params, 1), slot);
    const accounts = chain.accountsAt(slot);
    const account = accounts.get(address);
    if (!account) throw invalidParams('Invalid param: could not find account');
    const state = account.owner.equals(TOKEN_PROGRAM_ID) ? decodeTokenAccount(account.data) : undefined;
    if (!state || state.state === TOKEN_ACCOUNT_STATE.uninitialized) throw invalidParams('Invalid param: not a Token account');
    return withContext(chain, uiTokenAmount(state.amount, mintDecimals(accounts, state.mint.toBase58())), slot);
  },
  getTokenSupply: (params: Params, chain: LocalChain) => {
    const address = pubkeyParam(params, 0, 'mint');
    const slot = chain.readSlot();
    checkMinContextSlot(configParam(params, 1), slot);
    const account = chain.accountsAt(slot).get(address);
    const mint = account?.owner.equals(TOKEN_PROGRAM_ID) ? decodeMint(account.data) : undefined;
    if (!mint) throw invalidParams('Invalid param: not a Token mint');
    return withContext(chain, uiTokenAmount(mint.supply, mint.decimals), slot);
  },
  getTokenAccountsByOwner: (params: Params, chain: LocalChain) => {
    const owner = pubkeyParam(params, 0, 'owner');
    const selector = configParam(params, 1);
    const config = configParam(params, 2);
    const slot = chain.readSlot();
    checkMinContextSlot(config, slot);
    const accounts = chain.accountsAt(slot);
    const mintText = optionalString(selector, 'mint');
    const programText = optionalString(selector, 'programId');
    if ((mintText === undefined) === (programText === undefined)) throw invalidParams('Invalid params: give either mint or programId');
    const mint = mintText === undefined ? undefined : parsePubkey(mintText, 'mint');
    if (programText !== undefined && !parsePubkey(programText, 'programId').equals(TOKEN_PROGRAM_ID)) {
      throw invalidParams('Invalid param: unrecognized Token program id');
    }
    if (mint) mintDecimals(accounts, mint.toBase58());
    const view = accountViewOf(config);
    const matches = [];
    for (const [address, account] of accounts.entries()) {
      if (!account.owner.equals(TOKEN_PROGRAM_ID)) continue;
      const state = decodeTokenAccount(account.data);
      if (!state || state.state === TOKEN_ACCOUNT_STATE.uninitialized || !state.owner.equals(owner)) continue;
      if (mint && !state.mint.equals(mint)) continue;
      matches.push({ pubkey: address, account: encodeAccount(account, view, (key) => accounts.get(key)) });
    }
    return withContext(chain, matches, slot);
  },
};
