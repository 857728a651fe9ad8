// The S3 source: which bucket and prefix each shape of an S3 resource names, the listing of that
// prefix (ListObjectsV2, page after page), and one planned file per object.
//
// How a URL addresses a bucket (Nosana's node hands the URL to its helper image unchanged):
// - `url` alone, and every `buckets[].url`: the URL's origin is the bucket (a virtual-hosted
//   endpoint, or a domain in front of one such as https://models.nosana.io) and its path is the
//   prefix.
// - `url` with `bucket`: an S3-compatible endpoint. When the path starts with the bucket's name,
//   the URL is path-style (https://<account>.r2.cloudflarestorage.com/<bucket>/<prefix>); when the
//   host starts with "<bucket>." it is virtual-hosted; otherwise the bucket is put in the path.
// - `bucket` alone: the bucket on AWS, https://s3.<AWS_REGION or us-east-1>.amazonaws.com/<bucket>.
// When both `url` and `buckets` are given, all of them are downloaded (Nosana's node takes `url`
// and ignores `buckets`; the files it would mount are all there).
//
// A prefix is a directory: "flux/schnell" downloads the objects under "flux/schnell/", to paths
// relative to it, and not "flux/schnell-fp8/…". A prefix that is itself an object is that one
// file, under its last name. Keys ending in "/" are folder placeholders and are skipped. `files`
// keeps the objects at those relative paths, or under them when an entry is a directory, and an
// entry that matches nothing is an error (the job would start without a file it asked for).
//
// With IAM credentials in the environment every request is signed (sigv4.ts); without, requests
// are anonymous, as for Nosana's public model bucket.
import { DownloadError } from './errors.ts';
import { fetchBytes, httpUrl } from './fetch-retry.ts';
import type { FetchSettings, HttpRequest } from './fetch-retry.ts';
import type { FileToFetch } from './file-fetch.ts';
import { rewriteLegacyUrl } from './resource-spec.ts';
import type { S3DownloadSpec } from './resource-spec.ts';
import { checkedRelativePath } from './safe-path.ts';
import { parseListObjectsV2 } from './s3-listing.ts';
import { signRequest, uriEncode } from './sigv4.ts';
import type { AwsCredentials } from './sigv4.ts';

/** The region SigV4 uses when AWS_REGION is empty (R2 and MinIO accept it too). */
export const DEFAULT_AWS_REGION = 'us-east-1';
/** One listing page is 1000 keys of XML; far less than this. */
const MAX_LISTING_PAGE_BYTES = 16 * 1024 * 1024;
/** 10 million objects: a resource is a model, not a data lake, and a listing must end. */
const MAX_LISTING_PAGES = 10_000;
const BUCKET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

/** One place to list: a bucket, a prefix in it, and the `files` wanted there. */
export interface S3Location {
  /** The bucket's address: an origin (virtual-hosted), or origin + "/<bucket>" (path-style). */
  bucketUrl: string;
  pathStyle: boolean;
  /** The directory within the bucket, without leading or trailing "/" ("" for all of it). */
  prefix: string;
  files?: string[];
  /** The URL as the definition gave it (legacy form rewritten), for messages. */
  source: string;
}

export interface S3Context {
  credentials?: AwsCredentials;
  settings: FetchSettings;
  now?: () => Date;
}

/** The IAM credentials in the environment, undefined when there are none; half a set is an error. */
export function s3CredentialsFromEnv(env: Readonly<Record<string, string | undefined>>): AwsCredentials | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID ?? '';
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY ?? '';
  if (accessKeyId === '' && secretAccessKey === '') return undefined;
  if (accessKeyId === '' || secretAccessKey === '') {
    throw new DownloadError(
      `AWS_${accessKeyId === '' ? 'ACCESS_KEY_ID' : 'SECRET_ACCESS_KEY'} is empty while the other S3 credential is set`,
    );
  }
  const region = env.AWS_REGION ?? '';
  return { accessKeyId, secretAccessKey, region: region === '' ? DEFAULT_AWS_REGION : region };
}

/** Where each shape of the resource points (see the file header); refusals name the URL. */
export function s3Locations(spec: S3DownloadSpec, region: string = DEFAULT_AWS_REGION): S3Location[] {
  const locations: S3Location[] = [];
  if (spec.url !== undefined) locations.push(locate(spec.url, spec.bucket, spec.files));
  else if (spec.bucket !== undefined) {
    locations.push(locate(`https://s3.${region}.amazonaws.com/${uriEncode(checkedBucket(spec.bucket))}`, spec.bucket, undefined));
  }
  for (const bucket of spec.buckets ?? []) locations.push(locate(bucket.url, undefined, bucket.files));
  if (locations.length === 0) throw new DownloadError('an S3 resource needs "url", "bucket" or "buckets"');
  return locations;
}

function checkedBucket(bucket: string): string {
  if (!BUCKET_NAME.test(bucket)) throw new DownloadError(`bucket ${JSON.stringify(bucket)} is not a bucket name`);
  return bucket;
}

