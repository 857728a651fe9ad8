// The thin layer that performs the one action a NosanaNode decision names (decision.ts's
// NodeAction). Money is sacred: an ending is signed and written to the run's record before any
// broadcast (sent right after, and again by later decisions until it lands), every record write is conditional on the version the
// decision read, and a record is released only when the store agrees nothing of it can still land.
// Kill points mark the instants a crash test stops the process at.
import type { V1ConfigMap, V1Pod } from '@kubernetes/client-node';
import type { Keypair } from '@solana/web3.js';
import { PublicKey } from '@solana/web3.js';
import type { NosanaNodeObject } from '../../api/crds/nosana-node.ts';
import type { NodeTransactionRequest } from '../../chain/jobs-client.ts';
import { planJob, isPlan, unplannedFlow } from '../../executor/plan.ts';
import type { FlowState } from '../../executor/flow-state.ts';
import { runPlan } from '../../executor/runner.ts';
import { JOB_LABEL, MANAGED_BY, MANAGED_BY_LABEL, RUN_LABEL, labelValue } from '../../executor/labels.ts';
import { runConfigMapName } from '../../executor/names.ts';
import { bytes32ToCid } from '../../ipfs/cid.ts';
import { hasStatus } from '../../runtime/kube-api.ts';
import { killPoint } from '../../runtime/kill-points.ts';
import type { Logger } from 'pino';
import type { NetworkPorts } from '../network-ports.ts';
import type { NodeAgentDeps } from './agent-deps.ts';
import { planFitsReservation } from './capacity.ts';
import { missingPodSecurityLabels } from './containment.ts';
import type { NodeAction, NodeDecision, SignedEnding } from './decision.ts';
import { jobNamespaceOf, jobSettingsOf, placementOf } from './job-settings.ts';
import {
  LogisticsError,
  SEND_API_LISTEN_UNSERVED,
  deliverResult,
  fetchDefinition,
  logisticsFailure,
  logisticsOf,
  pinnedDocument,
} from './logistics.ts';
import type { LogisticsTarget, ResolvedLogistics } from './logistics.ts';
import { publishResult } from './result-publisher.ts';
import type { RunControl, SettledRun } from './run-slots.ts';
import type { StoredRunRecord } from './run-record-store.ts';
import { capacityFor } from './world.ts';
import type { NodeRead } from './world.ts';

/** The labels production code passes to killPoint on the node side; crash tests iterate over them. */
export const NODE_KILL_POINTS = ['node:after-pin', 'node:after-result-record', 'node:after-ending-record', 'node:after-broadcast'] as const;

/** What performing an action says back to the reconcile. */
export type ActOutcome =
  | { done: true }
  /** The record changed since it was read, or the store refused: decide again soon; nothing was sent. */
  | { done: false; retry: string };

// How long a sent ending is waited for before the reconcile ends: it lands within a few slots, and
// the next look then finds it landed rather than polling for it (each look reads the chain anew).
const ENDING_LANDING_WAIT_MS = 5_000;

// How long the Pods a dead process left may take to go before a run starts again regardless.
const LEFTOVER_WAIT_MS = 30_000;
const LEFTOVER_POLL_MS = 500;

