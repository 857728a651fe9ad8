// What one reconcile of a NosanaNode reads (decision.ts's NodeWorld), and what acting on the
// decision needs beside it: the key, the network, the run's record as read (its version), the
// executor's settings. The key Secret is read first; without a usable key nothing else is read
// (a record cannot be checked against a key that is not there, and nothing can be signed). The
// chain is read in the round shared by every NosanaNode reconciled at about the same moment.
// Reading never spends money.
import type { Keypair } from '@solana/web3.js';
import { PublicKey } from '@solana/web3.js';
import type { NosanaMarketObject } from '../../api/crds/nosana-market.ts';
import type { NosanaNodeObject } from '../../api/crds/nosana-node.ts';
import type { NetworkPorts } from '../network-ports.ts';
import { NetworkSettingsError } from '../network-settings.ts';
import { marketAddressOf } from '../nosana-job/resolve.ts';
import type { JoinNote, NodeAgentDeps } from './agent-deps.ts';
import { judgeCapacity } from './capacity.ts';
import type { CapacityVerdict, Reservation } from './capacity.ts';
import type { NodeChainRead } from './chain-reader.ts';
import { placementRefusal } from './containment.ts';
import type { EndingOutcome, NodeWorld, RunRecord } from './decision.ts';
import { jobNamespaceOf, placementFingerprint, placementOf } from './job-settings.ts';
import { loadNodeKey } from './node-key.ts';
import { RunRecordStore } from './run-record-store.ts';
import type { RecordOwner, RunRecordRead } from './run-record-store.ts';

/** The world, and what acting on its decision needs. */
export interface NodeRead {
  world: NodeWorld;
  /** Present only when the key loaded. */
  keypair?: Keypair;
  /** The network the node serves; absent when its settings could not be assembled. */
  ports?: NetworkPorts;
  /** Who the run records belong to (present with the key). */
  owner?: RecordOwner;
  /** The run record the decision saw, with its version (writes and releases are conditional on it). */
  recordRead?: RunRecordRead;
  store?: RunRecordStore;
}

/** The Phases in which another NosanaNode of the agent holds, or is about to hold, a job's GPUs. */
const RESERVING_PHASES = new Set(['Queued', 'Running', 'Draining']);

export async function readNodeWorld(deps: NodeAgentDeps, node: NosanaNodeObject): Promise<NodeRead> {
  const uid = node.metadata?.uid ?? '';
  const status = node.status ?? {};
  const join = deps.joins.get(uid);
  const unsettled = unsettledJoinAt(deps, join);
  const base = {
    node: {
      spec: { market: node.spec.market, paused: node.spec.paused },
      status,
      ...(node.metadata?.generation === undefined ? {} : { generation: node.metadata.generation }),
      deleting: node.metadata?.deletionTimestamp !== undefined,
    },
    capacity: capacityFor(deps, node),
    executor: deps.slots.state(uid),
    placement: placementFingerprint(node),
    ...(unsettled === undefined ? {} : { lastJoinAt: unsettled }),
    ...refusalOf(deps, node),
  };
  const key = await loadNodeKey(deps.reader, node);
  if ('problem' in key) return { world: { ...base, key } };
  const { keypair } = key;
  const address = keypair.publicKey.toBase58();
  const holder = otherHolder(deps, node, address);
  if (holder !== undefined)
    return {
      world: {
        ...base,
        key: {
          problem: `the key in Secret ${node.metadata?.namespace ?? ''}/${node.spec.keySecretRef.name} (spec.keySecretRef) is node ${address}, which NosanaNode ${holder} already serves: one key serves one NosanaNode`,
        },
      },
    };
  const market = resolveMarket(deps, node);

  let ports: NetworkPorts;
  try {
    ports = deps.networks.ports(await deps.settingsFor(market.object, node.metadata?.namespace ?? ''));
  } catch (error) {
    if (!(error instanceof NetworkSettingsError)) throw error;
    return { world: { ...base, key: { address }, chain: { readError: error.message } }, keypair };
  }
  const owner: RecordOwner = {
    namespace: node.metadata?.namespace ?? '',
    name: node.metadata?.name ?? '',
    uid,
    nodeAddress: address,
  };
  // Woken when a run naming this key appears: how a node waiting in the queue learns of its job
  // without waiting for its next poll (where the RPC serves a websocket).
  ports.watcher.trackNode(keypair.publicKey, { namespace: owner.namespace, name: owner.name });
  const store = new RunRecordStore(deps.api, { network: ports.network });
  const recordRead = chooseRecord(await store.list(owner), status.currentRun);
  const stored = recordRead?.record;
  const chain: NodeChainRead = await deps.rounds.read(ports.jobs, {
    address,
    market: market.address,
    ...(stored === undefined ? {} : { recordRun: { runAddress: stored.runAddress, jobAddress: stored.jobAddress } }),
    ...(status.currentRun === undefined
      ? {}
      : { statusRun: { runAddress: status.currentRun, ...(status.currentJob === undefined ? {} : { jobAddress: status.currentJob }) } }),
    ...(join?.landedSlot === undefined ? {} : { minContextSlot: join.landedSlot }),
  });
  const record = stored === undefined ? undefined : await withOutcome(ports, stored);
  return {
    world: { ...base, key: { address }, chain, ...(record === undefined ? {} : { record }) },
    keypair,
    ports,
    owner,
    store,
    ...(recordRead === undefined ? {} : { recordRead }),
  };
}