function locate(rawUrl: string, bucket: string | undefined, files: string[] | undefined): S3Location {
  const source = rewriteLegacyUrl(rawUrl);
  const what = `S3 url ${JSON.stringify(source)}`;
  const url = httpUrl(source, what);
  if (url.username !== '' || url.password !== '') throw new DownloadError(`${what}: credentials in a URL are refused (use IAM)`);
  if (url.search !== '' || url.hash !== '') throw new DownloadError(`${what}: a query or fragment has no meaning for a bucket prefix`);
  let segments: string[];
  try {
    segments = url.pathname
      .split('/')
      .filter((segment) => segment !== '')
      .map((segment) => decodeURIComponent(segment));
  } catch {
    throw new DownloadError(`${what}: its path has a malformed %-escape`);
  }
  const withFiles = files === undefined ? {} : { files };
  if (bucket === undefined) return { bucketUrl: url.origin, pathStyle: false, prefix: segments.join('/'), source, ...withFiles };
  checkedBucket(bucket);
  if (segments[0] === bucket) {
    return { bucketUrl: `${url.origin}/${uriEncode(bucket)}`, pathStyle: true, prefix: segments.slice(1).join('/'), source, ...withFiles };
  }
  if (url.hostname.startsWith(`${bucket.toLowerCase()}.`)) {
    return { bucketUrl: url.origin, pathStyle: false, prefix: segments.join('/'), source, ...withFiles };
  }
  return { bucketUrl: `${url.origin}/${uriEncode(bucket)}`, pathStyle: true, prefix: segments.join('/'), source, ...withFiles };
}

/** A request, signed when there are credentials. */
function s3Request(url: string, headers: Record<string, string>, context: S3Context): HttpRequest {
  if (context.credentials === undefined) return { url, headers };
  const now = context.now?.() ?? new Date();
  return { url, headers: signRequest({ method: 'GET', url: new URL(url), headers, now }, context.credentials) };
}

/** Every object under the location's prefix, following continuation tokens to the last page. */
export async function listLocation(location: S3Location, context: S3Context): Promise<{ key: string; size: number }[]> {
  const objects: { key: string; size: number }[] = [];
  const seenTokens = new Set<string>();
  let token: string | undefined;
  for (let page = 1; ; page++) {
    if (page > MAX_LISTING_PAGES) throw new DownloadError(`listing ${location.source}: more than ${MAX_LISTING_PAGES} pages`);
    const query = `list-type=2&prefix=${uriEncode(location.prefix)}${token === undefined ? '' : `&continuation-token=${uriEncode(token)}`}`;
    const listUrl = `${location.bucketUrl}${location.pathStyle ? '' : '/'}?${query}`;
    const what = `listing ${location.source} (page ${page})`;
    const { bytes } = await fetchBytes(() => s3Request(listUrl, {}, context), what, context.settings, MAX_LISTING_PAGE_BYTES);
    const listed = parseListObjectsV2(bytes.toString('utf8'), what);
    objects.push(...listed.objects);
    token = listed.nextContinuationToken;
    if (token === undefined) return objects;
    if (seenTokens.has(token)) throw new DownloadError(`${what}: the listing repeats a continuation token`);
    seenTokens.add(token);
  }
}

/** The path of a listed key relative to the location's prefix, or undefined when it is not under it. */
export function relativeKey(prefix: string, key: string): string | undefined {
  if (prefix === '') return key;
  if (key === prefix) return prefix.slice(prefix.lastIndexOf('/') + 1);
  return key.startsWith(`${prefix}/`) ? key.slice(prefix.length + 1) : undefined;
}

/** The files of an S3 resource: every location listed, filtered, and checked. */
export async function planS3(spec: S3DownloadSpec, context: S3Context): Promise<FileToFetch[]> {
  const planned = new Map<string, FileToFetch>();
  for (const location of s3Locations(spec, context.credentials?.region)) {
    const wanted = location.files?.map((entry) => checkedRelativePath(entry.replace(/\/+$/, ''), `files entry of ${location.source}`));
    const matched = new Set<string>();
    for (const object of await listLocation(location, context)) {
      const relative = relativeKey(location.prefix, object.key);
      if (relative === undefined || relative === '' || relative.endsWith('/')) continue;
      if (wanted !== undefined) {
        const entry = wanted.find((file) => relative === file || relative.startsWith(`${file}/`));
        if (entry === undefined) continue;
        matched.add(entry);
      }
      // Only keys that would be written are judged: an odd key elsewhere in the bucket is not ours.
      checkedRelativePath(relative, `key of ${location.source}`);
      const objectUrl = `${location.bucketUrl}/${uriEncode(object.key, true)}`;
      // A later location's file of the same path replaces an earlier one, as a later copy would.
      planned.set(relative, {
        path: relative,
        size: object.size,
        request: (fromByte) => s3Request(objectUrl, fromByte === undefined ? {} : { range: `bytes=${fromByte}-` }, context),
      });
    }
    const missing = wanted?.filter((entry) => !matched.has(entry)) ?? [];
    if (missing.length > 0)
      throw new DownloadError(`${location.source}: no object at ${missing.map((entry) => JSON.stringify(entry)).join(', ')}`);
  }
  if (planned.size === 0) throw new DownloadError("no objects under the resource's URL: check the URL and that the bucket allows listing");
  return [...planned.values()];
}
