// The names of every object the executor creates, derived from the job id and the op alone, so a
// runner that restarts finds its objects again by computing their names (level-based reconcile).
//
// A job id is a base58 Solana address (mixed case, so never a valid object name as it stands) or,
// for `run`, any string. Names therefore start from a hash of the id, the job's stem:
//
//   nos-<first 16 hex digits of sha256(jobId)>
//
// 16 hex digits (64 bits) rather than fewer because job ids are chosen by strangers: with 40 bits
// a poster could grind keypairs until one's stem equals a running job's, and take its names (a
// GPU vanity-address generator gets there in hours); 64 bits puts that out of reach. Everything a
// job owns is `<stem>-<suffix>`, and the suffixes never overlap between kinds of the same object:
//
//   Pod, Service of op i              <stem>-<i>
//   Ingress / HTTPRoute of op i port  <stem>-<i>-<port>
//   job volume (create-volume)        <stem>-vol-<name>      when the name is a DNS label that fits
//                                     <stem>-volh-<10 hex of sha256(name)>   otherwise
//   private copy of a resource        <stem>-res-<i>-<resource index>        (S3 allowWrite)
//   registry pull Secret of op i      <stem>-pull-<i>
//   resource credential Secret        <stem>-cred-<i>-<resource index>
//   GPU ResourceClaim (DRA)           <stem>-gpu
//   NetworkPolicy                     <stem>
//   run ConfigMap                     <stem>-run
//
// The volume rule keeps Nosana's `<job>-<name>` readable in `kubectl get pvc` when it can. It is
// injective: a readable name only ever maps to itself, and `vol-` and `volh-` differ at their
// fourth character, so a volume called "h-…" cannot meet a hashed one.
//
// Resource caches outlive jobs and are shared between them: `nos-cache-<40 hex>` over the
// resource's identity (what is downloaded) AND a fingerprint of the credential that downloaded it
// (sha256 of the credential, never the credential itself). A private model fetched with a token is
// then only ever mounted by a job that presents the same token. 160 bits, because a collision here
// would hand one job's private cache to another.
//
// Every name is at most 63 characters: a DNS label, valid for Services, Pods (as hostnames) and
// label values alike.
import { createHash } from 'node:crypto';
import type { Resource } from '../api/job-definition/index.ts';

const STEM_HEX_DIGITS = 16;
const VOLUME_HASH_HEX_DIGITS = 10;
const CACHE_HASH_HEX_DIGITS = 40;
export const MAX_NAME_LENGTH = 63;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A DNS-1123 label: lowercase alphanumerics and '-', alphanumeric at both ends, ≤ 63 characters. */
export function isDnsLabel(text: string): boolean {
  return text.length <= MAX_NAME_LENGTH && DNS_LABEL.test(text);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** `nos-<16 hex>`: the prefix of every name a job owns. */
export function jobStem(jobId: string): string {
  return `nos-${sha256Hex(jobId).slice(0, STEM_HEX_DIGITS)}`;
}

/** The op's Pod, and the Service in front of its exposed ports (same name: one resolves to the other). */
export function opPodName(jobId: string, opIndex: number): string {
  return `${jobStem(jobId)}-${opIndex}`;
}

export function opServiceName(jobId: string, opIndex: number): string {
  return opPodName(jobId, opIndex);
}

/** The Ingress or HTTPRoute that publishes one exposed port. */
export function exposureRouteName(jobId: string, opIndex: number, port: number): string {
  return `${jobStem(jobId)}-${opIndex}-${port}`;
}

/** The PVC of a job volume (`container/create-volume` or `args.volumes`), readable when it can be. */
export function jobVolumeClaimName(jobId: string, volumeName: string): string {
  const stem = jobStem(jobId);
  const readable = `${stem}-vol-${volumeName}`;
  if (isDnsLabel(volumeName) && readable.length <= MAX_NAME_LENGTH) return readable;
  return `${stem}-volh-${sha256Hex(volumeName).slice(0, VOLUME_HASH_HEX_DIGITS)}`;
}

/** The job's own writable copy of a resource (S3 `allowWrite`), never shared with the cache. */
export function privateResourceClaimName(jobId: string, opIndex: number, resourceIndex: number): string {
  return `${jobStem(jobId)}-res-${opIndex}-${resourceIndex}`;
}

export function pullSecretName(jobId: string, opIndex: number): string {
  return `${jobStem(jobId)}-pull-${opIndex}`;
}

export function resourceCredentialSecretName(jobId: string, opIndex: number, resourceIndex: number): string {
  return `${jobStem(jobId)}-cred-${opIndex}-${resourceIndex}`;
}

/** DRA mode: the one claim all GPU Pods of the job share. */
export function resourceClaimName(jobId: string): string {
  return `${jobStem(jobId)}-gpu`;
}

export function networkPolicyName(jobId: string): string {
  return jobStem(jobId);
}

export function runConfigMapName(jobId: string): string {
  return `${jobStem(jobId)}-run`;
}

// ---------------------------------------------------------------------------------------------
// Resource caches

/** The mount path a resource gets when it names none (only Ollama may omit it; NODE.md §1.6). */
export const OLLAMA_DEFAULT_TARGET = '/root/.ollama/models';

/**
 * What a resource downloads, without where it is mounted, whether it is writable, or the
 * credential: two resources with the same identity fill a cache with the same files. A revision
 * the definition leaves out is the default branch the downloader fetches ("main").
 */
export function resourceIdentity(resource: Resource): Record<string, unknown> {
  switch (resource.type) {
    case 'S3':
      return {
        type: 'S3',
        url: resource.url ?? null,
        files: resource.files ?? null,
        bucket: resource.bucket ?? null,
        buckets: resource.buckets?.map((bucket) => ({ url: bucket.url, files: bucket.files ?? null })) ?? null,
      };
    case 'HF':
      return { type: 'HF', repo: resource.repo, revision: resource.revision ?? 'main', files: resource.files ?? null };
    case 'Ollama':
      return { type: 'Ollama', model: resource.model };
  }
}

/**
 * sha256 of the credential a resource is fetched with, or undefined for a public one. Only this
 * digest reaches names and labels; the credential goes into a Secret (build-secret.ts).
 */
export function credentialFingerprint(resource: Resource): string | undefined {
  if (resource.type === 'S3' && resource.IAM !== undefined) {
    const { REGION, ACCESS_KEY_ID, SECRET_ACCESS_KEY } = resource.IAM;
    return sha256Hex(JSON.stringify(['S3', REGION, ACCESS_KEY_ID, SECRET_ACCESS_KEY]));
  }
  if (resource.type === 'HF' && resource.accessToken !== undefined) return sha256Hex(JSON.stringify(['HF', resource.accessToken]));
  return undefined;
}

/** The shared cache PVC of a resource: same identity and same credential ⇒ same cache. */
export function resourceCacheClaimName(resource: Resource): string {
  const key = JSON.stringify({ identity: resourceIdentity(resource), credential: credentialFingerprint(resource) ?? null });
  return `nos-cache-${sha256Hex(key).slice(0, CACHE_HASH_HEX_DIGITS)}`;
}
