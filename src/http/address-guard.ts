// Keeps requests to URLs a stranger chose (a job's logistics endpoints) away from what only the
// cluster may reach: an endpoint whose host is, or resolves to, an address inside the denied ranges
// (cluster networks, cloud metadata, the agent's own loopback) is refused before anything is sent.
// The check is made on the addresses the name resolves to now; a name that resolves differently a
// moment later (DNS rebinding) is not covered, so callers also refuse redirects.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Ranges no stranger's URL may reach whatever else the operator denies: loopback and "this host"
 * (the agent's own endpoints), link-local (the cloud metadata address is one) and NAT64 (which maps
 * IPv4 addresses, private ones included, into IPv6).
 */
export const ALWAYS_DENIED_CIDRS: readonly string[] = [
  '127.0.0.0/8',
  '0.0.0.0/8',
  '169.254.0.0/16',
  '::1/128',
  '::/128',
  'fe80::/10',
  '64:ff9b::/96',
];

export class AddressGuard {
  readonly #denied = new BlockList();

  /** `cidrs` like "10.0.0.0/8" or "fc00::/7"; ALWAYS_DENIED_CIDRS are added. */
  constructor(cidrs: readonly string[]) {
    for (const cidr of [...ALWAYS_DENIED_CIDRS, ...cidrs]) {
      const [network = '', prefix = ''] = cidr.split('/');
      const family = isIP(network);
      if (family === 0 || prefix === '') throw new Error(`"${cidr}" is not a CIDR range`);
      this.#denied.addSubnet(network, Number(prefix), family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  /** Why `url` may not be requested (its host is or resolves into a denied range), or undefined. */
  async refusal(url: string): Promise<string | undefined> {
    const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
    const addresses = isIP(host) !== 0 ? [host] : (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
    const denied = addresses.find((address) => this.#denied.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6'));
    return denied === undefined
      ? undefined
      : `${host} is ${denied === host ? '' : `resolved to ${denied}, `}inside a range the node may not reach`;
  }
}
