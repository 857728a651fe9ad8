// One resource into one destination, whatever its source: check the cache marker, plan the files
// (S3 listing, Hub tree or Ollama manifest), fetch them a few at a time, write what must come
// last, then the marker. The sources only plan; fetching, checking and placing files is done the
// same way for all of them (file-fetch.ts, cache-layout.ts).
//
// A destination whose marker names this resource and whose files are all there is left alone:
// the second job on a reused cache costs a few stats. A marker for another resource is refused.
// Without a marker (a first download, or one that crashed) every file is planned again, and files
// already complete under their final names are kept.
//
// Progress is one JSON line per file (a "status" event carrying running counts and sizes, the
// shape Nosana's node reads from its resource helper), then one "done" or "cached" line.
import { rm } from 'node:fs/promises';
import { CacheLayout } from './cache-layout.ts';
import { DownloadError } from './errors.ts';
import { DEFAULT_FETCH_SETTINGS } from './fetch-retry.ts';
import type { FetchSettings } from './fetch-retry.ts';
import { fetchFile } from './file-fetch.ts';
import type { FileToFetch } from './file-fetch.ts';
import { hfEndpointFromEnv, planHuggingFace } from './huggingface.ts';
import { markerBytes, markerPath, newMarker, readMarker } from './marker.ts';
import type { CacheMarker } from './marker.ts';
import { checkedRegistry, planOllama } from './ollama.ts';
import type { FileToWrite } from './ollama.ts';
import { describeResource, downloadIdentity } from './resource-spec.ts';
import type { DownloadSpec } from './resource-spec.ts';
import { planS3, s3CredentialsFromEnv } from './s3.ts';

/** Files fetched at once: enough to fill a link with a model's shards, few enough to be polite. */
export const DEFAULT_CONCURRENCY = 4;
/** The environment variable that points Ollama downloads at another registry (a mirror). */
export const OLLAMA_REGISTRY_ENV = 'NOSANA_OLLAMA_REGISTRY';

export type ProgressEvent =
  | {
      event: 'status';
      resource: string;
      file: string;
      bytes: number;
      /** The file was already complete in the destination. */
      present: boolean;
      count: { current: number; total: number };
      size: { current: number; total: number };
    }
  | { event: 'done' | 'cached'; resource: string; files: number; bytes: number };

export interface DownloadOptions {
  /** The destination directory (the resource's volume). */
  dest: string;
  /** Where credentials (AWS_*, HF_TOKEN) and endpoints (HF_ENDPOINT, NOSANA_OLLAMA_REGISTRY) are read. */
  env: Readonly<Record<string, string | undefined>>;
  /** Ollama's registry, over the environment's. */
  ollamaRegistry?: string;
  settings?: Partial<FetchSettings>;
  concurrency?: number;
  onProgress?: (event: ProgressEvent) => void;
  now?: () => Date;
}

export interface DownloadOutcome {
  outcome: 'downloaded' | 'cached';
  files: number;
  bytes: number;
}

interface Plan {
  files: FileToFetch[];
  lastly: FileToWrite[];
}

