// S3's ListObjectsV2 answer (a ListBucketResult XML document) read into keys and sizes, and the
// continuation token of the next page. S3 and the stores that copy its API write this document
// in one fixed shape, so a few patterns read it; an answer in any other shape (an HTML error
// page from a CDN, say) is refused by name instead of being taken as an empty bucket.
import { DownloadError } from './errors.ts';

export interface ListedObject {
  key: string;
  size: number;
}

export interface ListPage {
  objects: ListedObject[];
  /** The token for the next page; undefined on the last one. */
  nextContinuationToken: string | undefined;
}

const MAX_CODE_POINT = 0x10ffff;
const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Text content with XML's five named entities and numeric character references decoded. */
export function decodeXmlText(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-z]+);/g, (entity, name: string) => {
    if (!name.startsWith('#')) return XML_ENTITIES[name] ?? entity;
    const codePoint = name.startsWith('#x') ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
    return codePoint <= MAX_CODE_POINT ? String.fromCodePoint(codePoint) : entity;
  });
}

function element(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return match?.[1];
}

/** One page of a listing; `what` names the request in a refusal. */
export function parseListObjectsV2(xml: string, what: string): ListPage {
  if (!/<ListBucketResult[\s>]/.test(xml)) throw new DownloadError(`${what}: the answer is not an S3 ListBucketResult`);
  const objects: ListedObject[] = [];
  for (const match of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
    const body = match[1] ?? '';
    const key = element(body, 'Key');
    const size = element(body, 'Size');
    if (key === undefined || size === undefined || !/^\d+$/.test(size.trim())) {
      throw new DownloadError(`${what}: a listed object has no readable Key or Size`);
    }
    objects.push({ key: decodeXmlText(key), size: Number(size.trim()) });
  }
  const truncated = element(xml, 'IsTruncated')?.trim() === 'true';
  const token = element(xml, 'NextContinuationToken');
  if (truncated && (token === undefined || token.trim() === '')) {
    throw new DownloadError(`${what}: the listing says it continues but gives no continuation token`);
  }
  return { objects, nextContinuationToken: truncated && token !== undefined ? decodeXmlText(token) : undefined };
}
