// Loopback stand-ins for the three sources the downloader talks to, each written from the public
// description of its API (not from the downloader's code): S3's ListObjectsV2 and GetObject with
// SigV4 checked by an independent verifier, the Hugging Face Hub's tree and resolve endpoints,
// and an Ollama registry's manifests and blobs. Every request is recorded, so tests can say what
// was (and was not) asked for, with which headers.
import { createHash, createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** The request target as sent: path and query, still encoded. */
  target: string;
  headers: IncomingMessage['headers'];
}

export interface Loopback {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export type Handler = (request: IncomingMessage, response: ServerResponse, url: URL) => unknown;

/** An HTTP server on 127.0.0.1 at a free port. */
export async function loopback(handler: Handler): Promise<Loopback> {
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    requests.push({ method: request.method ?? '', target: request.url ?? '', headers: request.headers });
    const url = new URL(request.url ?? '/', 'http://loopback');
    Promise.resolve(handler(request, response, url)).catch((error: unknown) => {
      response.statusCode = 500;
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sends `body`, honouring a "Range: bytes=N-" request with 206 as object stores and CDNs do. */
export function sendBytes(request: IncomingMessage, response: ServerResponse, body: Buffer): void {
  const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
  if (range !== null) {
    const start = Number(range[1]);
    response.writeHead(206, { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'content-length': body.length - start });
    response.end(body.subarray(start));
    return;
  }
  response.writeHead(200, { 'content-length': body.length });
  response.end(body);
}

export function sha256Hex(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// SigV4, verified the way AWS documents it ("Create a signed AWS API request"), step by step.

export interface TestCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

function rfc3986(text: string): string {
  // encodeURIComponent leaves !'()* alone; SigV4 encodes everything but A-Z a-z 0-9 - _ . ~
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** The signature AWS expects for a request with these parts (hex). */
export function expectedSignature(parts: {
  method: string;
  rawPath: string;
  rawQuery: string;
  headers: Record<string, string>;
  signedHeaders: string[];
  amzDate: string;
  credentials: TestCredentials;
  service: string;
}): string {
  // Step 1: the canonical request.
  const queryPairs = parts.rawQuery === '' ? [] : parts.rawQuery.split('&').map((pair) => pair.split('=') as [string, string?]);
  const canonicalQuery = queryPairs
    .map(([name, value]) => [rfc3986(decodeURIComponent(name)), rfc3986(decodeURIComponent(value ?? ''))])
    .sort((a, b) => (a[0] === b[0] ? ((a[1] ?? '') < (b[1] ?? '') ? -1 : 1) : (a[0] ?? '') < (b[0] ?? '') ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  let canonicalHeaders = '';
  for (const name of parts.signedHeaders) canonicalHeaders += `${name}:${(parts.headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`;
  const payloadHash = parts.headers['x-amz-content-sha256'] ?? sha256Hex('');
  const canonicalRequest = `${parts.method}\n${parts.rawPath}\n${canonicalQuery}\n${canonicalHeaders}\n${parts.signedHeaders.join(';')}\n${payloadHash}`;
  // Step 2: the string to sign.
  const day = parts.amzDate.slice(0, 8);
  const scope = `${day}/${parts.credentials.region}/${parts.service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${parts.amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
  // Step 3: the signing key, and the signature.
  let key: Buffer = createHmac('sha256', `AWS4${parts.credentials.secretAccessKey}`).update(day).digest();
  key = createHmac('sha256', key).update(parts.credentials.region).digest();
  key = createHmac('sha256', key).update(parts.service).digest();
  key = createHmac('sha256', key).update('aws4_request').digest();
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

/** Why a received request's signature is wrong, or undefined when it is right. */
export function signatureProblem(request: IncomingMessage, credentials: TestCredentials): string | undefined {
  const authorization = request.headers.authorization;
  if (authorization === undefined) return 'no Authorization header';
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  if (match === null) return `malformed Authorization: ${authorization}`;
  const [, keyId, , region, signedHeaderList, signature] = match as unknown as [string, string, string, string, string, string];
  if (keyId !== credentials.accessKeyId) return 'unknown access key';
  if (region !== credentials.region) return `wrong region ${region}`;
  const signedHeaders = signedHeaderList.split(';');
  if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date')) return 'host and x-amz-date must be signed';
  const target = request.url ?? '/';
  const question = target.indexOf('?');
  const headers = Object.fromEntries(signedHeaders.map((name) => [name, String(request.headers[name] ?? '')]));
  const want = expectedSignature({
    method: request.method ?? 'GET',
    rawPath: question === -1 ? target : target.slice(0, question),
    rawQuery: question === -1 ? '' : target.slice(question + 1),
    headers,
    signedHeaders,
    amzDate: headers['x-amz-date'] ?? '',
    credentials,
    service: 's3',
  });
  return want === signature ? undefined : 'SignatureDoesNotMatch';
}

// ---------------------------------------------------------------------------------------------
// S3

export interface S3Options {
  /** Objects by key. */
  objects: Record<string, Buffer | string>;
  /** Keys per listing page (S3's default is 1000). */
  pageSize?: number;
  /** When set, every request must carry a valid SigV4 signature for these credentials. */
  credentials?: TestCredentials;
  /** Path-style: the bucket is the first path segment (R2, MinIO); virtual-hosted otherwise. */
  bucket?: string;
  /** Keys the listing announces but GetObject does not serve as announced (attacker tests). */
  listedOnly?: Record<string, number>;
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export async function s3Server(options: S3Options): Promise<Loopback> {
  const objects = new Map(Object.entries(options.objects).map(([key, body]) => [key, Buffer.from(body)]));
  const pageSize = options.pageSize ?? 1000;
  return loopback((request, response, url) => {
    if (options.credentials !== undefined) {
      const problem = signatureProblem(request, options.credentials);
      if (problem !== undefined) {
        response.writeHead(403, { 'content-type': 'application/xml' });
        response.end(
          `<?xml version="1.0"?><Error><Code>${problem === 'SignatureDoesNotMatch' ? problem : 'AccessDenied'}</Code><Message>${xmlEscape(problem)}</Message></Error>`,
        );
        return;
      }
    }
    let path = (request.url ?? '/').split('?')[0] ?? '/';
    if (options.bucket !== undefined) {
      const bucketPath = `/${options.bucket}`;
      if (path !== bucketPath && !path.startsWith(`${bucketPath}/`)) {
        response.writeHead(404).end('<Error><Code>NoSuchBucket</Code></Error>');
        return;
      }
      path = path.slice(bucketPath.length) || '/';
    }
    if ((path === '/' || path === '') && url.searchParams.get('list-type') === '2') {
      const prefix = url.searchParams.get('prefix') ?? '';
      const listed = new Map<string, number>([...objects].map(([key, body]) => [key, body.length]));
      for (const [key, size] of Object.entries(options.listedOnly ?? {})) listed.set(key, size);
      const keys = [...listed.keys()].filter((key) => key.startsWith(prefix)).sort();
      const after = url.searchParams.get('continuation-token');
      const start = after === null ? 0 : keys.indexOf(Buffer.from(after, 'base64url').toString('utf8')) + 1;
      const page = keys.slice(start, start + pageSize);
      const truncated = start + pageSize < keys.length;
      const contents = page.map((key) => `<Contents><Key>${xmlEscape(key)}</Key><Size>${listed.get(key)}</Size></Contents>`).join('');
      const next = truncated
        ? `<NextContinuationToken>${Buffer.from(page.at(-1) ?? '').toString('base64url')}</NextContinuationToken>`
        : '';
      response.writeHead(200, { 'content-type': 'application/xml' });
      response.end(
        `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><IsTruncated>${truncated}</IsTruncated>${contents}${next}</ListBucketResult>`,
      );
      return;
    }
    const key = decodeURIComponent(path.slice(1));
    const body = objects.get(key);
    if (body === undefined) {
      response.writeHead(404, { 'content-type': 'application/xml' }).end('<Error><Code>NoSuchKey</Code></Error>');
      return;
    }
    sendBytes(request, response, body);
  });
}

// ---------------------------------------------------------------------------------------------
// The Hugging Face Hub

export interface HubFile {
  path: string;
  content: Buffer | string;
  /** Stored in LFS: the tree gives its sha256 (lfs.oid). */
  lfs?: boolean;
  /** What the tree announces instead of the real digest (attacker tests). */
  announcedSha256?: string;
}

export interface HubOptions {
  repo: string;
  revision: string;
  files: HubFile[];
  /** When set, the repo is private: every request needs "Authorization: Bearer <token>". */
  token?: string;
  /** Tree entries per page, chained with Link: rel="next". */
  pageSize?: number;
  /** Serve file bodies by redirecting to this base URL (a CDN) + "/<sha256>". */
  cdn?: string;
  /** The next-page link points here instead of the Hub itself (attacker tests). */
  nextPageOrigin?: string;
}

export function gitBlobSha1(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

export async function hubServer(options: HubOptions): Promise<Loopback> {
  const files = options.files.map((file) => ({ ...file, content: Buffer.from(file.content) }));
  const pageSize = options.pageSize ?? 1000;
  const treePrefix = `/api/models/${options.repo}/tree/${encodeURIComponent(options.revision)}`;
  const resolvePrefix = `/${options.repo}/resolve/${encodeURIComponent(options.revision)}/`;
  // The next-page links name the server's own address, known once it listens.
  const self: { url?: string } = {};
  const server = await loopback((request, response, url) => {
    if (options.token !== undefined && request.headers.authorization !== `Bearer ${options.token}`) {
      response.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'Invalid username or password.' }));
      return;
    }
    if (url.pathname === treePrefix) {
      if (url.searchParams.get('recursive') !== 'true') {
        response.writeHead(400).end('recursive listing expected');
        return;
      }
      const cursor = Number(url.searchParams.get('cursor') ?? '0');
      const page = files.slice(cursor, cursor + pageSize).map((file) => ({
        type: 'file',
        path: file.path,
        size: file.content.length,
        oid: file.lfs === true ? gitBlobSha1(Buffer.from(`version https://git-lfs.github.com/spec/v1\n`)) : gitBlobSha1(file.content),
        ...(file.lfs === true
          ? { lfs: { oid: file.announcedSha256 ?? sha256Hex(file.content), size: file.content.length, pointerSize: 134 } }
          : {}),
      }));
      // Directories are listed too; a client keeps only files.
      const entries = cursor === 0 ? [{ type: 'directory', path: 'unused-dir', oid: '0'.repeat(40), size: 0 }, ...page] : page;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (cursor + pageSize < files.length) {
        const origin = options.nextPageOrigin ?? self.url ?? '';
        headers.link = `<${origin}${treePrefix}?recursive=true&cursor=${cursor + pageSize}>; rel="next"`;
      }
      response.writeHead(200, headers).end(JSON.stringify(entries));
      return;
    }
    if (url.pathname.startsWith(resolvePrefix)) {
      const path = url.pathname.slice(resolvePrefix.length).split('/').map(decodeURIComponent).join('/');
      const file = files.find((candidate) => candidate.path === path);
      if (file === undefined) {
        response.writeHead(404).end(JSON.stringify({ error: 'Entry not found' }));
        return;
      }
      if (options.cdn !== undefined) {
        response.writeHead(302, { location: `${options.cdn}/${sha256Hex(file.content)}` }).end();
        return;
      }
      sendBytes(request, response, file.content);
      return;
    }
    response.writeHead(404).end(JSON.stringify({ error: 'Repository not found' }));
  });
  self.url = server.url;
  return server;
}

/** A CDN that serves content by sha256 and records who asked. */
export async function cdnServer(contents: (Buffer | string)[]): Promise<Loopback> {
  const bySha = new Map(contents.map((content) => [sha256Hex(Buffer.from(content)), Buffer.from(content)]));
  return loopback((request, response, url) => {
    const body = bySha.get(url.pathname.slice(1));
    if (body === undefined) response.writeHead(404).end();
    else sendBytes(request, response, body);
  });
}

// ---------------------------------------------------------------------------------------------
// An Ollama registry

export interface RegistryOptions {
  /** "library/llama3" */
  repository: string;
  tag: string;
  config: Buffer | string;
  layers: (Buffer | string)[];
  /** Serve these bytes for the first layer instead of what its digest names (attacker tests). */
  tamperedFirstLayer?: Buffer | string;
}

export function ollamaManifest(config: Buffer, layers: Buffer[]): string {
  const descriptor = (bytes: Buffer, mediaType: string) => ({ mediaType, digest: `sha256:${sha256Hex(bytes)}`, size: bytes.length });
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: descriptor(config, 'application/vnd.docker.container.image.v1+json'),
    layers: layers.map((layer) => descriptor(layer, 'application/vnd.ollama.image.model')),
  });
}

export async function registryServer(options: RegistryOptions): Promise<Loopback & { manifest: string }> {
  const config = Buffer.from(options.config);
  const layers = options.layers.map((layer) => Buffer.from(layer));
  const manifest = ollamaManifest(config, layers);
  const blobs = new Map([config, ...layers].map((bytes) => [`sha256:${sha256Hex(bytes)}`, bytes]));
  if (options.tamperedFirstLayer !== undefined && layers[0] !== undefined) {
    const tampered = Buffer.from(options.tamperedFirstLayer);
    blobs.set(`sha256:${sha256Hex(layers[0])}`, tampered);
  }
  const server = await loopback((request, response, url) => {
    if (url.pathname === `/v2/${options.repository}/manifests/${options.tag}`) {
      response.writeHead(200, { 'content-type': 'application/vnd.docker.distribution.manifest.v2+json' }).end(manifest);
      return;
    }
    const blobPrefix = `/v2/${options.repository}/blobs/`;
    const blob = url.pathname.startsWith(blobPrefix) ? blobs.get(url.pathname.slice(blobPrefix.length)) : undefined;
    if (blob === undefined) {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN' }] }));
      return;
    }
    sendBytes(request, response, blob);
  });
  return { ...server, manifest };
}
