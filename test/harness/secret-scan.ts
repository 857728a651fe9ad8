// Finds key material and tokens in text the operator shows to people: logs, Events, statuses,
// ConfigMaps, metrics, error messages. A leak is rarely the key exactly as the Secret holds it:
// a log may print the bytes as an array or a Buffer, the base58 or base64 form, or cut a value
// short. So each secret is expanded into every encoding worth searching for, and any long-enough
// piece of one counts. Findings name the secret and the encoding, never the content, so a failing
// test does not become the leak it reports.
//
// Which pieces may be searched for is the subtle part. A Solana secret key is 64 bytes: a 32-byte
// seed, then the 32-byte public key, which the operator shows everywhere (status.nodeAddress, log
// fields). In positional encodings (hex, base64, a decimal byte list) the second half of the
// secret key's text IS the public key's text, so pieces are taken only from the text that the seed
// alone determines; otherwise the public key, correctly shown, would be reported as a leak.
// Base58 is not positional: it writes the 64 bytes as one big number, and every digit depends on
// the seed (58 and 256 share only the factor 2, so even the lowest digits mix in the high bytes),
// so any piece of it may be searched for; the public key's base58 is an unrelated string.
import bs58 from 'bs58';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ClusterContext } from './fixture.ts';
import type { OperatorProcess } from './operator-process.ts';

/** What must never be shown: a secret key (possibly malformed) and/or tokens, under a label for reports. */
export interface SecretMaterial {
  /** Names the secret in findings, e.g. "wallet Secret ns/treasury"; never the content. */
  label: string;
  /** A secret key as a Secret holds it: 64 bytes, or any other length when malformed. */
  secretKey?: Uint8Array;
  /** Tokens and other text secrets; random ones, since any piece of them counts. */
  strings?: readonly string[];
}

export interface SecretFinding {
  secret: string;
  encoding: string;
  /** 1-based, in the scanned text. */
  line: number;
  column: number;
}

/** A piece of text the operator produced and where it came from, e.g. "Event ns/name". */
export interface ScannedSource {
  where: string;
  text: string;
}

export interface SecretLeak extends SecretFinding {
  where: string;
}

/**
 * 24 characters: a piece of base58, base64 or hex holds 96 bits or more of the secret, and even the
 * base64 of a JSON byte array (18 characters of text) holds four or five byte values in a row, so
 * no unrelated text matches by chance; yet a value cut to a log field's 32 characters, or the
 * "first 24 characters" some code prints, is still caught.
 */
export const DEFAULT_PIECE_LENGTH = 24;
/** Decimal byte lists (JSON arrays, util.inspect of a Uint8Array) are matched 8 bytes (64 bits) at a time. */
const BYTE_RUN_LENGTH = 8;
/** Text secrets shorter than this would be found in innocent text ("admin", "token"). */
const MIN_STRING_SECRET = 16;
/** Where the seed ends in a Solana secret key; the public key follows. */
const SEED_BYTES = 32;

interface Needle {
  secret: string;
  encoding: string;
}

/**
 * Every substring of one length, looked up by its first four characters first so that scanning
 * megabytes of logs does not cut a string at every position. A piece keeps every secret it came
 * from: the same key may sit in two Secrets (a wallet reused as a node key, a malformed copy), and
 * each must be reported, not only the one added first.
 */
class PieceIndex {
  readonly #byLength = new Map<number, { pieces: Map<string, Needle[]>; prefixes: Set<number> }>();

  add(source: string, pieceLength: number, needle: Needle): void {
    const length = Math.min(pieceLength, source.length);
    let entry = this.#byLength.get(length);
    if (entry === undefined) {
      entry = { pieces: new Map(), prefixes: new Set() };
      this.#byLength.set(length, entry);
    }
    for (let start = 0; start + length <= source.length; start++) {
      const piece = source.slice(start, start + length);
      addNeedle(entry.pieces, piece, needle);
      entry.prefixes.add(prefixCode(piece, 0));
    }
  }

  *find(text: string): Generator<{ needle: Needle; index: number }> {
    for (const [length, { pieces, prefixes }] of this.#byLength) {
      for (let index = 0; index + length <= text.length; index++) {
        if (!prefixes.has(prefixCode(text, index))) continue;
        for (const needle of pieces.get(text.slice(index, index + length)) ?? []) yield { needle, index };
      }
    }
  }
}

/**
 * Files `needle` under `key` unless its secret is already there: one encoding per secret is enough
 * (a base64 piece without "+" or "/" is also base64url), but every secret is kept.
 */
function addNeedle(index: Map<string, Needle[]>, key: string, needle: Needle): void {
  const needles = index.get(key);
  if (needles === undefined) index.set(key, [needle]);
  else if (!needles.some((known) => known.secret === needle.secret)) needles.push(needle);
}

// Four characters packed in 28 bits; characters beyond ASCII collide, which only costs a lookup.
function prefixCode(text: string, at: number): number {
  let code = 0;
  for (let offset = 0; offset < 4; offset++) code = (code << 7) | ((text.charCodeAt(at + offset) || 0) & 0x7f);
  return code;
}

