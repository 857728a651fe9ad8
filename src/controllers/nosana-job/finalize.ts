// What deleting a NosanaJob does on chain (the finalizer's work): read the job fresh, and the
// market or a finalized read when the job's state calls for them (here), decide (decide-delete.ts),
// act (here): cancel the job, or let the finalizer go.
import { PublicKey } from '@solana/web3.js';
import { JOB_ADDRESS_ANNOTATION, NOSANA_JOB_FINALIZER } from '../../api/annotations.ts';
import { JOB_TYPE_DISABLED } from '../../chain/accounts.ts';
import { killPoint } from '../../runtime/kill-points.ts';
import type { ItemBackoff } from '../../runtime/work-queue.ts';
import type { NetworkPorts } from '../network-ports.ts';
import { decisionSettings, recordEvents, sendEnding, takeDecision } from './act.ts';
import type { JobReconcileContext, StepOutcome } from './context.ts';
import { decide } from './decide.ts';
import type { DeleteWorld } from './decision.ts';
import { jobAddressOrigin } from './record-trust.ts';

async function readDelete(ctx: JobReconcileContext, ports: NetworkPorts, address: string | undefined): Promise<DeleteWorld> {
  if (address === undefined || ctx.object.spec.deletionPolicy === 'Orphan')
    return { stage: 'delete', ...(address === undefined ? {} : { address }) };
  // spec.jobAddress names an adopted job, whatever an annotation says; an annotated address is
  // acted on only when it is this object's own (record-trust.ts): an allow-list, not a deny-list.
  const origin = ctx.object.spec.jobAddress === address ? 'adopted' : await jobAddressOrigin(ctx, address);
  const world: DeleteWorld = { stage: 'delete', address, ...(origin === undefined ? {} : { origin }) };
  if (origin === 'adopted') return world;
  const jobAddress = new PublicKey(address);
  // Fresh, not a snapshot: acting on a job that a node took a moment ago would fail.
  const job = await ports.watcher.job(jobAddress, { maxAgeMs: 0 });
  if (job === undefined || job.status === 'COMPLETED') {
    const settled = await ports.jobs.getJob(jobAddress, { commitment: 'finalized' });
    return { ...world, ...(job === undefined ? {} : { job }), settledAtFinality: settled === undefined || settled.status === 'COMPLETED' };
  }
  if (job.status !== 'QUEUED') return { ...world, job };
  const market = await ports.watcher.market(job.account.market, { maxAgeMs: 0 });
  return {
    ...world,
    job,
    market: {
      disabled: market?.account.jobType === JOB_TYPE_DISABLED,
      queued: market?.account.queue.some((entry) => entry.equals(job.address)) === true,
    },
  };
}

/** One reconcile of a NosanaJob being deleted with no post in flight; `gone` once the finalizer is removed. */
export async function deleteJob(ctx: JobReconcileContext, backoff: ItemBackoff): Promise<StepOutcome & { gone?: boolean }> {
  const address = ctx.object.spec.jobAddress ?? ctx.object.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION];
  // Nothing to cancel needs no network settings (they may be the reason the object is deleted).
  const ports = address === undefined ? undefined : await ctx.ports();
  const world: DeleteWorld = ports === undefined ? { stage: 'delete' } : await readDelete(ctx, ports, address);
  const decision = decide(ctx.status, world, decisionSettings(ctx, ports?.settings.name));
  const next = takeDecision(ctx, decision, backoff);
  recordEvents(ctx, decision);
  if (decision.forget && ports !== undefined && address !== undefined) ports.watcher.forget(new PublicKey(address));
  const { action } = decision;
  switch (action.kind) {
    case 'removeFinalizer':
      await ctx.patchMetadata({ removeFinalizers: [NOSANA_JOB_FINALIZER] });
      return { gone: true };
    case 'delist':
    case 'end':
    case 'recover':
      if (ports === undefined || world.job === undefined) throw new Error('a cancel was decided without the job being read');
      // A wallet that is not the job's project waits for a person (CancelBlocked), at the poll pace.
      if (!(await sendEnding(ctx, ports, world.job, action))) return { requeueAfterMs: ctx.deps.options.pollIntervalMs };
      // confirmed on chain, the finalizer still on: the next look finds the job gone and lets it go
      killPoint('cancel:after-send');
      return next;
    default:
      return next;
  }
}
