// Warnings for "%%…%%" literals in op args that the node will not be able to resolve. An
// unresolved literal fails the op at run time, but whether it resolves can depend on values only
// known then, so these stay warnings.
import { EMBEDDED_LITERAL_PATTERN } from './templating.ts';
import { arrayAt, isPlainObject, objectAt, ownProperty } from './json-values.ts';
import { effectiveGroup, groupOrder, opsById } from './op-views.ts';
import type { OpView } from './op-views.ts';
import type { Finding, PathSegment } from './problems.ts';
import { didYouMean, suggester } from './suggestions.ts';

const GLOBAL_KEYS = ['job', 'project', 'host', 'frps_address'];
/** Known before any op starts (computed when the job is set up). */
const STATIC_OP_KEYS = ['host', 'deployment_endpoint'];
/** Known only once the producing op has run. */
const RUNTIME_OP_KEYS = ['container_ip'];

interface LiteralContext {
  byId: Map<string, OpView>;
  suggestOpId: (word: string) => string;
  groups: Map<unknown, number>;
  variables: Record<string, unknown> | undefined;
}

interface Visit {
  key: PathSegment;
  parent: Visit | undefined;
}

function pathOf(visit: Visit): PathSegment[] {
  const reversed: PathSegment[] = [];
  for (let node: Visit | undefined = visit; node !== undefined; node = node.parent) reversed.push(node.key);
  return reversed.reverse();
}

/**
 * Calls `visit` for every string inside `value`. Iterative, and paths are only built for the
 * strings that need one: inputs may nest very deeply.
 */
function forEachString(value: unknown, path: PathSegment[], visit: (text: string, path: () => PathSegment[]) => void): void {
  const root: Visit | undefined = path.reduce<Visit | undefined>((parent, key) => ({ key, parent }), undefined);
  const pending: { value: unknown; node: Visit | undefined }[] = [{ value, node: root }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value: current, node } = next;
    if (typeof current === 'string') {
      visit(current, () => (node === undefined ? [] : pathOf(node)));
    } else if (Array.isArray(current)) {
      current.forEach((item, index) => pending.push({ value: item, node: { key: index, parent: node } }));
    } else if (isPlainObject(current)) {
      for (const [key, item] of Object.entries(current)) pending.push({ value: item, node: { key, parent: node } });
    }
  }
}

function checkGlobalReference(literal: string, reference: string, context: LiteralContext): string | undefined {
  if (reference.startsWith('variables.')) {
    const name = reference.slice('variables.'.length);
    if (context.variables !== undefined && Object.hasOwn(context.variables, name)) return undefined;
    return `${literal} refers to global.variables.${name}, which is not defined${didYouMean(name, Object.keys(context.variables ?? {}))}`;
  }
  if (GLOBAL_KEYS.includes(reference)) return undefined;
  return `${literal}: unknown global value ${JSON.stringify(reference)}; expected one of ${GLOBAL_KEYS.join(', ')} or variables.<NAME>`;
}

function checkOpReference(literal: string, reference: string, consumer: OpView, context: LiteralContext): string | undefined {
  const dot = reference.indexOf('.');
  const opId = dot === -1 ? reference : reference.slice(0, dot);
  const field = dot === -1 ? '' : reference.slice(dot + 1);
  const producer = context.byId.get(opId);
  if (producer === undefined) {
    return `${literal} refers to op ${JSON.stringify(opId)}, which does not exist${context.suggestOpId(opId)}`;
  }
  if (STATIC_OP_KEYS.includes(field) || /^endpoint\.\d+$/.test(field)) return undefined;
  const resultKey = field.startsWith('results.') ? field.slice('results.'.length) : undefined;
  if (resultKey === undefined && !RUNTIME_OP_KEYS.includes(field)) {
    return `${literal}: unknown op value ${JSON.stringify(field)}; expected host, results.<key>, endpoint.<port>, deployment_endpoint or container_ip`;
  }
  if (resultKey !== undefined) {
    const declared = producer.results;
    if (declared === undefined || !Object.hasOwn(declared, resultKey)) {
      return `${literal} refers to result ${JSON.stringify(resultKey)}, which op ${JSON.stringify(opId)} does not declare in its results${didYouMean(resultKey, Object.keys(declared ?? {}))}`;
    }
  }
  return orderingProblem(literal, producer, consumer, context);
}

/** The producer must have run: an earlier group, or the same group and listed in depends_on. */
function orderingProblem(literal: string, producer: OpView, consumer: OpView, context: LiteralContext): string | undefined {
  if (producer === consumer) return `${literal} refers to this op's own run-time value, which does not exist before it starts`;
  const producerGroup = context.groups.get(effectiveGroup(producer)) ?? 0;
  const consumerGroup = context.groups.get(effectiveGroup(consumer)) ?? 0;
  if (producerGroup < consumerGroup) return undefined;
  if (producerGroup === consumerGroup) {
    const dependsOn = arrayAt(consumer.execution, 'depends_on') ?? [];
    if (producer.id !== undefined && dependsOn.includes(producer.id)) return undefined;
    return `${literal}: op ${JSON.stringify(producer.id)} runs in the same group, so list it in execution.depends_on for its value to exist`;
  }
  return `${literal}: op ${JSON.stringify(producer.id)} runs in a later group, so its value does not exist yet`;
}

export function checkLiteralReferences(root: unknown, views: readonly OpView[]): Finding[] {
  const variables = ownProperty(objectAt(root, 'global'), 'variables');
  const byId = opsById(views);
  const context: LiteralContext = {
    byId,
    suggestOpId: suggester(byId.keys()),
    groups: groupOrder(views),
    variables: isPlainObject(variables) ? variables : undefined,
  };
  const findings: Finding[] = [];
  for (const view of views) {
    if (view.args === undefined) continue;
    forEachString(view.args, [...view.path, 'args'], (text, path) => {
      if (!text.includes('%%')) return;
      for (const match of text.matchAll(EMBEDDED_LITERAL_PATTERN)) {
        const [literal, scope = '', reference = ''] = match;
        const message =
          scope === 'ops' ? checkOpReference(literal, reference, view, context) : checkGlobalReference(literal, reference, context);
        if (message !== undefined) findings.push({ segments: path(), message, severity: 'warning' });
      }
    });
  }
  return findings;
}