export async function act(
  deps: NodeAgentDeps,
  node: NosanaNodeObject,
  read: NodeRead,
  decision: NodeDecision,
  log: Logger,
): Promise<ActOutcome> {
  const action = decision.action;
  const uid = node.metadata?.uid ?? '';
  switch (action.kind) {
    case 'none':
      return { done: true };
    case 'moveDeadline':
      deps.slots.moveDeadline(uid, action.runAddress, action.deadlineMs);
      return { done: true };
    case 'stopRun':
      deps.slots.stop(uid, action.runAddress, action.why);
      return { done: true };
    case 'removeFinalizer':
      return { done: true }; // the reconciler removes it, in place of the status write
    default:
      break;
  }
  const { keypair, ports } = read;
  if (action.kind === 'broadcast') {
    // Bytes already signed and recorded: no key needed.
    if (ports === undefined) return { done: false, retry: 'the network cannot be reached to send the recorded ending' };
    await ports.jobs.broadcastNodeTransaction(action.signed, { awaitLandingMs: ENDING_LANDING_WAIT_MS });
    killPoint('node:after-broadcast');
    return { done: true };
  }
  if (action.kind === 'releaseRun') return releaseRun(deps, node, read, action.runAddress, log);
  if (keypair === undefined || ports === undefined) throw new Error(`cannot ${action.kind}: the node's key or network is not available`);
  switch (action.kind) {
    case 'ensureAccounts':
      if (action.stake) await ports.jobs.ensureStake(keypair);
      else if (action.nosAccount) await ports.jobs.ensureNosAccount(keypair);
      return { done: true };
    case 'joinQueue': {
      // The capacity the decision saw may have gone to another node's join since (nodes decide in
      // parallel): looked at again here, and the note that reserves it written, with no await in
      // between, so two nodes never both join on the last free GPUs.
      const room = capacityFor(deps, node);
      if (!room.fits) return { done: false, retry: `another node took the room first: ${room.reason}` };
      // Noted before sending: a `work` whose answer is lost must still hold the next one back.
      const sentAt = deps.now();
      deps.joins.set(uid, { sentAt });
      const { slot } = await ports.jobs.work(keypair, new PublicKey(action.market));
      // Landed: reads as of this slot show what it did, so the next join waits for those, not the clock.
      deps.joins.set(uid, { sentAt, landedSlot: slot });
      return { done: true };
    }
    case 'leaveQueue':
      await ports.jobs.leaveQueue(keypair, new PublicKey(action.market));
      return { done: true };
    case 'startRun':
      await startRun(deps, node, ports, keypair, action, log);
      return { done: true };
    case 'pinResult':
      return pinResult(deps, uid, read, ports, action);
    case 'prepare':
      return prepareEnding(read, ports, keypair, node, action, log);
    case 'resign':
      return resign(read, ports, keypair, action, log);
  }
}

// ---------------------------------------------------------------------------------------------
// Running

async function startRun(
  deps: NodeAgentDeps,
  node: NosanaNodeObject,
  ports: NetworkPorts,
  keypair: Keypair,
  action: Extract<NodeAction, { kind: 'startRun' }>,
  log: Logger,
): Promise<void> {
  const uid = node.metadata?.uid ?? '';
  const { jobAddress, runAddress } = action;
  const runLog = log.child({ job: jobAddress, run: runAddress });
  await labelJobNamespace(deps, jobNamespaceOf(node));
  deps.slots.start(uid, {
    jobAddress,
    runAddress,
    deadlineMs: action.deadlineMs,
    execute: (control) => executeRun(deps, node, ports, keypair, action, control, runLog),
  });
}

/** Fetches the definition, checks it against what the node reserved, and runs it to its end. */
async function executeRun(
  deps: NodeAgentDeps,
  node: NosanaNodeObject,
  ports: NetworkPorts,
  keypair: Keypair,
  action: Extract<NodeAction, { kind: 'startRun' }>,
  control: RunControl,
  log: Logger,
): Promise<SettledRun> {
  const { jobAddress, runAddress } = action;
  const nodeAddress = keypair.publicKey.toBase58();
  const { secretKey } = keypair;
  const subject = { jobAddress, runAddress };
  // Waits on the network end when the run is stopped or let go, so a handover is not held up.
  const waiting = AbortSignal.any([control.signal, control.detach]);
  const job = await ports.jobs.getJob(new PublicKey(jobAddress));
  if (job === undefined) return { state: 'start-failed', ...subject, error: `job ${jobAddress} cannot be read`, atMs: Date.now() };
  let raw: unknown;
  try {
    // The gateway checks the bytes against the CID the job account holds.
    raw = (await ports.gateway.readJson(bytes32ToCid(job.account.ipfsJob), { signal: waiting })).value;
  } catch (error) {
    return { state: 'start-failed', ...subject, error: (error as Error).message, atMs: Date.now() };
  }
  // The pinned definition may be an envelope whose logistics say where the real one is fetched and
  // where the full result goes; failing to get it is the job's own failure, finished as such.
  let logistics: ResolvedLogistics;
  try {
    logistics = logisticsOf(raw, jobAddress);
    if (logistics.send?.type === 'api-listen') throw new LogisticsError(SEND_API_LISTEN_UNSERVED);
    if (logistics.send?.type === 'api')
      raw = await fetchDefinition(logistics.send, jobAddress, secretKey, { signal: waiting, guard: deps.endpointGuard });
  } catch (error) {
    if (!(error instanceof LogisticsError)) throw error;
    return { state: 'ended', ...subject, flow: logisticsFailure(error.message, Date.now()) };
  }
  const ended = (flow: FlowState) => endedWithDelivery(deps, keypair, subject, flow, logistics.receive, waiting);
  const plan = planJob(raw, jobAddress);
  if (!isPlan(plan)) return ended(unplannedFlow(plan, Date.now()));
  const fit = planFitsReservation(plan, placementOf(node));
  if (!fit.fits) return { state: 'too-large', ...subject, gpusNeeded: fit.needed, gpusAvailable: fit.reserved };

  const settings = jobSettingsOf(node, deps.containment, { run: runAddress, node: nodeAddress });
  await removeLeftovers(deps, settings.namespace, jobAddress, log, runAddress);
  const result = await runPlan(plan, {
    kubeConfig: deps.kubeConfig,
    settings,
    log,
    globals: { job: jobAddress, project: job.account.project.toBase58(), host: nodeAddress, frps_address: '' },
    deadline: control.deadline,
    signal: control.signal,
    detach: control.detach,
    onClusterFailure: 'quit',
    bounds: { schedulingMs: deps.timings.unschedulableMs },
  });
  if (result.clusterFailure !== undefined) return { state: 'cluster-failure', ...subject, ...result.clusterFailure };
  return ended(result.flow);
}

