// Reads what a /metrics endpoint serves (the Prometheus text exposition format, version 0.0.4)
// into samples tests can sum and compare, so assertions name metrics and labels instead of
// matching text.

export interface MetricSample {
  /** The series name as exposed, e.g. controller_runtime_reconcile_total or a histogram's *_bucket. */
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;

export function parsePrometheusText(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (match === null) throw new Error(`metrics line ${index + 1} is not a sample: ${line}`);
    const [, name, labelText, valueText] = match;
    samples.push({ name: name!, labels: parseLabels(labelText ?? '', index + 1), value: parseValue(valueText!) });
  }
  return samples;
}

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

// Label values are quoted strings with \\, \" and \n escapes; a comma may follow the last one.
function parseLabels(text: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let position = 0;
  while (position < text.length) {
    const nameMatch = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"/.exec(text.slice(position));
    if (nameMatch === null) {
      if (/^\s*,?\s*$/.test(text.slice(position))) break;
      throw new Error(`metrics line ${line}: malformed labels {${text}}`);
    }
    position += nameMatch[0].length;
    let value = '';
    for (;;) {
      const char = text[position];
      if (char === undefined) throw new Error(`metrics line ${line}: unterminated label value in {${text}}`);
      position += 1;
      if (char === '"') break;
      if (char === '\\') {
        const escaped = text[position];
        position += 1;
        value += escaped === 'n' ? '\n' : (escaped ?? '');
      } else {
        value += char;
      }
    }
    labels[nameMatch[1]!] = value;
    const separator = /^\s*,?/.exec(text.slice(position));
    position += separator?.[0].length ?? 0;
  }
  return labels;
}

/** The samples of `name` whose labels include every given label. */
export function selectSamples(
  samples: readonly MetricSample[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): MetricSample[] {
  return samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
}

/** The sum over the matching series (0 when there is none). */
export function sumSamples(samples: readonly MetricSample[], name: string, labels: Readonly<Record<string, string>> = {}): number {
  return selectSamples(samples, name, labels).reduce((sum, sample) => sum + sample.value, 0);
}

/** The matching series summed per value of one label, e.g. RPC requests per method. */
export function sumByLabel(
  samples: readonly MetricSample[],
  name: string,
  label: string,
  labels: Readonly<Record<string, string>> = {},
): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const sample of selectSamples(samples, name, labels)) {
    const key = sample.labels[label] ?? '';
    sums[key] = (sums[key] ?? 0) + sample.value;
  }
  return sums;
}

/** What each key grew by between two readings (keys absent before count from 0; unchanged keys are left out). */
export function growth(before: Readonly<Record<string, number>>, after: Readonly<Record<string, number>>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [key, value] of Object.entries(after)) {
    const grown = value - (before[key] ?? 0);
    if (grown !== 0) delta[key] = grown;
  }
  return delta;
}
