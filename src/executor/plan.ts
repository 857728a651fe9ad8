// The execution plan of one job: what the reference node works out in its bootstrap (NODE.md
// §2.1.3, §1.8) before any container exists — which ops, in which groups, in which order, waiting
// on what. The runner, the GPU count and the builders all read this one shape instead of each
// walking the definition again. Pure: the caller brings the JSON, nothing is fetched or written.
//
// Two ways a definition can be refused, matching the two flow statuses a node publishes:
//   `invalid`    the definition does not validate (flow `validation-error`; §2.1.2);
//   `initError`  it validates, but its execution plan breaks the node's rules (flow `init error`).
// The node's validator does not look at where `depends_on` points; its bootstrap does. This
// project's validator checks both, so a definition is validated once more with the targets of
// `depends_on` set aside before deciding which of the two refusals it earns.
import { SPREAD_KEY, formatProblem, validateJobDefinition } from '../api/job-definition/index.ts';
import type {
  ContainerRunArgs,
  CreateVolumeArgs,
  DefinitionProblem,
  Expose,
  JobDefinition,
  Operation,
} from '../api/job-definition/index.ts';
import { isPlainObject } from '../api/job-definition/json-values.ts';
import { validationFailureState } from './flow-state.ts';
import type { FlowState } from './flow-state.ts';
import { readOperations } from '../api/job-definition/op-views.ts';

interface PlannedOpCommon {
  /** Position in `ops`: names objects (`<jobId>-<index>`) and orders the result's opStates. */
  index: number;
  /** The op id; an op without one (allowed once, with a warning) plans under "". */
  id: string;
  /** `execution.group`, or the op's own id: an ungrouped op is a group of its own. */
  group: string;
  dependsOn: string[];
  stopIfDependentStops: boolean;
  /** `execution.timeout`: seconds, counted from the container's start. */
  timeoutSeconds?: number;
  /** Whether the op's container gets GPUs (`args.gpu` or `global.gpu`); never for a volume. */
  gpu: boolean;
  /** Whether `args.expose` publishes anything (as written; literals may add ports at launch). */
  exposes: boolean;
  /** Whether some exposed port, as written, carries health checks that gate readiness. */
  hasHealthChecks: boolean;
  /**
   * `expose` holds a literal or a spread marker: the ports, and so the health checks, are known
   * only once literals are resolved at launch (cli-job-literals.json spreads in a checked port).
   */
  exposeResolvedAtLaunch: boolean;
  /** `restart_policy: {policy: "on-failure", restart_tries}`: restarts allowed; unset = unbounded or no restarts. */
  restartTries?: number;
}

export type PlannedOp =
  | (PlannedOpCommon & { type: 'container/run'; /** As written: literals unresolved. */ args: ContainerRunArgs })
  | (PlannedOpCommon & { type: 'container/create-volume'; args: CreateVolumeArgs });

export interface PlannedGroup {
  name: string;
  /** Ids of the group's ops, in `ops` order. */
  opIds: string[];
}

export interface Plan {
  jobId: string;
  /** The validated definition (unknown keys dropped), for what the plan does not restate (global, results). */
  definition: JobDefinition;
  /** Groups in the order they run: order of first appearance in `ops`. */
  groups: PlannedGroup[];
  /** Every op, in `ops` order. */
  ops: PlannedOp[];
  /** Names of the volumes create-volume ops make, once each, in `ops` order. */
  volumes: string[];
  /** What the lenient validator let through with a remark (unknown keys from newer posters, …). */
  warnings: DefinitionProblem[];
}

export interface InvalidDefinition {
  invalid: DefinitionProblem[];
}

export interface InitError {
  /** Every execution-plan rule broken, in `ops` order, joined into one message. */
  initError: string;
}

export type PlanOutcome = Plan | InvalidDefinition | InitError;

// ---------------------------------------------------------------------------------------------
// The node's execution-plan rules

/** Just what the rules look at; `rawGroup` is `execution.group` as written (undefined when absent). */
export interface DependencyView {
  id: string;
  rawGroup: string | undefined;
  dependsOn: readonly string[];
}

/**
 * The node's bootstrap rules (§1.8, §2.1.3): unique ids, no op depending on itself, every
 * dependency exists and sits in the same group — compared on the raw `execution.group`, so two
 * ungrouped ops may depend on each other although they run in separate stages. This project adds
 * one: no dependency cycle. The node has no such check, and the ops of a cycle would then never
 * start while the job reported success; a definition that cannot run is better refused.
 */
