// What the demo says when something it watches changes: one line per NosanaJob phase, per
// NosanaNode phase or Ready reason, and per job Pod placed or ended. Each line states what the
// object's own status says (the post's transaction signature, the queue position, the node that took
// the job, the Kubernetes node a Pod landed on); nothing is inferred that the status does not show.
// Pure: a change in, a line or nothing out.
import type { V1Pod } from '@kubernetes/client-node';
import type { Condition } from '../api/crds/common.ts';
import type { NosanaJobObject } from '../api/crds/nosana-job.ts';
import type { NosanaNodeObject } from '../api/crds/nosana-node.ts';
import { healthRow, kstatusOf } from '../api/health.ts';
import { findCondition } from '../runtime/conditions.ts';

/** A NosanaJob's phase as a user reads it: one the controller has not written yet is Pending. */
export function jobPhase(job: NosanaJobObject | undefined): string {
  return job?.status?.phase ?? 'Pending';
}

type WithConditions = { status?: { conditions?: readonly Condition[] } } | undefined;

function readyReason(object: WithConditions): string | undefined {
  return findCondition(object?.status?.conditions, 'Ready')?.reason;
}

function readyMessage(object: WithConditions): string | undefined {
  return findCondition(object?.status?.conditions, 'Ready')?.message;
}

function qualified(object: { metadata?: { namespace?: string; name?: string } }): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

/** The job will not move on by itself: it ended, or it is stalled until a person acts. */
export function jobSettled(job: NosanaJobObject): boolean {
  const status = job.status;
  if (status?.phase === undefined) return false;
  return healthRow('NosanaJob', status.phase, readyReason(job) ?? '')?.terminal === true || kstatusOf(job) === 'Failed';
}

function jobDetail(job: NosanaJobObject): string {
  const status = job.status ?? {};
  switch (status.phase) {
    case undefined:
      return 'applied; the controller reads its definition, market and wallet before it posts';
    case 'Posting': {
      const pinned = status.ipfsJob === undefined ? '' : `definition pinned to IPFS as ${status.ipfsJob}; `;
      const post = status.pendingPost;
      return post === undefined
        ? `${pinned}${readyMessage(job) ?? 'posting'}`
        : `${pinned}transaction ${post.signature} sent, creating job ${post.jobAddress}`;
    }
    case 'Queued':
      return `job ${status.jobAddress ?? '?'} is on chain, waiting in market ${job.spec.market}'s queue at position ${status.queuePosition ?? '?'} for a node`;
    case 'Running':
      return `node ${status.node ?? '?'} took job ${status.jobAddress ?? '?'}${status.runAddress === undefined ? '' : ` (run ${status.runAddress})`}`;
    case 'Succeeded':
      return `every op succeeded; result ${status.ipfsResult ?? '?'}`;
    default:
      return `${readyReason(job) ?? ''}: ${readyMessage(job) ?? ''}`;
  }
}

/** The line for a NosanaJob whose phase changed (or that just appeared), else undefined. */
export function jobLine(job: NosanaJobObject, previous: NosanaJobObject | undefined): string | undefined {
  if (previous !== undefined && jobPhase(previous) === jobPhase(job)) return undefined;
  return `NosanaJob ${qualified(job)}: ${jobPhase(job)} — ${jobDetail(job)}`;
}

/** The line for a NosanaNode whose phase or Ready reason changed, else undefined. */
export function nodeLine(node: NosanaNodeObject, previous: NosanaNodeObject | undefined): string | undefined {
  const phase = node.status?.phase;
  if (phase === undefined) return undefined;
  const reason = readyReason(node);
  if (previous !== undefined && previous.status?.phase === phase && readyReason(previous) === reason) return undefined;
  const message = readyMessage(node);
  return `NosanaNode ${qualified(node)}: ${phase}${reason === undefined || reason === phase ? '' : ` (${reason})`}${message === undefined ? '' : ` — ${message}`}`;
}

/** The extended resources a Pod's first container asks for (GPUs), as "1 nvidia.com/gpu". */
function extendedResources(pod: V1Pod): string {
  const limits = pod.spec?.containers[0]?.resources?.limits ?? {};
  const requested = Object.entries(limits).filter(([name]) => name.includes('/'));
  const claims = pod.spec?.resourceClaims?.map((claim) => `ResourceClaim ${claim.name}`) ?? [];
  return [...requested.map(([name, quantity]) => `${quantity} ${name}`), ...claims].join(', ');
}

function exitCode(pod: V1Pod | undefined): number | undefined {
  return pod?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode;
}

/** The line for a job Pod just placed on a Kubernetes node, or whose container just exited, else undefined. */
export function podLine(pod: V1Pod, previous: V1Pod | undefined): string | undefined {
  const nodeName = pod.spec?.nodeName;
  if (nodeName !== undefined && previous?.spec?.nodeName === undefined) {
    const resources = extendedResources(pod);
    return `Pod ${qualified(pod)}: placed on Kubernetes node ${nodeName} by the scheduler${resources === '' ? '' : `, with ${resources}`}`;
  }
  const code = exitCode(pod);
  if (code !== undefined && exitCode(previous) === undefined) return `Pod ${qualified(pod)}: its container exited with code ${code}`;
  return undefined;
}
