// Where a NosanaMarket's network is reached: its spec (and the ConfigMap it names) merged over the
// operator's defaults for that network. Spec fields win over the ConfigMap, which wins over the
// operator's flags, so a team can point one market at its own RPC without touching the operator.
//
// Secrets (RPC headers, the pinning JWT) are read here and only here; errors name the Secret or
// ConfigMap and the key at fault, never any of their content. Their content is sent over the
// network to URLs the market names, so a Secret is read only when it is labelled for that use
// (SECRET_USE_LABEL): editing a NosanaMarket must not be a way to send a wallet to any URL.
import type { V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import { SECRET_USE_LABEL, type SecretUse } from '../api/annotations.ts';
import type { NosanaMarketObject } from '../api/crds/nosana-market.ts';
import type { NetworkName } from '../chain/addresses.ts';
import { KUBO_DEFAULT_API_URL } from '../ipfs/kubo.ts';
import { PINATA_DEFAULT_API_URL } from '../ipfs/pinata.ts';
import type { NetworkSettings } from './network-ports.ts';
import type { KubeReader } from './nosana-job/context.ts';
import { ReadForbidden } from '../runtime/kube-reader.ts';

export type PinningProvider = NetworkSettings['pinning']['provider'];

/** The operator's own settings for one network (built-in values overridden by its flags). */
export interface NetworkDefaults {
  /** Undefined: every market on this network must name its RPC (there is no safe public default). */
  rpcUrl?: string;
  gatewayUrls: string[];
  /** Undefined: every market on this network must name its pinning API. */
  pinning?: NetworkSettings['pinning'];
  serviceDomain: string;
  /** Where market slugs are resolved (a JSON list of markets); undefined: slugs cannot be used. */
  marketDirectoryUrl?: string;
}

export interface OperatorNetworkDefaults {
  /** The network of markets that NosanaJobs name by bare address. */
  defaultNetwork: NetworkName;
  networks: Record<NetworkName, NetworkDefaults>;
}

/**
 * What the operator knows about each network before any flag: Nosana's public gateway, Pinata
 * (the JWT comes from the operator's environment), the service domain of Nosana's node tunnels,
 * and Nosana's market directory (PROTOCOL.md §1, §6). No RPC: public Solana endpoints are
 * rate-limited too hard for an operator, so one must be chosen (--rpc-url NETWORK=URL).
 * The localnet has no public services at all; `--localnet DIR` fills them in.
 */
export const BUILT_IN_NETWORK_DEFAULTS: Readonly<Record<NetworkName, NetworkDefaults>> = {
  mainnet: {
    gatewayUrls: ['https://nosana.mypinata.cloud/ipfs/'],
    pinning: { provider: 'pinata', url: PINATA_DEFAULT_API_URL },
    serviceDomain: 'node.k8s.prd.nos.ci',
    marketDirectoryUrl: 'https://host-manager.k8s.prd.nos.ci/markets/',
  },
  devnet: {
    gatewayUrls: ['https://nosana.mypinata.cloud/ipfs/'],
    pinning: { provider: 'pinata', url: PINATA_DEFAULT_API_URL },
    serviceDomain: 'node.k8s.dev.nos.ci',
    marketDirectoryUrl: 'https://host-manager.k8s.dev.nos.ci/markets/',
  },
  localnet: {
    gatewayUrls: [],
    // *.localhost resolves to loopback (RFC 6761), so a local ingress can serve the service URLs of
    // a localnet's NosanaNodes; --service-domain localnet=DOMAIN matches another base domain.
    serviceDomain: 'node.localhost',
  },
};

/** What the controller's flags and environment say about networks (see src/cli/controller.ts). */
export interface NetworkFlags {
  /** The network of markets given by bare address; default mainnet, or localnet with a localnet. */
  defaultNetwork?: NetworkName;
  /** A running localnet (its localnet.json): the localnet network's RPC and IPFS endpoints. */
  localnet?: { rpcUrl: string; ipfsApiUrl: string; gatewayUrl: string };
  rpcUrls?: Partial<Record<NetworkName, string>>;
  /** For every network: IPFS is the same whichever chain a job is on. */
  gatewayUrls?: readonly string[];
  pinningProvider?: PinningProvider;
  pinningUrl?: string;
  /** The operator's Pinata JWT ($PINATA_JWT), for the operator's own Pinata endpoint only. */
  pinataJwt?: string;
  serviceDomains?: Partial<Record<NetworkName, string>>;
  marketDirectoryUrls?: Partial<Record<NetworkName, string>>;
}

// The localnet's pinning API takes any bearer token; one is needed only because Pinata's API wants one.
const LOCALNET_PINNING_TOKEN = 'localnet';

/** The built-in defaults, then a localnet's endpoints, then the flags: later ones win. */
export function operatorNetworkDefaults(flags: NetworkFlags): OperatorNetworkDefaults {
  const networks = { ...BUILT_IN_NETWORK_DEFAULTS };
  if (flags.localnet !== undefined) {
    networks.localnet = {
      ...networks.localnet,
      rpcUrl: flags.localnet.rpcUrl,
      gatewayUrls: [flags.localnet.gatewayUrl],
      pinning: { provider: 'pinata', url: flags.localnet.ipfsApiUrl, jwt: LOCALNET_PINNING_TOKEN },
    };
  }
  for (const name of Object.keys(networks) as NetworkName[]) {
    const base = networks[name];
    const pinning = operatorPinning(base.pinning, flags);
    const rpcUrl = flags.rpcUrls?.[name] ?? base.rpcUrl;
    const marketDirectoryUrl = flags.marketDirectoryUrls?.[name] ?? base.marketDirectoryUrl;
    networks[name] = {
      ...(rpcUrl === undefined ? {} : { rpcUrl }),
      gatewayUrls: flags.gatewayUrls === undefined || flags.gatewayUrls.length === 0 ? base.gatewayUrls : [...flags.gatewayUrls],
      ...(pinning === undefined ? {} : { pinning }),
      serviceDomain: flags.serviceDomains?.[name] ?? base.serviceDomain,
      ...(marketDirectoryUrl === undefined ? {} : { marketDirectoryUrl }),
    };
  }
  return { defaultNetwork: flags.defaultNetwork ?? (flags.localnet === undefined ? 'mainnet' : 'localnet'), networks };
}

function operatorPinning(base: NetworkDefaults['pinning'], flags: NetworkFlags): NetworkDefaults['pinning'] {
  // A pinning URL given alone means Pinata's API, the one Nosana's own tools use.
  const provider = flags.pinningProvider ?? base?.provider ?? (flags.pinningUrl === undefined ? undefined : 'pinata');
  if (provider === undefined) return undefined;
  const url = flags.pinningUrl ?? (provider === base?.provider ? base.url : providerDefaultUrl(provider));
  // $PINATA_JWT is for Pinata; Kubo is reached without it.
  const jwt = provider === 'pinata' ? (flags.pinataJwt ?? (url === base?.url ? base.jwt : undefined)) : undefined;
  return { provider, url, ...(jwt === undefined ? {} : { jwt }) };
}

/** A NosanaMarket's network settings cannot be assembled; the message names the field or object at fault. */
export class NetworkSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetworkSettingsError';
  }
}

