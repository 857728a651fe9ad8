// A tolerant view of each entry of `ops`, for the rules that look across ops. Malformed parts
// read as undefined: the schema reports them, the rules just skip what they cannot use.
import { arrayAt, isPlainObject, objectAt, ownProperty, stringAt } from './json-values.ts';
import type { JsonObject } from './json-values.ts';
import type { PathSegment } from './problems.ts';

export interface OpView {
  index: number;
  /** ['ops', index] — the prefix of every path inside this op. */
  path: PathSegment[];
  type: string | undefined;
  /** The id when it is a string (possibly invalid); undefined when absent or not a string. */
  id: string | undefined;
  hasIdKey: boolean;
  args: JsonObject | undefined;
  execution: JsonObject | undefined;
  /** `execution.group` as written (undefined when absent): the node compares it raw. */
  group: unknown;
  results: JsonObject | undefined;
}

export function readOperations(root: unknown): OpView[] {
  const ops = arrayAt(root, 'ops');
  if (ops === undefined) return [];
  const views: OpView[] = [];
  ops.forEach((op, index) => {
    if (!isPlainObject(op)) return;
    const execution = objectAt(op, 'execution');
    views.push({
      index,
      path: ['ops', index],
      type: stringAt(op, 'type'),
      id: stringAt(op, 'id'),
      hasIdKey: Object.hasOwn(op, 'id'),
      args: objectAt(op, 'args'),
      execution,
      group: ownProperty(execution, 'group'),
      results: objectAt(op, 'results'),
    });
  });
  return views;
}

/** Ops by id; with duplicate ids the first one wins, as it does for the node's lookups. */
export function opsById(views: readonly OpView[]): Map<string, OpView> {
  const byId = new Map<string, OpView>();
  for (const view of views) {
    if (view.id !== undefined && !byId.has(view.id)) byId.set(view.id, view);
  }
  return byId;
}

/** The node runs groups in order of first appearance; an op without a group is its own group. */
export function groupOrder(views: readonly OpView[]): Map<unknown, number> {
  const order = new Map<unknown, number>();
  for (const view of views) {
    const key = effectiveGroup(view);
    if (!order.has(key)) order.set(key, order.size);
  }
  return order;
}

export function effectiveGroup(view: OpView): unknown {
  return view.group ?? view.id;
}