/**
 * The run's end, with its full result handed to the definition's receive endpoint first when there
 * is one. Done here, in the run's background task, not in a reconcile: a stranger's endpoint that
 * answers slowly holds up this run only, never the agent's workers.
 */
async function endedWithDelivery(
  deps: NodeAgentDeps,
  keypair: Keypair,
  subject: { jobAddress: string; runAddress: string },
  flow: FlowState,
  receive: LogisticsTarget | undefined,
  signal: AbortSignal,
): Promise<SettledRun> {
  const settled = { state: 'ended' as const, ...subject, flow, ...(receive === undefined ? {} : { receive }) };
  if (receive?.type !== 'api') return settled;
  try {
    await deliverResult(receive, subject.jobAddress, keypair.secretKey, flow, { guard: deps.endpointGuard, signal });
    return settled;
  } catch (error) {
    if (!(error instanceof LogisticsError)) throw error;
    return { ...settled, deliveryError: error.message };
  }
}

/** Labels a job namespace for Pod Security before the first Pod of a run goes there. */
async function labelJobNamespace(deps: NodeAgentDeps, namespace: string): Promise<void> {
  const current = deps.cluster.namespaces.get({ namespace: '', name: namespace });
  if (current === undefined) return;
  const missing = missingPodSecurityLabels(current);
  if (missing === undefined) return;
  await deps.api.request('PATCH', `/api/v1/namespaces/${encodeURIComponent(namespace)}`, {
    contentType: 'application/merge-patch+json',
    body: { metadata: { labels: missing } },
  });
}

/**
 * The job's objects in the cluster: its Pods and its run ConfigMap (which owns the rest), removed
 * when the run is released, and before a run starts. A starting run keeps the objects of its own
 * run (`keepRun`): they are what another process of this agent let go of (a rolling update) or
 * was killed in, and the runner takes them over where they are; an earlier run of the job (one
 * this node quit, then claimed again) is removed so the job runs again from its start. A Pod is
 * kept only when the kept run ConfigMap controls it: one made by anyone else under the run's name
 * and labels is never taken for the run's work. Waits a bounded time for removed Pods to go so new
 * ones can take their names.
 */
