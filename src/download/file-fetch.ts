// One file of a download, from the first byte to its final name: streamed to a partial file,
// hashed on the way, checked against what the source announced (size, and a digest where the
// source has one), synced, and only then renamed into place (cache-layout.ts says why).
//
// A body cut short is resumed where it stopped, with a Range request, when the server answers
// 206 from exactly that byte; any other answer starts the file over. The hash runs over the
// bytes as they are written, so a resumed file is hashed once and whole.
//
// Digests: Ollama blobs and Hub files stored in LFS are named by their sha256; other Hub files by
// their git blob id (sha1 of "blob <size>\0" and the content). A mismatch refuses the file: the
// bytes are not what the listing promised, whoever is at fault.
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { open, rm, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { CacheLayout } from './cache-layout.ts';
import { DownloadError } from './errors.ts';
import { openResponse, retrying } from './fetch-retry.ts';
import type { FetchSettings, HttpRequest } from './fetch-retry.ts';

export interface FileDigest {
  algorithm: 'sha256' | 'git-blob-sha1';
  /** Lowercase hex. */
  hex: string;
}

/** A file a source has planned: where it goes, what it should be, and how to ask for it. */
export interface FileToFetch {
  /** Relative to the destination, as the source named it (checked before use). */
  path: string;
  /** Bytes the source announced, when it did. */
  size?: number;
  digest?: FileDigest;
  /**
   * The request for the file, made fresh for each attempt (S3 signatures carry the time);
   * `fromByte` asks for the rest of a file from that offset.
   */
  request(fromByte?: number): HttpRequest;
}

export type FetchedFile = { path: string; bytes: number; present: boolean };

/**
 * Fetches `file` into the destination. A file already there under its final name with the
 * announced size is kept (`present`): only a complete file ever gets that name.
 */
export async function fetchFile(layout: CacheLayout, file: FileToFetch, settings: FetchSettings): Promise<FetchedFile> {
  const what = `file ${JSON.stringify(file.path)}`;
  const finalPath = layout.finalPath(file.path, 'file');
  if (file.size !== undefined) {
    const existing = await stat(finalPath).catch(() => undefined);
    if (existing?.isFile() === true && existing.size === file.size) return { path: file.path, bytes: file.size, present: true };
  }
  const partialPath = layout.partialPath();
  const handle = await open(partialPath, 'w');
  let written = 0;
  let hash = newHash(file);
  const startOver = async (): Promise<void> => {
    await handle.truncate(0);
    written = 0;
    hash = newHash(file);
  };
  try {
    await retrying(what, settings, async (attempt) => {
      const resumeFrom = written > 0 ? written : undefined;
      const response = await openResponse(file.request(resumeFrom), what, attempt);
      const partialAnswer = response.status === 206;
      if (partialAnswer && (resumeFrom === undefined || !resumesAt(response, resumeFrom))) {
        // Bytes from somewhere else in the file: start over, asking for all of it.
        await response.body?.cancel();
        await startOver();
        throw new DownloadError(`${what}: the server answered with a range that was not asked for`, { retryable: true });
      }
      if (resumeFrom !== undefined && !partialAnswer) await startOver();
      try {
        for await (const chunk of response.body ?? []) {
          attempt.stillAlive();
          if (file.size !== undefined && written + chunk.length > file.size) {
            throw new DownloadError(`${what}: the server sent more than the ${file.size} bytes announced`);
          }
          await writeAll(handle, chunk, written);
          hash.update(chunk);
          written += chunk.length;
        }
      } catch (error) {
        if (error instanceof DownloadError || attempt.signal.aborted || isFileSystemError(error)) throw error;
        throw new DownloadError(`${what}: the download was cut short after ${written} bytes`, { retryable: true, cause: error });
      }
      if (file.size !== undefined && written < file.size) {
        throw new DownloadError(`${what}: the server sent ${written} of the ${file.size} bytes announced`, { retryable: true });
      }
    });
    if (file.digest !== undefined) {
      const actual = hash.digest('hex');
      if (actual !== file.digest.hex) {
        throw new DownloadError(`${what}: its ${file.digest.algorithm} is ${actual}, not the ${file.digest.hex} announced; refusing it`);
      }
    }
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(partialPath, { force: true });
    throw error;
  }
  await handle.close();
  await layout.publish(partialPath, finalPath);
  return { path: file.path, bytes: written, present: false };
}

function newHash(file: FileToFetch): Hash {
  if (file.digest?.algorithm === 'git-blob-sha1') {
    // git's object header needs the size first; a file of another size fails the check anyway.
    return createHash('sha1').update(`blob ${file.size ?? 0}\u0000`);
  }
  return createHash('sha256');
}

/** Whether a response continues a partial file at `offset` (206 with a Content-Range starting there). */
function resumesAt(response: Response, offset: number): boolean {
  if (response.status !== 206) return false;
  const range = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
  return range !== null && Number(range[1]) === offset;
}

async function writeAll(handle: FileHandle, chunk: Uint8Array, position: number): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset, position + offset);
    offset += bytesWritten;
  }
}

function isFileSystemError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) && (error as { syscall?: unknown }).syscall !== undefined;
}
