// Where the node agent keeps a run's record (decision.ts RunRecord): the pinned result, then the
// signed ending, written BEFORE the ending is broadcast and read back after a crash. It is the only
// memory of signed bytes that may still land, so it cannot live in the executor's run ConfigMap,
// which is deleted when the run's objects go (executor/runner.ts cleanUp), nor in the agent's
// memory. Each record is a ConfigMap of its own:
//
//   namespace   the NosanaNode's (owner references cannot cross namespaces)
//   name        nos-record-<first 16 hex digits of sha256("<NosanaNode name>/<run address>")>
//   labels      managed-by, nosana.io/run-record=<NosanaNode name>, nosana.io/job, nosana.io/run
//   owner       the NosanaNode
//
// The name is computed, so the agent finds a run's record without a list; the labels let a
// restarted agent list all of a NosanaNode's records at once, and let a person find them with
// kubectl. Run addresses can be chosen by strangers (a poster creates the run when it lists a job
// for a queued node), hence 64 bits of hash as in executor/names.ts; a record found under a name
// must also name that run, so a collision reads as an error, never as another run's record.
//
// Owned by the NosanaNode: deleting the NosanaNode lets the garbage collector take its records.
// That is safe only because the NosanaNode's drain finalizer outlives every record: the decision
// removes it from its idle part, which it reaches only once no record is left, and a record is
// released only once its ending is settled. A NosanaNode whose finalizer is stripped by hand loses
// its records at once, and with them the memory of an ending that may still land; the program
// still refuses a second finish of a run (it closes the run account), so money stays safe, but
// the counters and Events of that run are lost.
//
// Every write is conditional on the version the writer read (a create on there being none): two
// workers, or two agents during a leader hand-over, that both decided from the same record cannot
// both record an ending; the loser gets a conflict and decides again from a fresh read. A release
// is conditional the same way, and is refused while the recorded ending may still land.
//
// The data is one key per field, each checked on every read (and before every write: nothing is
// written that would not read back). A tampered or garbled record is an error naming the key, never
// "no record": reading it as absent would let the agent sign a second ending.
//
// The name is computable by anyone, and ConfigMaps in the NosanaNode's namespace may be writable by
// more people than the node's key: a record forged there (a result CID of someone else's choosing,
// or a bare job and run) would have the agent finish the run with that result or drop the run it
// is executing. So the agent signs every record with the node's key: ed25519 over a domain prefix,
// the ConfigMap's `<namespace>/<name>` and every field in a fixed order, kept in key
// record-signature. A record whose signature does not verify against the node's address (forged,
// edited, or copied from another NosanaNode's or another run's record), or whose ending another key
// signed, is an error naming the ConfigMap, like any garbled record. Changing the node's key
// therefore leaves its older records unreadable until a person settles them: they hold endings only
// the old key could have signed.
import type { V1ConfigMap, V1OwnerReference } from '@kubernetes/client-node';
import { PublicKey } from '@solana/web3.js';
import type { Keypair } from '@solana/web3.js';
import { API_VERSION, solanaAddress } from '../../api/crds/common.ts';
import { ED25519_SIGNATURE_BYTES, ed25519Sign, ed25519Verify } from '../../chain/ed25519.ts';
import type { NosanaNetwork } from '../../chain/addresses.ts';
import type { JobView } from '../../chain/jobs-client.ts';
import { decodeNodeTransaction, parseNodeTransactionRecord } from '../../chain/node-transaction-record.ts';
import type { NodeTransactionRecord } from '../../chain/node-transaction-record.ts';
import { decideNodeTransactionStep, observeJob } from '../../chain/node-transaction-step.ts';
import type { FlowStatus } from '../../executor/flow-state.ts';
import { JOB_LABEL, MANAGED_BY, MANAGED_BY_LABEL, RUN_LABEL, labelValue } from '../../executor/labels.ts';
import { sha256Hex } from '../../executor/names.ts';
import { NO_RESULT_CID, cidV0Problem } from '../../ipfs/cid.ts';
import { hasStatus } from '../../runtime/kube-api.ts';
import type { KubeApi } from '../../runtime/kube-api.ts';
import { FIELD_MANAGER } from '../../runtime/kube-writer.ts';
import type { EndingKind, EndingOutcome, PinnedResult, RecordedEnding, SignedEnding } from './decision.ts';

