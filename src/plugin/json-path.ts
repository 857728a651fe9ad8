// The JSONPath subset the CRDs' printer columns are written in (`.status.phase`,
// `.status.conditions[?(@.type=="Ready")].reason`), evaluated the way kubectl evaluates them for
// `kubectl get`: fields, list indexes and equality filters on a list's items. Anything else is
// refused when the path is read, so a new column with a richer path fails a unit test, not a user.

type Step = { field: string } | { index: number } | { filter: { field: string; value: string } };

const STEP = /^(?:\.([A-Za-z_$][A-Za-z0-9_$-]*)|\[(\d+)\]|\[\?\(@\.([A-Za-z_$][A-Za-z0-9_$-]*)\s*==\s*(?:"([^"]*)"|'([^']*)')\)\])/;

/** The steps of `path`; throws on syntax outside the subset. */
export function parseJsonPath(path: string): Step[] {
  const steps: Step[] = [];
  let rest = path.trim();
  while (rest !== '') {
    const match = STEP.exec(rest);
    if (match === null) throw new Error(`unsupported JSONPath ${JSON.stringify(path)} at ${JSON.stringify(rest)}`);
    const [whole, field, index, filterField, doubleQuoted, singleQuoted] = match;
    if (field !== undefined) steps.push({ field });
    else if (index !== undefined) steps.push({ index: Number(index) });
    else steps.push({ filter: { field: filterField ?? '', value: doubleQuoted ?? singleQuoted ?? '' } });
    rest = rest.slice(whole.length);
  }
  return steps;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every value `path` reaches in `root` (a filter can reach several; a missing field reaches none). */
export function evaluateJsonPath(root: unknown, path: string): unknown[] {
  let current: unknown[] = [root];
  for (const step of parseJsonPath(path)) {
    const next: unknown[] = [];
    for (const value of current) {
      if ('field' in step) {
        if (isRecord(value) && Object.hasOwn(value, step.field) && value[step.field] !== undefined) next.push(value[step.field]);
      } else if ('index' in step) {
        if (Array.isArray(value) && step.index < value.length) next.push(value[step.index]);
      } else if (Array.isArray(value)) {
        const { field, value: wanted } = step.filter;
        next.push(...value.filter((item) => isRecord(item) && String(item[field]) === wanted));
      }
    }
    current = next;
  }
  return current;
}
