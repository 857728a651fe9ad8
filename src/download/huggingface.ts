// The Hugging Face source, through the Hub's HTTP API as its own client library uses it: the
// repository's tree at the revision (recursive, page after page through the Link header), then
// each file from its resolve URL, which usually redirects to a CDN. Files land at their paths in
// the repository, as `huggingface-cli download --local-dir` lays them out.
//
// - The endpoint is HF_ENDPOINT when set (a mirror), else https://huggingface.co.
// - HF_TOKEN, when set, is sent as a Bearer token to the endpoint only: a next-page link to another
//   origin is refused, and fetch-retry.ts drops the header when a file redirect leaves the origin.
// - Every file is checked against the tree: its size, and its sha256 (files in LFS) or its git
//   blob id (the others).
// - `files` keeps the files at those paths, or under them when an entry is a directory; an entry
//   that matches nothing is an error.
import { z } from 'zod';
import { DownloadError } from './errors.ts';
import { fetchBytes, httpUrl } from './fetch-retry.ts';
import type { FetchSettings } from './fetch-retry.ts';
import type { FileDigest, FileToFetch } from './file-fetch.ts';
import { DEFAULT_HF_REVISION } from './resource-spec.ts';
import type { HuggingFaceDownloadSpec } from './resource-spec.ts';
import { checkedRelativePath } from './safe-path.ts';

export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';
const MAX_TREE_PAGE_BYTES = 32 * 1024 * 1024;
const MAX_TREE_PAGES = 10_000;
// The Hub's repository ids: "name" or "namespace/name", each part starting with a letter or digit.
const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const GIT_OID_HEX = /^[0-9a-f]{40}$/;

const treeEntrySchema = z.object({
  type: z.string(),
  path: z.string(),
  size: z.int().min(0).optional(),
  oid: z.string().optional(),
  lfs: z.object({ oid: z.string(), size: z.int().min(0).optional() }).nullish(),
});
const treePageSchema = z.array(treeEntrySchema);
type TreeEntry = z.output<typeof treeEntrySchema>;

export interface HuggingFaceContext {
  /** The Hub's base URL, without a trailing "/". */
  endpoint: string;
  token?: string;
  settings: FetchSettings;
}

/** HF_ENDPOINT when set (checked to be an http(s) URL), else the public Hub. */
export function hfEndpointFromEnv(env: Readonly<Record<string, string | undefined>>): string {
  const configured = env.HF_ENDPOINT ?? '';
  if (configured === '') return DEFAULT_HF_ENDPOINT;
  const url = httpUrl(configured, 'HF_ENDPOINT');
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new DownloadError('HF_ENDPOINT must be a plain base URL, without credentials, query or fragment');
  }
  return url.href.replace(/\/+$/, '');
}

function encodedPath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

function authorization(context: HuggingFaceContext): Record<string, string> {
  return context.token === undefined ? {} : { authorization: `Bearer ${context.token}` };
}

/** The `rel="next"` target of a Link header, if any. */
export function nextLink(header: string | null): string | undefined {
  if (header === null) return undefined;
  for (const link of header.split(',')) {
    const match = /^\s*<([^>]*)>\s*;(?:.*;)?\s*rel="?next"?\s*(?:;.*)?$/.exec(link);
    if (match !== null) return match[1];
  }
  return undefined;
}

/** Every entry of the repository's tree at the revision. */
async function listTree(repo: string, revision: string, context: HuggingFaceContext): Promise<TreeEntry[]> {
  const endpointOrigin = new URL(context.endpoint).origin;
  let pageUrl = `${context.endpoint}/api/models/${encodedPath(repo)}/tree/${encodeURIComponent(revision)}?recursive=true`;
  const entries: TreeEntry[] = [];
  for (let page = 1; ; page++) {
    if (page > MAX_TREE_PAGES) throw new DownloadError(`listing ${repo}@${revision}: more than ${MAX_TREE_PAGES} pages`);
    const what = `listing ${repo}@${revision} (page ${page})`;
    const current = pageUrl;
    let answer;
    try {
      answer = await fetchBytes(() => ({ url: current, headers: authorization(context) }), what, context.settings, MAX_TREE_PAGE_BYTES);
    } catch (error) {
      if (error instanceof DownloadError && (error.status === 401 || error.status === 403) && context.token === undefined) {
        throw new DownloadError(`${error.message} (a private or gated repository needs an accessToken)`, { status: error.status });
      }
      throw error;
    }
    let parsed;
    try {
      parsed = treePageSchema.safeParse(JSON.parse(answer.bytes.toString('utf8')));
    } catch {
      throw new DownloadError(`${what}: the answer is not JSON`);
    }
    if (!parsed.success) throw new DownloadError(`${what}: the answer is not a list of tree entries`);
    entries.push(...parsed.data);
    const next = nextLink(answer.headers.get('link'));
    if (next === undefined) return entries;
    const nextUrl = new URL(next, current);
    // The token goes to the Hub only; a page elsewhere is not a page of this tree.
    if (nextUrl.origin !== endpointOrigin) throw new DownloadError(`${what}: the next page is on another origin (${nextUrl.origin})`);
    pageUrl = nextUrl.href;
  }
}

function digestOf(entry: TreeEntry): FileDigest | undefined {
  if (entry.lfs?.oid !== undefined && SHA256_HEX.test(entry.lfs.oid)) return { algorithm: 'sha256', hex: entry.lfs.oid };
  if (entry.lfs == null && entry.oid !== undefined && GIT_OID_HEX.test(entry.oid)) return { algorithm: 'git-blob-sha1', hex: entry.oid };
  return undefined;
}

/** The files of a Hugging Face resource. */
export async function planHuggingFace(spec: HuggingFaceDownloadSpec, context: HuggingFaceContext): Promise<FileToFetch[]> {
  if (!REPO_ID.test(spec.repo)) throw new DownloadError(`repo ${JSON.stringify(spec.repo)} is not a Hugging Face repository id`);
  const revision = spec.revision ?? DEFAULT_HF_REVISION;
  if (revision === '') throw new DownloadError('revision is empty');
  const wanted = spec.files?.map((entry) => checkedRelativePath(entry.replace(/\/+$/, ''), 'files entry'));
  const matched = new Set<string>();
  const planned: FileToFetch[] = [];
  for (const entry of await listTree(spec.repo, revision, context)) {
    if (entry.type !== 'file') continue;
    checkedRelativePath(entry.path, `path in ${spec.repo}@${revision}`);
    if (wanted !== undefined) {
      const match = wanted.find((file) => entry.path === file || entry.path.startsWith(`${file}/`));
      if (match === undefined) continue;
      matched.add(match);
    }
    const size = entry.lfs?.size ?? entry.size;
    const digest = digestOf(entry);
    const fileUrl = `${context.endpoint}/${encodedPath(spec.repo)}/resolve/${encodeURIComponent(revision)}/${encodedPath(entry.path)}`;
    planned.push({
      path: entry.path,
      ...(size === undefined ? {} : { size }),
      ...(digest === undefined ? {} : { digest }),
      request: (fromByte) => ({
        url: fileUrl,
        headers: { ...authorization(context), ...(fromByte === undefined ? {} : { range: `bytes=${fromByte}-` }) },
      }),
    });
  }
  const missing = wanted?.filter((entry) => !matched.has(entry)) ?? [];
  if (missing.length > 0) {
    throw new DownloadError(`${spec.repo}@${revision} has no ${missing.map((entry) => JSON.stringify(entry)).join(', ')}`);
  }
  if (planned.length === 0) throw new DownloadError(`${spec.repo}@${revision} has no files`);
  return planned;
}
