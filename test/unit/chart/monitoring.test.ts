// The chart's alerts and dashboard against the series the operator really registers: an alert or a
// panel on a metric name that does not exist would never fire or never draw, and nothing else would
// say so. The known names come from registries built the way the controller and the node agent
// build theirs; the chart is rendered by the project's helm with every monitoring feature on.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { before, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { NosanaNodeObject } from '../../../src/api/crds/nosana-node.ts';
import { createNosanaMetrics } from '../../../src/controllers/nosana-metrics.ts';
import { registerNodeMetrics } from '../../../src/controllers/nosana-node/node-metrics.ts';
import { controlPlaneBinaries, REPO_ROOT } from '../../../src/local-cluster/binaries.ts';
import { createMetrics } from '../../../src/runtime/metrics.ts';
import type { ObjectCache } from '../../../src/runtime/types.ts';

const run = promisify(execFile);
const CHART = join(REPO_ROOT, 'charts', 'nosana-operator');
const DASHBOARD_FILE = join(CHART, 'dashboards', 'nosana-operator.json');

interface Alert {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

interface Dashboard {
  panels: Panel[];
  templating: { list: { query?: unknown }[] };
}

/** Every series name a scrape of the controller or the node agent can show. */
async function registeredSeries(): Promise<Set<string>> {
  const { registry } = createMetrics();
  createNosanaMetrics(registry);
  const noNodes: ObjectCache<NosanaNodeObject> = { get: () => undefined, list: () => [], hasSynced: () => true };
  registerNodeMetrics(registry, noNodes);
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    names.add(metric.name);
    const type = String(metric.type);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(metric.name + suffix);
  }
  return names;
}

const PROMQL_KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects: label matchers, range selectors and grouping
 * clauses removed, then every identifier that is not a function call, a keyword or part of a number.
 */
function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const match of bare.matchAll(/(?<![\w.$])[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = bare.slice(match.index + match[0].length);
    if (/^\s*\(/.test(after) || PROMQL_KEYWORDS.has(match[0].toLowerCase())) continue;
    names.push(match[0]);
  }
  return names;
}

function panelsOf(panels: Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...panelsOf(panel.panels ?? [])]);
}

