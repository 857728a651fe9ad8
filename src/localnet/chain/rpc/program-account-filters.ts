// getProgramAccounts filters: memcmp (base58 or base64 bytes), dataSize and tokenAccountState.
import bs58 from 'bs58';
import { TOKEN_ACCOUNT_SIZE, TOKEN_ACCOUNT_STATE } from '../token-state.ts';
import { optionalInteger, optionalString, type Config } from './params.ts';
import { invalidParams } from './rpc-error.ts';

const MAX_FILTERS = 4;
const MAX_MEMCMP_BYTES = 128;

export type AccountDataFilter = (data: Buffer) => boolean;

export function parseFilters(raw: unknown): AccountDataFilter[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalidParams('Invalid params: filters must be an array');
  if (raw.length > MAX_FILTERS) throw invalidParams(`Too many filters provided; max ${MAX_FILTERS}`);
  return raw.map((filter, i) => parseFilter(filter, i));
}

function parseFilter(filter: unknown, index: number): AccountDataFilter {
  if (typeof filter !== 'object' || filter === null) throw invalidParams(`Invalid params: filter ${index} must be an object`);
  const entry = filter as Config;
  if ('dataSize' in entry) {
    const size = optionalInteger(entry, 'dataSize');
    if (size === undefined) throw invalidParams(`Invalid params: filter ${index}: dataSize must be a non-negative integer`);
    return (data) => data.length === size;
  }
  if ('memcmp' in entry) {
    const memcmp = entry['memcmp'];
    if (typeof memcmp !== 'object' || memcmp === null) throw invalidParams(`Invalid params: filter ${index}: memcmp must be an object`);
    const offset = optionalInteger(memcmp as Config, 'offset');
    const text = optionalString(memcmp as Config, 'bytes');
    if (offset === undefined || text === undefined) throw invalidParams(`Invalid params: filter ${index}: memcmp needs offset and bytes`);
    const bytes = decodeBytes(text, optionalString(memcmp as Config, 'encoding') ?? 'base58', index);
    return (data) => offset + bytes.length <= data.length && data.subarray(offset, offset + bytes.length).equals(bytes);
  }
  if ('tokenAccountState' in entry) {
    return (data) => data.length === TOKEN_ACCOUNT_SIZE && data[108] !== TOKEN_ACCOUNT_STATE.uninitialized;
  }
  throw invalidParams(`Invalid params: filter ${index} is not memcmp, dataSize or tokenAccountState`);
}

function decodeBytes(text: string, encoding: string, index: number): Buffer {
  let bytes: Buffer;
  if (encoding === 'base58') {
    try {
      bytes = Buffer.from(bs58.decode(text));
    } catch {
      throw invalidParams(`Invalid param: filter ${index}: memcmp bytes are not base58`);
    }
  } else if (encoding === 'base64') {
    bytes = Buffer.from(text, 'base64');
  } else {
    throw invalidParams(`Invalid params: filter ${index}: unknown memcmp encoding \`${encoding}\``);
  }
  if (bytes.length > MAX_MEMCMP_BYTES)
    throw invalidParams(`Invalid param: filter ${index}: memcmp data is longer than ${MAX_MEMCMP_BYTES} bytes`);
  return bytes;
}
