// Whether the cluster can start one more job of a NosanaNode right now: the check its agent makes
// before joining a market queue (`work`). A node in the queue is handed the next job at once and is
// expected to run it; one that joined without room takes a job it cannot start and has to quit it.
// So the question is put to the cluster as the scheduler sees it, and to the promises this agent
// has already made: every other NosanaNode of the agent that is queued or running holds one job's
// GPUs on some node, even before its Pods exist, and two NosanaNodes must never both join on the
// last free GPUs.
//
// Pure: the caller lists the Nodes, the Pods, (in DRA mode) the DeviceClasses, ResourceSlices and
// ResourceClaims, and the other NosanaNodes' placements. Nothing is read or written here.
//
// The scheduler's rules, as far as GPUs go:
//   - a node takes job Pods when it matches the nodeSelector, is Ready, is not cordoned (unless the
//     Pods tolerate its unschedulable taint) and the Pods tolerate every NoSchedule and NoExecute
//     taint (PreferNoSchedule only lowers a node's score);
//   - all Pods of a job land on one node (build-pod.ts), so a job fits on one node or not at all;
//   - device-plugin mode: a node's free GPUs are its allocatable count of the resource minus what
//     the non-terminal Pods bound to it request. A Pod requests the larger of its containers plus
//     its sidecars and each init container plus the sidecars started before it, plus its overhead;
//     a Succeeded or Failed Pod holds nothing;
//   - DRA mode: a node's free GPUs are the devices of the DeviceClass's driver that node-local
//     ResourceSlices list (the newest generation of each pool) and no ResourceClaim's allocation
//     names. A DeviceClass is understood only when each of its selectors reads
//     `device.driver == "name"`: judging anything richer needs a CEL evaluator, so the verdict is
//     then that capacity cannot be judged, and the agent does not join.
//
// Other NosanaNodes' reservations: each holds reservedGpus() of the same GPUs. What its Pods or its
// claim already hold (the executor labels them with its address) is counted where they are, and the
// rest is reserved on that node. A reservation with nothing bound yet is placed greedily, so the
// verdict does not depend on the order things were listed in: largest first, then by name, each on
// the node it may use with the most GPUs free (then by name), where the default scheduler's
// spreading score would send it. A reservation that fits nowhere is waiting for GPUs: the nodes it
// could run on are left to it.
//
// Not judged: CPU, memory and the Pod count (GPUs are what runs out), Pods not yet bound to a node
// that belong to no NosanaNode here, devices shared by several nodes (slices without a node name),
// device taints and devices allocated more than once (consumable capacity).
import type { ResourceV1ResourceClaim, V1Container, V1DeviceClass, V1Node, V1Pod, V1ResourceSlice, V1Taint } from '@kubernetes/client-node';
import { gpusNeededFor, widestGpuGroup } from '../../executor/gpus.ts';
import { NODE_LABEL, labelValue } from '../../executor/labels.ts';
import type { Plan } from '../../executor/plan.ts';
import type { ExecutorSettings } from '../../executor/settings.ts';
import type { NosanaNodeObject } from '../../api/crds/nosana-node.ts';

/** Where a NosanaNode's job Pods may run and the GPUs each job gets (from its spec and executor settings). */
export type JobPlacement = Pick<ExecutorSettings, 'gpuResourceName' | 'gpusPerJob' | 'dra' | 'nodeSelector' | 'tolerations'>;

export type JobToleration = NonNullable<ExecutorSettings['tolerations']>[number];

/** Another NosanaNode of this agent that is queued or running: it holds one job's GPUs. */
export interface Reservation {
  /** The NosanaNode's name: for messages, and the tie-break that keeps placement deterministic. */
  name: string;
  /** Its Solana address: its job's Pods and claim carry it in the node label, so they are not counted twice. */
  nodeAddress?: string;
  placement: JobPlacement;
}

