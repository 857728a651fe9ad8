// The persisted record of a node transaction (finish, complete, quit, work, leave-queue): signed
// once, written down BEFORE it is broadcast, and re-sent as the very same bytes until its fate is
// known. A node that restarts at any instant finds the record and resolves it instead of signing
// again, so a run is never finished twice and a result never posted twice.
//
// The record is plain JSON. It is parsed with one schema, and before its bytes are broadcast or
// resolved they are checked against what the record says they do: a record edited by hand or
// damaged in storage could otherwise make the node wait on one signature while sending another.
import { VersionedTransaction } from '@solana/web3.js';
import type { PublicKey } from '@solana/web3.js';
import { z } from 'zod';
import { ipfsCid, solanaAddress, timestamp } from '../api/crds/common.ts';
import { cidToBytes32, isCidV0 } from '../ipfs/cid.ts';
import type { NosanaNetwork } from './addresses.ts';
import { transactionSignaturesVerify } from './ed25519.ts';
import { JOBS_INSTRUCTIONS } from './idl.ts';
import type { JobsInstructionName } from './idl.ts';
import { decodeJobsInstruction } from './instructions.ts';
import { base58Signature } from './transaction-sender.ts';
import type { SignedTransaction } from './transaction-sender.ts';

export const NODE_TRANSACTION_KINDS = ['finish', 'complete', 'quit', 'work', 'leave-queue'] as const;
export type NodeTransactionKind = (typeof NODE_TRANSACTION_KINDS)[number];

/** The jobs-program instruction each kind sends (leaving the queue is the program's `stop`). */
export const INSTRUCTION_OF_KIND: Readonly<Record<NodeTransactionKind, JobsInstructionName>> = {
  finish: 'finish',
  complete: 'complete',
  quit: 'quit',
  work: 'work',
  'leave-queue': 'stop',
};

const resultCid = ipfsCid('The CIDv0 of the pinned result document the transaction writes on chain.').refine(isCidV0, {
  message: 'not a CIDv0 (a "Qm…" CID)',
});

const signedFields = {
  node: solanaAddress('The node that signs and pays for the transaction.'),
  signature: z.string().max(128).describe('The transaction signature (base58).'),
  lastValidBlockHeight: z.int().min(0).describe('The block height after which the transaction can never land.'),
  preparedSlot: z
    .int()
    .min(0)
    .describe("The slot the transaction's blockhash was fetched at: a history reaching back to it covers every block it could land in."),
  genesisHash: z
    .string()
    .max(64)
    .describe('The genesis hash of the cluster it was signed for; it is never resolved or re-sent against another.'),
  transaction: z.string().max(4096).describe('The signed transaction (base64), re-sent unchanged until its fate is known.'),
  preparedAt: timestamp('When the transaction was signed.'),
};

const job = solanaAddress('The job account the transaction acts on.');
const run = solanaAddress('The run account the transaction closes (finish, quit) or creates (work, when a job is waiting).');
const market = solanaAddress('The market whose queue the node joins or leaves.');

/**
 * A signed node transaction, recorded before broadcast. Every reader parses it with this schema;
 * each kind carries exactly the accounts its instruction names.
 */
export const nodeTransactionRecord = z
  .discriminatedUnion('kind', [
    z.object({
      kind: z.literal('finish'),
      job,
      run,
      resultCid,
      payout: solanaAddress('The NOS token account the node is paid into.'),
      ...signedFields,
    }),
    z.object({ kind: z.literal('complete'), job, resultCid, ...signedFields }),
    z.object({ kind: z.literal('quit'), job, run, ...signedFields }),
    z.object({ kind: z.literal('work'), market, run, ...signedFields }),
    z.object({ kind: z.literal('leave-queue'), market, ...signedFields }),
  ])
  .describe('A node transaction being broadcast, recorded before broadcasting so a crash can never send a second one.');

export type NodeTransactionRecord = z.infer<typeof nodeTransactionRecord>;
export type NodeTransactionRecordOf<K extends NodeTransactionKind> = Extract<NodeTransactionRecord, { kind: K }>;

/** What the record says besides the signed bytes: the kind and the addresses it acts on. */
export type NodeTransactionSubject =
  | { kind: 'finish'; job: PublicKey; run: PublicKey; resultCid: string; payout: PublicKey }
  | { kind: 'complete'; job: PublicKey; resultCid: string }
  | { kind: 'quit'; job: PublicKey; run: PublicKey }
  | { kind: 'work'; market: PublicKey; run: PublicKey }
  | { kind: 'leave-queue'; market: PublicKey };