/** On every record, with the owning NosanaNode's name (labelValue) as its value. */
export const RUN_RECORD_LABEL = 'nosana.io/run-record';

const NAME_HASH_HEX_DIGITS = 16;

/** The data keys of a record; a key the store does not write is refused on read. */
export const RUN_RECORD_KEYS = {
  job: 'job',
  run: 'run',
  resultCid: 'result-cid',
  resultFlowStatus: 'result-flow-status',
  /** The signed ending, as chain/node-transaction-record.ts persists it (JSON). */
  endingTransaction: 'ending-transaction',
  endingReason: 'ending-reason',
  endingFailures: 'ending-failures',
  /** The node key's ed25519 signature (base64) over every other key and the ConfigMap's name. */
  signature: 'record-signature',
} as const;

const KNOWN_KEYS: ReadonlySet<string> = new Set(Object.values(RUN_RECORD_KEYS));
/** The keys the signature covers, in the order they are signed. */
const SIGNED_KEYS: readonly string[] = Object.values(RUN_RECORD_KEYS).filter((key) => key !== RUN_RECORD_KEYS.signature);

// Prefixed to the signed bytes, so that nothing else the node's key signs (a transaction message
// starts with its header bytes, never with this JSON) can pass for a record, nor a record for it.
const SIGNING_DOMAIN = 'nosana-operator run record v1';
// DER headers that turn a raw 32-byte ed25519 seed into a PKCS#8 private key, and a raw 32-byte
// public key into an SPKI one, for node:crypto.
const ENDING_KINDS: readonly string[] = ['finish', 'complete', 'quit'] satisfies EndingKind[];

// Every flow status, as a value to check against; the type below fails to compile if one is missing.
const FLOW_STATUSES = [
  'init',
  'running',
  'success',
  'failed',
  'stopped',
  'waiting-for-job-definition',
  'logistics-error',
  'validation-error',
  'init error',
  'waiting-for-result',
] as const satisfies readonly FlowStatus[];
const _everyFlowStatus: Exclude<FlowStatus, (typeof FLOW_STATUSES)[number]> extends never ? true : never = true;

const address = solanaAddress('');
const FAILURES = /^(0|[1-9][0-9]{0,5})$/;

// ---------------------------------------------------------------------------------------------
// What is kept

/**
 * The NosanaNode whose records these are: their namespace, the name they are derived from, their
 * owner, and the node address whose key signs them (a record it did not sign is not read).
 */
export interface RecordOwner {
  namespace: string;
  name: string;
  uid: string;
  nodeAddress: string;
}

/** Where a record's data is read: the ConfigMap (named in errors, covered by the signature), and who must have signed it. */
export interface RecordPlace {
  /** `<namespace>/<name>` of the ConfigMap. */
  configMap: string;
  /** The node's address: the record and its ending must both be signed by its key. */
  nodeAddress: string;
  /** When set, the signed ending's bytes are checked to do what the record says on this network. */
  network?: NosanaNetwork;
}

/** A recorded ending as kept: its outcome is read from the chain on every look, never stored. */
export type StoredEnding = Omit<RecordedEnding, 'outcome'>;

/** A run's record as kept; the acting layer adds each ending's outcome to make decision.ts's RunRecord. */
export interface StoredRunRecord {
  jobAddress: string;
  runAddress: string;
  result?: PinnedResult;
  ending?: StoredEnding;
}

/** A record as read, with the version the next write or release of it is conditional on. */
export interface RunRecordRead {
  record: StoredRunRecord;
  version: string;
}