/** The keys a `settingsFrom` ConfigMap may carry. */
const SETTINGS_CONFIGMAP_KEYS = {
  rpcUrl: 'rpcUrl',
  gatewayUrls: 'ipfsGatewayUrls',
  pinningProvider: 'ipfsPinningProvider',
  pinningUrl: 'ipfsPinningUrl',
} as const;

const HTTP_URL = /^https?:\/\/\S+$/;
// RFC 9110 token characters: anything else would make fetch throw with the header in its message.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The public default of a provider's API, for a market that picks a provider but no URL. */
function providerDefaultUrl(provider: PinningProvider): string {
  return provider === 'pinata' ? PINATA_DEFAULT_API_URL : KUBO_DEFAULT_API_URL;
}

interface SettingsOverrides {
  rpcUrl?: string;
  gatewayUrls?: string[];
  pinningProvider?: PinningProvider;
  pinningUrl?: string;
}

/** Settings for a market: undefined means a market given by bare address, on the default network. */
export async function settingsFor(
  market: NosanaMarketObject | undefined,
  namespace: string,
  reader: KubeReader,
  defaults: OperatorNetworkDefaults,
): Promise<NetworkSettings> {
  if (market === undefined) return merge(defaults.defaultNetwork, defaults.networks[defaults.defaultNetwork], {}, undefined, undefined);
  // References are resolved in the market's own namespace: a job must never make the operator
  // read Secrets of another namespace by naming a market there.
  const marketNamespace = market.metadata?.namespace ?? namespace;
  const spec = market.spec;
  const name = spec.network;
  const fromConfigMap =
    spec.settingsFrom === undefined ? {} : await configMapOverrides(reader, marketNamespace, spec.settingsFrom.configMapRef.name);
  const fromSpec: SettingsOverrides = {
    ...(spec.rpc?.url === undefined ? {} : { rpcUrl: spec.rpc.url }),
    ...(spec.ipfs?.gatewayUrls === undefined || spec.ipfs.gatewayUrls.length === 0 ? {} : { gatewayUrls: spec.ipfs.gatewayUrls }),
    ...(spec.ipfs?.pinning === undefined ? {} : { pinningProvider: spec.ipfs.pinning.provider }),
    ...(spec.ipfs?.pinning?.url === undefined ? {} : { pinningUrl: spec.ipfs.pinning.url }),
  };
  const headersRef = spec.rpc?.headersSecretRef;
  const rpcHeaders =
    headersRef === undefined
      ? undefined
      : parseHeaders(await secretValue(reader, marketNamespace, headersRef, RPC_HEADERS_USE), secretSource(marketNamespace, headersRef));
  const credentialsRef = spec.ipfs?.pinning?.credentialsSecretRef;
  const jwt =
    credentialsRef === undefined
      ? undefined
      : nonEmpty(await secretValue(reader, marketNamespace, credentialsRef, PINNING_USE), secretSource(marketNamespace, credentialsRef));
  const settings = merge(name, defaults.networks[name], { ...fromConfigMap, ...fromSpec }, rpcHeaders, jwt);
  return spec.serviceDomain === undefined ? settings : { ...settings, serviceDomain: spec.serviceDomain };
}

