// Account reads: single, multiple, by program (with filters) and balances. Reads serve the latest
// state whatever the commitment asked.
import type { LocalChain } from '../chain.ts';
import { accountViewOf, encodeAccount } from './account-encoding.ts';
import { arrayParam, checkMinContextSlot, configParam, optionalBoolean, parsePubkey, pubkeyParam, type Params } from './params.ts';
import { parseFilters } from './program-account-filters.ts';
import { withContext } from './response.ts';
import { invalidParams } from './rpc-error.ts';

const MAX_MULTIPLE_ACCOUNTS = 100;

function readMint(chain: LocalChain) {
  return (address: string) => chain.ledger.get(address);
}

export const accountMethods = {
  getAccountInfo: (params: Params, chain: LocalChain) => {
    const address = pubkeyParam(params, 0, 'account address');
    const config = configParam(params, 1);
    checkMinContextSlot(config, chain);
    const view = accountViewOf(config);
    const account = chain.ledger.get(address);
    return withContext(chain, account ? encodeAccount(account, view, readMint(chain)) : null);
  },
  getMultipleAccounts: (params: Params, chain: LocalChain) => {
    const addresses = arrayParam(params, 0, 'account addresses');
    if (addresses.length > MAX_MULTIPLE_ACCOUNTS) throw invalidParams(`Too many inputs provided; max ${MAX_MULTIPLE_ACCOUNTS}`);
    const config = configParam(params, 1);
    checkMinContextSlot(config, chain);
    const view = accountViewOf(config);
    return withContext(chain, addresses.map((raw, i) => {
      if (typeof raw !== 'string') throw invalidParams(`Invalid params: account address ${i} must be a string`);
      const account = chain.ledger.get(parsePubkey(raw, `account address ${i}`));
      return account ? encodeAccount(account, view, readMint(chain)) : null;
    }));
  },
  getProgramAccounts: (params: Params, chain: LocalChain) => {
    const programId = pubkeyParam(params, 0, 'program id');
    const config = configParam(params, 1);
    checkMinContextSlot(config, chain);
    const view = accountViewOf(config);
    const filters = parseFilters(config['filters']);
    const matches = [];
    for (const [address, account] of chain.ledger.entries()) {
      if (!account.owner.equals(programId) || !filters.every((filter) => filter(account.data))) continue;
      matches.push({ pubkey: address, account: encodeAccount(account, view, readMint(chain)) });
    }
    return optionalBoolean(config, 'withContext') ? withContext(chain, matches) : matches;
  },
  getBalance: (params: Params, chain: LocalChain) => {
    const address = pubkeyParam(params, 0, 'account address');
    checkMinContextSlot(configParam(params, 1), chain);
    return withContext(chain, Number(chain.ledger.get(address)?.lamports ?? 0n));
  },
};
