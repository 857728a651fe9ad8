// The account store: every account by base58 address, the sysvars computed from the clock, the
// fees burnt so far, and the genesis helpers that set up state without transactions. The recent
// past stays readable (`at(slot)`) for reads answered like a lagging node.
import { getAssociatedTokenAddressSync } from '@solana/spl-token';
import { Keypair, type PublicKey } from '@solana/web3.js';
import { AccountHistory } from './account-history.ts';
import { SYSTEM_PROGRAM_ID, TOKEN_PROGRAM_ID } from './addresses.ts';
import type { LedgerAccount } from './program.ts';
import { rentExemptMinimum } from './rent.ts';
import type { SysvarReader } from './sysvars.ts';
import { TOKEN_ACCOUNT_STATE, decodeMint, decodeTokenAccount, encodeMint, encodeTokenAccount } from './token-state.ts';

/** Fields of `setAccount`; lamports default to the rent-exempt minimum, owner to System. */
export interface AccountSeed {
  lamports?: bigint;
  owner?: PublicKey;
  data?: Buffer;
  executable?: boolean;
}

export interface MintSeed {
  /** Defaults to a fresh random address. */
  address?: PublicKey;
  mintAuthority: PublicKey | null;
  decimals: number;
  freezeAuthority?: PublicKey | null;
}

export interface TokenAccountSeed {
  mint: PublicKey;
  owner: PublicKey;
  /** Defaults to the owner's associated token account for the mint. */
  address?: PublicKey;
  amount?: bigint;
}

/** Accounts as read by the RPC: the current state, or the state at the end of an earlier slot. */
export interface AccountsView {
  /** The account, or undefined. Read-only. */
  get(address: PublicKey | string): LedgerAccount | undefined;
  /** Stored accounts (sysvars excluded), for scans such as getProgramAccounts. */
  entries(): Iterable<[string, LedgerAccount]>;
}

export class Ledger implements AccountsView {
  readonly #accounts = new Map<string, LedgerAccount>();
  readonly #sysvars: SysvarReader;
  readonly #currentSlot: () => number;
  readonly #history = new AccountHistory();
  #burnedFees = 0n;
  #version = 0;

  /** `currentSlot` is the slot writes happen at (the chain's last synced slot). */
  constructor(sysvars: SysvarReader, currentSlot: () => number = () => 0) {
    this.#sysvars = sysvars;
    this.#currentSlot = currentSlot;
  }

  /** The account, or undefined. Treat the result as read-only: writes go through `put`. */
  get(address: PublicKey | string): LedgerAccount | undefined {
    const key = typeof address === 'string' ? address : address.toBase58();
    return this.#sysvars(key) ?? this.#accounts.get(key);
  }

  /** Stores (a copy of) an account; an account left with no lamports is removed, as on Solana. */
  put(address: PublicKey | string, account: LedgerAccount | undefined): void {
    const key = typeof address === 'string' ? address : address.toBase58();
    this.#history.record(this.#currentSlot(), key, this.#accounts.get(key));
    if (!account || account.lamports === 0n) this.#accounts.delete(key);
    else this.#accounts.set(key, { ...account, data: Buffer.from(account.data) });
    this.#version++;
  }

  /** Stored accounts (sysvars excluded), for scans such as getProgramAccounts. */
  entries(): IterableIterator<[string, LedgerAccount]> {
    return this.#accounts.entries();
  }