async function removeLeftovers(deps: NodeAgentDeps, namespace: string, jobAddress: string, log: Logger, keepRun?: string): Promise<void> {
  const ns = encodeURIComponent(namespace);
  const kept = keepRun === undefined ? undefined : labelValue(keepRun);
  const configMapPath = `/api/v1/namespaces/${ns}/configmaps/${encodeURIComponent(runConfigMapName(jobAddress))}`;
  const owner = await deps.api.request<V1ConfigMap>('GET', configMapPath).catch((error: unknown) => {
    if (hasStatus(error, 404)) return undefined;
    throw error;
  });
  const keptOwner = kept !== undefined && owner?.metadata?.labels?.[RUN_LABEL] === kept ? owner.metadata.uid : undefined;
  if (owner !== undefined && keptOwner === undefined) {
    await deps.api.request('DELETE', configMapPath, { query: { propagationPolicy: 'Background' } }).catch((error: unknown) => {
      if (!hasStatus(error, 404)) throw error;
    });
  }
  const labelSelector = `${MANAGED_BY_LABEL}=${MANAGED_BY},${JOB_LABEL}=${labelValue(jobAddress)}`;
  const podsOfTheJob = async () =>
    (await deps.api.request<{ items?: V1Pod[] }>('GET', `/api/v1/namespaces/${ns}/pods`, { query: { labelSelector } })).items ?? [];
  const keep = (pod: V1Pod) =>
    keptOwner !== undefined &&
    pod.metadata?.labels?.[RUN_LABEL] === kept &&
    (pod.metadata?.ownerReferences ?? []).some((reference) => reference.controller === true && reference.uid === keptOwner);
  const doomed = new Set((await podsOfTheJob()).filter((pod) => !keep(pod)).map((pod) => pod.metadata?.name ?? ''));
  for (const name of doomed) {
    await deps.api
      .request('DELETE', `/api/v1/namespaces/${ns}/pods/${encodeURIComponent(name)}`, { query: { gracePeriodSeconds: 0 } })
      .catch((error: unknown) => {
        if (!hasStatus(error, 404)) throw error;
      });
  }
  const until = Date.now() + LEFTOVER_WAIT_MS;
  while (doomed.size > 0 && Date.now() < until) {
    if (!(await podsOfTheJob()).some((pod) => doomed.has(pod.metadata?.name ?? ''))) return;
    await new Promise((resolve) => setTimeout(resolve, LEFTOVER_POLL_MS));
  }
  if (doomed.size > 0) log.warn({ namespace, job: jobAddress }, 'Pods not of this run are still going; the run starts anyway');
}

// ---------------------------------------------------------------------------------------------
// The run's record

async function pinResult(
  deps: NodeAgentDeps,
  uid: string,
  read: NodeRead,
  ports: NetworkPorts,
  action: Extract<NodeAction, { kind: 'pinResult' }>,
): Promise<ActOutcome> {
  const settled = deps.slots.state(uid);
  const ended = settled.state === 'ended' && settled.runAddress === action.runAddress ? settled : undefined;
  const document = pinnedDocument(action.flow, ended?.receive, ended?.deliveryError);
  const published = await publishResult(ports.pinning, document, { name: `nosana-result-${action.jobAddress}` });
  killPoint('node:after-pin');
  const record: StoredRunRecord = {
    jobAddress: action.jobAddress,
    runAddress: action.runAddress,
    result: { cid: published.cid, flowStatus: published.flowStatus },
  };
  const outcome = await writeRecord(read, record);
  if (outcome.done) killPoint('node:after-result-record');
  return outcome;
}

async function prepareEnding(
  read: NodeRead,
  ports: NetworkPorts,
  keypair: Keypair,
  node: NosanaNodeObject,
  action: Extract<NodeAction, { kind: 'prepare' }>,
  log: Logger,
): Promise<ActOutcome> {
  const job = new PublicKey(action.jobAddress);
  const cid = action.resultCid;
  let request: NodeTransactionRequest;
  switch (action.ending) {
    case 'finish': {
      if (cid === undefined) throw new Error(`a finish of job ${action.jobAddress} needs the result's CID`);
      const payout = node.spec.payoutAddress;
      request = { kind: 'finish', job, resultCid: cid, ...(payout === undefined ? {} : { payout: new PublicKey(payout) }) };
      break;
    }
    case 'complete':
      if (cid === undefined) throw new Error(`a complete of job ${action.jobAddress} needs the result's CID`);
      request = { kind: 'complete', job, resultCid: cid };
      break;
    case 'quit':
      request = { kind: 'quit', job };
      break;
  }
  const signed = (await ports.jobs.prepareNodeTransaction(keypair, request)) as SignedEnding;
  const base = read.recordRead?.record;
  const record: StoredRunRecord = {
    jobAddress: action.jobAddress,
    runAddress: action.runAddress,
    ...(base?.result === undefined ? {} : { result: base.result }),
    ending: { signed, reason: action.reason, failures: action.failures },
  };
  return recordAndSend(read, ports, record, signed, log);
}

