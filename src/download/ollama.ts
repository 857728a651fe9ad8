// The Ollama source: a model pulled from its registry (an OCI-style distribution API) and laid
// out the way Ollama's models directory holds it, so `ollama serve` with OLLAMA_MODELS (or
// ~/.ollama/models, the resource's default target) finds it without pulling:
//
//   manifests/<host>/<namespace>/<model>/<tag>    the manifest, byte for byte as served
//   blobs/sha256-<hex>                            the config and every layer
//
// A model name reads as Ollama reads it: [<host>/][<namespace>/]<model>[:<tag>], with host
// registry.ollama.ai, namespace "library" and tag "latest" when left out. The manifest path keeps
// the model's own host even when the bytes come from elsewhere (a mirror, a test registry): that
// path is how Ollama looks the model up. Every blob is checked against its sha256 digest, and the
// manifest is written last, so a manifest on disk means its blobs are there.
import { z } from 'zod';
import { DownloadError } from './errors.ts';
import { fetchBytes, httpUrl } from './fetch-retry.ts';
import type { FetchSettings } from './fetch-retry.ts';
import type { FileToFetch } from './file-fetch.ts';
import type { OllamaDownloadSpec } from './resource-spec.ts';

export const DEFAULT_OLLAMA_HOST = 'registry.ollama.ai';
export const DEFAULT_OLLAMA_NAMESPACE = 'library';
export const DEFAULT_OLLAMA_TAG = 'latest';
/** The manifest media type Ollama's registry serves and Ollama asks for. */
export const OLLAMA_MANIFEST_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$/;
const NAME_PART = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^sha256:([0-9a-f]{64})$/;

const descriptorSchema = z.object({ digest: z.string().regex(DIGEST), size: z.int().min(0) });
const manifestSchema = z.object({ config: descriptorSchema, layers: z.array(descriptorSchema) });

export interface OllamaModelName {
  host: string;
  namespace: string;
  model: string;
  tag: string;
}

export interface OllamaContext {
  /** Where manifests and blobs are fetched from; default https://<the model's host>. */
  registry?: string;
  settings: FetchSettings;
}

/** A file whose bytes are already known, written after every fetched file is in place. */
export interface FileToWrite {
  path: string;
  bytes: Uint8Array;
}

/** `name` split as Ollama splits it, defaults filled in; a refusal says which part is wrong. */
export function parseOllamaModel(name: string): OllamaModelName {
  const refuse = (why: string): never => {
    throw new DownloadError(`model ${JSON.stringify(name)} is refused: ${why}`);
  };
  if (name.includes('@')) refuse('a digest reference is not supported; name a tag');
  const parts = name.split('/');
  if (parts.length > 3) refuse('expected [host/][namespace/]model[:tag]');
  const last = parts.pop() ?? '';
  const colon = last.indexOf(':');
  const model = colon === -1 ? last : last.slice(0, colon);
  const tag = colon === -1 ? DEFAULT_OLLAMA_TAG : last.slice(colon + 1);
  const namespace = parts.pop() ?? DEFAULT_OLLAMA_NAMESPACE;
  const host = parts.pop() ?? DEFAULT_OLLAMA_HOST;
  if (!HOST.test(host)) refuse(`${JSON.stringify(host)} is not a registry host`);
  for (const [label, part] of [
    ['namespace', namespace],
    ['model', model],
    ['tag', tag],
  ] as const) {
    if (!NAME_PART.test(part)) refuse(`${JSON.stringify(part)} is not a valid ${label}`);
  }
  return { host, namespace, model, tag };
}

/** The registry override (flag or environment), checked to be an http(s) base URL. */
export function checkedRegistry(registry: string, what: string): string {
  const url = httpUrl(registry, what);
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new DownloadError(`${what} must be a plain base URL, without credentials, query or fragment`);
  }
  return url.href.replace(/\/+$/, '');
}

function rangeFrom(fromByte: number | undefined): Record<string, string> {
  return fromByte === undefined ? {} : { range: `bytes=${fromByte}-` };
}

/** The blobs to fetch and the manifest to write last. */
export async function planOllama(
  spec: OllamaDownloadSpec,
  context: OllamaContext,
): Promise<{ files: FileToFetch[]; lastly: FileToWrite[] }> {
  const name = parseOllamaModel(spec.model);
  const registry = context.registry ?? `https://${name.host}`;
  const repository = `${registry}/v2/${name.namespace}/${name.model}`;
  const what = `manifest of ${spec.model}`;
  const { bytes } = await fetchBytes(
    () => ({ url: `${repository}/manifests/${name.tag}`, headers: { accept: OLLAMA_MANIFEST_MEDIA_TYPE } }),
    what,
    context.settings,
    MAX_MANIFEST_BYTES,
  );
  let manifest;
  try {
    manifest = manifestSchema.safeParse(JSON.parse(bytes.toString('utf8')));
  } catch {
    throw new DownloadError(`${what}: not JSON`);
  }
  if (!manifest.success) throw new DownloadError(`${what}: not a manifest with a config and layers named by sha256 digests`);
  const blobs = new Map<string, number>();
  for (const descriptor of [manifest.data.config, ...manifest.data.layers]) blobs.set(descriptor.digest, descriptor.size);
  const files = [...blobs].map(([digest, size]): FileToFetch => {
    const hex = DIGEST.exec(digest)?.[1] ?? '';
    return {
      path: `blobs/sha256-${hex}`,
      size,
      digest: { algorithm: 'sha256', hex },
      request: (fromByte) => ({
        url: `${repository}/blobs/${digest}`,
        headers: rangeFrom(fromByte),
      }),
    };
  });
  return { files, lastly: [{ path: `manifests/${name.host}/${name.namespace}/${name.model}/${name.tag}`, bytes }] };
}