export interface DraObjects {
  deviceClasses: readonly V1DeviceClass[];
  resourceSlices: readonly V1ResourceSlice[];
  resourceClaims: readonly ResourceV1ResourceClaim[];
}

export interface CapacityWorld {
  nodes: readonly V1Node[];
  pods: readonly V1Pod[];
  /** The agent's other NosanaNodes that are queued or running (never the one asking). */
  reservations: readonly Reservation[];
  /** The resource.k8s.io/v1 objects; undefined when the cluster does not serve them (or they were not read). */
  dra?: DraObjects;
}

/**
 * Why a job does not fit, as a condition or Event reason:
 *   NoSuitableNode   no node that takes job Pods has the GPUs at all, or as many as one job needs;
 *   GpusInUse        such a node exists, but its GPUs are in use, reserved, or awaited by another NosanaNode;
 *   CapacityUnknown  the GPUs cannot be counted (a DeviceClass that is missing or not understood).
 */
export type CapacityCause = 'NoSuitableNode' | 'GpusInUse' | 'CapacityUnknown';

export type CapacityVerdict = { fits: true; node: string; freeAfter: number } | { fits: false; cause: CapacityCause; reason: string };

/** The GPUs one job of a NosanaNode holds: its DRA claim's count, else gpusPerJob. */
export function reservedGpus(placement: Pick<ExecutorSettings, 'gpusPerJob' | 'dra'>): number {
  return placement.dra?.count ?? placement.gpusPerJob;
}

// ---------------------------------------------------------------------------------------------
// Nodes

const UNSCHEDULABLE_TAINT_KEY = 'node.kubernetes.io/unschedulable';
/** The API server's DefaultTolerationSeconds admission gives every Pod these two. */
const ADMISSION_TOLERATIONS: JobToleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
];

/** Kubernetes' rule: an empty effect or key matches any; Exists ignores the value; Equal (the default) compares it. */
export function tolerates(toleration: JobToleration, taint: Pick<V1Taint, 'key' | 'value' | 'effect'>): boolean {
  if ((toleration.effect ?? '') !== '' && toleration.effect !== taint.effect) return false;
  if ((toleration.key ?? '') !== '' && toleration.key !== taint.key) return false;
  const operator = toleration.operator ?? '';
  if (operator === 'Exists') return true;
  if (operator === 'Equal' || operator === '') return (toleration.value ?? '') === (taint.value ?? '');
  return false;
}

/** Why job Pods cannot go to a node; the first rule a node breaks, in this order. */
type Exclusion = { kind: 'selector' } | { kind: 'not-ready' } | { kind: 'cordoned' } | { kind: 'taint'; taint: string };

function isReady(node: V1Node): boolean {
  return node.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') === true;
}

function taintText(taint: V1Taint): string {
  return `${taint.key}${taint.value === undefined || taint.value === '' ? '' : `=${taint.value}`}:${taint.effect}`;
}

