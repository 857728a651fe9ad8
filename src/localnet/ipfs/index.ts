// The localnet IPFS service: a loopback pinning API (Pinata- and Kubo-compatible) and gateway.
export { createIpfsServer, type IpfsServer, type IpfsServerOptions } from './server.ts';
export {
  ContentRejectedError,
  ContentStore,
  DEFAULT_MAX_OBJECT_BYTES,
  DEFAULT_MAX_TOTAL_BYTES,
  type ContentStoreOptions,
  type StoredContent,
} from './content-store.ts';
export type { GatewayFaults } from './faults.ts';