/** Fills `options.dest` with the resource, or finds it there already. Throws DownloadError when it cannot. */
export async function downloadResource(spec: DownloadSpec, options: DownloadOptions): Promise<DownloadOutcome> {
  const resource = describeResource(spec);
  const identity = downloadIdentity(spec);
  const now = options.now ?? (() => new Date());
  const report = options.onProgress ?? (() => undefined);
  const layout = await CacheLayout.open(options.dest);
  try {
    const reading = await readMarker(layout.root, identity);
    switch (reading.state) {
      case 'complete': {
        const bytes = reading.marker.files.reduce((sum, file) => sum + file.size, 0);
        report({ event: 'cached', resource, files: reading.marker.files.length, bytes });
        return { outcome: 'cached', files: reading.marker.files.length, bytes };
      }
      case 'other-resource':
        throw new DownloadError(
          `the destination already holds another resource (${describeMarked(reading.marker)}); refusing to mix two resources in one cache`,
        );
      case 'unreadable':
        throw new DownloadError(`the destination has a cache marker that cannot be trusted (${reading.reason}); refusing to use it`);
      case 'incomplete':
      case 'absent':
        break;
    }
    // Downloading again: a stale marker must not vouch for files while they are being replaced.
    if (reading.state === 'incomplete') await rm(markerPath(layout.root, identity), { force: true });
    const plan = await planFor(spec, options);
    const fetched = await fetchAll(layout, plan.files, options, resource, report);
    for (const file of plan.lastly) await layout.writeWhole(layout.finalPath(file.path, 'file'), file.bytes);
    const files = [...fetched, ...plan.lastly.map((file) => ({ path: file.path, size: file.bytes.length }))];
    const marker = newMarker(identity, files, now());
    await layout.writeWhole(markerPath(layout.root, identity), markerBytes(marker));
    const bytes = files.reduce((sum, file) => sum + file.size, 0);
    report({ event: 'done', resource, files: files.length, bytes });
    return { outcome: 'downloaded', files: files.length, bytes };
  } finally {
    await layout.close();
  }
}

function describeMarked(marker: CacheMarker): string {
  const resource = marker.resource;
  const type = typeof resource.type === 'string' ? resource.type : 'unknown';
  return `${type} ${JSON.stringify(Object.fromEntries(Object.entries(resource).filter(([key, value]) => key !== 'type' && value !== null)))}`;
}

async function planFor(spec: DownloadSpec, options: DownloadOptions): Promise<Plan> {
  const settings = { ...DEFAULT_FETCH_SETTINGS, ...options.settings };
  switch (spec.type) {
    case 'S3': {
      const credentials = s3CredentialsFromEnv(options.env);
      const files = await planS3(spec, {
        settings,
        ...(credentials === undefined ? {} : { credentials }),
        ...(options.now === undefined ? {} : { now: options.now }),
      });
      return { files, lastly: [] };
    }
    case 'HF': {
      const token = options.env.HF_TOKEN ?? '';
      const files = await planHuggingFace(spec, { endpoint: hfEndpointFromEnv(options.env), settings, ...(token === '' ? {} : { token }) });
      return { files, lastly: [] };
    }
    case 'Ollama': {
      const configured = options.ollamaRegistry ?? options.env[OLLAMA_REGISTRY_ENV] ?? '';
      const registry =
        configured === ''
          ? undefined
          : checkedRegistry(configured, options.ollamaRegistry === undefined ? OLLAMA_REGISTRY_ENV : '--ollama-registry');
      return planOllama(spec, { settings, ...(registry === undefined ? {} : { registry }) });
    }
  }
}

/** Fetches every planned file, `concurrency` at a time; the first failure stops the others. */
async function fetchAll(
  layout: CacheLayout,
  files: readonly FileToFetch[],
  options: DownloadOptions,
  resource: string,
  report: (event: ProgressEvent) => void,
): Promise<{ path: string; size: number }[]> {
  const stop = new AbortController();
  const signal = options.settings?.signal === undefined ? stop.signal : AbortSignal.any([options.settings.signal, stop.signal]);
  const settings: FetchSettings = { ...DEFAULT_FETCH_SETTINGS, ...options.settings, signal };
  const totalBytes = files.reduce((sum, file) => sum + (file.size ?? 0), 0);
  const done: { path: string; size: number }[] = [];
  let doneBytes = 0;
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < files.length) {
      const file = files[next++] as FileToFetch;
      try {
        const fetched = await fetchFile(layout, file, settings);
        done.push({ path: fetched.path, size: fetched.bytes });
        doneBytes += fetched.bytes;
        report({
          event: 'status',
          resource,
          file: fetched.path,
          bytes: fetched.bytes,
          present: fetched.present,
          count: { current: done.length, total: files.length },
          size: { current: doneBytes, total: Math.max(totalBytes, doneBytes) },
        });
      } catch (error) {
        failure ??= { error };
        stop.abort();
      }
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? DEFAULT_CONCURRENCY, files.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (failure !== undefined) throw failure.error;
  return done.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