export function executionPlanProblems(ops: readonly DependencyView[]): string[] {
  const problems: string[] = [];
  const byId = new Map<string, DependencyView>();
  for (const op of ops) {
    if (byId.has(op.id)) problems.push(`duplicate op id ${JSON.stringify(op.id)}`);
    else byId.set(op.id, op);
  }
  for (const op of ops) {
    for (const dependency of op.dependsOn) {
      const target = byId.get(dependency);
      if (dependency === op.id) {
        problems.push(`op ${JSON.stringify(op.id)} depends on itself`);
      } else if (target === undefined) {
        problems.push(`op ${JSON.stringify(op.id)} depends on ${JSON.stringify(dependency)}, which is not an op of this job`);
      } else if (target.rawGroup !== op.rawGroup) {
        problems.push(
          `op ${JSON.stringify(op.id)} (${describeGroup(op.rawGroup)}) depends on ${JSON.stringify(dependency)} (${describeGroup(target.rawGroup)}): an op can only depend on ops of its own group`,
        );
      }
    }
  }
  const cycle = firstCycle(ops, byId);
  if (cycle !== undefined) problems.push(`dependency cycle: ${cycle.join(' → ')}`);
  return problems;
}

function describeGroup(group: string | undefined): string {
  return group === undefined ? 'no group' : `group ${JSON.stringify(group)}`;
}

