// What the localnet IPFS service holds: content by CIDv0, in memory, optionally persisted to a
// directory (one file per CID, named by the CID) so a restarted localnet still serves what was
// pinned before. Sizes are capped per object and in total, so a runaway test cannot fill the disk.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isCidV0 } from '../../ipfs/cid.ts';
import { computeCidV0 } from '../../ipfs/unixfs.ts';

export const DEFAULT_MAX_OBJECT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_TOTAL_BYTES = 1024 * 1024 * 1024;

export interface ContentStoreOptions {
  /** Persist content here and load what is already there. Absent: memory only. */
  directory?: string;
  maxObjectBytes?: number;
  maxTotalBytes?: number;
}

/** Content refused for its size; the server answers 413. */
export class ContentRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContentRejectedError';
  }
}

export interface StoredContent {
  cid: string;
  size: number;
  /** The store already held this content. */
  duplicate: boolean;
}

export class ContentStore {
  readonly directory: string | undefined;
  readonly maxObjectBytes: number;
  readonly maxTotalBytes: number;
  readonly #objects = new Map<string, Uint8Array>();
  // Adds still being written, so concurrent adds of the same content are counted once.
  readonly #writing = new Map<string, Promise<void>>();
  #totalBytes = 0;

  private constructor(options: ContentStoreOptions) {
    this.directory = options.directory;
    this.maxObjectBytes = positiveLimit('maxObjectBytes', options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES);
    this.maxTotalBytes = positiveLimit('maxTotalBytes', options.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES);
  }

  /** A store, loaded from `options.directory` when given. Files there must hash to their names. */
  static async open(options: ContentStoreOptions = {}): Promise<ContentStore> {
    const store = new ContentStore(options);
    if (store.directory !== undefined) await store.#load(store.directory);
    return store;
  }

  get objectCount(): number {
    return this.#objects.size;
  }

  get totalBytes(): number {
    return this.#totalBytes;
  }

  get(cid: string): Uint8Array | undefined {
    return this.#objects.get(cid);
  }

  async add(bytes: Uint8Array): Promise<StoredContent> {
    if (bytes.length > this.maxObjectBytes) {
      throw new ContentRejectedError(
        `content of ${bytes.length} bytes exceeds the localnet IPFS limit of ${this.maxObjectBytes} bytes per object`,
      );
    }
    const cid = await computeCidV0(bytes);
    const inFlight = this.#writing.get(cid);
    if (inFlight !== undefined) await inFlight;
    if (this.#objects.has(cid)) return { cid, size: bytes.length, duplicate: true };
    if (this.#totalBytes + bytes.length > this.maxTotalBytes) {
      throw new ContentRejectedError(
        `the localnet IPFS store is full: ${this.#totalBytes} of ${this.maxTotalBytes} bytes used, ${bytes.length} more requested`,
      );
    }
    const copy = new Uint8Array(bytes);
    this.#totalBytes += copy.length;
    const write = this.#persist(cid, copy);
    this.#writing.set(cid, write);
    try {
      await write;
    } catch (error) {
      this.#totalBytes -= copy.length;
      throw error;
    } finally {
      this.#writing.delete(cid);
    }
    this.#objects.set(cid, copy);
    return { cid, size: copy.length, duplicate: false };
  }

  async #persist(cid: string, bytes: Uint8Array): Promise<void> {
    if (this.directory === undefined) return;
    // Written aside and renamed, so a crash never leaves a file named by a CID it does not match.
    const partial = join(this.directory, `.${cid}.${randomUUID()}.partial`);
    try {
      await writeFile(partial, bytes);
      await rename(partial, join(this.directory, cid));
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  async #load(directory: string): Promise<void> {
    await mkdir(directory, { recursive: true });
    for (const name of await readdir(directory)) {
      if (!isCidV0(name)) continue;
      const bytes = new Uint8Array(await readFile(join(directory, name)));
      const cid = await computeCidV0(bytes);
      if (cid !== name) {
        throw new Error(`localnet IPFS store ${directory}: file ${name} holds content with CID ${cid}; remove or fix it`);
      }
      this.#objects.set(cid, bytes);
      this.#totalBytes += bytes.length;
    }
  }
}

function positiveLimit(field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${field} must be a positive integer, got ${value}`);
  return value;
}
