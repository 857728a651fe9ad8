// NosanaMarket: a Nosana market on chain, mirrored into the cluster, and the network
// settings and default wallet that NosanaJobs posting to it use.
import type { KubernetesObject } from '@kubernetes/client-node';
import { z } from 'zod';
import {
  baseUnits, CEL_DURATION_PATTERN, conditions, intOrString, nosAmountString, observedGeneration,
  secretKeyRef, solanaAddress, timestamp,
} from './common.ts';
import type { CrdDefinition } from './crd.ts';
import { NOSANA_JOB_PHASES } from './nosana-job.ts';

export const NOSANA_NETWORKS = ['mainnet', 'devnet', 'localnet'] as const;

const url = (description: string) => z.string().max(2048).regex(/^https?:\/\/\S+$/).describe(description);

export const nosanaMarketSpec = z.object({
  address: solanaAddress('The market account address.').optional(),
  slug: z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9-]*$/).optional()
    .describe('The market slug, e.g. nvidia-4090, resolved to an address on the selected network.'),
  network: z.enum(NOSANA_NETWORKS).default('mainnet').describe('The Nosana network: mainnet, devnet or localnet.'),
  rpc: z.object({
    url: url('The Solana JSON-RPC URL. Defaults to the operator\'s endpoint for the network.').optional(),
    headersSecretRef: secretKeyRef('A Secret key holding extra HTTP headers for the RPC (JSON object), for providers that authenticate by header. The Secret must be labelled nosana.io/use=rpc-headers.', 'headers').optional(),
  }).optional().describe('How to reach Solana.'),
  ipfs: z.object({
    gatewayUrls: z.array(url('A gateway base URL, e.g. https://gateway.example/ipfs/.')).max(8).optional()
      .describe('IPFS gateways to read from, tried in order.'),
    pinning: z.object({
      provider: z.enum(['pinata', 'kubo']).describe('The pinning API: pinata or kubo.'),
      url: url('The pinning API base URL.').optional(),
      credentialsSecretRef: secretKeyRef('A Secret key holding the pinning API token (Pinata JWT). The Secret must be labelled nosana.io/use=pinning.', 'jwt').optional(),
    }).optional().describe('Where job definitions are pinned.'),
  }).optional().describe('How to reach IPFS.'),
  settingsFrom: z.object({
    configMapRef: z.object({ name: z.string().min(1).max(253).describe('Name of the ConfigMap.') })
      .describe('A ConfigMap with keys rpcUrl, ipfsGatewayUrls, ipfsPinningProvider, ipfsPinningUrl.'),
  }).optional().describe('Read the RPC and IPFS settings from a ConfigMap instead (fields set here win).'),
  serviceDomain: z.string().max(253).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/).optional()
    .describe('The domain of the service URLs of exposed ops (mainnet: node.k8s.prd.nos.ci). Defaults to the operator\'s setting for the network; on a localnet, the NosanaNode base domain.'),
  walletSecretRef: secretKeyRef('The default wallet for NosanaJobs posting to this market that name none.', 'keypair').optional(),
  allowedNamespaces: z.array(z.string().max(63)).max(256).optional()
    .describe('Namespaces whose NosanaJobs may use the default wallet. Empty: only this market\'s own namespace.'),
  dailySpendLimit: intOrString('The most NOS this cluster\'s jobs may spend on this market in any 24 hours (deposits count when paid).').optional(),
  refreshInterval: z.string().max(32).default('60s').describe('How often the market account is read, as a duration.'),
}).describe('Which market to mirror and how to reach its network.');

export const nosanaMarketStatus = z.object({
  conditions: conditions.optional(),
  observedGeneration: observedGeneration.optional(),
  address: solanaAddress('The resolved market address.').optional(),
  jobPrice: nosAmountString('The job price in NOS per second.').optional(),
  jobPriceBaseUnits: baseUnits('The job price in NOS base units per second.').optional(),
  jobTimeout: z.int().min(0).optional().describe('The default job timeout in seconds.'),
  jobExpiration: z.int().min(0).optional().describe('Seconds a queued job waits for a node before it expires.'),
  jobType: z.int().min(0).max(255).optional().describe('The market\'s job type (255 means disabled: posting is refused).'),
  queueType: z.enum(['Empty', 'Jobs', 'Nodes']).optional().describe('What the queue holds: Empty, Jobs (waiting for nodes) or Nodes (waiting for jobs).'),
  queueLength: z.int().min(0).optional().describe('How many jobs or nodes are queued.'),
  nodeAccessKey: z.string().max(64).optional().describe('The NFT collection nodes must hold, or "open".'),
  nodeXnosMinimum: baseUnits('The xNOS stake a node needs, in base units.').optional(),
  vault: solanaAddress('The market vault holding deposits.').optional(),
  jobs: z.object(Object.fromEntries(NOSANA_JOB_PHASES.map((phase) => [
    phase.charAt(0).toLowerCase() + phase.slice(1),
    z.int().min(0).optional().describe(`NosanaJobs of this cluster in phase ${phase}.`),
  ]))).optional().describe('This cluster\'s NosanaJobs on the market, by phase.'),
  slugResolvedFrom: z.string().max(2048).optional().describe('The market directory the slug was resolved through.'),
  lastRefreshed: timestamp('When the market account was last read.').optional(),
}).describe('The market as last read from chain.');

export type NosanaMarketSpec = z.infer<typeof nosanaMarketSpec>;
export type NosanaMarketStatus = z.infer<typeof nosanaMarketStatus>;

/** A NosanaMarket as the API server returns it. */
export interface NosanaMarketObject extends KubernetesObject {
  spec: NosanaMarketSpec;
  status?: NosanaMarketStatus;
}

export const nosanaMarketCrd: CrdDefinition = {
  kind: 'NosanaMarket',
  plural: 'nosanamarkets',
  singular: 'nosanamarket',
  shortNames: ['nmkt'],
  description: 'A Nosana market mirrored from chain: price, timeout and queue in its status; network settings and the default wallet for the NosanaJobs posting to it.',
  spec: nosanaMarketSpec,
  status: nosanaMarketStatus,
  printerColumns: [
    { name: 'Network', type: 'string', jsonPath: '.spec.network' },
    { name: 'Price', type: 'string', jsonPath: '.status.jobPrice', description: 'NOS per second' },
    { name: 'Timeout', type: 'integer', jsonPath: '.status.jobTimeout', description: 'seconds' },
    { name: 'Queue', type: 'string', jsonPath: '.status.queueType' },
    { name: 'Length', type: 'integer', jsonPath: '.status.queueLength' },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'Address', type: 'string', jsonPath: '.status.address', priority: 1 },
  ],
  specRules: [
    { rule: 'has(self.address) != has(self.slug)', message: 'set exactly one of address and slug' },
    {
      rule: `self.refreshInterval.matches('${CEL_DURATION_PATTERN}') && duration(self.refreshInterval) >= duration('1s')`,
      message: 'refreshInterval must be a duration of at least 1s, such as "30s"',
      fieldPath: '.refreshInterval',
    },
    {
      rule: "!has(self.dailySpendLimit) || (type(self.dailySpendLimit) == int ? int(self.dailySpendLimit) >= 0 : string(self.dailySpendLimit).matches('^[0-9]{1,12}(\\\\.[0-9]{1,6})?$'))",
      message: 'dailySpendLimit must be an amount of NOS such as 100 or "12.5"',
      fieldPath: '.dailySpendLimit',
    },
  ],
};
