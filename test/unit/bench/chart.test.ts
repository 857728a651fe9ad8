import assert from 'node:assert/strict';
import { test } from 'node:test';
import { niceCeiling, postingChartSvg, postingRunsOf } from '../../../bench/chart.ts';
import type { PostingResult, SideResult } from '../../../bench/posting.ts';

function side(name: 'ours' | 'peer', jobsPerSecond: number, p99Ms: number): SideResult {
  const summary = { n: 1, p50: p99Ms, p99: p99Ms, max: p99Ms };
  return {
    side: name,
    what: name,
    totalSeconds: 1,
    jobsPerSecond,
    applyToDoneMs: summary,
    apiWritesPerJob: 1,
    apiWritesPerJobByRequest: {},
    writers: [],
    controllerRssBytes: { before: 0, after: 0 },
    cpuSeconds: { controller: 0, apiserver: 0, benchmark: 0 },
  };
}

function run(jobs: number, ours: number, peer: number): PostingResult {
  return {
    settings: { jobs, createConcurrency: 20, markets: 1, pollInterval: '5s', writeGraceMs: 5_000, kubernetes: 'v1' },
    ours: side('ours', ours, 2_000),
    peer: side('peer', peer, 4_000),
  };
}

test('gridlines end on a round number at or above the highest value', () => {
  assert.deepEqual([0.3, 1, 1.2, 7, 12.8, 20, 21, 480].map(niceCeiling), [0.5, 1, 2, 10, 20, 20, 50, 500]);
  assert.equal(niceCeiling(0), 1, 'an empty panel still has an axis');
});

test('each panel draws one line per side with a point per run, in increasing N', () => {
  const svg = postingChartSvg([run(1000, 9, 12), run(100, 12, 10), run(300, 11, 11)]);
  const lines = [...svg.matchAll(/<polyline[^>]*points="([^"]+)"/g)].map((match) => match[1]!.split(' '));
  assert.equal(lines.length, 4, 'two panels × two sides');
  for (const points of lines) {
    assert.equal(points.length, 3, 'a point per run');
    const xs = points.map((point) => Number(point.split(',')[0]));
    assert.deepEqual(
      [...xs].sort((a, b) => a - b),
      xs,
      'runs are drawn left to right by N',
    );
  }
  assert.match(svg, />1000</, 'the largest N labels the axis');
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
});

test('a higher throughput is drawn higher: the y axis is not inverted', () => {
  const svg = postingChartSvg([run(100, 20, 5), run(200, 20, 5)]);
  const [ours, peer] = [...svg.matchAll(/<polyline[^>]*stroke="([^"]+)"[^>]*points="([^"]+)"/g)]
    .slice(0, 2)
    .sort((a, b) => (a[1] === '#1f6feb' ? -1 : 1) - (b[1] === '#1f6feb' ? -1 : 1))
    .map((match) => Number(match[2]!.split(' ')[0]!.split(',')[1]));
  assert.ok(ours! < peer!, `ours (20/s) sits above the peer (5/s): y ${ours} vs ${peer}`);
});

test('a results file without posting runs is refused with what to run', () => {
  assert.throws(() => postingRunsOf({ scenarios: { memory: {} } }), /npm run bench -- --only posting/);
  assert.equal(postingRunsOf({ scenarios: { posting: { runs: [run(10, 1, 1)] } } }).length, 1);
});
