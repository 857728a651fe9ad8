// Text tables as kubectl prints them: upper-case headers, columns three spaces apart, no trailing
// blanks; ages in kubectl's short form (45s, 3m20s, 5h, 2d3h). Pure: rows in, text out, so that
// `get -w` can print each later row aligned with the table it printed first.

const GAP = '   ';

/** The width of each column: its widest cell or header. */
export function columnWidths(header: readonly string[], rows: readonly (readonly string[])[]): number[] {
  return header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
}

/** One line of cells padded to `widths` (cells wider than their column push the rest right). */
export function renderRow(row: readonly string[], widths: readonly number[]): string {
  return row
    .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
    .join(GAP)
    .trimEnd();
}

/** Header and rows as one block of text, each line ending in a newline. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = columnWidths(header, rows);
  return [header, ...rows].map((row) => `${renderRow(row, widths)}\n`).join('');
}

/**
 * How long ago, as kubectl's AGE column says it: seconds up to two minutes, then minutes (with
 * seconds under ten minutes), hours (with minutes under eight hours), days (with hours under eight
 * days), years (with days under eight years).
 */
export function humanAge(elapsedMs: number): string {
  const seconds = Math.floor(elapsedMs / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return withRest(minutes, 'm', seconds % 60, 's');
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return withRest(hours, 'h', minutes % 60, 'm');
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return withRest(days, 'd', hours % 24, 'h');
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (hours < 24 * 365 * 8) return withRest(years, 'y', days % 365, 'd');
  return `${years}y`;
}

function withRest(whole: number, unit: string, rest: number, restUnit: string): string {
  return rest === 0 ? `${whole}${unit}` : `${whole}${unit}${rest}${restUnit}`;
}

/** A whole number of seconds as a duration a user would write: 600 → "10m", 5400 → "1h30m", 45 → "45s". */
export function formatSeconds(total: number | bigint): string {
  let seconds = BigInt(total);
  if (seconds <= 0n) return '0s';
  const parts: string[] = [];
  for (const [unit, size] of [
    ['h', 3600n],
    ['m', 60n],
    ['s', 1n],
  ] as const) {
    if (seconds >= size) {
      parts.push(`${seconds / size}${unit}`);
      seconds %= size;
    }
  }
  return parts.join('');
}
