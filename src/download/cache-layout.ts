// The destination directory as the downloader uses it: every file grows under a partial name and
// is renamed into place only when complete, so a crash (OOM kill, node loss, SIGKILL) never
// leaves a half file under a name that looks whole, and a reader of the cache sees a file either
// complete or not at all.
//
// Partial files live in `.nosana-partial/<run>/` in the destination itself (rename needs the same
// file system), one directory per run: two jobs that fill one cache at once never touch each
// other's partial files. A run removes its directory when it ends; the directory of a run that
// crashed is swept by a later run once nothing in it has changed for STALE_PARTIAL_MS (a live
// download writes continuously, and gives up after a minute of silence).
//
// Every final path is checked twice: as text (safe-path.ts) and, after its parent directories
// exist, by resolving them on disk, so a symbolic link inside the destination cannot carry a
// write outside it.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, realpath, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { DownloadError } from './errors.ts';
import { PARTIAL_DIRECTORY, checkedRelativePath } from './safe-path.ts';

/** A partial-download directory untouched for this long belongs to a run that is gone. */
export const STALE_PARTIAL_MS = 60 * 60 * 1000;

export class CacheLayout {
  /** The destination, symbolic links resolved. */
  readonly root: string;
  /** This run's directory of partial files. */
  readonly partialDirectory: string;
  #counter = 0;

  private constructor(root: string, partialDirectory: string) {
    this.root = root;
    this.partialDirectory = partialDirectory;
  }

  /** Creates the destination if needed, sweeps partial files of crashed runs, and makes this run's directory. */
  static async open(destination: string, now: number = Date.now()): Promise<CacheLayout> {
    await mkdir(destination, { recursive: true });
    const root = await realpath(destination);
    const partials = join(root, PARTIAL_DIRECTORY);
    await mkdir(partials, { recursive: true });
    await sweepStalePartials(partials, now);
    const own = join(partials, `${process.pid}-${randomBytes(6).toString('hex')}`);
    // Recursive: another run may have removed the (then empty) partials directory meanwhile.
    await mkdir(own, { recursive: true });
    return new CacheLayout(root, own);
  }

  /** The absolute path of a checked relative path (`what` names it in a refusal). */
  finalPath(relative: string, what: string): string {
    return join(this.root, checkedRelativePath(relative, what));
  }

  /** A fresh partial file name of this run. */
  partialPath(): string {
    this.#counter += 1;
    return join(this.partialDirectory, String(this.#counter));
  }

  /** Creates the parent directories of a final path and checks that they resolve inside the destination. */
  async prepareParent(finalPath: string): Promise<void> {
    const parent = dirname(finalPath);
    await mkdir(parent, { recursive: true });
    const resolved = await realpath(parent);
    if (resolved !== this.root && !resolved.startsWith(this.root + sep)) {
      throw new DownloadError(
        `${JSON.stringify(finalPath.slice(this.root.length + 1))} is refused: its directory leads outside the destination`,
      );
    }
  }

  /** Moves a complete partial file to its final path. */
  async publish(partialPath: string, finalPath: string): Promise<void> {
    await this.prepareParent(finalPath);
    await rename(partialPath, finalPath);
  }

  /** Writes a small file whole (a manifest, the marker): partial, synced, renamed. */
  async writeWhole(finalPath: string, bytes: Uint8Array): Promise<void> {
    const partial = this.partialPath();
    const handle = await open(partial, 'w');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await this.publish(partial, finalPath);
  }

  /** Removes this run's partial files, and the partials directory when no other run is using it. */
  async close(): Promise<void> {
    await rm(this.partialDirectory, { recursive: true, force: true });
    // The job sees the destination: leave nothing of ours there but the marker. Not empty means
    // another run is at work (or crashed, and a later run sweeps it).
    await rmdir(dirname(this.partialDirectory)).catch(() => undefined);
  }
}

/** Removes the partial directories of runs in which nothing changed for STALE_PARTIAL_MS. */
async function sweepStalePartials(partials: string, now: number): Promise<void> {
  for (const entry of await readdir(partials)) {
    const directory = join(partials, entry);
    if ((await newestChange(directory)) < now - STALE_PARTIAL_MS) await rm(directory, { recursive: true, force: true });
  }
}

/** The latest modification time of a directory and the files in it (0 when it vanished meanwhile). */
async function newestChange(directory: string): Promise<number> {
  try {
    const own = await stat(directory);
    if (!own.isDirectory()) return own.mtimeMs;
    let newest = own.mtimeMs;
    for (const entry of await readdir(directory)) {
      const file = await stat(join(directory, entry)).catch(() => undefined);
      if (file !== undefined) newest = Math.max(newest, file.mtimeMs);
    }
    return newest;
  } catch {
    return 0;
  }
}
