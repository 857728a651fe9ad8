// When something happened on the localnet, on its own clock (Date.now milliseconds, so it compares
// directly with what this process's watches saw): a transaction is confirmed once the slot after
// its own begins.
import type { Localnet } from '../src/localnet/localnet.ts';

/** When a transaction that landed in `slot` was confirmed. */
export function confirmedAtSlot(localnet: Localnet, slot: number): number {
  const { clock } = localnet.chain;
  // slots are counted from genesis on the chain's clock
  return clock.genesisMs + (slot + 1) * clock.slotMs - clock.offsetMs;
}

/**
 * When the first transaction naming `address` was confirmed: for an account a transaction
 * created (a job, a run), when it came to exist. Undefined when the localnet holds no record of it.
 */
export function firstConfirmedAt(localnet: Localnet, address: string): number | undefined {
  const records = localnet.chain.chain.signatures.forAddress(address);
  const oldest = records.at(-1);
  return oldest === undefined ? undefined : confirmedAtSlot(localnet, oldest.slot);
}