/** A record that cannot be read as one: tampered, garbled, or written by something else. */
export class RunRecordError extends Error {
  /** `<namespace>/<name>` of the ConfigMap. */
  readonly configMap: string;
  /** The data key (or metadata field) at fault, as `key <name>`, `label <name>` or `binaryData`. */
  readonly key: string;
  readonly problem: string;
  constructor(configMap: string, key: string, problem: string) {
    super(
      `the run record ConfigMap ${configMap} is unreadable: ${key} ${problem}; ` +
        'it may hold a signed ending: repair it, or delete it once the run is settled on chain',
    );
    this.name = 'RunRecordError';
    this.configMap = configMap;
    this.key = key;
    this.problem = problem;
  }
}

// ---------------------------------------------------------------------------------------------
// Names and labels

export function runRecordName(nodeName: string, runAddress: string): string {
  return `nos-record-${sha256Hex(`${nodeName}/${runAddress}`).slice(0, NAME_HASH_HEX_DIGITS)}`;
}

/** The label selector of every record of one NosanaNode. */
export function runRecordSelector(nodeName: string): string {
  return `${MANAGED_BY_LABEL}=${MANAGED_BY},${RUN_RECORD_LABEL}=${labelValue(nodeName)}`;
}

function ownerReference(node: RecordOwner): V1OwnerReference {
  // No blockOwnerDeletion: it would need permission on the NosanaNode's finalizers and buys
  // nothing, as the drain finalizer already keeps the NosanaNode until its records are released.
  return { apiVersion: API_VERSION, kind: 'NosanaNode', name: node.name, uid: node.uid, controller: true };
}

// ---------------------------------------------------------------------------------------------
// The codec

/** The fields of a record as data keys, unsigned. */
function recordFields(record: StoredRunRecord): Record<string, string> {
  const { result, ending } = record;
  return {
    [RUN_RECORD_KEYS.job]: record.jobAddress,
    [RUN_RECORD_KEYS.run]: record.runAddress,
    ...(result === undefined ? {} : { [RUN_RECORD_KEYS.resultCid]: result.cid, [RUN_RECORD_KEYS.resultFlowStatus]: result.flowStatus }),
    ...(ending === undefined
      ? {}
      : {
          [RUN_RECORD_KEYS.endingTransaction]: JSON.stringify(ending.signed),
          [RUN_RECORD_KEYS.endingReason]: ending.reason,
          [RUN_RECORD_KEYS.endingFailures]: String(ending.failures),
        }),
  };
}

/**
 * The bytes a record's signature covers: a JSON array of the domain, the ConfigMap and every signed
 * key's value (null when absent) in a fixed order. JSON quotes every string, so no two records
 * (nor a record under two names) give the same bytes.
 */
function signedBytes(configMap: string, fields: Readonly<Record<string, string>>): Buffer {
  return Buffer.from(JSON.stringify([SIGNING_DOMAIN, configMap, ...SIGNED_KEYS.map((key) => fields[key] ?? null)]), 'utf8');
}

function signRecord(bytes: Buffer, signer: Keypair): string {
  return ed25519Sign(bytes, signer.secretKey).toString('base64');
}

function signatureVerifies(bytes: Buffer, signature: Buffer, nodeAddress: string): boolean {
  return ed25519Verify(bytes, signature, new PublicKey(nodeAddress).toBuffer());
}

/**
 * The ConfigMap data of a record, signed by `signer` for the ConfigMap `at.configMap`. Throws (as a
 * read would) when the record is not one the store could read back with the signer's address.
 */