/**
 * The NosanaNode that serves `address` when it is another than `node`: of all the NosanaNodes this
 * agent saw holding the key, the first by namespace/name. Two NosanaNodes on one key would send
 * `work` twice for one identity and hold two runs; the chain round refuses both when they are read
 * together, this refuses the later ones whenever they are read.
 */
export function otherHolder(
  deps: Pick<NodeAgentDeps, 'nodes' | 'keyHolders'>,
  node: NosanaNodeObject,
  address: string,
): string | undefined {
  const uid = node.metadata?.uid ?? '';
  const live = new Set(deps.nodes.list().map((candidate) => candidate.metadata?.uid ?? ''));
  for (const [held, holders] of deps.keyHolders) {
    for (const holderUid of holders.keys()) if (!live.has(holderUid) || (holderUid === uid && held !== address)) holders.delete(holderUid);
    if (holders.size === 0) deps.keyHolders.delete(held);
  }
  const holders = deps.keyHolders.get(address) ?? new Map<string, string>();
  holders.set(uid, `${node.metadata?.namespace ?? ''}/${node.metadata?.name ?? ''}`);
  deps.keyHolders.set(address, holders);
  const first = [...holders.values()].sort()[0];
  return first === holders.get(uid) ? undefined : first;
}

/**
 * When a `work` that may still land without showing in this reconcile's read was sent: this
 * agent's own, else the moment it started leading, since a `work` the previous leader sent just
 * before it died may still land within joinSettleMs (two landed `work`s could claim two jobs for
 * one node). None once this agent's last `work` is confirmed: the node's chain read is then made
 * as of its landing slot or later (minContextSlot), so the read shows the node queued, or holding
 * the run it took, or done with it; a node may join again as soon as it is free, not a settle
 * time after its last join.
 */
export function unsettledJoinAt(deps: Pick<NodeAgentDeps, 'leadingSince'>, join: JoinNote | undefined): Date | undefined {
  if (join === undefined) return deps.leadingSince();
  return join.landedSlot === undefined ? join.sentAt : undefined;
}

/** A node has one run at a time: the record of the run its status names first, else the oldest by name. */
function chooseRecord(reads: readonly RunRecordRead[], currentRun: string | undefined): RunRecordRead | undefined {
  const named = reads.find((read) => read.record.runAddress === currentRun);
  if (named !== undefined) return named;
  return [...reads].sort((a, b) => (a.record.runAddress < b.record.runAddress ? -1 : 1))[0];
}

/** The record as the decision reads it: its signed ending with what the chain says of it now. */
async function withOutcome(ports: NetworkPorts, stored: RunRecordRead['record']): Promise<RunRecord> {
  const { ending, ...rest } = stored;
  if (ending === undefined) return rest;
  let outcome: EndingOutcome;
  try {
    outcome = await ports.jobs.resolveNodeTransaction(ending.signed);
  } catch (error) {
    outcome = { outcome: 'unreadable', error: error instanceof Error ? error.message : String(error) };
  }
  return { ...rest, ending: { ...ending, outcome } };
}

