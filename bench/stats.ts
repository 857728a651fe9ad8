// The arithmetic and layout the benchmarks share: percentiles of latency samples, the ratio of a
// figure between two modes, and a plain-text table, so a result reads the same on a terminal and
// in a CI log.

export interface Summary {
  /** How many samples the percentiles come from. */
  n: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * The p-th percentile (0..100) by linear interpolation between closest ranks, as numpy's default:
 * with 20 samples, p99 lies between the two largest rather than being the largest alone.
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

export function summarize(samples: readonly number[]): Summary {
  return { n: samples.length, p50: percentile(samples, 50), p99: percentile(samples, 99), max: percentile(samples, 100) };
}

/** candidate / baseline; NaN when the baseline is zero or missing, so no ratio is invented. */
export function ratio(candidate: number, baseline: number): number {
  return baseline === 0 || !Number.isFinite(baseline) || !Number.isFinite(candidate) ? NaN : candidate / baseline;
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  return Math.abs(ms) >= 1_000 ? `${(ms / 1_000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

export function formatNumber(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}

export function formatRatio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : '-';
}

/** Columns padded to their widest cell; the first column left-aligned, figures right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  const line = (row: readonly string[]): string =>
    row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

export function formatMebibytes(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}
