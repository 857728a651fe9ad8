// Exactly-once node transactions. A node's `finish` is what pays it, and a node agent can be
// killed at any instant: between signing and sending, between sending and seeing the answer. So
// a node transaction follows the create-once protocol of posting (create-once.ts):
//   1. prepare: read the accounts, sign, and return a plain record; the caller persists it
//      BEFORE anything is sent;
//   2. broadcast the record's bytes, again and again if needed (the cluster de-duplicates them);
//   3. resolve, on every later look: landed / pending / failed / expired / unknown.
//
// "Landed" is a seen signature or, for finish, complete and quit, the effect on chain: the job
// completed by this node with this result, or stopped with this run closed (a record whose own
// signature was never seen, but whose bytes, or an earlier record's, did the work). "Expired"
// needs positive evidence that the bytes did not land and never will: the finalized block height
// is past lastValidBlockHeight, the cluster no longer accepts the blockhash, and either the state
// shows the transaction's work undone (the run it would close still open) or the history,
// reaching back to when it was prepared, holds no trace of its signature. As in create-once.ts
// every read behind that judgement is answered at the slot the finalized height was read at, or
// later; an answer from a backend behind it is "pending".
//
// The program itself refuses a second finish of a run (finish closes the run account), so no run
// is paid twice whatever happens; this protocol keeps the node from signing a transaction that can
// only fail, from giving up on one that landed, and from ever re-signing a finish whose run is gone.
import { PublicKey } from '@solana/web3.js';
import type { AccountInfo, Connection, VersionedTransaction } from '@solana/web3.js';
import bs58 from 'bs58';
import { bytes32ToCid, isNoResult } from '../ipfs/cid.ts';
import { JOB_STATE, OFFSETS, accountKindOf, decodeAccount } from './accounts.ts';
import type { JobAccount, RunAccount } from './accounts.ts';
import { TOKEN_PROGRAM_ID } from './addresses.ts';
import type { NosanaNetwork } from './addresses.ts';
import { genesisHashOf } from './create-once.ts';
import { ACCOUNT_DISCRIMINATORS } from './idl.ts';
import type { JobView, NodeTransactionRequest, NodeTransactionResolution } from './jobs-client.ts';
import { decodeNodeTransaction } from './node-transaction-record.ts';
import type { NodeTransactionRecord } from './node-transaction-record.ts';
import { failedOutcome, isMinContextSlotNotReached, lookupSignature, resolveSigned, settledOutcome } from './signature-status.ts';

// ---- preparing ------------------------------------------------------------------------------

/**
 * Why `node` must not sign `request` now, judged from the request's job as just read (undefined
 * when the account does not exist); undefined when signing is allowed. A finish or quit needs the
 * node's own open run: once the run is closed nothing is left to finish, and a finish is never
 * signed again. A complete needs a job the poster ended on this node that has no result yet.
 */
export function refusalToSign(request: NodeTransactionRequest, node: PublicKey, job: JobView | undefined): string | undefined {
  if (request.kind === 'work' || request.kind === 'leave-queue') return undefined;
  const address = request.job.toBase58();
  if (job === undefined) return `job ${address} does not exist (never posted, or closed), so there is nothing to ${request.kind}`;
  if (request.kind === 'complete') {
    if (job.account.state !== JOB_STATE.done || !job.account.node.equals(node)) {
      return `job ${address} was not ended on node ${node.toBase58()} (it is ${job.status}); only a job its poster ended may be completed`;
    }
    if (!isNoResult(job.account.ipfsResult)) return `job ${address} already has a result`;
    return undefined;
  }
  if (job.run === undefined || !job.run.account.node.equals(node)) {
    return `job ${address} has no open run for node ${node.toBase58()} (it is ${job.status}), so there is nothing to ${request.kind}`;
  }
  return undefined;
}

/** SPL token account layout: the mint is the first 32 bytes of a 165-byte account. */
const TOKEN_ACCOUNT_SIZE = 165;

/** Why `data` (owned by `owner`) cannot receive NOS, or undefined when it is a NOS token account. */
export function payoutProblem(network: NosanaNetwork, owner: PublicKey, data: Uint8Array): string | undefined {
  if (!owner.equals(TOKEN_PROGRAM_ID) || data.length !== TOKEN_ACCOUNT_SIZE) return 'it is not a token account';
  if (!new PublicKey(data.subarray(0, 32)).equals(network.nosMint)) return 'it does not hold NOS';
  return undefined;
}

// ---- resolving ------------------------------------------------------------------------------

/** The most history entries asked for at once; a page that is full and does not reach back far enough proves nothing. */
export const HISTORY_PAGE = 1_000;

/** Refuses a record signed for another cluster: heights and histories of two chains do not compare. */
export async function requireRecordCluster(connection: Connection, record: NodeTransactionRecord): Promise<void> {
  const genesisHash = await genesisHashOf(connection);
  if (genesisHash !== record.genesisHash) {
    throw new Error(
      `the ${record.kind} record ${record.signature} was signed for the cluster with genesis ${record.genesisHash}, but the RPC serves ${genesisHash}; refusing to resolve or re-send it there`,
    );
  }
}