  /**
   * The accounts as they stood at the end of `slot` (at most PAST_STATE_SLOTS back): what a node
   * that has processed only up to that slot answers. The current slot or later is the ledger itself.
   */
  at(slot: number): AccountsView {
    if (slot >= this.#currentSlot()) return this;
    const accounts = this.#accounts;
    const history = this.#history;
    const sysvars = this.#sysvars;
    return {
      get: (address) => {
        const key = typeof address === 'string' ? address : address.toBase58();
        return sysvars(key, slot) ?? history.valueAt(key, slot, accounts.get(key));
      },
      *entries() {
        const changed = history.changedAfter(slot);
        for (const entry of accounts) {
          if (!changed.has(entry[0])) yield entry;
        }
        for (const key of changed) {
          const account = history.valueAt(key, slot, accounts.get(key));
          if (account) yield [key, account];
        }
      },
    };
  }

  burnFee(lamports: bigint): void {
    this.#burnedFees += lamports;
    this.#version++;
  }

  get burnedFees(): bigint {
    return this.#burnedFees;
  }

  /** Increases on every change, so persistence knows when there is something to save. */
  get version(): number {
    return this.#version;
  }

  /** Lamports held by stored accounts (what fees and genesis helpers change; transfers do not). */
  totalLamports(): bigint {
    let total = 0n;
    for (const account of this.#accounts.values()) total += account.lamports;
    return total;
  }

  // ---- genesis helpers: state created without a transaction ----

  setAccount(address: PublicKey, seed: AccountSeed): void {
    const data = seed.data ?? Buffer.alloc(0);
    this.put(address, {
      lamports: seed.lamports ?? rentExemptMinimum(data.length),
      owner: seed.owner ?? SYSTEM_PROGRAM_ID,
      data,
      executable: seed.executable ?? false,
    });
  }

  /** Credits lamports out of nothing (a System-owned account is created when missing). */
  airdrop(address: PublicKey, lamports: bigint): void {
    if (lamports <= 0n) throw new Error(`airdrop: lamports must be positive, got ${lamports}`);
    const current = this.get(address);
    this.put(
      address,
      current
        ? { ...current, lamports: current.lamports + lamports }
        : { lamports, owner: SYSTEM_PROGRAM_ID, data: Buffer.alloc(0), executable: false },
    );
  }

  createMint(seed: MintSeed): PublicKey {
    if (!Number.isInteger(seed.decimals) || seed.decimals < 0 || seed.decimals > 255)
      throw new Error(`createMint: decimals must be 0..255, got ${seed.decimals}`);
    const address = seed.address ?? Keypair.generate().publicKey;
    this.#assertFree(address, 'createMint');
    const data = encodeMint({
      mintAuthority: seed.mintAuthority,
      supply: 0n,
      decimals: seed.decimals,
      isInitialized: true,
      freezeAuthority: seed.freezeAuthority ?? null,
    });
    this.setAccount(address, { owner: TOKEN_PROGRAM_ID, data });
    return address;
  }

  createTokenAccount(seed: TokenAccountSeed): PublicKey {
    if (!decodeMint(this.get(seed.mint)?.data ?? Buffer.alloc(0)))
      throw new Error(`createTokenAccount: ${seed.mint.toBase58()} is not a mint`);
    const address = seed.address ?? getAssociatedTokenAddressSync(seed.mint, seed.owner, true);
    this.#assertFree(address, 'createTokenAccount');
    const data = encodeTokenAccount({
      mint: seed.mint,
      owner: seed.owner,
      amount: 0n,
      delegate: null,
      state: TOKEN_ACCOUNT_STATE.initialized,
      isNative: null,
      delegatedAmount: 0n,
      closeAuthority: null,
    });
    this.setAccount(address, { owner: TOKEN_PROGRAM_ID, data });
    if (seed.amount) this.mintTo(address, seed.amount);
    return address;
  }

  /** Adds tokens to an account and to its mint's supply, bypassing the mint authority. */
  mintTo(tokenAccount: PublicKey, amount: bigint): void {
    if (amount <= 0n) throw new Error(`mintTo: amount must be positive, got ${amount}`);
    const account = this.get(tokenAccount);
    const state = account && account.owner.equals(TOKEN_PROGRAM_ID) ? decodeTokenAccount(account.data) : undefined;
    if (!account || !state) throw new Error(`mintTo: ${tokenAccount.toBase58()} is not a token account`);
    const mintAccount = this.get(state.mint);
    const mint = mintAccount ? decodeMint(mintAccount.data) : undefined;
    if (!mintAccount || !mint) throw new Error(`mintTo: mint ${state.mint.toBase58()} of ${tokenAccount.toBase58()} does not exist`);
    this.put(tokenAccount, { ...account, data: encodeTokenAccount({ ...state, amount: state.amount + amount }) });
    this.put(state.mint, { ...mintAccount, data: encodeMint({ ...mint, supply: mint.supply + amount }) });
  }

  #assertFree(address: PublicKey, helper: string): void {
    if (this.get(address)) throw new Error(`${helper}: account ${address.toBase58()} already exists`);
  }
}
