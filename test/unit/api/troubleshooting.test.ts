// Troubleshooting by condition reason: every reason of the phase table has an entry under its kind
// and a row in the README's table, and the README's generated block is replaced without touching
// a byte around it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALL_CRDS } from '../../../src/api/crds/index.ts';
import { BlockMarkersError, replaceGeneratedBlock } from '../../../src/api/docs/generated-block.ts';
import { TROUBLESHOOTING_MARKERS, troubleshootingMarkdown, troubleshootingReadmeBlock } from '../../../src/api/docs/troubleshooting.ts';
import { HEALTH_TABLE, type HealthRow } from '../../../src/api/health.ts';

const KINDS = ALL_CRDS.map((definition) => definition.kind);

/** The page's sections by kind: `## Kind` up to the next `## `. */
function sectionsOf(page: string): Map<string, string> {
  const sections = new Map<string, string>();
  for (const part of page.split(/^## /m).slice(1)) sections.set(part.slice(0, part.indexOf('\n')), part);
  return sections;
}

describe('docs/troubleshooting.md', () => {
  const page = troubleshootingMarkdown(HEALTH_TABLE, KINDS);
  const sections = sectionsOf(page);

  test('one section per kind, in the order of ALL_CRDS', () => {
    assert.deepEqual([...sections.keys()], KINDS);
  });

  test('every reason of the table is an entry of its kind, with its phase, meaning, fix and terminality', () => {
    for (const row of HEALTH_TABLE) {
      const section = sections.get(row.kind) ?? '';
      // a reason shown in two phases has an entry per phase, the phase in its heading
      const alone = section.indexOf(`\n### ${row.reason}\n`);
      const start = alone >= 0 ? alone : section.indexOf(`\n### ${row.reason} (${row.phase ?? 'none'})\n`);
      assert.ok(start >= 0, `${row.kind} ${row.reason} has no entry`);
      const next = section.indexOf('\n### ', start + 1);
      const entry = section.slice(start, next < 0 ? undefined : next);
      assert.ok(entry.includes(`- **Phase**: ${row.phase ?? 'none'}`), `${row.reason}: phase`);
      assert.ok(entry.includes(`- **Means**: ${row.when.replace(/</g, '&lt;').replace(/>/g, '&gt;')}`), `${row.reason}: when`);
      assert.ok(entry.includes(`- **What to do**: ${row.fix}`), `${row.reason}: fix`);
      assert.ok(entry.includes(`- **Terminal**: ${row.terminal ? 'yes' : 'no'}`), `${row.reason}: terminal`);
    }
  });

  test('a reason a kind shows in two phases gets an entry per phase, told apart in the heading', () => {
    const base = HEALTH_TABLE.find((row) => row.kind === 'NosanaNode' && row.reason === 'Joining')!;
    const rows: HealthRow[] = [base, { ...base, phase: 'Error', fix: 'Look at it.' }];
    const text = troubleshootingMarkdown(rows, ['NosanaNode']);
    assert.ok(text.includes('\n### Joining (Idle)\n'));
    assert.ok(text.includes('\n### Joining (Error)\n'));
  });

  test('a row cannot leave out what to do', () => {
    // @ts-expect-error: fix is required (this line fails the type check should it become optional)
    const row: HealthRow = {
      kind: 'NosanaJob',
      reason: 'X',
      when: 'w',
      conditions: {},
      kstatus: 'Current',
      argo: 'Healthy',
      terminal: false,
    };
    assert.equal(row.fix, undefined);
    for (const each of HEALTH_TABLE) assert.ok(each.fix.trim().length > 20, `${each.kind} ${each.reason}: fix is empty`);
  });
});

describe('README troubleshooting block', () => {
  const block = troubleshootingReadmeBlock(HEALTH_TABLE, KINDS);

  test('every reason is a row with its kind and its fix, and the block links the page', () => {
    const lines = block.split('\n');
    for (const row of HEALTH_TABLE)
      assert.ok(lines.includes(`| ${row.kind} | \`${row.reason}\` | ${row.fix.replace(/\|/g, '\\|')} |`), `${row.kind} ${row.reason}`);
    assert.ok(block.includes('[docs/troubleshooting.md](docs/troubleshooting.md)'));
  });

  test('a reason with the same advice in two phases is one row', () => {
    const rows = block.split('\n').filter((line) => line.startsWith('| Nosana'));
    assert.equal(new Set(rows).size, rows.length, 'no row is repeated');
    assert.equal(rows.filter((line) => line.startsWith('| NosanaDeployment | `BudgetExhausted` |')).length, 1);
  });
});

describe('replaceGeneratedBlock', () => {
  const { begin, end } = TROUBLESHOOTING_MARKERS;
  const before = `# Title\r\n\ntext  with trailing spaces   \n\n## Troubleshooting\n\n${begin}`;
  const after = `${end}\n\n## Layout\n\n\`\`\`\nkeep\tthis\n\`\`\`\n\n\n`;
  const readme = `${before}\nold table\nmore old text\n${after}`;

  test('keeps every byte outside the markers and puts the block between them', () => {
    const replaced = replaceGeneratedBlock(readme, TROUBLESHOOTING_MARKERS, 'new block\n', 'README.md');
    assert.equal(replaced, `${before}\nnew block\n${after}`);
  });

  test('is idempotent, so a second run finds nothing stale', () => {
    const once = replaceGeneratedBlock(readme, TROUBLESHOOTING_MARKERS, 'new block', 'README.md');
    assert.equal(replaceGeneratedBlock(once, TROUBLESHOOTING_MARKERS, 'new block', 'README.md'), once);
  });

  const broken: { reason: string; text: string; message: RegExp }[] = [
    { reason: 'no markers at all', text: '# Title\n\n## Layout\n', message: /README\.md has no "<!-- troubleshooting:begin -->" marker/ },
    { reason: 'the end marker lost', text: `# T\n${begin}\nx\n`, message: /has no "<!-- troubleshooting:end -->" marker/ },
    { reason: 'a marker twice', text: `${begin}\n${end}\n${begin}\n${end}\n`, message: /more than once/ },
    { reason: 'the markers swapped', text: `${end}\nx\n${begin}\n`, message: /comes before/ },
  ];
  for (const c of broken) {
    test(`fails clearly with ${c.reason}`, () => {
      assert.throws(
        () => replaceGeneratedBlock(c.text, TROUBLESHOOTING_MARKERS, 'block', 'README.md'),
        (error: unknown) => error instanceof BlockMarkersError && c.message.test(error.message),
      );
    });
  }
});
