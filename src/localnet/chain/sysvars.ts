// Sysvar accounts clients and programs read, with Solana's byte layouts. Their content follows the
// clock, so they are computed on every read rather than stored (as of an earlier slot for a read
// answered like a lagging node).
import { SYSVAR_CLOCK_ID, SYSVAR_OWNER_ID, SYSVAR_RENT_ID } from './addresses.ts';
import type { ChainClock } from './clock.ts';
import type { LedgerAccount } from './program.ts';
import { LAMPORTS_PER_BYTE_YEAR, rentExemptMinimum } from './rent.ts';

export const SLOTS_PER_EPOCH = 432_000;
const RENT_BURN_PERCENT = 50;

/** `slot`: read as of that past slot instead of now. */
export type SysvarReader = (address: string, slot?: number) => LedgerAccount | undefined;

export function createSysvarReader(clock: ChainClock): SysvarReader {
  const rent = sysvarAccount(rentData());
  return (address, slot) => {
    if (address === SYSVAR_CLOCK_ID.toBase58()) return sysvarAccount(clockData(clock, slot));
    if (address === SYSVAR_RENT_ID.toBase58()) return rent;
    return undefined;
  };
}

export const SYSVAR_ADDRESSES: readonly string[] = [SYSVAR_CLOCK_ID.toBase58(), SYSVAR_RENT_ID.toBase58()];

function sysvarAccount(data: Buffer): LedgerAccount {
  return { lamports: rentExemptMinimum(data.length), owner: SYSVAR_OWNER_ID, data, executable: false };
}

// Clock: slot u64, epoch_start_timestamp i64, epoch u64, leader_schedule_epoch u64, unix_timestamp i64.
function clockData(clock: ChainClock, pastSlot: number | undefined): Buffer {
  const slot = pastSlot ?? clock.slot();
  const epoch = Math.floor(slot / SLOTS_PER_EPOCH);
  const data = Buffer.alloc(40);
  data.writeBigUInt64LE(BigInt(slot), 0);
  data.writeBigInt64LE(BigInt(clock.slotTime(epoch * SLOTS_PER_EPOCH)), 8);
  data.writeBigUInt64LE(BigInt(epoch), 16);
  data.writeBigUInt64LE(BigInt(epoch + 1), 24);
  data.writeBigInt64LE(BigInt(pastSlot === undefined ? clock.unixTimestamp() : clock.slotTime(pastSlot)), 32);
  return data;
}

// Rent: lamports_per_byte_year u64, exemption_threshold f64, burn_percent u8.
function rentData(): Buffer {
  const data = Buffer.alloc(17);
  data.writeBigUInt64LE(LAMPORTS_PER_BYTE_YEAR, 0);
  data.writeDoubleLE(2, 8);
  data.writeUInt8(RENT_BURN_PERCENT, 16);
  return data;
}
