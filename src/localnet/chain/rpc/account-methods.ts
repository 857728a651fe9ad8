// Account reads: single, multiple, by program (with filters) and balances. Reads serve the latest
// state whatever the commitment asked, or, when the lag fault picks the read, the state of an
// older slot (with that slot as the context slot).
import type { LocalChain } from '../chain.ts';
import type { AccountsView } from '../ledger.ts';
import { accountViewOf, encodeAccount } from './account-encoding.ts';
import { arrayParam, checkMinContextSlot, configParam, optionalBoolean, parsePubkey, pubkeyParam, type Params } from './params.ts';
import { parseFilters } from './program-account-filters.ts';
import { withContext } from './response.ts';
import { invalidParams } from './rpc-error.ts';

const MAX_MULTIPLE_ACCOUNTS = 100;

function readMint(accounts: AccountsView) {
  return (address: string) => accounts.get(address);
}

export const accountMethods = {
  getAccountInfo: (params: Params, chain: LocalChain) => {
    const address = pubkeyParam(params, 0, 'account address');
    const config = configParam(params, 1);
    const slot = chain.readSlot();
    checkMinContextSlot(config, slot);
    const view = accountViewOf(config);
    const accounts = chain.accountsAt(slot);
    const account = accounts.get(address);
    return withContext(chain, account ? encodeAccount(account, view, readMint(accounts)) : null, slot);
  },
  getMultipleAccounts: (params: Params, chain: LocalChain) => {
    const addresses = arrayParam(params, 0, 'account addresses');
    if (addresses.length > MAX_MULTIPLE_ACCOUNTS) throw invalidParams(`Too many inputs provided; max ${MAX_MULTIPLE_ACCOUNTS}`);
    const config = configParam(params, 1);
    const slot = chain.readSlot();
    checkMinContextSlot(config, slot);
    const view = accountViewOf(config);
    const accounts = chain.accountsAt(slot);
    return withContext(
      chain,
      addresses.map((raw, i) => {
        if (typeof raw !== 'string') throw invalidParams(`Invalid params: account address ${i} must be a string`);
        const account = accounts.get(parsePubkey(raw, `account address ${i}`));
        return account ? encodeAccount(account, view, readMint(accounts)) : null;
      }),
      slot,
    );
  },
  getProgramAccounts: (params: Params, chain: LocalChain) => {
    const programId = pubkeyParam(params, 0, 'program id');
    const config = configParam(params, 1);
    const slot = chain.readSlot();
    checkMinContextSlot(config, slot);
    const view = accountViewOf(config);
    const filters = parseFilters(config['filters']);
    const accounts = chain.accountsAt(slot);
    const matches = [];
    for (const [address, account] of accounts.entries()) {
      if (!account.owner.equals(programId) || !filters.every((filter) => filter(account.data))) continue;
      matches.push({ pubkey: address, account: encodeAccount(account, view, readMint(accounts)) });
    }
    return optionalBoolean(config, 'withContext') ? withContext(chain, matches, slot) : matches;
  },
  getBalance: (params: Params, chain: LocalChain) => {
    const address = pubkeyParam(params, 0, 'account address');
    const slot = chain.readSlot();
    checkMinContextSlot(configParam(params, 1), slot);
    return withContext(chain, Number(chain.accountsAt(slot).get(address)?.lamports ?? 0n), slot);
  },
};