/** The jobs-program accounts a record's judgement reads, each undefined when absent (or not the program's). */
interface RecordState {
  job: JobAccount | undefined;
  run: RunAccount | undefined;
  /** For a quit whose job is stopped and run closed: whether the node holds another run of that job. */
  otherRunOfNode?: boolean;
}

function sameResult(job: JobAccount, resultCid: string): boolean {
  return !isNoResult(job.ipfsResult) && bytes32ToCid(job.ipfsResult) === resultCid;
}

/**
 * What the transaction does is on chain: only finish, complete, work and quit leave a mark that is
 * theirs.
 */
function effectOnChain(record: NodeTransactionRecord, state: RecordState): boolean {
  switch (record.kind) {
    case 'finish':
    case 'complete': {
      const { job } = state;
      const completedHere = job !== undefined && job.state === JOB_STATE.done && job.node.toBase58() === record.node;
      const runClosed = record.kind === 'complete' || state.run === undefined;
      return completedHere && runClosed && sameResult(job, record.resultCid);
    }
    case 'work':
      // Only this work can create a run at its fresh address.
      return state.run !== undefined && state.run.node.toBase58() === record.node;
    case 'quit':
      return quitShownByState(state);
    case 'leave-queue':
      return false;
  }
}

/**
 * A quit's mark: the job STOPPED, the record's run closed, and no other run of the job held by
 * the node. This node takes jobs with `work`, which only hands out a queued job (state 0); while
 * its run is open the job leaves that state only through finish or the poster's end (both DONE),
 * or a quit of that run (STOPPED); an admin's quit_admin closes the run but leaves the job queued,
 * and a job stopped by anyone else could not have been handed to this run. Delist and recover
 * close the job, so no other step leaves it STOPPED with this run gone. A second run of the node
 * (a claim of the stopped job) would make the judgement about which run was quit ambiguous, so
 * it is not counted then.
 */
function quitShownByState(state: RecordState): boolean {
  return state.job !== undefined && state.job.state === JOB_STATE.stopped && state.run === undefined && state.otherRunOfNode === false;
}

/**
 * After expiry, the state alone shows the transaction did not land: a finish or quit would have
 * closed the run that is still open; a complete would have written the result the job lacks.
 */
function stateShowsNotLanded(record: NodeTransactionRecord, state: RecordState): boolean {
  switch (record.kind) {
    case 'finish':
    case 'quit':
      return state.run !== undefined && state.run.job.toBase58() === record.job && state.run.node.toBase58() === record.node;
    case 'complete':
      return state.job !== undefined && !sameResult(state.job, record.resultCid);
    case 'work':
    case 'leave-queue':
      return false;
  }
}

/** The address whose history must list the transaction if it landed, and that few others touch. */
function witnessAddress(record: NodeTransactionRecord): PublicKey {
  switch (record.kind) {
    case 'finish':
    case 'quit':
    case 'work':
      return new PublicKey(record.run);
    case 'complete':
      return new PublicKey(record.job);
    case 'leave-queue':
      return new PublicKey(record.node);
  }
}

async function readState(
  connection: Connection,
  network: NosanaNetwork,
  record: NodeTransactionRecord,
  minContextSlot: number,
): Promise<RecordState> {
  const job = 'job' in record ? new PublicKey(record.job) : undefined;
  const run = 'run' in record ? new PublicKey(record.run) : undefined;
  const addresses = [job, run].filter((address) => address !== undefined);
  if (addresses.length === 0) return { job: undefined, run: undefined };
  const { value: infos } = await connection.getMultipleAccountsInfoAndContext(addresses, { commitment: 'confirmed', minContextSlot });
  const infoOf = (address: PublicKey | undefined) => (address === undefined ? null : (infos[addresses.indexOf(address)] ?? null));
  const state: RecordState = {
    job: programAccount(network, infoOf(job), 'JobAccount'),
    run: programAccount(network, infoOf(run), 'RunAccount'),
  };
  // Only a quit whose job looks quit needs the wider read (a scan of the program's run accounts).
  if (record.kind === 'quit' && state.job?.state === JOB_STATE.stopped && state.run === undefined) {
    state.otherRunOfNode = await nodeHoldsRunOf(connection, network, record.job, record.node, minContextSlot);
  }
  return state;
}

/** Whether `node` holds a run of `job` (both base58), read at `minContextSlot` or later. */
async function nodeHoldsRunOf(
  connection: Connection,
  network: NosanaNetwork,
  job: string,
  node: string,
  minContextSlot: number,
): Promise<boolean> {
  const runs = await connection.getProgramAccounts(network.jobsProgram, {
    commitment: 'confirmed',
    minContextSlot,
    filters: [
      { memcmp: { offset: 0, bytes: bs58.encode(ACCOUNT_DISCRIMINATORS.RunAccount) } },
      { memcmp: { offset: OFFSETS.run.job, bytes: job } },
      { memcmp: { offset: OFFSETS.run.node, bytes: node } },
    ],
  });
  return runs.length > 0;
}