/** The first cycle met, as ids from its start back to it; depth-first without recursion (ops may be many). */
function firstCycle(ops: readonly DependencyView[], byId: ReadonlyMap<string, DependencyView>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  for (const start of ops) {
    if (state.has(start.id)) continue;
    const stack: { op: DependencyView; next: number }[] = [{ op: start, next: 0 }];
    state.set(start.id, 'visiting');
    while (stack.length > 0) {
      const frame = stack[stack.length - 1];
      if (frame === undefined) break;
      const dependency = frame.op.dependsOn[frame.next];
      if (dependency === undefined) {
        state.set(frame.op.id, 'done');
        stack.pop();
        continue;
      }
      frame.next += 1;
      const target = byId.get(dependency);
      if (target === undefined || target === frame.op) continue; // reported above
      const seen = state.get(target.id);
      if (seen === undefined) {
        state.set(target.id, 'visiting');
        stack.push({ op: target, next: 0 });
      } else if (seen === 'visiting') {
        const from = stack.findIndex((entry) => entry.op === target);
        return [...stack.slice(from).map((entry) => entry.op.id), target.id];
      }
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Validation, with the targets of depends_on set aside

/**
 * A copy of the input in which every `execution.depends_on` that is a list of strings is empty.
 * Lists of another shape stay: those are the validator's to refuse. Only the containers on the
 * way are copied; the input is never modified.
 */
function withoutDependencyTargets(input: unknown): unknown {
  if (!isPlainObject(input) || !Array.isArray(input.ops)) return input;
  const ops = input.ops.map((op: unknown) => {
    if (!isPlainObject(op) || !isPlainObject(op.execution)) return op;
    const dependsOn = op.execution.depends_on;
    if (!Array.isArray(dependsOn) || !dependsOn.every((entry) => typeof entry === 'string')) return op;
    return { ...op, execution: { ...op.execution, depends_on: [] } };
  });
  return { ...input, ops };
}

function dependencyViews(input: unknown): DependencyView[] {
  return readOperations(input).map((view) => {
    const dependsOn = view.execution?.depends_on;
    return {
      id: view.id ?? '',
      rawGroup: typeof view.group === 'string' ? view.group : undefined,
      dependsOn: Array.isArray(dependsOn) ? dependsOn.filter((entry): entry is string => typeof entry === 'string') : [],
    };
  });
}

// ---------------------------------------------------------------------------------------------
// The plan

type ExposeEntry = Extract<Expose, readonly unknown[]>[number];

/** `expose` as a list: a single port or literal is a list of one. */
function exposeEntries(expose: Expose | undefined): ExposeEntry[] {
  if (expose === undefined) return [];
  return Array.isArray(expose) ? expose : [expose];
}

function describeExpose(expose: Expose | undefined): Pick<PlannedOpCommon, 'exposes' | 'hasHealthChecks' | 'exposeResolvedAtLaunch'> {
  const entries = exposeEntries(expose);
  let hasHealthChecks = false;
  let resolvedAtLaunch = false;
  for (const entry of entries) {
    if (typeof entry === 'string' || isSpreadMarker(entry)) resolvedAtLaunch = true;
    else if (typeof entry === 'object' && 'port' in entry && (entry.health_checks?.length ?? 0) > 0) hasHealthChecks = true;
  }
  return { exposes: entries.length > 0, hasHealthChecks, exposeResolvedAtLaunch: resolvedAtLaunch };
}

function isSpreadMarker(entry: unknown): boolean {
  return isPlainObject(entry) && Object.hasOwn(entry, SPREAD_KEY);
}

function restartTries(args: ContainerRunArgs): number | undefined {
  const policy = args.restart_policy;
  return typeof policy === 'object' ? policy.restart_tries : undefined;
}

function planOp(op: Operation, index: number, definition: JobDefinition): PlannedOp {
  const id = op.id ?? '';
  const execution = op.execution ?? {};
  const common = {
    index,
    id,
    group: execution.group ?? id,
    dependsOn: [...(execution.depends_on ?? [])],
    stopIfDependentStops: execution.stop_if_dependent_stops === true,
    ...(execution.timeout === undefined ? {} : { timeoutSeconds: execution.timeout }),
  };
  if (op.type === 'container/create-volume') {
    return { ...common, type: op.type, args: op.args, gpu: false, exposes: false, hasHealthChecks: false, exposeResolvedAtLaunch: false };
  }
  const tries = restartTries(op.args);
  return {
    ...common,
    type: op.type,
    args: op.args,
    // `op.gpu || global.gpu` on the node (§2.3): an op's `gpu: false` does not switch off global.gpu.
    gpu: op.args.gpu === true || definition.global?.gpu === true,
    ...describeExpose(op.args.expose),
    ...(tries === undefined ? {} : { restartTries: tries }),
  };
}

function planGroups(ops: readonly PlannedOp[]): PlannedGroup[] {
  const groups = new Map<string, PlannedGroup>();
  for (const op of ops) {
    const group = groups.get(op.group);
    if (group === undefined) groups.set(op.group, { name: op.group, opIds: [op.id] });
    else group.opIds.push(op.id);
  }
  return [...groups.values()];
}

function buildPlan(definition: JobDefinition, jobId: string, warnings: DefinitionProblem[]): Plan {
  const ops = definition.ops.map((op, index) => planOp(op, index, definition));
  const volumes = [...new Set(ops.flatMap((op) => (op.type === 'container/create-volume' ? [op.args.name] : [])))];
  return { jobId, definition, groups: planGroups(ops), ops, volumes, warnings };
}

/**
 * Plans a job from its definition as fetched (any JSON). Never throws: a definition that does not
 * validate, or whose plan breaks the node's rules, comes back as a value for a failed result.
 */
export function planJob(raw: unknown, jobId: string): PlanOutcome {
  const validation = validateJobDefinition(raw, { strictness: 'lenient' });
  if (validation.ok && validation.definition !== undefined) {
    // The validator already enforces the rules; checked again so the plan never rests on its wording.
    const problems = executionPlanProblems(dependencyViews(raw));
    if (problems.length > 0) return { initError: problems.join('; ') };
    return buildPlan(validation.definition, jobId, validation.warnings);
  }
  if (validateJobDefinition(withoutDependencyTargets(raw), { strictness: 'lenient' }).ok) {
    // Valid apart from where depends_on points: the node would accept it and fail its bootstrap.
    const problems = executionPlanProblems(dependencyViews(raw));
    if (problems.length > 0) return { initError: problems.join('; ') };
  }
  return { invalid: validation.problems };
}

export function isPlan(outcome: PlanOutcome): outcome is Plan {
  return 'ops' in outcome;
}

/**
 * The result of a job that never ran because it could not be planned: a validation-error flow
 * listing every problem, or an init error for a definition that breaks the node's plan rules.
 */
export function unplannedFlow(outcome: InvalidDefinition | InitError, now: number): FlowState {
  const errors = 'invalid' in outcome ? outcome.invalid.map(formatProblem) : [outcome.initError];
  const flow = validationFailureState(errors, now);
  return 'initError' in outcome ? { ...flow, status: 'init error' } : flow;
}