/** The record of a transaction signed by `node` and not yet sent. Pure: the caller persists it. */
export function toNodeTransactionRecord(
  subject: NodeTransactionSubject,
  node: PublicKey,
  signed: SignedTransaction,
  genesisHash: string,
  now = new Date(),
): NodeTransactionRecord {
  const signedPart = {
    node: node.toBase58(),
    signature: signed.signature,
    lastValidBlockHeight: signed.lastValidBlockHeight,
    preparedSlot: signed.slot,
    genesisHash,
    transaction: Buffer.from(signed.transaction.serialize()).toString('base64'),
    preparedAt: now.toISOString(),
  };
  switch (subject.kind) {
    case 'finish':
      return {
        kind: 'finish',
        job: subject.job.toBase58(),
        run: subject.run.toBase58(),
        resultCid: subject.resultCid,
        payout: subject.payout.toBase58(),
        ...signedPart,
      };
    case 'complete':
      return { kind: 'complete', job: subject.job.toBase58(), resultCid: subject.resultCid, ...signedPart };
    case 'quit':
      return { kind: 'quit', job: subject.job.toBase58(), run: subject.run.toBase58(), ...signedPart };
    case 'work':
      return { kind: 'work', market: subject.market.toBase58(), run: subject.run.toBase58(), ...signedPart };
    case 'leave-queue':
      return { kind: 'leave-queue', market: subject.market.toBase58(), ...signedPart };
  }
}

/**
 * A record from its persisted JSON, checked field by field. Throws an Error naming the fields that
 * are wrong by path, never quoting the record's bytes.
 */
export function parseNodeTransactionRecord(text: string): NodeTransactionRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`the node transaction record is not JSON (${(error as Error).message})`, { cause: error });
  }
  const checked = nodeTransactionRecord.safeParse(parsed);
  if (!checked.success) {
    const problems = checked.error.issues.map(
      (issue) => `${issue.path.length === 0 ? 'the record' : issue.path.join('.')}: ${issue.message}`,
    );
    throw new Error(`the node transaction record is malformed (${problems.join('; ')})`);
  }
  return checked.data;
}

/** Which of the instruction's accounts must be which address of the record, by instruction slot name. */
function expectedAccounts(record: NodeTransactionRecord): Record<string, string> {
  switch (record.kind) {
    case 'finish':
      return { job: record.job, run: record.run, user: record.payout, authority: record.node };
    case 'complete':
      return { job: record.job, authority: record.node };
    case 'quit':
      return { job: record.job, run: record.run, authority: record.node };
    case 'work':
      return { run: record.run, market: record.market, authority: record.node };
    case 'leave-queue':
      return { market: record.market, node: record.node, authority: record.node };
  }
}

function corrupt(record: NodeTransactionRecord, problem: string): Error {
  return new Error(`the ${record.kind} record ${record.signature} is corrupt: ${problem}`);
}

/**
 * The record's transaction, after checking that its bytes do what the record says: they carry the
 * recorded signature, every signature verifies, the node pays, and exactly one jobs-program
 * instruction of the record's kind acts on the record's accounts (and, for finish and complete,
 * writes the record's result). Throws on any mismatch.
 */
export function decodeNodeTransaction(network: NosanaNetwork, record: NodeTransactionRecord): VersionedTransaction {
  let transaction: VersionedTransaction;
  try {
    transaction = VersionedTransaction.deserialize(Buffer.from(record.transaction, 'base64'));
  } catch (error) {
    throw corrupt(record, `its transaction does not deserialize (${(error as Error).message})`);
  }
  if (base58Signature(transaction) !== record.signature) throw corrupt(record, 'its bytes do not carry its recorded signature');
  // legacy only: a node signs legacy transactions, and nothing else is expected here
  if (transaction.version !== 'legacy' || !transactionSignaturesVerify(transaction)) {
    throw corrupt(record, 'a signature does not verify over its message');
  }
  const message = transaction.message;
  const keys = message.staticAccountKeys;
  if (keys[0]?.toBase58() !== record.node) throw corrupt(record, 'the node does not pay for it');

  const name = INSTRUCTION_OF_KIND[record.kind];
  const matching = message.compiledInstructions.filter((instruction) => {
    const program = keys[instruction.programIdIndex];
    return program !== undefined && program.equals(network.jobsProgram) && decodeJobsInstruction(instruction.data)?.name === name;
  });
  const [instruction] = matching;
  if (instruction === undefined || matching.length !== 1) {
    throw corrupt(record, `it does not hold exactly one ${network.name} jobs-program ${name} instruction`);
  }
  const slots = JOBS_INSTRUCTIONS[name].accounts;
  for (const [slot, address] of Object.entries(expectedAccounts(record))) {
    const index = slots.findIndex((candidate) => candidate.name === slot);
    const keyIndex = instruction.accountKeyIndexes[index];
    if (keyIndex === undefined || keys[keyIndex]?.toBase58() !== address) {
      throw corrupt(record, `its ${name} instruction's ${slot} account is not the recorded one`);
    }
  }
  if (record.kind === 'finish' || record.kind === 'complete') {
    const written = decodeJobsInstruction(instruction.data)?.args.ipfsResult;
    if (!(written instanceof Uint8Array) || !Buffer.from(written).equals(Buffer.from(cidToBytes32(record.resultCid)))) {
      throw corrupt(record, `its ${name} instruction does not write the recorded result`);
    }
  }
  return transaction;
}
