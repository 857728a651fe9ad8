import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import type { NosanaNodeObject } from '../../../src/api/crds/nosana-node.ts';
import { registerNodeMetrics } from '../../../src/controllers/nosana-node/node-metrics.ts';
import type { ObjectCache } from '../../../src/runtime/types.ts';

function cache(nodes: NosanaNodeObject[]): ObjectCache<NosanaNodeObject> {
  return { get: () => undefined, list: () => nodes, hasSynced: () => true };
}

test("the node series mirror each NosanaNode's status at scrape time: outcomes, earnings, phase", async () => {
  const nodes: NosanaNodeObject[] = [
    {
      metadata: { namespace: 'gpu', name: 'rtx-a' },
      spec: {} as NosanaNodeObject['spec'],
      status: { phase: 'Queued', jobsCompleted: 12, jobsFailed: 1, earningsBaseUnits: '3410000' },
    },
  ];
  const registry = new Registry();
  registerNodeMetrics(registry, cache(nodes));
  const text = await registry.metrics();
  assert.match(text, /nosana_node_jobs\{namespace="gpu",name="rtx-a",outcome="completed"\} 12/);
  assert.match(text, /nosana_node_jobs\{namespace="gpu",name="rtx-a",outcome="failed"\} 1/);
  assert.match(text, /nosana_node_jobs\{namespace="gpu",name="rtx-a",outcome="quit"\} 0/);
  assert.match(text, /nosana_node_earned_base_units\{namespace="gpu",name="rtx-a"\} 3410000/);
  assert.match(text, /nosana_node_phase\{namespace="gpu",name="rtx-a",phase="Queued"\} 1/);
  assert.match(text, /nosana_node_phase\{namespace="gpu",name="rtx-a",phase="Running"\} 0/);

  nodes.length = 0;
  const after = await registry.metrics();
  assert.doesNotMatch(after, /rtx-a/, 'a deleted NosanaNode leaves no series behind');
});
