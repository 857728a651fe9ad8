// The IPFS layer's public API: CIDv0 <-> on-chain bytes, local CID computation, pinning clients
// (Pinata, Kubo) behind one port, and verified gateway reads.
export { NO_RESULT_CID, bytes32ToCid, cidToBytes32, cidV0Problem, isCidV0, isNoResult } from './cid.ts';
export { computeCidV0 } from './unixfs.ts';
export { encodeJsonForPinning } from './json.ts';
export {
  CidMismatchError,
  ContentIntegrityError,
  ContentTooLargeError,
  GatewayReadError,
  IpfsAuthError,
  IpfsServiceError,
} from './errors.ts';
export { DEFAULT_RETRY_POLICY, type IpfsRequestEvent, type IpfsRequestObserver, type RetryPolicy } from './http.ts';
export type { PinOptions, PinningClient, PinningClientOptions } from './pinning-client.ts';
export { PINATA_DEFAULT_API_URL, PinataClient, type PinataClientOptions } from './pinata.ts';
export { KUBO_DEFAULT_API_URL, KuboClient, type KuboClientOptions } from './kubo.ts';
export {
  DEFAULT_GATEWAY_MAX_BYTES,
  DEFAULT_GATEWAY_TIMEOUT_MS,
  GatewayReader,
  normaliseGatewayUrl,
  type GatewayContent,
  type GatewayReaderOptions,
  type ReadOptions,
} from './gateway.ts';