/**
 * The base64 text of `bytes` as it would appear inside the base64 of a larger blob, at each of the
 * three byte alignments, cut to the characters the first `secretBytes` bytes alone determine.
 */
function base64Forms(bytes: Uint8Array, secretBytes: number, alphabet: 'base64' | 'base64url'): string[] {
  const forms: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const shifted = Buffer.concat([Buffer.alloc(shift), Buffer.from(bytes)]);
    const pure = Math.floor((shift + secretBytes) / 3) * 4;
    // with a shift, the first group of four mixes in the bytes before the secret
    forms.push(shifted.toString(alphabet).slice(shift === 0 ? 0 : 4, pure));
  }
  return forms;
}

/** A Solana CLI keypair file's text, and how much of it the seed alone determines. */
function byteListTexts(secretKey: Uint8Array): { text: string; seedChars: number }[] {
  const values = [...secretKey];
  const seed = values.slice(0, SEED_BYTES);
  return [',', ', '].map((separator) => ({
    text: `[${values.join(separator)}]`,
    seedChars: `[${seed.join(separator)}`.length,
  }));
}

export class SecretScanner {
  readonly #exact = new PieceIndex();
  /** Hex is matched case-insensitively, against lower-cased text. */
  readonly #hex = new PieceIndex();
  readonly #byteRuns = new Map<string, Needle[]>();

  constructor(secrets: readonly SecretMaterial[], pieceLength = DEFAULT_PIECE_LENGTH) {
    for (const secret of secrets) {
      if (secret.secretKey !== undefined) this.#addKey(secret.label, secret.secretKey, pieceLength);
      for (const text of secret.strings ?? []) this.#addString(secret.label, text, pieceLength);
    }
  }

  #addKey(label: string, secretKey: Uint8Array, pieceLength: number): void {
    if (secretKey.length < BYTE_RUN_LENGTH)
      throw new Error(`${label}: a secret key of ${secretKey.length} bytes is too short to search for`);
    const seedBytes = Math.min(SEED_BYTES, secretKey.length);
    const seed = secretKey.subarray(0, seedBytes);
    const needle = (encoding: string): Needle => ({ secret: label, encoding });
    this.#exact.add(bs58.encode(secretKey), pieceLength, needle(`base58 of the ${secretKey.length}-byte secret key`));
    this.#exact.add(bs58.encode(seed), pieceLength, needle('base58 of the 32-byte seed'));
    this.#hex.add(Buffer.from(seed).toString('hex'), pieceLength, needle('hex of the secret key'));
    for (const alphabet of ['base64', 'base64url'] as const) {
      for (const form of base64Forms(secretKey, seedBytes, alphabet))
        this.#exact.add(form, pieceLength, needle(`${alphabet} of the secret key`));
      // A Secret's data is the base64 of the file the user stored: the JSON array, or base58 text.
      for (const { text, seedChars } of byteListTexts(secretKey)) {
        for (const form of base64Forms(Buffer.from(text), seedChars, alphabet)) {
          this.#exact.add(form, pieceLength, needle(`${alphabet} of the keypair file (JSON array)`));
        }
      }
      const base58Text = Buffer.from(bs58.encode(secretKey));
      for (const form of base64Forms(base58Text, base58Text.length, alphabet)) {
        this.#exact.add(form, pieceLength, needle(`${alphabet} of the base58 secret key`));
      }
    }
    for (let start = 0; start + BYTE_RUN_LENGTH <= seedBytes; start++) {
      addNeedle(this.#byteRuns, [...seed.subarray(start, start + BYTE_RUN_LENGTH)].join(','), needle('decimal byte list (JSON array)'));
    }
  }

