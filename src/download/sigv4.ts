// AWS Signature Version 4 for the S3 requests of a resource with IAM credentials, written against
// AWS's published algorithm with node:crypto, so the operator image needs no AWS SDK for the two
// requests it makes (ListObjectsV2 and GetObject). S3-compatible stores (R2, MinIO, Wasabi…)
// accept the same signature.
//
// The canonical request follows S3's rules: the path is used as sent (already URI-encoded once,
// never normalised), query parameters are decoded, re-encoded strictly and sorted, and every header
// passed in is signed along with host, x-amz-date and x-amz-content-sha256. The signature covers
// the time, so a request is signed anew for each attempt.
import { createHash, createHmac } from 'node:crypto';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export interface SignatureInput {
  method: string;
  url: URL;
  /** Headers to send and sign besides host, x-amz-date and x-amz-content-sha256 (e.g. range). */
  headers?: Record<string, string>;
  /** Hex sha256 of the body; a GET has the empty body's. */
  payloadHash?: string;
  now: Date;
  service?: string;
}

export const EMPTY_PAYLOAD_SHA256 = createHash('sha256').update('').digest('hex');
const ALGORITHM = 'AWS4-HMAC-SHA256';

/** RFC 3986 percent-encoding as SigV4 wants it: only A–Z a–z 0–9 - _ . ~ stay; '/' too when `keepSlash`. */
export function uriEncode(text: string, keepSlash = false): string {
  const encoded = encodeURIComponent(text).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
  return keepSlash ? encoded.replace(/%2F/g, '/') : encoded;
}

/** "20130524T000000Z", the form of x-amz-date. */
export function amzDate(now: Date): string {
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** The headers to send: `input.headers`, x-amz-date, x-amz-content-sha256 and authorization. */
export function signRequest(input: SignatureInput, credentials: AwsCredentials): Record<string, string> {
  const service = input.service ?? 's3';
  const payloadHash = input.payloadHash ?? EMPTY_PAYLOAD_SHA256;
  const timestamp = amzDate(input.now);
  const day = timestamp.slice(0, 8);
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(input.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value])),
    'x-amz-date': timestamp,
    'x-amz-content-sha256': payloadHash,
  };
  const signed: Record<string, string> = { ...headers, host: input.url.host };
  const names = Object.keys(signed).sort();
  const canonicalHeaders = names.map((name) => `${name}:${(signed[name] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    input.method,
    input.url.pathname === '' ? '/' : input.url.pathname,
    canonicalQuery(input.url.search),
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${day}/${credentials.region}/${service}/aws4_request`;
  const stringToSign = [ALGORITHM, timestamp, scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = [day, credentials.region, service, 'aws4_request'].reduce<Buffer>(
    (key, part) => hmac(key, part),
    Buffer.from(`AWS4${credentials.secretAccessKey}`, 'utf8'),
  );
  const signature = hmac(signingKey, stringToSign).toString('hex');
  return {
    ...headers,
    authorization: `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}

/** "?b=2&a=1" → "a=1&b=2", each name and value strictly re-encoded (a name without '=' has an empty value). */
function canonicalQuery(search: string): string {
  if (search === '' || search === '?') return '';
  return search
    .slice(1)
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const name = equals === -1 ? pair : pair.slice(0, equals);
      const value = equals === -1 ? '' : pair.slice(equals + 1);
      return [uriEncode(decodeURIComponent(name)), uriEncode(decodeURIComponent(value))] as const;
    })
    .sort(([nameA, valueA], [nameB, valueB]) => compare(nameA, nameB) || compare(valueA, valueB))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}
