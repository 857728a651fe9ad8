// Solana's rent-exemption rule: an account must hold two years of rent for its data plus the
// 128 bytes of metadata every account costs.
export const LAMPORTS_PER_BYTE_YEAR = 3480n;
export const EXEMPTION_THRESHOLD_YEARS = 2n;
export const ACCOUNT_STORAGE_OVERHEAD = 128n;
/** Largest account data Solana allows (10 MiB). */
export const MAX_ACCOUNT_DATA_LENGTH = 10 * 1024 * 1024;

export function rentExemptMinimum(dataLength: number): bigint {
  return (ACCOUNT_STORAGE_OVERHEAD + BigInt(dataLength)) * LAMPORTS_PER_BYTE_YEAR * EXEMPTION_THRESHOLD_YEARS;
}