  #addString(label: string, text: string, pieceLength: number): void {
    if (text.length < MIN_STRING_SECRET) {
      throw new Error(
        `${label}: a text secret of ${text.length} characters would match innocent text; use a random one of ${MIN_STRING_SECRET} or more`,
      );
    }
    const bytes = Buffer.from(text);
    this.#exact.add(text, pieceLength, { secret: label, encoding: 'plain text' });
    for (const alphabet of ['base64', 'base64url'] as const) {
      for (const form of base64Forms(bytes, bytes.length, alphabet))
        this.#exact.add(form, pieceLength, { secret: label, encoding: alphabet });
    }
  }

  /** Every place a secret occurs in `text`, once per secret and encoding (the first place). */
  scan(text: string): SecretFinding[] {
    const found = new Map<string, SecretFinding>();
    const record = (needle: Needle, index: number): void => {
      const key = `${needle.secret}\u0000${needle.encoding}`;
      if (!found.has(key)) found.set(key, { secret: needle.secret, encoding: needle.encoding, ...position(text, index) });
    };
    for (const { needle, index } of this.#exact.find(text)) record(needle, index);
    const lower = text.toLowerCase();
    for (const { needle, index } of this.#hex.find(lower)) record(needle, index);
    // a Buffer as util.inspect prints it: hex pairs separated by spaces or colons
    for (const run of lower.matchAll(/(?<![0-9a-f])[0-9a-f]{2}(?:[ :][0-9a-f]{2}){7,}(?![0-9a-f])/g)) {
      for (const { needle } of this.#hex.find(run[0].replace(/[ :]/g, ''))) record({ ...needle, encoding: 'hex byte list' }, run.index);
    }
    // a JSON array of bytes, with or without spaces, or util.inspect of a Uint8Array over lines
    for (const run of text.matchAll(/(?<!\d)\d{1,3}(?:[\s,]+\d{1,3}){7,}(?!\d)/g)) {
      const values = run[0].split(/[\s,]+/);
      for (let start = 0; start + BYTE_RUN_LENGTH <= values.length; start++) {
        for (const needle of this.#byteRuns.get(values.slice(start, start + BYTE_RUN_LENGTH).join(',')) ?? []) record(needle, run.index);
      }
    }
    return [...found.values()];
  }

  /** The findings of every source, each saying where. */
  scanAll(sources: readonly ScannedSource[]): SecretLeak[] {
    return sources.flatMap((source) => this.scan(source.text).map((finding) => ({ where: source.where, ...finding })));
  }
}

function position(text: string, index: number): { line: number; column: number } {
  const before = text.slice(0, index);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, column: index - lineStart + 1 };
}

/** One line per leak for an assertion message: where, which secret, which encoding; no content. */
export function describeLeaks(leaks: readonly SecretLeak[]): string {
  return leaks.map((leak) => `${leak.where} line ${leak.line} column ${leak.column}: ${leak.secret} as ${leak.encoding}`).join('\n');
}

// ---------------------------------------------------------------------------------------------
// The sweep: everything the operator wrote that people and monitoring read.

const NOSANA_KINDS = ['NosanaJob', 'NosanaNode', 'NosanaMarket', 'NosanaDeployment'] as const;

export interface SweepTargets {
  ctx: ClusterContext;
  /** Running operator processes: their full stdout/stderr, and a scrape of their /metrics. */
  processes: readonly OperatorProcess[];
  /** Pinned content to read (results are public on IPFS), by CID; unknown CIDs are skipped. */
  ipfs?: { get(cid: string): Uint8Array | undefined };
}

function objectName(object: KubernetesObject): string {
  const namespace = object.metadata?.namespace;
  return namespace === undefined ? (object.metadata?.name ?? '?') : `${namespace}/${object.metadata?.name ?? '?'}`;
}

/**
 * Collects, cluster-wide: every Event; every Nosana object's status, annotations and labels (its
 * spec is what the user wrote); every ConfigMap (log ConfigMaps included); every Pod (a job Pod
 * must never get the node's key); the processes' logs and metrics; and the IPFS content the
 * NosanaJobs name (definitions and results are public once pinned).
 */
export async function collectOperatorOutput(targets: SweepTargets): Promise<ScannedSource[]> {
  const { ctx } = targets;
  const sources: ScannedSource[] = [];
  const events = await ctx.core.listEventForAllNamespaces();
  for (const event of events.items)
    sources.push({ where: `Event ${objectName(event)} (${event.reason ?? '?'})`, text: JSON.stringify(event) });
  const cids = new Set<string>();
  for (const kind of NOSANA_KINDS) {
    const list = await ctx.objects.list<KubernetesObject & { status?: Record<string, unknown> }>('nosana.io/v1alpha1', kind);
    for (const object of list.items) {
      const { annotations, labels } = object.metadata ?? {};
      sources.push({ where: `${kind} ${objectName(object)} status`, text: JSON.stringify(object.status ?? {}) });
      sources.push({ where: `${kind} ${objectName(object)} metadata`, text: JSON.stringify({ annotations, labels }) });
      for (const field of ['ipfsJob', 'ipfsResult']) {
        const cid = object.status?.[field];
        if (typeof cid === 'string') cids.add(cid);
      }
    }
  }
  for (const configMap of (await ctx.core.listConfigMapForAllNamespaces()).items) {
    sources.push({
      where: `ConfigMap ${objectName(configMap)}`,
      text: JSON.stringify({ metadata: configMap.metadata, data: configMap.data }),
    });
  }
  for (const pod of (await ctx.core.listPodForAllNamespaces()).items) {
    sources.push({ where: `Pod ${objectName(pod)}`, text: JSON.stringify(pod) });
  }
  for (const operator of targets.processes) {
    sources.push({ where: `${operator.name} stdout`, text: operator.stdout() });
    sources.push({ where: `${operator.name} stderr`, text: operator.stderr() });
    // The samples carry every name and label value served; the HELP lines are constants of the code.
    sources.push({ where: `${operator.name} /metrics`, text: JSON.stringify(await operator.scrape()) });
  }
  for (const cid of cids) {
    const content = targets.ipfs?.get(cid);
    if (content !== undefined) sources.push({ where: `IPFS ${cid}`, text: Buffer.from(content).toString('utf8') });
  }
  return sources;
}
