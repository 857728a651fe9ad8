// A NosanaDeployment's replicas are NosanaJobs it owns. This module knows how one is named,
// labelled and rendered from the template, and how a replica NosanaJob reads to the decision:
// its revision, number, round, whether it runs, is ready to be probed, has ended, and when its
// paid time runs out.
//
// Names are `<deployment>-<revision>-<number>`: the revision is a hash of the template (a new
// template never collides with an old replica) and the number grows by one for every replica the
// deployment ever creates and is never reused, because a NosanaJob recognises the jobs it posted
// by its namespace and name (binding.ts): a replacement named like the replica it replaces would
// take the old job for its own.
import { createHash } from 'node:crypto';
import type { V1OwnerReference } from '@kubernetes/client-node';
import { OPERATOR_ANNOTATION_PREFIX } from '../../api/annotations.ts';
import { API_VERSION } from '../../api/crds/common.ts';
import type { NosanaDeploymentObject, NosanaDeploymentSpec } from '../../api/crds/nosana-deployment.ts';
import type { NosanaJobObject, NosanaJobPhase, NosanaJobSpec } from '../../api/crds/nosana-job.ts';
import { healthRow } from '../../api/health.ts';
import { formatNos } from '../../chain/money.ts';
import { findCondition } from '../../runtime/conditions.ts';
import { canonicalJson } from '../../runtime/kube-writer.ts';
import { durationSeconds } from '../nosana-job/spec-values.ts';
import { isControlledBy } from '../../runtime/owners.ts';

/** The deployment a replica belongs to (also the scale subresource's selector). */
export const DEPLOYMENT_LABEL = 'nosana.io/deployment';
/** The template hash of the replica's revision. */
export const REVISION_LABEL = 'nosana.io/template-hash';
/** The replica's number, never reused within its deployment. */
export const REPLICA_NUMBER_LABEL = 'nosana.io/replica';
/** Scheduled: the round (its time, in Unix seconds) the replica was posted for. */
export const ROUND_LABEL = 'nosana.io/round';

export function selectorOf(deployment: string): string {
  return `${DEPLOYMENT_LABEL}=${deployment}`;
}

/** The revision of a template: a short hash of its canonical JSON, like a Deployment's pod-template-hash. */
export function templateRevision(template: NosanaDeploymentSpec['template']): string {
  return createHash('sha256').update(canonicalJson(template)).digest('hex').slice(0, 10);
}

export function replicaName(deployment: string, revision: string, number: number): string {
  return `${deployment}-${revision}-${number}`;
}

/** The highest number among NosanaJobs named `<deployment>-<revision>-<number>`, whoever owns them. */
export function highestReplicaNumber(jobs: readonly NosanaJobObject[], deployment: string): number | undefined {
  let highest: number | undefined;
  const prefix = `${deployment}-`;
  for (const job of jobs) {
    const name = job.metadata?.name ?? '';
    if (!name.startsWith(prefix)) continue;
    const match = /^[0-9a-f]{10}-([0-9]{1,9})$/.exec(name.slice(prefix.length));
    if (match === null) continue;
    const number = Number(match[1]);
    if (highest === undefined || number > highest) highest = number;
  }
  return highest;
}

/** What a replica is created with beyond the template: its number, its round, and the money the deployment settled for it. */
export interface ReplicaPlan {
  name: string;
  number: number;
  revision: string;
  round?: number;
  /** The job's timeout in seconds (always explicit, so the deployment knows when each replica's paid time ends). */
  timeoutSeconds: bigint;
  /** spec.maxCost of the replica in base units: what the budget reserved for it. */
  maxCostBaseUnits?: bigint;
}

function ownerReference(deployment: NosanaDeploymentObject): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: 'NosanaDeployment',
    name: deployment.metadata?.name ?? '',
    uid: deployment.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The replica NosanaJob for `plan`, owned by the deployment. */
export function renderReplica(deployment: NosanaDeploymentObject, plan: ReplicaPlan): NosanaJobObject {
  const name = deployment.metadata?.name ?? '';
  const { metadata, spec } = deployment.spec.template;
  // The operator's own annotations mean "this job was posted already": a template may not carry them.
  const annotations = Object.fromEntries(
    Object.entries(metadata?.annotations ?? {}).filter(([key]) => !key.startsWith(OPERATOR_ANNOTATION_PREFIX)),
  );
  // Nor the deployment's own labels: a template's nosana.io/round would fake a replica's round.
  const labels = Object.fromEntries(Object.entries(metadata?.labels ?? {}).filter(([key]) => !key.startsWith(OPERATOR_ANNOTATION_PREFIX)));
  // A replica is always posted, never adopted: a jobAddress slipped past the API server's pruning stays out.
  const { jobAddress: _adopted, ...postable } = spec as NosanaJobSpec;
  const jobSpec: NosanaJobSpec = {
    ...postable,
    timeout: Number(plan.timeoutSeconds),
    deletionPolicy: 'Cancel',
    retries: 0,
    ...(plan.maxCostBaseUnits === undefined ? {} : { maxCost: formatNos(plan.maxCostBaseUnits) }),
  };
  return {
    apiVersion: API_VERSION,
    kind: 'NosanaJob',
    metadata: {
      name: plan.name,
      namespace: deployment.metadata?.namespace ?? '',
      labels: {
        ...labels,
        [DEPLOYMENT_LABEL]: name,
        [REVISION_LABEL]: plan.revision,
        [REPLICA_NUMBER_LABEL]: String(plan.number),
        ...(plan.round === undefined ? {} : { [ROUND_LABEL]: String(plan.round) }),
      },
      ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
      ownerReferences: [ownerReference(deployment)],
    },
    spec: jobSpec,
  };
}

