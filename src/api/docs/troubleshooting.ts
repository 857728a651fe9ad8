// Troubleshooting by condition reason: docs/troubleshooting.md and the README's table, written from
// the phase table (src/api/health.ts), whose rows are what the controllers show. A reason seen in
// `kubectl describe` leads to what it means and what to do, and both pages change with the table.
// Pure: rows in, Markdown out; src/api/crds/manifests.ts decides where it is written.
import type { NosanaKind } from '../crds/crd.ts';
import type { HealthRow } from '../health.ts';
import type { BlockMarkers } from './generated-block.ts';
import { code, generatedNotice, inlineText, table } from './markdown.ts';

/** Where the README's troubleshooting table goes. */
export const TROUBLESHOOTING_MARKERS: BlockMarkers = {
  begin: '<!-- troubleshooting:begin -->',
  end: '<!-- troubleshooting:end -->',
};

/** The page, relative to the repository. */
export const TROUBLESHOOTING_DOC = 'docs/troubleshooting.md';

const SOURCE = 'src/api/health.ts';

/** docs/troubleshooting.md: per kind, one entry per reason. */
export function troubleshootingMarkdown(rows: readonly HealthRow[], kinds: readonly NosanaKind[]): string {
  const sections = kinds.map((kind) => {
    const ofKind = rows.filter((row) => row.kind === kind);
    return [`## ${kind}\n`, ...ofKind.map((row) => entry(row, ofKind))].join('\n');
  });
  return [
    `${generatedNotice(SOURCE)}# Troubleshooting by condition reason\n`,
    'Every nosana.io resource names its state in the reason of its `Ready` condition, with a message that says more: ' +
      `${code('kubectl describe nosanajob NAME')} shows both, and the Events; ${code('kubectl get nosanajobs -o wide')} ` +
      `and ${code('kubectl get nosananodes -o wide')} show the reason in a column; ` +
      `${code('kubectl get events --field-selector involvedObject.name=NAME')} lists what happened.\n`,
    'Below, per kind, every reason: the phase it comes with, what it means, what to do, and whether it is terminal ' +
      '(the operator does nothing more with a terminal NosanaJob: to run the job again, apply a new one). ' +
      'The conditions and health each reason gives: [conditions](conditions.md).\n',
    ...sections,
  ].join('\n');
}

/** The README's block: the kind, the reason and what to do, with a link to the page. */
export function troubleshootingReadmeBlock(rows: readonly HealthRow[], kinds: readonly NosanaKind[]): string {
  // a reason shown in two phases with the same advice is one line here (the page tells the phases apart)
  const lines = new Map<string, string[]>();
  for (const row of kinds.flatMap((kind) => rows.filter((candidate) => candidate.kind === kind))) {
    const line = [row.kind, code(row.reason), oneLine(row.fix)];
    lines.set(JSON.stringify(line), line);
  }
  return [
    generatedNotice(SOURCE),
    "The reason of a resource's `Ready` condition names its state (`kubectl describe nosanajob NAME`, or the REASON " +
      'column of `kubectl get nosanajobs -o wide`). What to do about each is below; ' +
      `[${TROUBLESHOOTING_DOC}](${TROUBLESHOOTING_DOC}) also gives its phase, what it means and whether it is terminal.\n`,
    table(['kind', 'reason', 'what to do'], [...lines.values()]),
  ].join('\n');
}

function entry(row: HealthRow, ofKind: readonly HealthRow[]): string {
  // A reason shown in two phases of one kind gets an entry per phase, told apart in the heading.
  const shared = ofKind.filter((other) => other.reason === row.reason).length > 1;
  const heading = shared ? `${row.reason} (${row.phase ?? 'no phase'})` : row.reason;
  return [
    `### ${heading}\n`,
    `- **Phase**: ${row.phase ?? 'none (this kind has no phase)'}`,
    `- **Means**: ${inlineText(row.when)}`,
    `- **What to do**: ${oneLine(row.fix)}`,
    `- **Terminal**: ${row.terminal ? 'yes: nothing more happens to it' : 'no'}\n`,
  ].join('\n');
}

/** A fix is Markdown already (code spans for commands): only kept to one line. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}
