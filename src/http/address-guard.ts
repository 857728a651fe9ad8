// Keeps requests to URLs a stranger chose (a job's logistics endpoints) away from what only the
// cluster may reach: an endpoint whose host is, or resolves to, an address inside the denied ranges
// (cluster networks, cloud metadata, the agent's own loopback) is refused before anything is sent.
// refusal() checks the addresses the name resolves to now; a name that resolves differently a
// moment later (DNS rebinding) is not covered by it alone, so callers also refuse redirects, and a
// caller that makes the request itself passes lookup() to it: the address connected to is then the
// address checked.
import { lookup as lookupCallback } from 'node:dns';
import type { LookupAddress, LookupAllOptions } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { LookupFunction } from 'node:net';

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

  #deniedAddress(addresses: readonly string[]): string | undefined {
    return addresses.find((address) => this.#denied.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6'));
  }

  /**
   * A `lookup` for node:http and node:https: resolves as usual and fails the connection when the
   * name resolves into a denied range, so no second resolution can send the request elsewhere.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const all: LookupAllOptions = { ...options, all: true, verbatim: true };
    lookupCallback(hostname, all, (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => {
      if (error !== null) return callback(error, '', 0);
      const denied = this.#deniedAddress(addresses.map((entry) => entry.address));
      if (denied !== undefined || addresses.length === 0) {
        const refused: NodeJS.ErrnoException = new Error(
          `${hostname} resolved to ${denied ?? 'nothing'}, inside a range the operator may not reach`,
        );
        refused.code = 'EADDRNOTALLOWED';
        return callback(refused, '', 0);
      }
      if ((options as { all?: boolean }).all === true)
        return (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0]!;
      return callback(null, first.address, first.family);
    });
  };

  /** Why `url` may not be requested (its host is or resolves into a denied range), or undefined. */
  async refusal(url: string): Promise<string | undefined> {
    const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
    const addresses = isIP(host) !== 0 ? [host] : (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
    const denied = this.#deniedAddress(addresses);
    return denied === undefined
      ? undefined
      : `${host} is ${denied === host ? '' : `resolved to ${denied}, `}inside a range the node may not reach`;
  }
}