describe('chart monitoring', () => {
  let known: Set<string>;
  let alerts: Alert[];
  let dashboard: Dashboard;
  let dashboardFile: unknown;

  before(async () => {
    const { helm } = await controlPlaneBinaries();
    const { stdout } = await run(helm, [
      'template',
      'nosana',
      CHART,
      '--set',
      'nodeAgent.enabled=true',
      '--set',
      'nodeAgent.nodeNamespaces={gpu-nodes}',
      '--set',
      'nodeAgent.jobNamespaces={jobs}',
      '--set',
      'metrics.prometheusRule.enabled=true',
      '--set',
      'grafana.dashboard.enabled=true',
      '--show-only',
      'templates/prometheusrule.yaml',
      '--show-only',
      'templates/grafana-dashboard.yaml',
    ]);
    const objects = parseAllDocuments(stdout)
      .map((document) => document.toJS() as { kind?: string; spec?: unknown; data?: Record<string, string> } | null)
      .filter((object) => object !== null);
    const rule = objects.find((object) => object.kind === 'PrometheusRule')?.spec as { groups: { rules: Alert[] }[] } | undefined;
    alerts = rule?.groups.flatMap((group) => group.rules) ?? [];
    const json = objects.find((object) => object.kind === 'ConfigMap')?.data?.['nosana-operator.json'];
    assert.ok(json !== undefined, 'the dashboard ConfigMap carries nosana-operator.json');
    dashboard = JSON.parse(json) as Dashboard;
    dashboardFile = JSON.parse(await readFile(DASHBOARD_FILE, 'utf8'));
    known = await registeredSeries();
  });

  test('the metric-name reader finds selected series and skips functions, labels, windows and numbers', () => {
    const cases: { expr: string; want: string[] }[] = [
      { expr: 'up', want: ['up'] },
      { expr: 'sum by (le, method) (rate(a_bucket{job=~"x|y",le!="1"}[$__rate_interval])) / 1e6 > b', want: ['a_bucket', 'b'] },
      { expr: 'max by (namespace, name) (c{phase="Error"}) == 1 and on (name) d offset 5m', want: ['c', 'd'] },
      { expr: 'histogram_quantile(0.95, sum without (pod) (rate(e[5m])))', want: ['e'] },
    ];
    for (const { expr, want } of cases) assert.deepEqual(metricNamesIn(expr), want, expr);
  });

  test('the registries hold the series the chart is written against', () => {
    for (const name of ['nosana_jobs', 'nosana_pending_posts', 'controller_runtime_reconcile_errors_total', 'nosana_node_phase'])
      assert.ok(known.has(name), name);
    assert.ok(known.has('nosana_rpc_request_duration_seconds_bucket'), 'histograms are known by their _bucket series');
    assert.ok(!known.has('nosana_rpc_requests_total_bucket'), 'counters get no histogram suffixes');
  });

  test('every alert reads only series the operator registers', () => {
    assert.deepEqual(alerts.map((alert) => alert.alert).sort(), [
      'NosanaNodeError',
      'NosanaPendingPostStuck',
      'NosanaReconcileErrors',
      'NosanaSpendLimitReached',
      'NosanaWalletLowNos',
      'NosanaWalletLowSol',
    ]);
    for (const { alert, expr } of alerts) {
      const names = metricNamesIn(expr);
      assert.ok(names.length > 0, `${alert} selects a series: ${expr}`);
      for (const name of names) assert.ok(known.has(name), `${alert} reads ${name}, which the operator does not register`);
    }
  });

  test('every alert waits a while and says what happened and what to check', () => {
    for (const { alert, for: wait, annotations, labels } of alerts) {
      assert.match(wait ?? '', /^([0-9]+(ms|s|m|h|d|w|y))+$/, `${alert} has a for duration`);
      assert.ok((annotations?.['summary'] ?? '').length > 0, `${alert} has a summary`);
      assert.match(annotations?.['description'] ?? '', /[Cc]heck|kubectl/, `${alert} has a description naming what to check`);
      assert.ok((labels?.['severity'] ?? '').length > 0, `${alert} has a severity`);
    }
  });

  test("every dashboard query reads only series the operator registers, and the ConfigMap carries the chart's JSON file", () => {
    assert.deepEqual(dashboard, dashboardFile);
    const exprs = panelsOf(dashboard.panels).flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr ?? '' })),
    );
    const variableQueries = dashboard.templating.list.flatMap((variable) => {
      const query =
        typeof variable.query === 'object' && variable.query !== null ? (variable.query as { query?: string }).query : undefined;
      const metric = /^label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,/.exec(query ?? '')?.[1];
      return metric === undefined ? [] : [{ panel: `variable ${query}`, expr: metric }];
    });
    assert.ok(variableQueries.length > 0, 'the job variable reads a series');
    const used = new Set<string>();
    for (const { panel, expr } of [...exprs, ...variableQueries]) {
      const names = metricNamesIn(expr);
      assert.ok(names.length > 0, `${panel} selects a series: ${expr}`);
      for (const name of names) {
        assert.ok(known.has(name), `${panel} reads ${name}, which the operator does not register`);
        used.add(name);
      }
    }
    for (const name of [
      'controller_runtime_reconcile_total',
      'controller_runtime_reconcile_errors_total',
      'workqueue_depth',
      'nosana_jobs',
      'nosana_nos_spent_base_units_total',
      'nosana_nos_refunded_base_units_total',
      'nosana_node_earned_base_units',
      'nosana_rpc_request_duration_seconds_bucket',
      'nosana_rpc_requests_total',
    ])
      assert.ok(used.has(name), `the dashboard shows ${name}`);
  });
});
