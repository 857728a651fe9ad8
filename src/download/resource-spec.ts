// What `download` is asked to fetch: the resource of a job definition without its mount path,
// write flag and credential (the executor's downloadSpec), checked against the definition's own
// schema, and the facts Nosana's node adds to it:
// - a legacy `s3://nos-ai-models-qllsn32u/…` URL is Nosana's model bucket, now served at
//   https://models.nosana.io/…;
// - a Hugging Face revision left out is "main".
// Its identity (what the files in the cache are) is what the cache marker records.
import type { HuggingFaceResource, OllamaResource, S3Resource } from '../api/job-definition/index.ts';
import { resourceSchema } from '../api/job-definition/schema.ts';
import { redactSecrets } from '../http/redact.ts';

export type S3DownloadSpec = Omit<S3Resource, 'target' | 'allowWrite' | 'IAM'>;
export type HuggingFaceDownloadSpec = Omit<HuggingFaceResource, 'target' | 'accessToken'>;
export type OllamaDownloadSpec = Omit<OllamaResource, 'target'>;
export type DownloadSpec = S3DownloadSpec | HuggingFaceDownloadSpec | OllamaDownloadSpec;
export type ResourceType = DownloadSpec['type'];

export const RESOURCE_TYPES: readonly ResourceType[] = ['S3', 'HF', 'Ollama'];

const LEGACY_NOSANA_BUCKET = 's3://nos-ai-models-qllsn32u';
const NOSANA_MODELS_URL = 'https://models.nosana.io';
export const DEFAULT_HF_REVISION = 'main';

// Keys the executor leaves out of the spec, and why a spec that has them is refused.
const FOREIGN_KEYS: Record<string, string> = {
  target: 'the mount path is not part of what is downloaded',
  allowWrite: 'the write flag is not part of what is downloaded',
  IAM: 'credentials come from the environment (AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), never from the command line',
  accessToken: 'the token comes from the environment (HF_TOKEN), never from the command line',
};
// Stands in for the mount path so the definition's schema (which requires one) can check the rest.
const PLACEHOLDER_TARGET = '/';

/** The spec in `json` for a resource of `type`, or what is wrong with it. */
export function parseDownloadSpec(type: string, json: string): DownloadSpec | { problem: string } {
  if (!(RESOURCE_TYPES as readonly string[]).includes(type))
    return { problem: `unknown resource type ${JSON.stringify(type)} (S3, HF or Ollama)` };
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return { problem: `--resource is not JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: '--resource must be a JSON object' };
  const given = value as Record<string, unknown>;
  if (given.type !== type) return { problem: `--resource has type ${JSON.stringify(given.type ?? null)}, the command says ${type}` };
  for (const [key, why] of Object.entries(FOREIGN_KEYS)) {
    if (Object.hasOwn(given, key)) return { problem: `--resource must not have "${key}": ${why}` };
  }
  const parsed = resourceSchema.safeParse({ ...given, target: PLACEHOLDER_TARGET });
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (issue) =>
        `resource${issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('')}: ${issue.message}`,
    );
    return { problem: issues.join('; ') };
  }
  const { target: _target, ...spec } = parsed.data;
  return spec;
}

/** A legacy URL of Nosana's model bucket as its https address; any other URL as it is. */
export function rewriteLegacyUrl(url: string): string {
  if (url === LEGACY_NOSANA_BUCKET || url.startsWith(`${LEGACY_NOSANA_BUCKET}/`))
    return NOSANA_MODELS_URL + url.slice(LEGACY_NOSANA_BUCKET.length);
  return url;
}

/** What the files of a download are, with the defaults applied: the cache marker's record. */
export function downloadIdentity(spec: DownloadSpec): Record<string, unknown> {
  switch (spec.type) {
    case 'S3':
      return {
        type: 'S3',
        url: spec.url === undefined ? null : rewriteLegacyUrl(spec.url),
        files: spec.files ?? null,
        bucket: spec.bucket ?? null,
        buckets: spec.buckets?.map((bucket) => ({ url: rewriteLegacyUrl(bucket.url), files: bucket.files ?? null })) ?? null,
      };
    case 'HF':
      return { type: 'HF', repo: spec.repo, revision: spec.revision ?? DEFAULT_HF_REVISION, files: spec.files ?? null };
    case 'Ollama':
      return { type: 'Ollama', model: spec.model };
  }
}

/** The resource in a few words, for messages: "S3 https://…", "HF org/model@main", "Ollama llama3:8b". */
export function describeResource(spec: DownloadSpec): string {
  switch (spec.type) {
    case 'S3': {
      const urls = [spec.url, ...(spec.buckets ?? []).map((bucket) => bucket.url)].filter((url) => url !== undefined);
      const where = urls.length > 0 ? urls.map(rewriteLegacyUrl).join(', ') : `bucket ${spec.bucket ?? '?'}`;
      return redactSecrets(`S3 ${where}`);
    }
    case 'HF':
      return `HF ${spec.repo}@${spec.revision ?? DEFAULT_HF_REVISION}`;
    case 'Ollama':
      return `Ollama ${spec.model}`;
  }
}

/** `value` as JSON with object keys sorted at every level: equal identities give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    typeof inner === 'object' && inner !== null && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}
