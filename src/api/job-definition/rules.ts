// Rules that span several fields or ops, which a per-field schema cannot express. They read the
// raw input, so they run (and report) even when the schema found problems elsewhere.
import { arrayAt, isPlainObject, objectAt, ownProperty, stringAt } from './json-values.ts';
import { describeValue } from './messages.ts';
import { opsById } from './op-views.ts';
import type { OpView } from './op-views.ts';
import { formatPath } from './problems.ts';
import type { Finding, PathSegment } from './problems.ts';
import { suggester } from './suggestions.ts';

const ONLY_VERSION = '0.1';

function error(segments: PathSegment[], message: string): Finding {
  return { segments, message, severity: 'error' };
}

function warning(segments: PathSegment[], message: string): Finding {
  return { segments, message, severity: 'warning' };
}

// ---------------------------------------------------------------------------------------------
// Top level

export function checkTopLevel(root: unknown): Finding[] {
  const findings: Finding[] = [];
  const version = stringAt(root, 'version');
  if (version !== undefined && version !== ONLY_VERSION) {
    findings.push(
      warning(
        ['version'],
        `${JSON.stringify(version)} is not "${ONLY_VERSION}", the only job-definition version; nodes ignore the field, but current Nosana validators reject other values`,
      ),
    );
  }
  if (stringAt(objectAt(root, 'global'), 'image') !== undefined) {
    findings.push(
      warning(['global', 'image'], 'has no effect: nodes do not use global.image, every container/run op needs its own args.image'),
    );
  }
  const logistics = objectAt(root, 'logistics');
  if (logistics !== undefined) {
    const hasSend = ownProperty(logistics, 'send') !== undefined;
    const hasReceive = ownProperty(logistics, 'receive') !== undefined;
    if (hasSend !== hasReceive) {
      findings.push(
        warning(
          ['logistics'],
          `only "${hasSend ? 'send' : 'receive'}" is set; current Nosana validators require both "send" and "receive"`,
        ),
      );
    }
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------
// Op ids

export function checkOpIds(views: readonly OpView[]): Finding[] {
  const findings: Finding[] = [];
  const firstById = new Map<string, OpView>();
  let firstWithoutId: OpView | undefined;
  // An op without an id runs under the empty id, so it and an op whose id is "" cannot be told apart.
  const withEmptyId = views.find((view) => view.id === '');
  for (const view of views) {
    const idPath = [...view.path, 'id'];
    if (!view.hasIdKey) {
      if (firstWithoutId === undefined && withEmptyId === undefined) {
        firstWithoutId = view;
        findings.push(
          warning(idPath, 'missing op id: other ops and literals cannot refer to this op, and current Nosana validators require one'),
        );
      } else {
        const other =
          firstWithoutId === undefined
            ? `${formatPath(withEmptyId?.path ?? [])} has the empty id`
            : `${formatPath(firstWithoutId.path)} has no id either`;
        findings.push(error(idPath, `missing op id: ${other}, and the node tells ops apart by id`));
      }
      continue;
    }
    const id = view.id;
    if (id === undefined) continue; // the schema reports the wrong type
    if (/\s/.test(id)) {
      findings.push({
        ...error(idPath, `op id ${JSON.stringify(id)} must not contain spaces`),
        lenientWarning: `op id ${JSON.stringify(id)} contains spaces, which current Nosana validators reject`,
      });
    }
    if (id.includes('.')) {
      findings.push(
        warning(idPath, `op id ${JSON.stringify(id)} contains a dot, so literals such as "%%ops.${id}.host%%" cannot refer to it`),
      );
    }
    const first = firstById.get(id);
    if (first === undefined) firstById.set(id, view);
    else findings.push(error(idPath, `duplicate op id ${JSON.stringify(id)} (already used by ${formatPath(first.path)})`));
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------
// Dependencies

function describeGroup(group: unknown): string {
  return group === undefined ? 'no execution.group' : `execution.group ${describeValue(group)}`;
}

interface DependencyEdge {
  from: OpView;
  to: OpView;
  path: PathSegment[];
}

export function checkDependencies(views: readonly OpView[]): Finding[] {
  const findings: Finding[] = [];
  const byId = opsById(views);
  const suggestOpId = suggester(byId.keys());
  const edges: DependencyEdge[] = [];
  for (const view of views) {
    const dependsOn = arrayAt(view.execution, 'depends_on');
    const stopFlagPath = [...view.path, 'execution', 'stop_if_dependent_stops'];
    if (ownProperty(view.execution, 'stop_if_dependent_stops') !== undefined && dependsOn === undefined) {
      findings.push(
        error(stopFlagPath, 'only allowed together with execution.depends_on (it stops this op when one of its dependencies stops)'),
      );
    }
    if (dependsOn === undefined) continue;
    dependsOn.forEach((dependency, position) => {
      if (typeof dependency !== 'string') return; // the schema reports it
      const path = [...view.path, 'execution', 'depends_on', position];
      const target = byId.get(dependency);
      if (target === undefined) {
        findings.push(error(path, `unknown op ${JSON.stringify(dependency)}: no op has this id${suggestOpId(dependency)}`));
      } else if (target === view || (view.id !== undefined && dependency === view.id)) {
        findings.push(error(path, `op ${JSON.stringify(dependency)} cannot depend on itself`));
      } else {
        if (target.group !== view.group) {
          findings.push(
            error(
              path,
              `op ${JSON.stringify(dependency)} has ${describeGroup(target.group)} but this op has ${describeGroup(view.group)}; an op can only depend on ops in its own group`,
            ),
          );
        }
        edges.push({ from: view, to: target, path });
      }
    });
  }
  findings.push(...findCycles(views, edges));
  return findings;
}

const MAX_CYCLE_NAMES = 12;

function abbreviatedCycle(names: readonly string[]): string {
  if (names.length <= MAX_CYCLE_NAMES) return names.join(' → ');
  const shown = [...names.slice(0, MAX_CYCLE_NAMES / 2), '…', ...names.slice(-MAX_CYCLE_NAMES / 2)];
  return `${shown.join(' → ')} (${names.length - 1} ops)`;
}

/**
 * Reports each dependency cycle once, at the depends_on entry that closes it (an iterative
 * depth-first search: a definition may have very many ops).
 */
function findCycles(views: readonly OpView[], edges: readonly DependencyEdge[]): Finding[] {
  const outgoing = new Map<OpView, DependencyEdge[]>();
  for (const edge of edges) {
    const list = outgoing.get(edge.from);
    if (list === undefined) outgoing.set(edge.from, [edge]);
    else list.push(edge);
  }
  const state = new Map<OpView, 'visiting' | 'done'>();
  const findings: Finding[] = [];
  for (const start of views) {
    if (state.has(start)) continue;
    const stack: { view: OpView; next: number }[] = [{ view: start, next: 0 }];
    state.set(start, 'visiting');
    while (stack.length > 0) {
      const frame = stack[stack.length - 1];
      if (frame === undefined) break;
      const edge = outgoing.get(frame.view)?.[frame.next];
      if (edge === undefined) {
        state.set(frame.view, 'done');
        stack.pop();
        continue;
      }
      frame.next += 1;
      const targetState = state.get(edge.to);
      if (targetState === undefined) {
        state.set(edge.to, 'visiting');
        stack.push({ view: edge.to, next: 0 });
      } else if (targetState === 'visiting') {
        const loopStart = stack.findIndex((entry) => entry.view === edge.to);
        const names = [...stack.slice(loopStart).map((entry) => entry.view.id ?? '?'), edge.to.id ?? '?'];
        findings.push(error(edge.path, `dependency cycle: ${abbreviatedCycle(names)}`));
      }
    }
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------
// Args of container/run ops

/** Every numeric port of one op's `expose`, with where it is written. */
function exposedPorts(expose: unknown, prefix: PathSegment[]): { port: number; path: PathSegment[] }[] {
  const portOf = (entry: unknown, path: PathSegment[]): { port: number; path: PathSegment[] }[] => {
    if (typeof entry === 'number') return [{ port: entry, path }];
    const port = ownProperty(entry, 'port');
    if (isPlainObject(entry) && typeof port === 'number') return [{ port, path: [...path, 'port'] }];
    return [];
  };
  if (Array.isArray(expose)) return expose.flatMap((entry, index) => portOf(entry, [...prefix, index]));
  return portOf(expose, prefix);
}

export function checkContainerArgs(views: readonly OpView[]): Finding[] {
  const findings: Finding[] = [];
  const createdVolumes = new Set<string>();
  for (const view of views) {
    const name = stringAt(view.args, 'name');
    if (view.type === 'container/create-volume' && name !== undefined) createdVolumes.add(name);
  }
  for (const view of views) {
    if (view.type !== 'container/run' || view.args === undefined) continue;
    const argsPath = [...view.path, 'args'];

    const seenPorts = new Map<number, PathSegment[]>();
    for (const { port, path } of exposedPorts(ownProperty(view.args, 'expose'), [...argsPath, 'expose'])) {
      const first = seenPorts.get(port);
      if (first === undefined) seenPorts.set(port, path);
      else findings.push(error(path, `port ${port} is exposed twice in this op (first at ${formatPath(first)})`));
    }

    arrayAt(view.args, 'volumes')?.forEach((volume, index) => {
      const volumeName = stringAt(volume, 'name');
      if (volumeName !== undefined && !createdVolumes.has(volumeName)) {
        findings.push(
          warning(
            [...argsPath, 'volumes', index, 'name'],
            `no container/create-volume op creates volume ${JSON.stringify(volumeName)}; the container runtime will mount a new empty volume`,
          ),
        );
      }
    });

    for (const unused of ['required_vram', 'output']) {
      if (ownProperty(view.args, unused) !== undefined) {
        findings.push(warning([...argsPath, unused], 'is ignored by nodes and rejected by current Nosana validators'));
      }
    }
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------
// Results

/** The node compiles each pattern with `new RegExp`; a pattern that does not compile yields its error text as the result. */
export function checkResultPatterns(views: readonly OpView[]): Finding[] {
  const findings: Finding[] = [];
  for (const view of views) {
    if (view.results === undefined) continue;
    for (const [key, extractor] of Object.entries(view.results)) {
      const isString = typeof extractor === 'string';
      const pattern = isString ? extractor : stringAt(extractor, 'regex');
      if (pattern === undefined) continue;
      try {
        new RegExp(pattern);
      } catch (failure) {
        const reason = failure instanceof Error ? failure.message : String(failure);
        const path = isString ? [...view.path, 'results', key] : [...view.path, 'results', key, 'regex'];
        findings.push(warning(path, `the node cannot compile this regular expression (${reason}); the result will be the error text`));
      }
    }
  }
  return findings;
}
