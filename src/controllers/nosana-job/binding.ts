// The binding between a NosanaJob and the on-chain jobs it posted, kept where a restore cannot
// lose it: in the job itself. Annotations, status and uid are all gone when a namespace is rebuilt
// from Git or a backup restores objects without status, and a fresh-looking object would post
// every unfinished job again. So every definition the operator pins carries, in its `meta`, a
// keyed hash of (wallet, namespace/name, attempt number). That makes the definition's CID unique
// to this object and attempt, and lets the operator find its own jobs again with one filtered
// getProgramAccounts per attempt (project = the wallet, ipfsJob = the CID).
//
// The hash is keyed with the wallet's secret key, so only the wallet's holder can compute it:
// the object's names stay off public IPFS, and no one else can make a job look like ours. The
// attempt number tells a retry apart from the job it replaces.
import { createHash, createHmac } from 'node:crypto';
import type { Keypair } from '@solana/web3.js';
import { decodePendingPost } from '../../chain/create-once.ts';
import { decodeJobsInstruction } from '../../chain/instructions.ts';
import type { JobView, JobsClient, PendingPost } from '../../chain/jobs-client.ts';
import type { NosanaNetwork } from '../../chain/addresses.ts';
import { bytes32ToCid, cidToBytes32 } from '../../ipfs/cid.ts';
import type { GatewayReader } from '../../ipfs/gateway.ts';
import { encodeJsonForPinning } from '../../ipfs/json.ts';
import { computeCidV0 } from '../../ipfs/unixfs.ts';
import type { NosanaJobStatus } from '../../api/crds/nosana-job.ts';

/** The key of the binding in the pinned definition's `meta`. */
export const BINDING_META_KEY = 'nosanaOperatorBinding';

/** Attempts looked for beyond spec.retries, for objects whose retries were lowered since. */
const EXTRA_ATTEMPTS_SEARCHED = 1;

export interface BindingSubject {
  wallet: Keypair;
  namespace: string;
  name: string;
}

function bindingTag(subject: BindingSubject, attempt: number): string {
  const key = createHash('sha256').update('nosana-operator job binding v1\0').update(subject.wallet.secretKey).digest();
  return createHmac('sha256', key).update(`${subject.namespace}/${subject.name}#${attempt}`).digest('hex').slice(0, 32);
}

/** The definition as pinned for `attempt`: the user's, with the binding added to its meta. */
export function boundDefinition(raw: unknown, subject: BindingSubject, attempt: number): unknown {
  const definition = raw as Record<string, unknown>;
  const meta = typeof definition['meta'] === 'object' && definition['meta'] !== null ? (definition['meta'] as Record<string, unknown>) : {};
  return { ...definition, meta: { ...meta, [BINDING_META_KEY]: bindingTag(subject, attempt) } };
}

async function boundCidBytes(raw: unknown, subject: BindingSubject, attempt: number): Promise<Uint8Array> {
  return cidToBytes32(await computeCidV0(encodeJsonForPinning(boundDefinition(raw, subject, attempt))));
}

/** The attempt number the next post binds: one past the highest this object has used. */
export function nextBindingAttempt(attempts: NosanaJobStatus['attempts']): number {
  return (attempts ?? []).reduce((next, attempt, index) => Math.max(next, (attempt.binding ?? index) + 1), 0);
}

/** How many attempt numbers a restored object may have used. */
export function attemptsToSearch(retries: number | undefined): number {
  return (retries ?? 2) + 1 + EXTRA_ATTEMPTS_SEARCHED;
}

export interface BoundJob {
  attempt: number;
  job: JobView;
}

/**
 * The unfinished jobs on chain this object posted, highest attempt first (usually none or one).
 * A finished job is not followed: its object was deleted (its finalizer ran, or the job ended) and
 * a new object of the same name is a new run; only a job still queued, running or stopped can
 * belong to an object that vanished without its finalizer.
 */
export async function findBoundJobs(jobs: JobsClient, raw: unknown, subject: BindingSubject, attempts: number): Promise<BoundJob[]> {
  // One narrow search per attempt (the wallet and the CID: an answer of at most a job or two)
  // rather than one of the wallet's unfinished jobs matched here: a wallet posting hundreds holds
  // hundreds of queued jobs, and reading them all for every post costs more than the requests saved.
  const found: BoundJob[] = [];
  for (let attempt = attempts - 1; attempt >= 0; attempt -= 1) {
    const views = await jobs.findJobsByDefinition(subject.wallet.publicKey, await boundCidBytes(raw, subject, attempt));
    for (const job of views) if (job.status !== 'COMPLETED') found.push({ attempt, job });
  }
  return found;
}

/** The attempt whose binding tag this is, if this object's wallet and names produced it. */
function attemptWithTag(tag: unknown, subject: BindingSubject, attempts: number): number | undefined {
  if (typeof tag !== 'string') return undefined;
  for (let attempt = 0; attempt < attempts; attempt += 1) if (bindingTag(subject, attempt) === tag) return attempt;
  return undefined;
}

/**
 * The binding carried by the definition pinned at `ipfsJob`. Read from IPFS rather than
 * recomputed from the object's current definition, so a definition edited in its ConfigMap since
 * the post does not disown the job. Gateway failures are thrown: the caller cannot tell yet.
 */
async function pinnedTag(gateway: GatewayReader, ipfsJob: Uint8Array, signal?: AbortSignal): Promise<unknown> {
  const { value } = await gateway.readJson<{ meta?: Record<string, unknown> }>(
    bytes32ToCid(ipfsJob),
    signal === undefined ? {} : { signal },
  );
  return typeof value === 'object' && value !== null ? value.meta?.[BINDING_META_KEY] : undefined;
}

/** The attempt `job` was posted for by this object, or undefined when it was not (its project is not our wallet, or its binding is not ours). */
export async function provesJob(
  job: JobView,
  gateway: GatewayReader,
  subject: BindingSubject,
  attempts: number,
  signal?: AbortSignal,
): Promise<number | undefined> {
  if (!job.account.project.equals(subject.wallet.publicKey)) return undefined;
  return attemptWithTag(await pinnedTag(gateway, job.account.ipfsJob, signal), subject, attempts);
}

/** The attempt a recorded post was prepared for by this object (a record that came with a restore), or undefined. */
export async function provesRecord(
  network: NosanaNetwork,
  pending: PendingPost,
  gateway: GatewayReader,
  subject: BindingSubject,
  attempts: number,
  signal?: AbortSignal,
): Promise<number | undefined> {
  const transaction = decodePendingPost(network, pending);
  const keys = transaction.message.staticAccountKeys;
  // Signed by this object's wallet (decodePendingPost verified every signature).
  const walletIndex = keys.findIndex((key) => key.equals(subject.wallet.publicKey));
  if (walletIndex < 0 || !transaction.message.isAccountSigner(walletIndex)) return undefined;
  for (const instruction of transaction.message.compiledInstructions) {
    if (keys[instruction.programIdIndex]?.equals(network.jobsProgram) !== true) continue;
    const decoded = decodeJobsInstruction(instruction.data);
    const ipfsJob = decoded?.args['ipfsJob'];
    if ((decoded?.name === 'list' || decoded?.name === 'assign') && ipfsJob instanceof Uint8Array) {
      return attemptWithTag(await pinnedTag(gateway, ipfsJob, signal), subject, attempts);
    }
  }
  return undefined;
}
