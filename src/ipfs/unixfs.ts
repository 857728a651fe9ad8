// The CIDv0 a pinning service assigns to a file, computed locally.
//
// Pinata (`cidVersion: 0`) and Kubo (`ipfs add --cid-version=0`) import a file as a UnixFS DAG with
// Kubo's legacy defaults: fixed 262144-byte chunks, a balanced tree of at most 174 links per node,
// leaves wrapped in UnixFS dag-pb nodes (no raw leaves), sha2-256. The importer's
// 'unixfs-v0-2015' profile (IPIP-499) is exactly that set, so the same bytes give the same CID,
// which lets callers check what a service returns and what a gateway serves.
import { importBytes, type WritableStorage } from 'ipfs-unixfs-importer';

// Only the root CID is wanted: the importer hands every block to `put`, and nothing keeps them.
const discardBlocks: WritableStorage = {
  put: (cid) => cid,
};

export async function computeCidV0(bytes: Uint8Array): Promise<string> {
  const { cid } = await importBytes(bytes, discardBlocks, { profile: 'unixfs-v0-2015' });
  return cid.toString();
}
