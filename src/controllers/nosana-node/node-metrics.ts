// The node agent's domain series, read from the NosanaNodes' statuses at scrape time: what each
// node has done (jobs completed, failed and quit), what it earned, and its phase. The status is
// where each run is counted exactly once (decide-ending.ts), so the series are gauges over it rather
// than counters bumped beside it, which a retried status write would count twice.
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { NOSANA_NODE_PHASES } from '../../api/crds/nosana-node.ts';
import type { NosanaNodeObject } from '../../api/crds/nosana-node.ts';
import type { ObjectCache } from '../../runtime/types.ts';
import { baseUnitsToSample } from '../nosana-metrics.ts';

const OUTCOMES = [
  ['completed', 'jobsCompleted'],
  ['failed', 'jobsFailed'],
  ['quit', 'jobsQuit'],
] as const;

export function registerNodeMetrics(registry: Registry, nodes: ObjectCache<NosanaNodeObject>): void {
  const labelsOf = (node: NosanaNodeObject) => ({ namespace: node.metadata?.namespace ?? '', name: node.metadata?.name ?? '' });
  new Gauge({
    name: 'nosana_node_jobs',
    help: 'Jobs a NosanaNode ended, by outcome: completed and failed were finished (paid), quit were given up unpaid.',
    labelNames: ['namespace', 'name', 'outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const node of nodes.list())
        for (const [outcome, field] of OUTCOMES) this.set({ ...labelsOf(node), outcome }, node.status?.[field] ?? 0);
    },
  });
  new Gauge({
    name: 'nosana_node_earned_base_units',
    help: 'NOS a NosanaNode earned from finished jobs, in base units, as the chain paid it.',
    labelNames: ['namespace', 'name'],
    registers: [registry],
    collect() {
      this.reset();
      for (const node of nodes.list())
        this.set(labelsOf(node), baseUnitsToSample(BigInt(node.status?.earningsBaseUnits ?? '0'), 'earnings'));
    },
  });
  new Gauge({
    name: 'nosana_node_phase',
    help: "1 for a NosanaNode's current phase, 0 for the others.",
    labelNames: ['namespace', 'name', 'phase'],
    registers: [registry],
    collect() {
      this.reset();
      for (const node of nodes.list())
        for (const phase of NOSANA_NODE_PHASES) this.set({ ...labelsOf(node), phase }, node.status?.phase === phase ? 1 : 0);
    },
  });
}