export function encodeRunRecord(
  record: StoredRunRecord,
  signer: Keypair,
  at: { configMap: string; network?: NosanaNetwork },
): Record<string, string> {
  const fields = recordFields(record);
  const data = { ...fields, [RUN_RECORD_KEYS.signature]: signRecord(signedBytes(at.configMap, fields), signer) };
  try {
    decodeRunRecord(data, { ...at, nodeAddress: signer.publicKey.toBase58() });
  } catch (error) {
    if (!(error instanceof RunRecordError)) throw error;
    throw new Error(`the record of run ${record.runAddress} is not written, as it would not read back: ${error.key} ${error.problem}`, {
      cause: error,
    });
  }
  return data;
}

/**
 * The record a ConfigMap's data holds, every key checked and the whole signed by the node's key for
 * this ConfigMap. With a network, the signed ending's bytes are checked to do what the record says
 * (decodeNodeTransaction). Throws RunRecordError naming the ConfigMap and the first key at fault.
 */
export function decodeRunRecord(data: Readonly<Record<string, string>> | undefined, at: RecordPlace): StoredRunRecord {
  const fields = data ?? {};
  const bad = (key: string, problem: string) => new RunRecordError(at.configMap, key, problem);
  for (const key of Object.keys(fields)) if (!KNOWN_KEYS.has(key)) throw bad(`key ${key}`, 'is not a key of a run record');

  const addressAt = (key: string): string => {
    const value = fields[key];
    if (value === undefined) throw bad(`key ${key}`, 'is missing');
    if (!address.safeParse(value).success) throw bad(`key ${key}`, 'is not a Solana address');
    return value;
  };
  const jobAddress = addressAt(RUN_RECORD_KEYS.job);
  const runAddress = addressAt(RUN_RECORD_KEYS.run);
  const result = decodeResult(fields, bad);
  const ending = decodeEnding(fields, bad, { jobAddress, runAddress, result }, at);
  checkSignature(fields, bad, at);
  return { jobAddress, runAddress, ...(result === undefined ? {} : { result }), ...(ending === undefined ? {} : { ending }) };
}

/** Every field was written by this node's agent for this ConfigMap; checked last, so a garbled key is named first. */
function checkSignature(fields: Readonly<Record<string, string>>, bad: Problem, at: RecordPlace): void {
  const key = `key ${RUN_RECORD_KEYS.signature}`;
  const text = fields[RUN_RECORD_KEYS.signature];
  if (text === undefined) throw bad(key, 'is missing');
  const signature = Buffer.from(text, 'base64');
  if (signature.length !== ED25519_SIGNATURE_BYTES || signature.toString('base64') !== text)
    throw bad(key, 'is not an ed25519 signature in base64');
  if (!signatureVerifies(signedBytes(at.configMap, fields), signature, at.nodeAddress))
    throw bad(
      key,
      `does not verify against node ${at.nodeAddress} over this record and ConfigMap: ` +
        "it was not written by this node's agent (forged, edited, or copied from another record)",
    );
}

type Problem = (key: string, problem: string) => RunRecordError;

/** Present together or not at all: a key whose companion is missing is an error naming the missing one. */
function group(fields: Readonly<Record<string, string>>, keys: readonly string[], bad: Problem): string[] | undefined {
  const present = keys.filter((key) => fields[key] !== undefined);
  if (present.length === 0) return undefined;
  const missing = keys.find((key) => fields[key] === undefined);
  if (missing !== undefined) throw bad(`key ${missing}`, `is missing while ${present.join(' and ')} is present`);
  return keys.map((key) => fields[key] ?? '');
}

function decodeResult(fields: Readonly<Record<string, string>>, bad: Problem): PinnedResult | undefined {
  const values = group(fields, [RUN_RECORD_KEYS.resultCid, RUN_RECORD_KEYS.resultFlowStatus], bad);
  if (values === undefined) return undefined;
  const [cid = '', flowStatus = ''] = values;
  const problem = cid === NO_RESULT_CID ? 'is the placeholder for no result' : cidV0Problem(cid);
  if (problem !== undefined) throw bad(`key ${RUN_RECORD_KEYS.resultCid}`, problem);
  const status = FLOW_STATUSES.find((candidate) => candidate === flowStatus);
  if (status === undefined) throw bad(`key ${RUN_RECORD_KEYS.resultFlowStatus}`, 'is not a flow status');
  return { cid, flowStatus: status };
}

