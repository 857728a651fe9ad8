// How many GPUs a job needs on this cluster, worked out from its plan before it is taken on.
//
// On a Nosana node every op of a job sees all of the node's GPUs at once (NODE.md §2.3: one job
// per node, each GPU op gets every GPU). A GPU handed out by a device plugin belongs to one Pod,
// so here ops that run at the same time each need their own GPUs. The rule:
//
//   the widest set of GPU ops that can run at the same time decides what a job needs.
//
// Groups run strictly one after another (§2.1.4), so the answer is the largest need of any one
// group. Within a group we count every GPU op, deliberately without trying to prove that two of
// them never overlap: a dependent starts when its dependency is *ready* (started, or its startup
// health check passed — §2.2), not when it has ended, so dependents overlap their dependencies;
// services never end on their own; and ops without dependencies all start at once. The only
// orderings that would let a GPU be reused (a dependency that has exited before its dependent is
// launched) depend on timing, not on the definition, so counting them all is the safe bound.
//
// With Dynamic Resource Allocation the job has one ResourceClaim that all its Pods share, exactly
// like a node's GPUs: the job needs the claim's device count, however many GPU ops it has.
import type { Plan } from './plan.ts';
import type { ExecutorSettings } from './settings.ts';

export interface GroupGpuNeed {
  group: string;
  /** Ids of the group's ops that get GPUs. */
  gpuOpIds: string[];
}

/** Per group, in running order, the ops that request GPUs (create-volume ops never do). */
export function gpuOpsByGroup(plan: Plan): GroupGpuNeed[] {
  const gpuOps = new Set(plan.ops.filter((op) => op.gpu).map((op) => op.id));
  return plan.groups.map((group) => ({ group: group.name, gpuOpIds: group.opIds.filter((id) => gpuOps.has(id)) }));
}

/** The group with the most GPU ops (the first, on a tie), or undefined when no op uses a GPU. */
export function widestGpuGroup(plan: Plan): GroupGpuNeed | undefined {
  let widest: GroupGpuNeed | undefined;
  for (const need of gpuOpsByGroup(plan)) {
    if (need.gpuOpIds.length > (widest?.gpuOpIds.length ?? 0)) widest = need;
  }
  return widest;
}

/** Device-plugin mode: every GPU op's Pod requests `gpusPerOp` GPUs of its own (settings.gpusPerJob). */
export function gpusNeeded(plan: Plan, gpusPerOp: number): number {
  return (widestGpuGroup(plan)?.gpuOpIds.length ?? 0) * gpusPerOp;
}

/** DRA mode: one claim of `claimCount` devices, shared by all the job's Pods; none if no op uses a GPU. */
export function gpusNeededWithSharedClaim(plan: Plan, claimCount: number): number {
  return plan.ops.some((op) => op.gpu) ? claimCount : 0;
}

/** What the job needs under the caller's settings: the shared claim when DRA is on, else per-op GPUs. */
export function gpusNeededFor(plan: Plan, settings: Pick<ExecutorSettings, 'gpusPerJob' | 'dra'>): number {
  return settings.dra === undefined ? gpusNeeded(plan, settings.gpusPerJob) : gpusNeededWithSharedClaim(plan, settings.dra.count);
}