/** The account decoded as `kind`, when it is one of the program's: anyone may send lamports to an address. */
function programAccount<K extends 'JobAccount' | 'RunAccount'>(
  network: NosanaNetwork,
  info: AccountInfo<Buffer> | null,
  kind: K,
): (K extends 'JobAccount' ? JobAccount : RunAccount) | undefined {
  if (info === null || !info.owner.equals(network.jobsProgram) || accountKindOf(info.data) !== kind) return undefined;
  return decodeAccount(kind, info.data) as K extends 'JobAccount' ? JobAccount : RunAccount;
}

export async function resolveNodeTransaction(
  connection: Connection,
  network: NosanaNetwork,
  record: NodeTransactionRecord,
): Promise<NodeTransactionResolution> {
  const transaction = decodeNodeTransaction(network, record);
  await requireRecordCluster(connection, record);
  const resolved = await resolveSigned(connection, record.signature, (seen) =>
    judgeFromSlot(connection, network, record, transaction, seen),
  );
  // A landed status is evidence by signature; the judge's own "landed" says which evidence it had.
  return resolved.outcome === 'landed' && !('evidence' in resolved) ? { ...resolved, evidence: 'signature' } : resolved;
}

/** Every read here is answered at `observedSlot` or later, or the judgement is "pending". */
async function judgeFromSlot(
  connection: Connection,
  network: NosanaNetwork,
  record: NodeTransactionRecord,
  transaction: VersionedTransaction,
  seen: { height: number; observedSlot: number; historyAvailable: boolean },
): Promise<NodeTransactionResolution> {
  const minContextSlot = seen.observedSlot;
  const state = await readState(connection, network, record, minContextSlot);
  if (effectOnChain(record, state)) return { outcome: 'landed', evidence: 'effect' };

  if (seen.height <= record.lastValidBlockHeight) return { outcome: 'pending' };
  // The recorded height is advisory; the blockhash is covered by the signature, so ask about it too.
  const blockhash = transaction.message.recentBlockhash;
  if (await connection.isBlockhashValid(blockhash, { commitment: 'processed', minContextSlot }).then((answer) => answer.value)) {
    return { outcome: 'pending' };
  }
  // It can no longer land. Had it landed, it would be in a block at or below the finalized one
  // observed, so state read at that slot or later shows whether it did.
  if (stateShowsNotLanded(record, state)) return { outcome: 'expired' };

  if (!seen.historyAvailable) {
    return { outcome: 'unknown', reason: `the RPC keeps no transaction history, so it cannot say whether the ${record.kind} landed` };
  }
  const witness = witnessAddress(record);
  let touching: { signature: string; err: unknown; slot: number }[];
  try {
    touching = await connection.getSignaturesForAddress(witness, { limit: HISTORY_PAGE, minContextSlot }, 'finalized');
  } catch (error) {
    if (isMinContextSlotNotReached(error)) return { outcome: 'pending' };
    return { outcome: 'unknown', reason: `the RPC cannot list the transactions of ${witness.toBase58()}: ${(error as Error).message}` };
  }
  const ours = touching.find((entry) => entry.signature === record.signature);
  if (ours !== undefined) {
    return ours.err === null
      ? { outcome: 'landed', evidence: 'signature', slot: ours.slot }
      : failedOutcome(connection, record.signature, ours.err);
  }
  const oldest = touching.at(-1);
  if (touching.length >= HISTORY_PAGE && oldest !== undefined && oldest.slot >= record.preparedSlot) {
    return {
      outcome: 'unknown',
      reason: `more than ${HISTORY_PAGE} transactions touched ${witness.toBase58()} since the ${record.kind} was prepared`,
    };
  }
  let firstAvailable: number;
  try {
    firstAvailable = await connection.getFirstAvailableBlock();
  } catch (error) {
    return { outcome: 'unknown', reason: `the RPC cannot say how far back its history goes: ${(error as Error).message}` };
  }
  if (firstAvailable > record.preparedSlot) {
    return {
      outcome: 'unknown',
      reason: `the RPC's history starts at slot ${firstAvailable}, after the ${record.kind} was prepared (slot ${record.preparedSlot})`,
    };
  }
  // The status cache could have caught it between our looks; look once more, now final.
  const last = await lookupSignature(connection, record.signature);
  if (last.status !== undefined) {
    const settled = await settledOutcome(connection, record.signature, last.status);
    return settled.outcome === 'landed' ? { ...settled, evidence: 'signature' } : settled;
  }
  // getSignatureStatuses takes no minContextSlot: an answer from before the observed slot, or one
  // from a backend that searched only its recent status cache, proves nothing.
  if (last.contextSlot < minContextSlot || !last.historyAvailable) return { outcome: 'pending' };
  return { outcome: 'expired' };
}
