// Reads one sample from a prom-client registry by metric name and labels.
import type { Registry } from 'prom-client';

/** `name` may be a histogram's `_count`/`_sum`/`_bucket` series. Undefined: no such sample. */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string | number>): Promise<number | undefined> {
  const family = name.replace(/_(count|sum|bucket)$/, '');
  const metric = registry.getSingleMetric(name) ?? registry.getSingleMetric(family);
  if (metric === undefined) return undefined;
  const { values } = await metric.get();
  const sample = values.find(
    (value) =>
      ((value as { metricName?: string }).metricName ?? name) === name &&
      Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted) &&
      Object.keys(value.labels).length === Object.keys(labels).length,
  );
  return sample?.value;
}

/** Matches one exposition line exactly: `name{labels} value`. */
export function sampleLine(name: string, labels: string, value: number | string): RegExp {
  const escaped = `${name}{${labels}} ${value}`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped}$`, 'm');
}