function exclusion(node: V1Node, placement: JobPlacement): Exclusion | undefined {
  const labels = node.metadata?.labels ?? {};
  if (Object.entries(placement.nodeSelector ?? {}).some(([key, value]) => labels[key] !== value)) return { kind: 'selector' };
  if (!isReady(node)) return { kind: 'not-ready' };
  const tolerations = [...(placement.tolerations ?? []), ...ADMISSION_TOLERATIONS];
  const tolerated = (taint: V1Taint): boolean => tolerations.some((toleration) => tolerates(toleration, taint));
  if (node.spec?.unschedulable === true && !tolerated({ key: UNSCHEDULABLE_TAINT_KEY, effect: 'NoSchedule' })) return { kind: 'cordoned' };
  const blocking = (node.spec?.taints ?? []).find(
    (taint) => (taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') && !tolerated(taint),
  );
  return blocking === undefined ? undefined : { kind: 'taint', taint: taintText(blocking) };
}

function selectorText(selector: Record<string, string> | undefined): string {
  return Object.keys(selector ?? {})
    .sort()
    .map((key) => `${key}=${selector?.[key] ?? ''}`)
    .join(',');
}

const NAMES_SHOWN = 3;

function nameList(names: string[]): string {
  const shown = names.slice(0, NAMES_SHOWN).join(', ');
  return names.length > NAMES_SHOWN ? `${shown} and ${names.length - NAMES_SHOWN} more` : shown;
}

/** "gpu-node-0 is not Ready; gpu-node-1, gpu-node-2 have taint a=b:NoSchedule, not tolerated". */
function exclusionSummary(excluded: [string, Exclusion][], placement: JobPlacement): string {
  const groups = new Map<string, string[]>();
  for (const [name, why] of excluded) {
    const key = why.kind === 'taint' ? `taint ${why.taint}` : why.kind;
    groups.set(key, [...(groups.get(key) ?? []), name]);
  }
  return [...groups]
    .map(([key, names]) => {
      const one = names.length === 1;
      const list = nameList(names);
      if (key === 'selector') return `${list} ${one ? 'does' : 'do'} not match nodeSelector ${selectorText(placement.nodeSelector)}`;
      if (key === 'not-ready') return `${list} ${one ? 'is' : 'are'} not Ready`;
      if (key === 'cordoned') return `${list} ${one ? 'is' : 'are'} cordoned`;
      return `${list} ${one ? 'has' : 'have'} ${key}, not tolerated`;
    })
    .join('; ');
}

// ---------------------------------------------------------------------------------------------
// Counting GPUs: one ledger per mode

/** The GPUs a placement draws on, counted per node. */
interface GpuLedger {
  /** What "has no …" names: "nvidia.com/gpu", "devices of DeviceClass gpu.nosana.local". */
  unit: string;
  /** "3 of nvidia.com/gpu", "3 devices of DeviceClass gpu.nosana.local". */
  amount(count: number): string;
  /** When no node has any: what the user should look at. */
  noneAnywhere: string;
  /** GPUs each node has at all (nodes without any are absent). */
  capacity: ReadonlyMap<string, number>;
  /** GPUs free on each node now, before reservations. */
  free: ReadonlyMap<string, number>;
  /** What the objects labelled with this node-label value hold, by node. */
  heldBy(owner: string): ReadonlyMap<string, number>;
  /** Whether a job of that placement draws on the same GPUs. */
  competes(placement: JobPlacement): boolean;
}

type LedgerOutcome = GpuLedger | { unknown: string };

function add(counts: Map<string, number>, key: string, count: number): void {
  counts.set(key, (counts.get(key) ?? 0) + count);
}

function addHeld(held: Map<string, Map<string, number>>, owner: string | undefined, node: string, count: number): void {
  if (owner === undefined) return;
  const byNode = held.get(owner) ?? new Map<string, number>();
  add(byNode, node, count);
  held.set(owner, byNode);
}

const WHOLE_NUMBER = /^\+?\d+$/;

/** An extended resource's quantity (the API server keeps them whole); undefined when it is not one. */
function wholeNumber(quantity: string): number | undefined {
  return WHOLE_NUMBER.test(quantity) ? Number(quantity) : undefined;
}

/** A container's request of the resource (requests default to limits). One that cannot be read counts as unbounded. */
function containerRequest(container: V1Container, resource: string): number {
  const quantity = container.resources?.requests?.[resource] ?? container.resources?.limits?.[resource];
  if (quantity === undefined) return 0;
  return wholeNumber(quantity) ?? Number.POSITIVE_INFINITY;
}

/**
 * What the scheduler counts a Pod as requesting: the larger of its containers plus its sidecars
 * (init containers that keep running) and, for each other init container, itself plus the sidecars
 * started before it; plus the Pod's overhead.
 */
export function podRequest(pod: V1Pod, resource: string): number {
  const spec = pod.spec;
  if (spec === undefined) return 0;
  const containers = spec.containers.reduce((total, container) => total + containerRequest(container, resource), 0);
  let sidecars = 0;
  let initPeak = 0;
  for (const init of spec.initContainers ?? []) {
    const request = containerRequest(init, resource);
    if (init.restartPolicy === 'Always') sidecars += request;
    initPeak = Math.max(initPeak, init.restartPolicy === 'Always' ? sidecars : sidecars + request);
  }
  const overheadQuantity = spec.overhead?.[resource];
  const overhead = overheadQuantity === undefined ? 0 : (wholeNumber(overheadQuantity) ?? Number.POSITIVE_INFINITY);
  return Math.max(containers + sidecars, initPeak) + overhead;
}

function isTerminal(pod: V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

function devicePluginLedger(resource: string, world: CapacityWorld): GpuLedger {
  const capacity = new Map<string, number>();
  for (const node of world.nodes) {
    const name = node.metadata?.name;
    const quantity = node.status?.allocatable?.[resource];
    const count = quantity === undefined ? 0 : (wholeNumber(quantity) ?? 0);
    if (name !== undefined && count > 0) capacity.set(name, count);
  }
  const requested = new Map<string, number>();
  const held = new Map<string, Map<string, number>>();
  for (const pod of world.pods) {
    const node = pod.spec?.nodeName;
    if (node === undefined || node === '' || isTerminal(pod)) continue;
    const request = podRequest(pod, resource);
    if (request === 0) continue;
    add(requested, node, request);
    addHeld(held, pod.metadata?.labels?.[NODE_LABEL], node, request);
  }
  return {
    unit: resource,
    amount: (count) => `${count} of ${resource}`,
    noneAnywhere: `no node advertises ${resource} (is its device plugin running?)`,
    capacity,
    free: new Map([...capacity].map(([node, count]) => [node, Math.max(0, count - (requested.get(node) ?? 0))])),
    heldBy: (owner) => held.get(owner) ?? new Map(),
    competes: (placement) => placement.dra === undefined && placement.gpuResourceName === resource,
  };
}

const DRIVER_SELECTOR = /^\s*device\.driver\s*==\s*(?:"([^"\\]*)"|'([^'\\]*)')\s*$/;

/** The driver a DeviceClass selects, when every selector is `device.driver == "name"` for one name. */
export function deviceClassDriver(className: string, classes: readonly V1DeviceClass[]): { driver: string } | { unknown: string } {
  const deviceClass = classes.find((candidate) => candidate.metadata?.name === className);
  if (deviceClass === undefined) return { unknown: `DeviceClass ${className} does not exist` };
  const cannotJudge = `capacity cannot be judged (only selectors of the form device.driver == "name" are understood)`;
  const selectors = deviceClass.spec.selectors ?? [];
  if (selectors.length === 0) return { unknown: `DeviceClass ${className} selects devices of any driver; ${cannotJudge}` };
  const drivers = new Set<string>();
  for (const selector of selectors) {
    const expression = selector.cel?.expression ?? '';
    const match = DRIVER_SELECTOR.exec(expression);
    if (match === null) return { unknown: `DeviceClass ${className} selects devices by ${JSON.stringify(expression)}; ${cannotJudge}` };
    drivers.add(match[1] ?? match[2] ?? '');
  }
  const [driver, ...others] = [...drivers];
  if (driver === undefined || others.length > 0)
    return { unknown: `DeviceClass ${className} asks for drivers ${[...drivers].join(' and ')} at once; ${cannotJudge}` };
  return { driver };
}

/** Devices of the driver on each node: node-local slices, the newest generation of each pool. */
function devicesByNode(driver: string, slices: readonly V1ResourceSlice[]): Map<string, string> {
  const local = slices.filter((slice) => slice.spec.driver === driver && (slice.spec.nodeName ?? '') !== '');
  const newest = new Map<string, number>();
  for (const slice of local) newest.set(slice.spec.pool.name, Math.max(newest.get(slice.spec.pool.name) ?? 0, slice.spec.pool.generation));
  const nodeOfDevice = new Map<string, string>();
  for (const slice of local) {
    if (slice.spec.pool.generation !== newest.get(slice.spec.pool.name)) continue;
    for (const device of slice.spec.devices ?? []) nodeOfDevice.set(`${slice.spec.pool.name}/${device.name}`, slice.spec.nodeName ?? '');
  }
  return nodeOfDevice;
}

function draLedger(className: string, dra: DraObjects): LedgerOutcome {
  const resolved = deviceClassDriver(className, dra.deviceClasses);
  if ('unknown' in resolved) return resolved;
  const { driver } = resolved;
  const nodeOfDevice = devicesByNode(driver, dra.resourceSlices);
  const allocated = new Set<string>();
  const held = new Map<string, Map<string, number>>();
  for (const claim of dra.resourceClaims) {
    for (const result of claim.status?.allocation?.devices?.results ?? []) {
      const device = `${result.pool}/${result.device}`;
      const node = nodeOfDevice.get(device);
      // Admin access looks at a device without taking it.
      if (result.driver !== driver || result.adminAccess === true || node === undefined || allocated.has(device)) continue;
      allocated.add(device);
      addHeld(held, claim.metadata?.labels?.[NODE_LABEL], node, 1);
    }
  }
  const capacity = new Map<string, number>();
  const free = new Map<string, number>();
  for (const [device, node] of nodeOfDevice) {
    add(capacity, node, 1);
    add(free, node, allocated.has(device) ? 0 : 1);
  }
  return {
    unit: `devices of DeviceClass ${className}`,
    amount: (count) => `${count} ${count === 1 ? 'device' : 'devices'} of DeviceClass ${className}`,
    noneAnywhere: `no ResourceSlice lists devices of driver ${driver} (DeviceClass ${className}) on a node`,
    capacity,
    free,
    heldBy: (owner) => held.get(owner) ?? new Map(),
    // A reservation whose class cannot be read may draw on the same devices: it is counted.
    competes: (placement) => {
      if (placement.dra === undefined) return false;
      const theirs = deviceClassDriver(placement.dra.deviceClassName, dra.deviceClasses);
      return 'unknown' in theirs || theirs.driver === driver;
    },
  };
}

function ledgerFor(placement: JobPlacement, world: CapacityWorld): LedgerOutcome {
  if (placement.dra === undefined) return devicePluginLedger(placement.gpuResourceName, world);
  if (world.dra === undefined)
    return {
      unknown: `the cluster serves no resource.k8s.io/v1 objects, so DeviceClass ${placement.dra.deviceClassName} cannot be counted`,
    };
  return draLedger(placement.dra.deviceClassName, world.dra);
}

// ---------------------------------------------------------------------------------------------
// Reservations

interface Reserved {
  /** GPUs left per node once the reservations that could be placed are. */
  free: Map<string, number>;
  /** Per node, who holds a share of it and how much. */
  holders: Map<string, { name: string; count: number }[]>;
  /** Reservations that fit nowhere: they wait for GPUs. */
  waiting: { reservation: Reservation; remaining: number }[];
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The name with the largest count (most GPUs free, most held), then the first by name. */
function largest(names: readonly string[], counts: ReadonlyMap<string, number>): string | undefined {
  let best: string | undefined;
  for (const name of names) {
    const count = counts.get(name) ?? 0;
    const bestCount = best === undefined ? -1 : (counts.get(best) ?? 0);
    if (count > bestCount || (count === bestCount && best !== undefined && name < best)) best = name;
  }
  return best;
}

function placeReservations(ledger: GpuLedger, world: CapacityWorld, nodes: readonly [string, V1Node][]): Reserved {
  const free = new Map(ledger.free);
  const holders = new Map<string, { name: string; count: number }[]>();
  const waiting: Reserved['waiting'] = [];
  const hold = (node: string, name: string, count: number): void => {
    free.set(node, Math.max(0, (free.get(node) ?? 0) - count));
    holders.set(node, [...(holders.get(node) ?? []), { name, count }]);
  };

  const entries = world.reservations
    .filter((reservation) => ledger.competes(reservation.placement))
    .map((reservation) => {
      const held = reservation.nodeAddress === undefined ? new Map<string, number>() : ledger.heldBy(labelValue(reservation.nodeAddress));
      const heldTotal = [...held.values()].reduce((total, count) => total + count, 0);
      const pinned = largest([...held.keys()], held);
      return { reservation, remaining: Math.max(0, reservedGpus(reservation.placement) - heldTotal), pinned };
    })
    .sort(
      (a, b) =>
        Number(b.pinned !== undefined) - Number(a.pinned !== undefined) ||
        b.remaining - a.remaining ||
        compareNames(a.reservation.name, b.reservation.name),
    );

  for (const { reservation, remaining, pinned } of entries) {
    if (remaining === 0) continue;
    if (pinned !== undefined) {
      hold(pinned, reservation.name, remaining);
      continue;
    }
    const fitting = nodes
      .filter(([name, node]) => exclusion(node, reservation.placement) === undefined && (free.get(name) ?? 0) >= remaining)
      .map(([name]) => name);
    const chosen = largest(fitting, free);
    if (chosen === undefined) waiting.push({ reservation, remaining });
    else hold(chosen, reservation.name, remaining);
  }
  return { free, holders, waiting };
}

// ---------------------------------------------------------------------------------------------
// The verdict

/** Whether one more job of `placement` can start now, and on which node it would. */
export function judgeCapacity(placement: JobPlacement, world: CapacityWorld): CapacityVerdict {
  const ledger = ledgerFor(placement, world);
  if ('unknown' in ledger) return { fits: false, cause: 'CapacityUnknown', reason: ledger.unknown };
  const need = reservedGpus(placement);
  const nodes = world.nodes
    .flatMap((node): [string, V1Node][] => (node.metadata?.name === undefined ? [] : [[node.metadata.name, node]]))
    .sort(([a], [b]) => compareNames(a, b));
  if (nodes.length === 0) return { fits: false, cause: 'NoSuitableNode', reason: 'the cluster has no nodes' };

  const excluded: [string, Exclusion][] = [];
  const eligible: string[] = [];
  for (const [name, node] of nodes) {
    const why = exclusion(node, placement);
    if (why === undefined) eligible.push(name);
    else excluded.push([name, why]);
  }
  const { free, holders, waiting } = placeReservations(ledger, world, nodes);

  if (need === 0) {
    const node = largest(eligible, free);
    if (node !== undefined) return { fits: true, node, freeAfter: free.get(node) ?? 0 };
    return { fits: false, cause: 'NoSuitableNode', reason: `no node takes job Pods: ${exclusionSummary(excluded, placement)}` };
  }

  const capacityOf = (name: string): number => ledger.capacity.get(name) ?? 0;
  const gpuNodes = nodes.filter(([name]) => capacityOf(name) > 0).map(([name]) => name);
  if (gpuNodes.length === 0) return { fits: false, cause: 'NoSuitableNode', reason: ledger.noneAnywhere };
  const usable = gpuNodes.filter((name) => eligible.includes(name));
  if (usable.length === 0) {
    const gpuExcluded = excluded.filter(([name]) => capacityOf(name) > 0);
    const byPodRules = gpuExcluded.some(([, why]) => why.kind === 'cordoned' || why.kind === 'taint');
    const selector = selectorText(placement.nodeSelector);
    const head = byPodRules
      ? `no node with ${ledger.unit} takes job Pods`
      : `no Ready node${selector === '' ? '' : ` matching nodeSelector ${selector}`} has ${ledger.unit}`;
    return { fits: false, cause: 'NoSuitableNode', reason: `${head}: ${exclusionSummary(gpuExcluded, placement)}` };
  }
  const biggest = largest(usable, ledger.capacity) ?? '';
  const bigEnough = usable.filter((name) => capacityOf(name) >= need);
  if (bigEnough.length === 0) {
    const reason = `no node that takes job Pods has ${ledger.amount(need)}: the largest, ${biggest}, has ${ledger.amount(capacityOf(biggest))}`;
    return { fits: false, cause: 'NoSuitableNode', reason };
  }

  const waitersOn = (name: string): Reserved['waiting'] =>
    waiting.filter(
      ({ reservation, remaining }) => capacityOf(name) >= remaining && exclusion(nodeOf(nodes, name), reservation.placement) === undefined,
    );
  const open = bigEnough.filter((name) => waitersOn(name).length === 0);
  const left = bigEnough.filter((name) => waitersOn(name).length > 0);
  const waitNote =
    left.length === 0
      ? ''
      : `${nameList(left)} ${left.length === 1 ? 'is' : 'are'} left to ${waitersText([...new Set(left.flatMap(waitersOn))], ledger)}, waiting for GPUs no node has free`;

  const best = largest(open, free);
  if (best === undefined) return { fits: false, cause: 'GpusInUse', reason: waitNote };
  const bestFree = free.get(best) ?? 0;
  if (bestFree >= need) return { fits: true, node: best, freeAfter: bestFree - need };
  const held = holders.get(best) ?? [];
  const heldNote = held.length === 0 ? '' : ` (after ${held.map(({ name, count }) => `${count} reserved for ${name}`).join(', ')})`;
  const reason = `largest free: ${ledger.amount(bestFree)} on ${best}${heldNote}; needs ${need}${waitNote === '' ? '' : `; ${waitNote}`}`;
  return { fits: false, cause: 'GpusInUse', reason };
}

function nodeOf(nodes: readonly [string, V1Node][], name: string): V1Node {
  return nodes.find(([candidate]) => candidate === name)?.[1] ?? {};
}

function waitersText(waiters: Reserved['waiting'], ledger: GpuLedger): string {
  const sorted = [...waiters].sort((a, b) => compareNames(a.reservation.name, b.reservation.name));
  return sorted.map(({ reservation, remaining }) => `${reservation.name} (${ledger.amount(remaining)})`).join(', ');
}

// ---------------------------------------------------------------------------------------------
// A claimed job against what was reserved

export type ReservationFit =
  { fits: true; needed: number; reserved: number } | { fits: false; needed: number; reserved: number; reason: string };

/**
 * Whether a claimed job's plan needs no more GPUs than its NosanaNode reserved when it joined.
 * A job that needs more may find them taken by another NosanaNode's job: the agent quits it.
 */
export function planFitsReservation(
  plan: Plan,
  placement: Pick<ExecutorSettings, 'gpuResourceName' | 'gpusPerJob' | 'dra'>,
): ReservationFit {
  const needed = gpusNeededFor(plan, placement);
  const reserved = reservedGpus(placement);
  if (needed <= reserved) return { fits: true, needed, reserved };
  const widest = widestGpuGroup(plan);
  const unit = placement.dra === undefined ? placement.gpuResourceName : `devices of DeviceClass ${placement.dra.deviceClassName}`;
  const why =
    placement.dra === undefined && widest !== undefined
      ? `group ${JSON.stringify(widest.group)} may run ${widest.gpuOpIds.length} GPU ops at once (${widest.gpuOpIds.join(', ')}), ${placement.gpusPerJob} each`
      : 'its GPU ops';
  return { fits: false, needed, reserved, reason: `${why}: the job needs ${needed} of ${unit}, this NosanaNode reserves ${reserved}` };
}

/**
 * Whether free GPUs decide the node's next step: out of a run (joining, queued, or kept out for
 * lack of room). A node holding a run runs it whatever else the cluster does.
 */
export function watchesCapacity(node: Pick<NosanaNodeObject, 'status'>): boolean {
  return node.status?.currentRun === undefined && node.status?.phase !== 'Running';
}