function merge(
  name: NetworkName,
  base: NetworkDefaults,
  overrides: SettingsOverrides,
  rpcHeaders: Record<string, string> | undefined,
  jwt: string | undefined,
): NetworkSettings {
  const rpcUrl = overrides.rpcUrl ?? base.rpcUrl;
  if (rpcUrl === undefined) {
    throw new NetworkSettingsError(
      `no Solana RPC URL for network ${name}: set spec.rpc.url on the NosanaMarket, or start the controller with --rpc-url ${name}=URL`,
    );
  }
  const gatewayUrls = overrides.gatewayUrls ?? base.gatewayUrls;
  if (gatewayUrls.length === 0) {
    throw new NetworkSettingsError(
      `no IPFS gateway for network ${name}: set spec.ipfs.gatewayUrls on the NosanaMarket, or start the controller with --ipfs-gateway URL`,
    );
  }
  const provider = overrides.pinningProvider ?? base.pinning?.provider;
  if (provider === undefined) {
    throw new NetworkSettingsError(
      `no IPFS pinning API for network ${name}: set spec.ipfs.pinning on the NosanaMarket, or start the controller with --pinning-provider and --pinning-url`,
    );
  }
  const sameProvider = provider === base.pinning?.provider;
  const url = overrides.pinningUrl ?? (sameProvider ? base.pinning?.url : undefined) ?? providerDefaultUrl(provider);
  // The operator's own token goes only to the operator's own pinning service: a market that
  // points pinning elsewhere brings its own credentials, or a namespace could harvest the token.
  const operatorJwt = sameProvider && url === base.pinning?.url ? base.pinning.jwt : undefined;
  const pinningJwt = jwt ?? operatorJwt;
  return {
    name,
    rpcUrl,
    ...(rpcHeaders === undefined ? {} : { rpcHeaders }),
    gatewayUrls: [...gatewayUrls],
    pinning: { provider, url, ...(pinningJwt === undefined ? {} : { jwt: pinningJwt }) },
    serviceDomain: base.serviceDomain,
  };
}

// ---- the settingsFrom ConfigMap ------------------------------------------------------------------

async function configMapOverrides(reader: KubeReader, namespace: string, name: string): Promise<SettingsOverrides> {
  const configMap = await reader.getConfigMap({ namespace, name });
  if (configMap === undefined) {
    throw new NetworkSettingsError(`ConfigMap ${namespace}/${name} (spec.settingsFrom.configMapRef) does not exist`);
  }
  const read = (key: string): string | undefined => configMapValue(configMap, key);
  const where = (key: string): string => `ConfigMap ${namespace}/${name} key ${key}`;
  const overrides: SettingsOverrides = {};
  const rpcUrl = read(SETTINGS_CONFIGMAP_KEYS.rpcUrl);
  if (rpcUrl !== undefined) overrides.rpcUrl = httpUrl(rpcUrl, where(SETTINGS_CONFIGMAP_KEYS.rpcUrl));
  const gateways = read(SETTINGS_CONFIGMAP_KEYS.gatewayUrls);
  if (gateways !== undefined) {
    // A list in a ConfigMap value: commas or whitespace (one URL per line reads well in YAML).
    const urls = gateways.split(/[\s,]+/).filter((url) => url !== '');
    overrides.gatewayUrls = urls.map((url) => httpUrl(url, where(SETTINGS_CONFIGMAP_KEYS.gatewayUrls)));
  }
  const provider = read(SETTINGS_CONFIGMAP_KEYS.pinningProvider);
  if (provider !== undefined) {
    if (provider !== 'pinata' && provider !== 'kubo') {
      throw new NetworkSettingsError(`${where(SETTINGS_CONFIGMAP_KEYS.pinningProvider)}: must be pinata or kubo`);
    }
    overrides.pinningProvider = provider;
  }
  const pinningUrl = read(SETTINGS_CONFIGMAP_KEYS.pinningUrl);
  if (pinningUrl !== undefined) overrides.pinningUrl = httpUrl(pinningUrl, where(SETTINGS_CONFIGMAP_KEYS.pinningUrl));
  return overrides;
}

