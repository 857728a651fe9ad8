// Create-once posting. A Nosana job costs money, so a crash at any instant must never produce a
// second job. The protocol:
//   1. prepare: fresh job and run keypairs, a signed transaction, its signature, the last block
//      height at which it can land, the slot it was prepared at and the cluster's genesis hash —
//      a plain object the caller persists BEFORE step 2;
//   2. broadcast: send those bytes (again and again if needed: the cluster de-duplicates them);
//   3. resolve, on every later look: landed / still pending / failed / never landed / unknown.
//
// "Never landed" needs positive evidence: the bytes can no longer land (the finalized block
// height is past lastValidBlockHeight and the cluster no longer accepts the blockhash) AND the
// cluster's history shows no trace of the signature nor of any transaction touching the job
// address, at finalized commitment, over a history that reaches back to when the post was
// prepared. A missing job account is not evidence — a job that landed may since have been
// delisted, recovered or cleaned. When the RPC cannot search its history the answer is "unknown"
// and the caller must not post again.
//
// That evidence must be one consistent view. Behind a load balancer, the height can come from an
// up-to-date backend and the lookups from one that lags, which has not seen a post that did land:
// a job paid twice. So the finalized height is read together with its slot (getEpochInfo: one
// answer from one bank), and every read behind "never landed" must be answered at that slot or
// later: minContextSlot where the method takes it (a backend behind refuses with -32016), the
// context slot compared where it does not (getSignatureStatuses). A refusal or an answer from
// before that slot is "pending": look again later.
import { transactionSignaturesVerify } from './ed25519.ts';
import { PublicKey, VersionedTransaction } from '@solana/web3.js';
import type { Connection } from '@solana/web3.js';
import { pendingPostRecord } from '../api/crds/nosana-job.ts';
import { ACCOUNT_DISCRIMINATORS } from './idl.ts';
import type { NosanaNetwork } from './addresses.ts';
import { decodeJobsInstruction } from './instructions.ts';
import type { PendingPost, PendingPostOutcome } from './jobs-client.ts';
import { failedOutcome, isMinContextSlotNotReached, lookupSignature, resolveSigned, settledOutcome } from './signature-status.ts';
import { base58Signature } from './transaction-sender.ts';
import type { SignedTransaction } from './transaction-sender.ts';

export function toPendingPost(
  signed: SignedTransaction,
  job: PublicKey,
  run: PublicKey,
  cluster: { genesisHash: string; preparedSlot: number },
  now = new Date(),
): PendingPost {
  return {
    jobAddress: job.toBase58(),
    runAddress: run.toBase58(),
    signature: signed.signature,
    lastValidBlockHeight: signed.lastValidBlockHeight,
    preparedSlot: cluster.preparedSlot,
    genesisHash: cluster.genesisHash,
    transaction: Buffer.from(signed.transaction.serialize()).toString('base64'),
    preparedAt: now.toISOString(),
  };
}

/**
 * The create-once record from its persisted JSON (an annotation, a record file), checked field by
 * field against the one schema of the record. Throws an Error that says what is wrong, naming
 * fields by path and never quoting the record's bytes.
 */
export function parsePendingPost(text: string): PendingPost {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`the post record is not JSON (${(error as Error).message})`, { cause: error });
  }
  const checked = pendingPostRecord.safeParse(parsed);
  if (!checked.success) {
    const problems = checked.error.issues.map(
      (issue) => `${issue.path.length === 0 ? 'the record' : issue.path.join('.')}: ${issue.message}`,
    );
    throw new Error(`the post record is malformed (${problems.join('; ')})`);
  }
  return checked.data;
}

/**
 * Checks a persisted pending post before trusting it: every signature verifies over the message,
 * the recorded signature is the fee payer's, and the transaction's jobs-program `list`/`assign`
 * creates exactly the recorded job and run accounts. A record edited by hand or damaged in
 * storage is refused rather than broadcast or resolved.
 */
export function decodePendingPost(network: NosanaNetwork, pending: PendingPost): VersionedTransaction {
  let transaction: VersionedTransaction;
  try {
    transaction = VersionedTransaction.deserialize(Buffer.from(pending.transaction, 'base64'));
  } catch (error) {
    throw new Error(`pending post is corrupt: its transaction does not deserialize (${(error as Error).message})`, { cause: error });
  }
  if (base58Signature(transaction) !== pending.signature) {
    throw new Error('pending post is corrupt: its transaction bytes do not carry its recorded signature');
  }
  if (!transactionSignaturesVerify(transaction)) throw new Error('pending post is corrupt: a signature does not verify over its message');
  const message = transaction.message;
  const keys = message.staticAccountKeys;
  const post = message.compiledInstructions.find((instruction) => {
    const program = keys[instruction.programIdIndex];
    if (program === undefined || !program.equals(network.jobsProgram)) return false;
    const name = decodeJobsInstruction(instruction.data)?.name;
    return name === 'list' || name === 'assign';
  });
  const jobIndex = post?.accountKeyIndexes[0];
  const runIndex = post?.accountKeyIndexes[2];
  if (post === undefined || jobIndex === undefined || runIndex === undefined) {
    throw new Error(`pending post is corrupt: it holds no ${network.name} jobs-program list or assign instruction`);
  }
  if (
    keys[jobIndex]?.toBase58() !== pending.jobAddress ||
    keys[runIndex]?.toBase58() !== pending.runAddress ||
    !message.isAccountSigner(jobIndex) ||
    !message.isAccountSigner(runIndex)
  ) {
    throw new Error('pending post is corrupt: its transaction does not create the recorded job and run accounts');
  }
  return transaction;
}

