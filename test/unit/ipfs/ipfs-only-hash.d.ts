// Types for the dev dependency used as an independent reference implementation of CIDv0
// computation (it ships none). Only what the tests call is declared.
declare module 'ipfs-only-hash' {
  /** The CID of `content` imported as a UnixFS file; CIDv0 with Kubo's defaults unless options say otherwise. */
  export function of(content: string | Uint8Array, options?: Record<string, unknown>): Promise<string>;
}
