// The cache marker: written last, when every file of a resource is in place, it says which
// resource the destination holds and which files make it up. A later job that mounts the same
// cache finds it and downloads nothing; a destination whose marker names another resource is
// refused, so two resources never mix in one volume (the cache name is a hash, and a hash
// collision or a misconfigured claim must not hand one job another's files).
//
// Checking a marker costs one stat per file: a file that went missing or changed size (a volume
// restored from a partial backup, say) means the download is done again, not trusted.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { MARKER_FILE, unsafePathReason } from './safe-path.ts';
import { canonicalJson } from './resource-spec.ts';

export const MARKER_VERSION = 1;

const markerSchema = z.object({
  version: z.literal(MARKER_VERSION),
  resource: z.record(z.string(), z.unknown()),
  files: z.array(z.object({ path: z.string(), size: z.int().min(0) })),
  completedAt: z.string(),
});

export type CacheMarker = z.output<typeof markerSchema>;

export type MarkerReading =
  | { state: 'absent' }
  | { state: 'unreadable'; reason: string }
  | { state: 'other-resource'; marker: CacheMarker }
  /** The marker names this resource, but `missing` of its files are gone or changed. */
  | { state: 'incomplete'; marker: CacheMarker; missing: string[] }
  | { state: 'complete'; marker: CacheMarker };

/**
 * Where the marker of `identity` lives. An Ollama model store holds several models by design (one
 * volume per store, resource-mounts.ts), so each Ollama model has a marker of its own, named by a
 * hash of the model; every other resource has the one marker of its volume.
 */
export function markerPath(root: string, identity: Record<string, unknown>): string {
  if (identity['type'] !== 'Ollama') return join(root, MARKER_FILE);
  const digest = createHash('sha256').update(canonicalJson(identity)).digest('hex').slice(0, 16);
  return join(root, `${MARKER_FILE.replace(/\.json$/, '')}-${digest}.json`);
}

export function newMarker(identity: Record<string, unknown>, files: readonly { path: string; size: number }[], now: Date): CacheMarker {
  return { version: MARKER_VERSION, resource: identity, files: [...files], completedAt: now.toISOString() };
}

export function markerBytes(marker: CacheMarker): Buffer {
  return Buffer.from(`${JSON.stringify(marker, null, 2)}\n`, 'utf8');
}

/** What the marker in `root` says about the resource `identity`. */
export async function readMarker(root: string, identity: Record<string, unknown>): Promise<MarkerReading> {
  // An Ollama store and any other resource never share a volume, whichever came first.
  const otherKind = await otherKindOfMarker(root, identity);
  if (otherKind !== undefined) return otherKind;
  let text: string;
  try {
    text = await readFile(markerPath(root, identity), 'utf8');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return { state: 'absent' };
    return { state: 'unreadable', reason: (error as Error).message };
  }
  let parsed;
  try {
    parsed = markerSchema.safeParse(JSON.parse(text));
  } catch (error) {
    return { state: 'unreadable', reason: `not JSON (${(error as Error).message})` };
  }
  if (!parsed.success)
    return { state: 'unreadable', reason: `not a marker this downloader wrote (${parsed.error.issues[0]?.message ?? 'invalid'})` };
  const marker = parsed.data;
  const unsafe = marker.files.find((file) => unsafePathReason(file.path) !== undefined);
  if (unsafe !== undefined) return { state: 'unreadable', reason: `it lists an unsafe path ${JSON.stringify(unsafe.path)}` };
  if (canonicalJson(marker.resource) !== canonicalJson(identity)) return { state: 'other-resource', marker };
  const missing: string[] = [];
  for (const file of marker.files) {
    const found = await stat(join(root, file.path)).catch(() => undefined);
    if (found?.isFile() !== true || found.size !== file.size) missing.push(file.path);
  }
  return missing.length === 0 ? { state: 'complete', marker } : { state: 'incomplete', marker, missing };
}

/** A marker of the other kind (a single resource's, or an Ollama store's) in `root`, read as "another resource". */
async function otherKindOfMarker(root: string, identity: Record<string, unknown>): Promise<MarkerReading | undefined> {
  const names = await readdir(root).catch(() => [] as string[]);
  const prefix = `${MARKER_FILE.replace(/\.json$/, '')}-`;
  const other = identity['type'] === 'Ollama' ? names.find((name) => name === MARKER_FILE) : names.find((name) => name.startsWith(prefix));
  if (other === undefined) return undefined;
  const text = await readFile(join(root, other), 'utf8').catch(() => '');
  let parsed;
  try {
    parsed = markerSchema.safeParse(JSON.parse(text));
  } catch {
    return { state: 'unreadable', reason: `${other} is not JSON` };
  }
  return parsed.success
    ? { state: 'other-resource', marker: parsed.data }
    : { state: 'unreadable', reason: `${other} is not a marker this downloader wrote` };
}