interface ResolvedMarket {
  address: string | { missing: string };
  /** The NosanaMarket whose network settings apply (one of the node's own namespace), if any. */
  object?: NosanaMarketObject;
}

/**
 * spec.market: a NosanaMarket of the node's namespace (its settings apply) or a market address
 * (the agent's default network). A NosanaMarket of another namespace is never used: its author
 * could point this node at an RPC that lies.
 */
export function resolveMarket(deps: Pick<NodeAgentDeps, 'markets'>, node: NosanaNodeObject): ResolvedMarket {
  const namespace = node.metadata?.namespace ?? '';
  const named = deps.markets.get({ namespace, name: node.spec.market });
  if (named !== undefined) {
    const address = marketAddressOf(named);
    return address === undefined
      ? { address: { missing: `NosanaMarket ${namespace}/${node.spec.market} has no market address yet` }, object: named }
      : { address: address.toBase58(), object: named };
  }
  try {
    return { address: new PublicKey(node.spec.market).toBase58() };
  } catch {
    return {
      address: { missing: `spec.market "${node.spec.market}" is neither a NosanaMarket in namespace ${namespace} nor a market address` },
    };
  }
}

/**
 * How long after it was sent a confirmed `work` holds GPUs for its node, whatever the cache shows:
 * past it, the node's status says Queued or Running (counted by phase) or that it let go. A join
 * lands within seconds and its status write follows at once.
 */
export const JOIN_HOLDS_MS = 10_000;

/**
 * Whether a `work` this agent sent for a node holds GPUs although the node's cached status may not
 * show it queued yet: confirmed within JOIN_HOLDS_MS, or unconfirmed while it may still land.
 */
export function joinHolds(note: JoinNote | undefined, now: Date, joinSettleMs: number): boolean {
  if (note === undefined) return false;
  const age = now.getTime() - note.sentAt.getTime();
  return age < (note.landedSlot === undefined ? joinSettleMs : JOIN_HOLDS_MS);
}

/**
 * Whether one more job of this node fits the cluster now, counting the agent's other nodes that
 * hold GPUs: queued, running or draining, or joining right now. Nodes decide in parallel, and two
 * that both saw the last free GPUs must not both join on them: the joins in flight count before
 * any status shows them (joinQueue checks again just before it sends).
 */
export function capacityFor(deps: NodeAgentDeps, node: NosanaNodeObject): CapacityVerdict {
  const { cluster } = deps;
  const now = deps.now();
  const reservations: Reservation[] = deps.nodes
    .list()
    .filter(
      (other) =>
        other.metadata?.uid !== node.metadata?.uid &&
        (RESERVING_PHASES.has(other.status?.phase ?? '') ||
          joinHolds(deps.joins.get(other.metadata?.uid ?? ''), now, deps.timings.joinSettleMs)),
    )
    .map((other) => ({
      name: `${other.metadata?.namespace ?? ''}/${other.metadata?.name ?? ''}`,
      ...(other.status?.nodeAddress === undefined ? {} : { nodeAddress: other.status.nodeAddress }),
      placement: placementOf(other),
    }));
  return judgeCapacity(placementOf(node), {
    nodes: cluster.nodes.list(),
    pods: cluster.pods.list(),
    reservations,
    ...(cluster.dra === undefined
      ? {}
      : {
          dra: {
            deviceClasses: cluster.dra.deviceClasses.list(),
            resourceSlices: cluster.dra.resourceSlices.list(),
            resourceClaims: cluster.dra.resourceClaims.list(),
          },
        }),
  });
}

function refusalOf(deps: NodeAgentDeps, node: NosanaNodeObject): { placementRefusal?: string } {
  const jobNamespace = jobNamespaceOf(node);
  const refusal = placementRefusal({
    jobNamespace,
    namespace: deps.cluster.namespaces.get({ namespace: '', name: jobNamespace }),
    nodeNamespaces: new Set(deps.nodes.list().map((other) => other.metadata?.namespace ?? '')),
    limits: node.spec.limits,
    ...(deps.containment.ceilings === undefined ? {} : { ceilings: deps.containment.ceilings }),
  });
  return refusal === undefined ? {} : { placementRefusal: refusal };
}