/** A replica NosanaJob as the decision sees it. */
export interface ReplicaView {
  name: string;
  uid: string;
  number: number;
  revision: string;
  round?: number;
  createdAt: Date;
  /** Being deleted (its finalizer is cancelling the job). */
  deleting: boolean;
  phase?: NosanaJobPhase;
  reason?: string;
  message?: string;
  /** Nothing more will happen to it (a terminal phase-table row). */
  ended: boolean;
  succeeded: boolean;
  /** It waits for a change of its spec (Stalled) and is not over: it will not post as it is. */
  stalled: boolean;
  /** A node runs it. */
  running: boolean;
  startedAt?: Date;
  /** When its paid time runs out: start + timeout. */
  endsAt?: Date;
  endedAt?: Date;
  timeoutSeconds?: bigint;
  costBaseUnits?: bigint;
  /** The price per second the job was posted at (what an extension of it is charged). */
  priceBaseUnits?: bigint;
  serviceUrls: { op: string; port: number; url: string }[];
}

function date(text: string | Date | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const value = new Date(text);
  return Number.isNaN(value.getTime()) ? undefined : value;
}

/** Whether the NosanaJob is a replica of `deployment`: its controller owner reference says so, and it posts its own job. */
export function isReplicaOf(job: NosanaJobObject, deployment: NosanaDeploymentObject): boolean {
  // A replica is always posted: a NosanaJob adopting a job (spec.jobAddress) that claims the
  // deployment as its owner is not one, so it is never counted, probed or replaced.
  if (job.spec?.jobAddress !== undefined) return false;
  return isControlledBy(job, deployment.metadata?.uid, 'NosanaDeployment');
}

export function viewReplica(job: NosanaJobObject): ReplicaView {
  const labels = job.metadata?.labels ?? {};
  const status = job.status ?? {};
  const ready = findCondition(status.conditions, 'Ready');
  const stalledCondition = findCondition(status.conditions, 'Stalled');
  const row = ready === undefined ? undefined : healthRow('NosanaJob', status.phase, ready.reason);
  const ended = row?.terminal === true;
  const startedAt = date(status.timeStart);
  let timeoutSeconds: bigint | undefined;
  try {
    timeoutSeconds = job.spec.timeout === undefined ? undefined : durationSeconds(job.spec.timeout, 'spec.timeout');
  } catch {
    timeoutSeconds = undefined;
  }
  const round = labels[ROUND_LABEL] === undefined ? undefined : Number(labels[ROUND_LABEL]);
  return {
    name: job.metadata?.name ?? '',
    uid: job.metadata?.uid ?? '',
    number: Number(labels[REPLICA_NUMBER_LABEL] ?? '0') || 0,
    revision: labels[REVISION_LABEL] ?? '',
    ...(round === undefined || !Number.isFinite(round) ? {} : { round }),
    createdAt: date(job.metadata?.creationTimestamp) ?? new Date(0),
    deleting: job.metadata?.deletionTimestamp !== undefined,
    ...(status.phase === undefined ? {} : { phase: status.phase }),
    ...(ready === undefined ? {} : { reason: ready.reason, message: ready.message }),
    ended,
    succeeded: status.phase === 'Succeeded',
    stalled: !ended && stalledCondition?.status === 'True',
    running: !ended && status.phase === 'Running',
    ...(startedAt === undefined ? {} : { startedAt }),
    ...(startedAt === undefined || timeoutSeconds === undefined
      ? {}
      : { endsAt: new Date(startedAt.getTime() + Number(timeoutSeconds) * 1000) }),
    ...(date(status.timeEnd) === undefined ? {} : { endedAt: date(status.timeEnd)! }),
    ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
    ...(status.costBaseUnits === undefined ? {} : { costBaseUnits: BigInt(status.costBaseUnits) }),
    ...(status.priceBaseUnits === undefined ? {} : { priceBaseUnits: BigInt(status.priceBaseUnits) }),
    serviceUrls: status.serviceUrls ?? [],
  };
}