function configMapValue(configMap: V1ConfigMap, key: string): string | undefined {
  const value = configMap.data?.[key]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function httpUrl(value: string, where: string): string {
  // ConfigMaps are not secret, so echoing the value helps whoever fixes it.
  if (!HTTP_URL.test(value)) throw new NetworkSettingsError(`${where}: "${value}" is not an http(s) URL`);
  return value;
}

// ---- Secrets -------------------------------------------------------------------------------------

interface SecretKeyRef {
  name: string;
  key: string;
}

/** Where a Secret whose content is sent over the network is named, and the use it must be labelled for. */
interface SentSecret {
  field: string;
  use: SecretUse;
}

const PINNING_USE: SentSecret = { field: 'spec.ipfs.pinning.credentialsSecretRef', use: 'pinning' };
const RPC_HEADERS_USE: SentSecret = { field: 'spec.rpc.headersSecretRef', use: 'rpc-headers' };

function secretSource(namespace: string, ref: SecretKeyRef): string {
  return `Secret ${namespace}/${ref.name} key ${ref.key}`;
}

async function secretValue(reader: KubeReader, namespace: string, ref: SecretKeyRef, sent: SentSecret): Promise<string> {
  const secret: V1Secret | undefined = await reader.getSecret({ namespace, name: ref.name }).catch((error: unknown) => {
    if (error instanceof ReadForbidden) throw new NetworkSettingsError(error.message);
    throw error;
  });
  if (secret === undefined) throw new NetworkSettingsError(`Secret ${namespace}/${ref.name} does not exist`);
  // Checked before anything about its data, even which keys it has. The label's actual value is
  // not repeated: whoever reads the message may not be allowed to read the Secret.
  if (secret.metadata?.labels?.[SECRET_USE_LABEL] !== sent.use) {
    throw new NetworkSettingsError(
      `Secret ${namespace}/${ref.name} (named by ${sent.field}) is not labelled ${SECRET_USE_LABEL}=${sent.use}: ` +
        `the operator sends a Secret's content over the network only when the Secret is labelled for that use, so nothing was sent`,
    );
  }
  const encoded = secret.data?.[ref.key];
  if (encoded === undefined) throw new NetworkSettingsError(`${secretSource(namespace, ref)} does not exist`);
  return Buffer.from(encoded, 'base64').toString('utf8');
}

function nonEmpty(value: string, source: string): string {
  const trimmed = value.trim();
  if (trimmed === '') throw new NetworkSettingsError(`${source} is empty`);
  return trimmed;
}

/** A JSON object of header names to string values; the content is never quoted back. */
/**
 * Headers that decide where a request goes or how the connection is framed and upgraded, rather
 * than who is asking: HTTP clients ignore some of them, but the websocket client sends what it is
 * given, and a Host of a tenant's choosing reaches another virtual host behind a shared proxy.
 */
const CONTROL_HEADER =
  /^(host|connection|upgrade|keep-alive|te|trailer|transfer-encoding|content-length|expect|sec-websocket-.*|proxy-.*)$/i;

function parseHeaders(text: string, source: string): Record<string, string> {
  const expected = 'must be a JSON object of HTTP header names to string values, e.g. {"Authorization":"Bearer …"}';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new NetworkSettingsError(`${source} is not valid JSON: it ${expected}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new NetworkSettingsError(`${source} ${expected}`);
  }
  const headers: Record<string, string> = {};
  // Entries are reported by position only: even a header name may be a token pasted in the wrong place.
  Object.entries(parsed).forEach(([name, value], index) => {
    if (!HEADER_NAME.test(name))
      throw new NetworkSettingsError(`${source}: the name of header #${index + 1} is not a valid HTTP header name`);
    if (CONTROL_HEADER.test(name))
      throw new NetworkSettingsError(
        `${source}: header #${index + 1} (${name}) steers the connection itself (where it goes, how it is framed or upgraded) and may not be set`,
      );
    if (typeof value !== 'string' || /[\r\n\0]/.test(value)) {
      throw new NetworkSettingsError(`${source}: the value of header #${index + 1} must be a single-line string`);
    }
    headers[name] = value;
  });
  return headers;
}
