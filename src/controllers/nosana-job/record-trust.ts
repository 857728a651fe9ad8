// Whether a job address or a post record found in a NosanaJob's annotations is this object's own.
// The admission policy lets only the operator change nosana.io/* annotations on update, but a
// create carries whatever its author wrote, so that restores from Git or a backup keep their
// records. A record the status does not corroborate (the operator writes both) therefore came
// with the object, and is trusted only when the on-chain binding (binding.ts) proves this object
// posted it. Anything else is followed but never acted on: a team that copies another team's job
// address into its own NosanaJob can watch it, not delist or end it.
import { PublicKey } from '@solana/web3.js';
import type { PendingPost } from '../../chain/jobs-client.ts';
import type { NetworkPorts } from '../network-ports.ts';
import { attemptsToSearch, provesJob, provesRecord } from './binding.ts';
import type { BindingSubject } from './binding.ts';
import type { JobReconcileContext } from './context.ts';
import { updateAttempt } from './job-status.ts';
import { isRefusal } from './refusal.ts';
import { resolveDefinition } from './resolve.ts';

export type JobOrigin = 'posted' | 'adopted';

/** The definition and wallet a binding is computed from; undefined when either is unavailable. */
async function bindingInputs(ctx: JobReconcileContext): Promise<{ raw: unknown; subject: BindingSubject } | undefined> {
  const resolved = await resolveDefinition(ctx.object, ctx.deps.reader);
  if (isRefusal(resolved)) return undefined;
  const wallet = await ctx.wallet().catch(() => undefined);
  if (wallet === undefined) return undefined;
  return { raw: resolved.raw, subject: { wallet, namespace: ctx.object.metadata?.namespace ?? '', name: ctx.object.metadata?.name ?? '' } };
}

/** What the status already says about `address`: the operator wrote it, so it is believed. */
function recordedOrigin(ctx: JobReconcileContext, address: string): JobOrigin | undefined {
  const attempt = ctx.status.attempts?.find((entry) => entry.jobAddress === address);
  if (attempt !== undefined) return attempt.origin ?? 'posted';
  if (ctx.status.jobAddress === address || ctx.status.pendingPost?.jobAddress === address) return 'posted';
  return undefined;
}

/**
 * Whether the job named by the job-address annotation is this object's to act on. Decided once
 * and kept in the attempt's `origin`, so the binding is checked only for a record that arrived
 * with the object.
 */
export async function jobAddressOrigin(ctx: JobReconcileContext, address: string): Promise<JobOrigin> {
  const recorded = recordedOrigin(ctx, address);
  if (recorded !== undefined) return recorded;
  const ports = await ctx.ports();
  const job = await ports.jobs.getJob(new PublicKey(address));
  const inputs = job === undefined ? undefined : await bindingInputs(ctx);
  const attempt = job === undefined || inputs === undefined ? undefined : await provesJob(job, inputs.raw, inputs.subject, attemptsToSearch(ctx.object.spec.retries));
  if (attempt !== undefined) {
    updateAttempt(ctx, new PublicKey(address), { origin: 'posted', binding: attempt });
    return 'posted';
  }
  updateAttempt(ctx, new PublicKey(address), { origin: 'adopted' });
  ctx.event('Warning', 'RecordUnproven', `the annotation names job ${address}, which this NosanaJob cannot prove it posted: it is mirrored, never acted on or cancelled`);
  return 'adopted';
}

/** Whether a post record the status does not know was prepared by this object (binding.ts). */
export async function recordIsOwn(ctx: JobReconcileContext, ports: NetworkPorts, pending: PendingPost): Promise<boolean> {
  if (recordedOrigin(ctx, pending.jobAddress) !== undefined) return true;
  const inputs = await bindingInputs(ctx);
  if (inputs === undefined) return false;
  return await provesRecord(ports.network, pending, inputs.raw, inputs.subject, attemptsToSearch(ctx.object.spec.retries)) !== undefined;
}