function decodeEnding(
  fields: Readonly<Record<string, string>>,
  bad: Problem,
  run: { jobAddress: string; runAddress: string; result: PinnedResult | undefined },
  place: RecordPlace,
): StoredEnding | undefined {
  const keys = [RUN_RECORD_KEYS.endingTransaction, RUN_RECORD_KEYS.endingReason, RUN_RECORD_KEYS.endingFailures];
  const values = group(fields, keys, bad);
  if (values === undefined) return undefined;
  const [text = '', reason = '', failures = ''] = values;
  const at = `key ${RUN_RECORD_KEYS.endingTransaction}`;
  if (!FAILURES.test(failures)) throw bad(`key ${RUN_RECORD_KEYS.endingFailures}`, 'is not a whole number of failures');
  const parsed = parsedTransaction(text, (problem) => bad(at, problem));
  if (!ENDING_KINDS.includes(parsed.kind)) throw bad(at, `holds a ${parsed.kind} transaction, not a run's ending`);
  const signed = parsed as SignedEnding;
  // Signatures that verify prove only that some key signed: the ending must be this node's.
  if (signed.node !== place.nodeAddress) throw bad(at, `is signed by node ${signed.node}, not by this node ${place.nodeAddress}`);
  if (signed.job !== run.jobAddress) throw bad(at, `acts on another job than key ${RUN_RECORD_KEYS.job} names`);
  if (signed.kind !== 'complete' && signed.run !== run.runAddress)
    throw bad(at, `closes another run than key ${RUN_RECORD_KEYS.run} names`);
  // A finish or complete writes the pinned result on chain: the result the record keeps.
  if (signed.kind !== 'quit' && signed.resultCid !== run.result?.cid)
    throw bad(at, `writes another result than key ${RUN_RECORD_KEYS.resultCid} names`);
  if (place.network !== undefined) {
    try {
      decodeNodeTransaction(place.network, signed);
    } catch (error) {
      throw bad(at, `holds bytes that do not do what it says (${(error as Error).message})`);
    }
  }
  return { signed, reason, failures: Number(failures) };
}

function parsedTransaction(text: string, bad: (problem: string) => RunRecordError): NodeTransactionRecord {
  try {
    return parseNodeTransactionRecord(text);
  } catch (error) {
    throw bad(`does not hold a node transaction record (${(error as Error).message})`);
  }
}

/**
 * The record's ConfigMap, its data signed by `signer` (the NosanaNode's node key); with `version`, a
 * replacement conditional on it, else a creation.
 */
export function buildRunRecordConfigMap(
  node: RecordOwner,
  record: StoredRunRecord,
  signer: Keypair,
  version?: string,
  network?: NosanaNetwork,
): V1ConfigMap {
  if (!signer.publicKey.equals(new PublicKey(node.nodeAddress)))
    throw new Error(`the record of run ${record.runAddress} is not written: its signer is not node ${node.nodeAddress}`);
  const name = runRecordName(node.name, record.runAddress);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      namespace: node.namespace,
      name,
      labels: {
        [MANAGED_BY_LABEL]: MANAGED_BY,
        [RUN_RECORD_LABEL]: labelValue(node.name),
        [JOB_LABEL]: labelValue(record.jobAddress),
        [RUN_LABEL]: labelValue(record.runAddress),
      },
      ownerReferences: [ownerReference(node)],
      ...(version === undefined ? {} : { resourceVersion: version }),
    },
    data: encodeRunRecord(record, signer, { configMap: `${node.namespace}/${name}`, ...(network === undefined ? {} : { network }) }),
  };
}

/**
 * The record a ConfigMap of `node` holds, checked: its labels say it is this NosanaNode's record,
 * its data decodes, signed by the node's key for this ConfigMap, and its name is the one its run gives.
 */