/** The same ending signed again (its recorded version can no longer land), replacing it in the record. */
async function resign(
  read: NodeRead,
  ports: NetworkPorts,
  keypair: Keypair,
  action: Extract<NodeAction, { kind: 'resign' }>,
  log: Logger,
): Promise<ActOutcome> {
  const base = read.recordRead?.record;
  if (base === undefined) return { done: false, retry: 'the run record to re-sign is gone' };
  const signed = (await ports.jobs.prepareNodeTransaction(keypair, requestOf(action.signed))) as SignedEnding;
  return recordAndSend(read, ports, { ...base, ending: { signed, reason: action.reason, failures: action.failures } }, signed, log);
}

/**
 * Records a signed ending, then sends it and waits a moment for it to land. Once the record holds
 * the bytes, sending them at once is what the next decision would do (and does again, harmlessly,
 * while they have not landed); a send that fails leaves them to that decision, so it is logged,
 * not failed: the signing and the record both took.
 */
async function recordAndSend(
  read: NodeRead,
  ports: NetworkPorts,
  record: StoredRunRecord,
  signed: SignedEnding,
  log: Logger,
): Promise<ActOutcome> {
  const outcome = await writeRecord(read, record);
  if (!outcome.done) return outcome;
  killPoint('node:after-ending-record');
  try {
    await ports.jobs.broadcastNodeTransaction(signed, { awaitLandingMs: ENDING_LANDING_WAIT_MS });
    killPoint('node:after-broadcast');
  } catch (error) {
    log.warn(
      { err: error, signature: signed.signature },
      `the recorded ${signed.kind} could not be sent yet; it is sent again on the next look`,
    );
  }
  return outcome;
}

/** The request that signs `signed`'s ending again: the same kind, job, result and payout. */
function requestOf(signed: SignedEnding): NodeTransactionRequest {
  const job = new PublicKey(signed.job);
  switch (signed.kind) {
    case 'finish':
      return { kind: 'finish', job, resultCid: signed.resultCid, payout: new PublicKey(signed.payout) };
    case 'complete':
      return { kind: 'complete', job, resultCid: signed.resultCid };
    case 'quit':
      return { kind: 'quit', job };
  }
}

async function writeRecord(read: NodeRead, record: StoredRunRecord): Promise<ActOutcome> {
  const { store, owner, keypair } = read;
  if (store === undefined || owner === undefined || keypair === undefined)
    throw new Error('the run record cannot be written without the key');
  const version = read.recordRead?.record.runAddress === record.runAddress ? read.recordRead.version : undefined;
  const written = await store.write(owner, keypair, record, version);
  return written.outcome === 'written' ? { done: true } : { done: false, retry: written.message };
}

/** The run is over for this node: its record goes (when the store agrees), then what is left of it in the cluster. */
async function releaseRun(
  deps: NodeAgentDeps,
  node: NosanaNodeObject,
  read: NodeRead,
  runAddress: string,
  log: Logger,
): Promise<ActOutcome> {
  const { recordRead, store, owner } = read;
  const uid = node.metadata?.uid ?? '';
  let jobAddress = recordRead?.record.runAddress === runAddress ? recordRead.record.jobAddress : undefined;
  if (recordRead !== undefined && recordRead.record.runAddress === runAddress) {
    if (store === undefined || owner === undefined) return { done: false, retry: 'the run record cannot be released without the key' };
    const chain = read.world.chain;
    const job = chain === undefined || 'readError' in chain ? undefined : chain.job;
    if (chain === undefined || 'readError' in chain) return { done: false, retry: 'the chain was not read: the record is kept' };
    const released = await store.release(owner, recordRead, {
      outcome: read.world.record?.ending?.outcome,
      job: job?.address.toBase58() === recordRead.record.jobAddress ? job : undefined,
    });
    if (released.outcome !== 'released') return { done: false, retry: released.message };
  }
  const executor = deps.slots.state(uid);
  if (executor.state !== 'idle' && executor.runAddress === runAddress) jobAddress ??= executor.jobAddress;
  jobAddress ??= node.status?.currentRun === runAddress ? node.status.currentJob : undefined;
  if (jobAddress !== undefined) await removeLeftovers(deps, jobNamespaceOf(node), jobAddress, log);
  deps.slots.release(uid, runAddress);
  return { done: true };
}