/** Refuses a record signed for another cluster: heights and histories of two chains do not compare. */
/**
 * An endpoint's genesis hash, asked at most once a minute: it changes only when the URL is
 * re-pointed at another cluster, which a minute-old answer still catches before the next post
 * settles, while asking on every check would cost a request per pending post per look.
 */
const GENESIS_HASH_TTL_MS = 60_000;
const genesisHashes = new WeakMap<Connection, { hash: Promise<string>; askedAt: number }>();

export function genesisHashOf(connection: Connection): Promise<string> {
  const cached = genesisHashes.get(connection);
  if (cached !== undefined && Date.now() - cached.askedAt < GENESIS_HASH_TTL_MS) return cached.hash;
  const hash = connection.getGenesisHash();
  genesisHashes.set(connection, { hash, askedAt: Date.now() });
  // a failed answer is not remembered
  hash.catch(() => genesisHashes.delete(connection));
  return hash;
}

export async function requireSameCluster(connection: Connection, pending: PendingPost): Promise<void> {
  if (pending.genesisHash === undefined) return;
  const genesisHash = await genesisHashOf(connection);
  if (genesisHash !== pending.genesisHash) {
    throw new Error(
      `pending post ${pending.signature} was signed for the cluster with genesis ${pending.genesisHash}, but the RPC serves ${genesisHash}; refusing to resolve or re-send it there`,
    );
  }
}

export async function resolvePendingPost(
  connection: Connection,
  network: NosanaNetwork,
  pending: PendingPost,
): Promise<PendingPostOutcome> {
  const transaction = decodePendingPost(network, pending);
  await requireSameCluster(connection, pending);
  return resolveSigned(connection, pending.signature, (seen) => judgeFromSlot(connection, network, pending, transaction, seen));
}

/** Every read here is answered at `observedSlot` or later, or the judgement is "pending". */
async function judgeFromSlot(
  connection: Connection,
  network: NosanaNetwork,
  pending: PendingPost,
  transaction: VersionedTransaction,
  seen: { height: number; observedSlot: number; historyAvailable: boolean },
): Promise<PendingPostOutcome> {
  const minContextSlot = seen.observedSlot;
  const job = new PublicKey(pending.jobAddress);
  const { value: account } = await connection.getAccountInfoAndContext(job, { commitment: 'confirmed', minContextSlot });
  // Only a jobs-program JobAccount is proof: anyone may send lamports to an address they saw.
  if (
    account !== null &&
    account.owner.equals(network.jobsProgram) &&
    account.data.subarray(0, 8).equals(ACCOUNT_DISCRIMINATORS.JobAccount)
  ) {
    return { outcome: 'landed' };
  }

  if (seen.height <= pending.lastValidBlockHeight) return { outcome: 'pending' };
  // The recorded height is advisory; the blockhash is covered by the signature, so ask about it too.
  const blockhash = transaction.message.recentBlockhash;
  if (await connection.isBlockhashValid(blockhash, { commitment: 'processed', minContextSlot }).then((answer) => answer.value)) {
    return { outcome: 'pending' };
  }
  if (!seen.historyAvailable)
    return { outcome: 'unknown', reason: 'the RPC keeps no transaction history, so it cannot say whether the post landed' };

  let touching: { signature: string; err: unknown; slot: number }[];
  try {
    touching = await connection.getSignaturesForAddress(job, { limit: 20, minContextSlot }, 'finalized');
  } catch (error) {
    if (isMinContextSlotNotReached(error)) return { outcome: 'pending' };
    return { outcome: 'unknown', reason: `the RPC cannot list the job address's transactions: ${(error as Error).message}` };
  }
  // The job address was unknown to anyone before the broadcast, so any entry at all is a trace.
  const ours = touching.find((entry) => entry.signature === pending.signature);
  if (ours !== undefined) {
    return ours.err === null ? { outcome: 'landed', slot: ours.slot } : failedOutcome(connection, pending.signature, ours.err);
  }
  const succeeded = touching.find((entry) => entry.err === null);
  if (succeeded !== undefined) return { outcome: 'landed', slot: succeeded.slot };
  if (touching.length > 0)
    return { outcome: 'unknown', reason: `the job address has ${touching.length} failed transactions that are not the post` };

  let firstAvailable: number;
  try {
    firstAvailable = await connection.getFirstAvailableBlock();
  } catch (error) {
    return { outcome: 'unknown', reason: `the RPC cannot say how far back its history goes: ${(error as Error).message}` };
  }
  if (pending.preparedSlot === undefined || firstAvailable > pending.preparedSlot) {
    return {
      outcome: 'unknown',
      reason: `the RPC's history starts at slot ${firstAvailable}, later than (or not known to cover) when the post was prepared`,
    };
  }
  // The status cache could have caught it between our looks; look once more, now final.
  const last = await lookupSignature(connection, pending.signature);
  if (last.status !== undefined) return settledOutcome(connection, pending.signature, last.status);
  // getSignatureStatuses takes no minContextSlot: an answer from before the observed slot, or one
  // from a backend that searched only its recent status cache, proves nothing.
  if (last.contextSlot < minContextSlot || !last.historyAvailable) return { outcome: 'pending' };
  return { outcome: 'never-landed' };
}