export function readRunRecordConfigMap(
  node: Pick<RecordOwner, 'name' | 'nodeAddress'>,
  configMap: V1ConfigMap,
  network?: NosanaNetwork,
): RunRecordRead {
  const metadata = configMap.metadata ?? {};
  const where = `${metadata.namespace ?? ''}/${metadata.name ?? ''}`;
  if (metadata.labels?.[RUN_RECORD_LABEL] !== labelValue(node.name))
    throw new RunRecordError(where, `label ${RUN_RECORD_LABEL}`, `does not name NosanaNode ${node.name}`);
  if (configMap.binaryData !== undefined && Object.keys(configMap.binaryData).length > 0)
    throw new RunRecordError(where, 'binaryData', 'is not part of a run record');
  const record = decodeRunRecord(configMap.data, {
    configMap: where,
    nodeAddress: node.nodeAddress,
    ...(network === undefined ? {} : { network }),
  });
  if (metadata.name !== runRecordName(node.name, record.runAddress))
    throw new RunRecordError(
      where,
      `key ${RUN_RECORD_KEYS.run}`,
      "names a run whose record has another name (the ConfigMap's name is another run's)",
    );
  return { record, version: metadata.resourceVersion ?? '' };
}

/** What the chain said when a record was judged for release. */
export interface ReleaseFacts {
  /** What became of the recorded ending; undefined: not read. */
  outcome: EndingOutcome | undefined;
  /** The record's job as read with it (the decision's jobOf); undefined: its account does not exist. */
  job: JobView | undefined;
}

/**
 * Why a record may not be released yet, or undefined when it may. Forgetting an ending that may
 * still land would leave the agent free to sign another ending for the same run, so a record with
 * one goes only when the chain said it landed, failed beyond rollback or expired, or when the one
 * rule for recorded node transactions (chain/node-transaction-step.ts) says nothing is left to do
 * for it (done) or nothing more can be done (give-up): its run closed or its job gone, nothing can
 * be signed for the run any more, whatever its outcome (an RPC without history never tells).
 */
export function releaseRefusal(record: StoredRunRecord, facts: ReleaseFacts): string | undefined {
  const { ending } = record;
  if (ending === undefined) return undefined;
  const { outcome, job } = facts;
  const kept = (why: string) =>
    `the ${ending.signed.kind} ${ending.signed.signature} of run ${record.runAddress} may still land (${why}); its record is kept`;
  if (outcome === undefined) return kept('its outcome was not read');
  if (outcome.outcome === 'unreadable') return kept('its outcome is unreadable');
  if (outcome.outcome === 'landed' || outcome.outcome === 'failed' || outcome.outcome === 'expired') return undefined;
  if (job !== undefined && job.address.toBase58() !== record.jobAddress)
    return kept(`its outcome is ${outcome.outcome}, and the job read is ${job.address.toBase58()}, not the record's`);
  const step = decideNodeTransactionStep(ending.signed, outcome, observeJob(job));
  if (step.step === 'done' || step.step === 'give-up') return undefined;
  return kept(`its outcome is ${outcome.outcome}: ${step.message}`);
}

// ---------------------------------------------------------------------------------------------
// The store

export type WriteResult = { outcome: 'written'; version: string } | { outcome: 'conflict'; message: string };
export type ReleaseResult = { outcome: 'released' } | { outcome: 'conflict'; message: string } | { outcome: 'refused'; message: string };

export interface RunRecordStoreOptions {
  /** When set, every signed ending read or written is checked to do what its record says on this network. */
  network?: NosanaNetwork;
}

interface ConfigMapList {
  items?: V1ConfigMap[];
}

export class RunRecordStore {
  readonly #api: KubeApi;
  readonly #network: NosanaNetwork | undefined;

  constructor(api: KubeApi, options: RunRecordStoreOptions = {}) {
    this.#api = api;
    this.#network = options.network;
  }

