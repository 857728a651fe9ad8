// The paths a download writes come from a stranger: S3 keys in a listing, paths in a Hub tree,
// `files` in the definition. Each is checked here before it becomes a file name, and refused (with
// the reason) rather than cleaned up: "a/../b" quietly turned into "b" would let two sources
// write one file, and a key that needs cleaning is a key nobody meant to publish.
//
// A path is relative, '/'-separated, and every segment is an ordinary name: not empty, not "."
// or "..", no NUL or other control character, no backslash (another system's separator), at most
// 255 bytes (the longest name Linux file systems hold). Its first segment may not be one of the
// downloader's own files in the destination (its marker and its partial-download directory).
import { DownloadError } from './errors.ts';

/** The downloader's record of a completed download, in the destination's root. */
export const MARKER_FILE = '.nosana-resource.json';
/** Where files grow until they are complete, in the destination's root (same file system, so rename works). */
export const PARTIAL_DIRECTORY = '.nosana-partial';

const RESERVED_NAMES = new Set([MARKER_FILE, PARTIAL_DIRECTORY]);
/** Per-model markers of an Ollama store (marker.ts) start with this. */
const MARKER_PREFIX = MARKER_FILE.replace(/\.json$/, '');
const MAX_NAME_BYTES = 255;
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** Why `path` may not be written under the destination, or undefined when it may. */
export function unsafePathReason(path: string): string | undefined {
  if (path === '') return 'it is empty';
  if (path.includes('\u0000')) return 'it contains a NUL byte';
  if (path.startsWith('/')) return 'it is an absolute path';
  if (CONTROL_CHARACTER.test(path)) return 'it contains a control character';
  if (path.includes('\\')) return 'it contains a backslash';
  const segments = path.split('/');
  for (const segment of segments) {
    if (segment === '..') return "it climbs out of the destination with '..'";
    if (segment === '.') return "it has a '.' segment";
    if (segment === '') return 'it has an empty segment (a doubled or trailing "/")';
    if (Buffer.byteLength(segment, 'utf8') > MAX_NAME_BYTES) return `it has a name longer than ${MAX_NAME_BYTES} bytes`;
  }
  const first = segments[0] ?? '';
  if (RESERVED_NAMES.has(first) || first.startsWith(MARKER_PREFIX)) return "it is reserved for the downloader's own files";
  return undefined;
}

/** `path` unchanged when it is safe; a DownloadError naming it (as `what`) and the reason otherwise. */
export function checkedRelativePath(path: string, what: string): string {
  const reason = unsafePathReason(path);
  if (reason !== undefined) throw new DownloadError(`${what} ${JSON.stringify(path)} is refused: ${reason}`);
  return path;
}
