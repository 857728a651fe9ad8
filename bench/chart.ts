// The posting scenario's figures against N, drawn as an SVG for docs/performance.md: throughput
// and apply→done p99 of both sides, one panel each, one line per side. Plain SVG written here: a
// charting library would bring a browser-sized dependency for two line plots.
//
//   node bench/chart.ts [--in bench/results/latest.json] [--out bench/results/posting.svg]
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../src/local-cluster/binaries.ts';
import type { PostingResult } from './posting.ts';

export interface ChartPoint {
  jobs: number;
  ours: number;
  peer: number;
}

interface Panel {
  title: string;
  unit: string;
  points: readonly ChartPoint[];
}

const PANEL_WIDTH = 380;
const PANEL_HEIGHT = 260;
const MARGIN = { top: 36, right: 16, bottom: 44, left: 56 };
const COLOURS = { ours: '#1f6feb', peer: '#8c959f' } as const;

/** Both panels of the posting runs, one point per N, in increasing N. */
export function postingChartSvg(runs: readonly PostingResult[]): string {
  const sorted = [...runs].sort((a, b) => a.settings.jobs - b.settings.jobs);
  const panels: Panel[] = [
    {
      title: 'Throughput (objects per second, higher is better)',
      unit: '/s',
      points: sorted.map((run) => ({ jobs: run.settings.jobs, ours: run.ours.jobsPerSecond, peer: run.peer.jobsPerSecond })),
    },
    {
      title: 'apply→done p99 (seconds, lower is better)',
      unit: 's',
      points: sorted.map((run) => ({
        jobs: run.settings.jobs,
        ours: run.ours.applyToDoneMs.p99 / 1_000,
        peer: run.peer.applyToDoneMs.p99 / 1_000,
      })),
    },
  ];
  const width = PANEL_WIDTH * panels.length;
  const height = PANEL_HEIGHT + 28;
  const body = panels.map((panel, index) => panelSvg(panel, index * PANEL_WIDTH)).join('\n');
  const legend = (['ours', 'peer'] as const)
    .map((side, index) => {
      const x = 16 + index * 260;
      const label = side === 'ours' ? 'ours: NosanaJob → Queued' : 'peer: batch/v1 Job → Pod created';
      return `<line x1="${x}" y1="${height - 12}" x2="${x + 24}" y2="${height - 12}" stroke="${COLOURS[side]}" stroke-width="2.5"/><text x="${x + 30}" y="${height - 8}">${label}</text>`;
    })
    .join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    body,
    legend,
    '</svg>',
    '',
  ].join('\n');
}

function panelSvg(panel: Panel, offsetX: number): string {
  const plot = {
    x: offsetX + MARGIN.left,
    y: MARGIN.top,
    w: PANEL_WIDTH - MARGIN.left - MARGIN.right,
    h: PANEL_HEIGHT - MARGIN.top - MARGIN.bottom,
  };
  const jobs = panel.points.map((point) => point.jobs);
  const [low, high] = [Math.min(...jobs), Math.max(...jobs)];
  // N usually doubles or grows tenfold from run to run: a log axis spaces such runs evenly
  const logScale = high / low >= 4;
  const position = (n: number): number => {
    if (low === high) return plot.x + plot.w / 2;
    const fraction = logScale ? Math.log(n / low) / Math.log(high / low) : (n - low) / (high - low);
    return plot.x + fraction * plot.w;
  };
  const top = niceCeiling(Math.max(...panel.points.flatMap((point) => [point.ours, point.peer])));
  const level = (value: number): number => plot.y + plot.h - (value / top) * plot.h;
  const parts: string[] = [`<text x="${offsetX + MARGIN.left}" y="20" font-weight="bold">${panel.title}</text>`];
  for (let step = 0; step <= 4; step += 1) {
    const value = (top * step) / 4;
    const y = level(value);
    parts.push(
      `<line x1="${plot.x}" y1="${y}" x2="${plot.x + plot.w}" y2="${y}" stroke="#d0d7de" stroke-width="${step === 0 ? 1 : 0.5}"/>`,
      `<text x="${plot.x - 6}" y="${y + 4}" text-anchor="end">${formatTick(value)}${panel.unit}</text>`,
    );
  }
  for (const n of jobs) {
    parts.push(`<text x="${position(n)}" y="${plot.y + plot.h + 16}" text-anchor="middle">${n}</text>`);
  }
  parts.push(`<text x="${plot.x + plot.w / 2}" y="${plot.y + plot.h + 34}" text-anchor="middle">objects created at once (N)</text>`);
  for (const side of ['peer', 'ours'] as const) {
    const coordinates = panel.points.map((point) => `${position(point.jobs).toFixed(1)},${level(point[side]).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${COLOURS[side]}" stroke-width="2.5" points="${coordinates.join(' ')}"/>`);
    for (const coordinate of coordinates) {
      const [x, y] = coordinate.split(',');
      parts.push(`<circle cx="${x}" cy="${y}" r="3.5" fill="${COLOURS[side]}"/>`);
    }
  }
  return parts.join('\n');
}

/** The smallest 1, 2 or 5 times a power of ten at or above `value`: round gridlines. */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function formatTick(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(value < 1 ? 2 : 1);
}

/** The posting runs a results file holds (one per N). */
export function postingRunsOf(results: unknown): PostingResult[] {
  const posting = (results as { scenarios?: { posting?: { runs?: PostingResult[] } } }).scenarios?.posting;
  if (posting?.runs === undefined || posting.runs.length === 0)
    throw new Error('the results hold no posting runs; run `npm run bench -- --only posting` first');
  return posting.runs;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      in: { type: 'string', default: join(REPO_ROOT, 'bench', 'results', 'latest.json') },
      out: { type: 'string', default: join(REPO_ROOT, 'bench', 'results', 'posting.svg') },
    },
    strict: true,
  });
  const runs = postingRunsOf(JSON.parse(await readFile(resolve(values.in), 'utf8')));
  await writeFile(resolve(values.out), postingChartSvg(runs));
  console.error(`# posting chart of ${runs.length} run(s) written to ${resolve(values.out)}`);
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
