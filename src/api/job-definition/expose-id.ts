// The host label of an exposed port: Nosana derives it from the job address, the op's index and
// the port alone (the first 44 characters of base58(SHA-512("<opIndex>:<port>:<job>")), the SDK's
// getExposeIdHash; NODE.md §2.9). The poster side shows the URLs it makes, the node side serves them.
import { createHash } from 'node:crypto';
import bs58 from 'bs58';

const EXPOSE_ID_LENGTH = 44;

/** The host label the node registers for one exposed port. */
export function exposeId(jobAddress: string, opIndex: number, port: number): string {
  const digest = createHash('sha512').update(`${opIndex}:${port}:${jobAddress}`, 'utf8').digest();
  return bs58.encode(digest).slice(0, EXPOSE_ID_LENGTH);
}
