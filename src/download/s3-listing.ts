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

/**
 * The text of each `<name>…</name>` in order, found by plain scanning: a lazy regex over a page
 * whose closing tags are missing would try every start against the rest of the page (quadratic on
 * a hostile server's 16 MiB answer), where this reads the page once.
 */
function elements(xml: string, name: string): string[] {
  const open = `<${name}>`;
  const close = `</${name}>`;
  const found: string[] = [];
  let from = 0;
  for (;;) {
    const start = xml.indexOf(open, from);
    if (start < 0) return found;
    const end = xml.indexOf(close, start + open.length);
    if (end < 0) return found;
    found.push(xml.slice(start + open.length, end));
    from = end + close.length;
  }
}

function element(xml: string, name: string): string | undefined {
  return elements(xml, name)[0];
}

/** One page of a listing; `what` names the request in a refusal. */
export function parseListObjectsV2(xml: string, what: string): ListPage {
  if (!/<ListBucketResult[\s>]/.test(xml)) throw new DownloadError(`${what}: the answer is not an S3 ListBucketResult`);
  const objects: ListedObject[] = [];
  for (const body of elements(xml, 'Contents')) {
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
