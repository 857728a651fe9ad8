// Account writes held apart from the state they read through, so a transaction (or its fee
// alone) can be committed or dropped as a whole.
import type { LedgerAccount } from './program.ts';

export type AccountReader = (address: string) => LedgerAccount | undefined;

export class StagedAccounts {
  readonly #base: AccountReader;
  readonly #writes = new Map<string, LedgerAccount | undefined>();

  constructor(base: AccountReader) {
    this.#base = base;
  }

  /** Current state; never mutate the result (writes store copies, so readers may keep it). */
  read(address: string): LedgerAccount | undefined {
    return this.#writes.has(address) ? this.#writes.get(address) : this.#base(address);
  }

  put(address: string, account: LedgerAccount | undefined): void {
    this.#writes.set(address, account && { ...account, data: Buffer.from(account.data) });
  }

  get writes(): ReadonlyMap<string, LedgerAccount | undefined> {
    return this.#writes;
  }

  readonly reader: AccountReader = (address) => this.read(address);

  /** Applies every write to `target` (another stage or the ledger). */
  commitTo(target: { put(address: string, account: LedgerAccount | undefined): void }): void {
    for (const [address, account] of this.#writes) target.put(address, account);
  }
}