  /**
   * The run's record, or undefined when there is none. Throws RunRecordError when one exists but
   * cannot be read, or was not signed by `node.nodeAddress`'s key.
   */
  async find(node: RecordOwner, runAddress: string): Promise<RunRecordRead | undefined> {
    let configMap: V1ConfigMap;
    try {
      configMap = await this.#api.request<V1ConfigMap>('GET', this.#path(node.namespace, runRecordName(node.name, runAddress)));
    } catch (error) {
      if (hasStatus(error, 404)) return undefined;
      throw error;
    }
    const read = readRunRecordConfigMap(node, configMap, this.#network);
    if (read.record.runAddress !== runAddress)
      throw new RunRecordError(
        `${node.namespace}/${configMap.metadata?.name ?? ''}`,
        `key ${RUN_RECORD_KEYS.run}`,
        `is not run ${runAddress}`,
      );
    return read;
  }

  /** Every record of the NosanaNode, found by label (what a restarted agent starts from). Throws when any cannot be read. */
  async list(node: RecordOwner): Promise<RunRecordRead[]> {
    const list = await this.#api.request<ConfigMapList>('GET', this.#path(node.namespace), {
      query: { labelSelector: runRecordSelector(node.name) },
    });
    return (list.items ?? []).map((configMap) => readRunRecordConfigMap(node, configMap, this.#network));
  }

  /**
   * Writes the record, signed by `signer` (the node's key, whose address is `node.nodeAddress`):
   * created when `version` is undefined, else replaced only at that version. A record created meanwhile, changed since `version` or released meanwhile is a conflict and
   * nothing is written: the caller reads again and decides again.
   */
  async write(node: RecordOwner, signer: Keypair, record: StoredRunRecord, version: string | undefined): Promise<WriteResult> {
    const configMap = buildRunRecordConfigMap(node, record, signer, version, this.#network);
    const name = configMap.metadata?.name ?? '';
    const query = { fieldManager: FIELD_MANAGER };
    try {
      const written =
        version === undefined
          ? await this.#api.request<V1ConfigMap>('POST', this.#path(node.namespace), { query, body: configMap })
          : await this.#api.request<V1ConfigMap>('PUT', this.#path(node.namespace, name), { query, body: configMap });
      return { outcome: 'written', version: written.metadata?.resourceVersion ?? '' };
    } catch (error) {
      const what = `the record ${node.namespace}/${name} of run ${record.runAddress}`;
      if (hasStatus(error, 409))
        return {
          outcome: 'conflict',
          message: version === undefined ? `${what} exists already` : `${what} changed since version ${version}`,
        };
      if (hasStatus(error, 404) && version !== undefined) return { outcome: 'conflict', message: `${what} was released meanwhile` };
      throw error;
    }
  }

  /**
   * Deletes the record as it was read, once its ending (if any) can no longer land or nothing more
   * can be done for it (releaseRefusal; `facts` are what the chain said when it was judged). A
   * record changed since it was read is a conflict; one already gone counts as released.
   */
  async release(node: RecordOwner, read: RunRecordRead, facts: ReleaseFacts): Promise<ReleaseResult> {
    const refusal = releaseRefusal(read.record, facts);
    if (refusal !== undefined) return { outcome: 'refused', message: refusal };
    const name = runRecordName(node.name, read.record.runAddress);
    try {
      await this.#api.request('DELETE', this.#path(node.namespace, name), {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { resourceVersion: read.version } },
      });
      return { outcome: 'released' };
    } catch (error) {
      if (hasStatus(error, 404)) return { outcome: 'released' };
      if (hasStatus(error, 409))
        return { outcome: 'conflict', message: `the record ${node.namespace}/${name} changed since version ${read.version}` };
      throw error;
    }
  }

  #path(namespace: string, name?: string): string {
    const collection = `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`;
    return name === undefined ? collection : `${collection}/${encodeURIComponent(name)}`;
  }
}
