// What one decision about a followed job needs to know, read and nothing else: the job account
// (from the watcher's batched poll), and, depending on its state, its place in the market queue,
// the services its pinned definition exposes, the result document, or whether a finalized read
// agrees that it is gone. Reads here never spend money and never change the status.
import { PublicKey } from '@solana/web3.js';
import type { NosanaJobStatus } from '../../api/crds/nosana-job.ts';
import type { JobView } from '../../chain/jobs-client.ts';
import { bytes32ToCid, isNoResult } from '../../ipfs/cid.ts';
import type { NetworkPorts } from '../network-ports.ts';
import type { JobReconcileContext } from './context.ts';
import type { FollowWorld } from './decision.ts';
import { ResultDocumentError, readResultDocument } from './result.ts';
import { exposedServices } from './service-urls.ts';

export async function readJobWorld(
  ctx: JobReconcileContext,
  ports: NetworkPorts,
  address: string,
  origin: FollowWorld['origin'],
): Promise<FollowWorld> {
  const jobAddress = new PublicKey(address);
  const job = await ports.watcher.job(jobAddress);
  if (job === undefined) {
    // The confirmed read may come from a node behind the one that saw the job: ask for finality too.
    const settled = await ports.jobs.getJob(jobAddress, { commitment: 'finalized' });
    return { stage: 'follow', address, origin, goneAtFinality: settled === undefined };
  }
  const world: FollowWorld = { stage: 'follow', address, origin, job };
  switch (job.status) {
    case 'QUEUED': {
      const market = await ports.watcher.market(job.account.market);
      const position = market?.account.queue.findIndex((entry) => entry.equals(job.address)) ?? -1;
      return position >= 0 ? { ...world, queuePosition: position } : world;
    }
    case 'RUNNING':
      return needsServices(ctx.status, job) ? { ...world, services: await readServices(ctx, ports, job) } : world;
    case 'COMPLETED':
      return isNoResult(job.account.ipfsResult) ? world : { ...world, result: await readResult(ctx, ports, job) };
    case 'STOPPED':
      return world;
  }
}

/** Service URLs are deterministic per run: worked out when a run starts, or until they are known. */
function needsServices(status: NosanaJobStatus, job: JobView): boolean {
  return status.runAddress !== job.run?.address.toBase58() || status.serviceUrls === undefined;
}

/**
 * The services the pinned definition exposes (the definition the node runs, also for adopted
 * jobs). A read that fails says so in the message; the next reconcile tries again.
 */
async function readServices(ctx: JobReconcileContext, ports: NetworkPorts, job: JobView): Promise<NonNullable<FollowWorld['services']>> {
  const base = `node ${job.run?.account.node.toBase58() ?? '?'} runs job ${job.address.toBase58()}`;
  let definition: unknown;
  try {
    definition = (await ports.gateway.readJson(bytes32ToCid(job.account.ipfsJob), { signal: ctx.signal })).value;
  } catch (error) {
    ctx.log.warn({ err: error }, 'reading the job definition for its service URLs failed');
    return { reason: 'Running', message: `${base} (its service URLs are not known yet: ${(error as Error).message})` };
  }
  const services = exposedServices(definition, job.address.toBase58(), ports.settings.serviceDomain);
  if (!services.exposes) return { reason: 'Running', message: base, urls: services.urls };
  const urls = services.urls.map((service) => service.url).join(', ');
  const notes = services.unknown.length === 0 ? '' : `; ${services.unknown.join('; ')}`;
  return { reason: 'ServiceRunning', message: `${base}, serving ${urls === '' ? 'ports' : urls}${notes}`, urls: services.urls };
}

async function readResult(ctx: JobReconcileContext, ports: NetworkPorts, job: JobView): Promise<NonNullable<FollowWorld['result']>> {
  const cid = bytes32ToCid(job.account.ipfsResult);
  try {
    return { document: await readResultDocument(ports.gateway, cid, ctx.signal) };
  } catch (error) {
    if (!(error instanceof ResultDocumentError)) ctx.log.warn({ err: error, cid }, 'reading the result document failed');
    return { error: (error as Error).message, permanent: error instanceof ResultDocumentError };
  }
}
