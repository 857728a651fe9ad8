// NosanaJob: a Nosana job posted (or adopted) from Kubernetes, its status mirroring the chain.
import type { KubernetesObject } from '@kubernetes/client-node';
import { z } from 'zod';
import {
  baseUnits, CEL_DURATION_PATTERN, configMapKeyRef, conditions, intOrString, ipfsCid, nosAmountString,
  observedGeneration, secretKeyRef, solanaAddress, timestamp,
} from './common.ts';
import type { CrdDefinition } from './crd.ts';

export const NOSANA_JOB_PHASES = ['Pending', 'Posting', 'Queued', 'Running', 'Succeeded', 'Failed', 'Stopped'] as const;
export type NosanaJobPhase = (typeof NOSANA_JOB_PHASES)[number];

// --- spec.definition --------------------------------------------------------------------
// The API server checks the shape it can (required keys, types, enums) so `kubectl apply`
// rejects the obvious mistakes; the operator's full job-definition validator is the final
// word. Fields whose Nosana type is a union (cmd, entrypoint, expose, …) are declared
// without a type and checked with CEL `type()` tests.

// Declared without a type: the Nosana format allows several JSON types here. CRD CEL
// cannot see typeless fields, so their types are checked by the admission policy
// (admission-policy.ts) instead.
const anyJson = (description: string) =>
  z.unknown().optional().describe(description).meta({ 'x-kubernetes-preserve-unknown-fields': true });

const stringOrStrings = (description: string) => anyJson(`${description} A string or an array of strings.`);

const stringMap = (description: string) => z.record(z.string(), z.string()).optional().describe(description);

const containerRunArgs = z.looseObject({
  image: z.string().min(1).max(1024).optional().describe('Container image to run. Required for container/run ops (global.image is not used by nodes).'),
  cmd: stringOrStrings('Command: a string runs under /bin/sh -c; an array is passed as the container arguments verbatim.'),
  entrypoint: stringOrStrings("Overrides the image's entrypoint: a string (one token) or an array."),
  env: stringMap('Environment variables for the container.'),
  work_dir: z.string().max(4096).optional().describe('Working directory inside the container.'),
  gpu: z.boolean().optional().describe('Whether the op needs the GPUs of the node.'),
  expose: anyJson('Ports to expose as service URLs: a port number, an object {port, type, health_checks}, a literal, or an array of those.'),
  private: z.boolean().optional().describe('Do not publish deterministic service URLs for this op.'),
  volumes: z.array(z.looseObject({
    name: z.string().min(1).max(253).describe('Name of a volume created by a container/create-volume op.'),
    dest: z.string().min(1).max(4096).describe('Mount path inside the container.'),
  })).max(64).optional().describe('Job volumes to mount.'),
  resources: z.array(z.unknown().meta({ 'x-kubernetes-preserve-unknown-fields': true })).max(64).optional()
    .describe('Models and data to download before the op starts (S3, HF, Ollama).'),
  name: z.string().min(1).max(253).optional().describe('For container/create-volume ops: the name of the volume to create.'),
}).describe('Arguments of the op; their shape depends on the op type.');

const operation = z.looseObject({
  id: z.string().min(1).max(128).describe('Unique id of the op within the job.'),
  type: z.enum(['container/run', 'container/create-volume']).describe('The op type.'),
  args: containerRunArgs,
  results: z.record(z.string(), z.unknown().meta({ 'x-kubernetes-preserve-unknown-fields': true })).optional()
    .describe('Named regular expressions extracted from the op logs into the result.'),
  execution: z.looseObject({
    group: z.string().max(128).optional().describe('Ops of a group run together; groups run in order.'),
    depends_on: z.array(z.string().max(128)).max(64).optional().describe('Ops of the same group this op waits for.'),
    stop_if_dependent_stops: z.boolean().optional().describe('Stop this op when an op it depends on stops.'),
    timeout: z.int().min(1).optional().describe('Seconds the op may run.'),
  }).optional().describe('Ordering and limits of the op.'),
}).describe('One operation of the job.').meta({
  'x-kubernetes-validations': [{
    rule: "self.type != 'container/run' || has(self.args.image)",
    message: 'a container/run op needs args.image (global.image is not used by nodes)',
  }, {
    rule: "self.type != 'container/create-volume' || has(self.args.name)",
    message: 'a container/create-volume op needs args.name',
  }],
});

export const jobDefinitionShape = z.looseObject({
  version: z.string().max(16).describe('Job definition format version; "0.1".'),
  type: z.enum(['container']).describe('Job type; always "container".'),
  meta: z.looseObject({}).optional().describe('Free-form metadata (trigger, system_requirements, …); nodes ignore it.'),
  global: z.looseObject({
    image: z.string().max(1024).optional().describe('Default image (informational: each container/run op must name its own).'),
    gpu: z.boolean().optional().describe('Default for ops that do not set gpu.'),
    entrypoint: stringOrStrings('Default entrypoint for ops that do not set one.'),
    env: stringMap('Environment variables for every op.'),
    work_dir: z.string().max(4096).optional().describe('Default working directory.'),
    variables: stringMap('Values for %%global.variables.NAME%% literals.'),
  }).optional().describe('Defaults for every op.'),
  ops: z.array(operation).max(64).describe('The operations of the job, in order; op ids are unique.')
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['id'] }),
}).describe('The Nosana job definition (the JSON the Nosana CLI posts), inline. It is pinned to public IPFS as is.');

// --- spec -------------------------------------------------------------------------------

export const nosanaJobSpec = z.object({
  market: z.string().min(1).max(253)
    .describe('The market to post to: the name of a NosanaMarket in this namespace, or a market address (base58).'),
  definition: jobDefinitionShape.optional(),
  definitionFrom: z.object({
    configMapKeyRef: configMapKeyRef('A ConfigMap key holding the job definition JSON.'),
  }).optional().describe('Where to read the job definition from, instead of definition.'),
  timeout: intOrString('How long the job may run: seconds, or a duration such as "30m" or "1h30m". The deposit is price × timeout. Defaults to the market\'s job timeout.').optional(),
  maxCost: intOrString('The most this job may cost, in NOS (a whole number or a decimal string such as "0.75"). Posting is refused when price × timeout exceeds it.').optional(),
  walletSecretRef: secretKeyRef('The Secret holding the Solana keypair that pays for the job (a Solana CLI JSON array or base58). Defaults to the market\'s default wallet.', 'keypair').optional(),
  node: solanaAddress('Post the job to this node only (its address), instead of the market queue.').optional(),
  deletionPolicy: z.enum(['Cancel', 'Orphan']).default('Cancel')
    .describe('What deleting this resource does on chain: Cancel delists a queued job or ends a running one (paying for the time used); Orphan leaves the job alone.'),
  jobAddress: solanaAddress('Adopt this existing on-chain job and mirror it, instead of posting a new one.').optional(),
  queueTimeout: intOrString('Delist the job (refunding the deposit) when no node has taken it after this long: seconds or a duration such as "2h". Unset: it waits until the market expires it.').optional(),
  retries: z.int().min(0).max(10).default(2)
    .describe('How many times a job whose node quit is recovered and posted again as a fresh job (like a Job\'s backoffLimit).'),
  allowPublicCredentials: z.boolean().default(false)
    .describe('Allow a definition carrying registry, S3 or Hugging Face credentials. Definitions are pinned to public IPFS, so anyone could read them.'),
}).describe('The job to post and how to pay for it.');

// --- status -----------------------------------------------------------------------------

const opSummary = z.object({
  id: z.string().max(128).describe('The op id.'),
  status: z.string().max(32).describe('The op status reported by the node: pending, running, success, failed, stopped, …'),
  exitCode: z.int().optional().describe('The container exit code.'),
  startTime: timestamp('When the op started.').optional(),
  endTime: timestamp('When the op ended.').optional(),
  results: z.record(z.string(), z.array(z.string().max(4096)).max(32)).optional().describe('Values extracted by the op\'s results expressions.'),
  logTail: z.string().max(4096).optional().describe('The last lines of the op\'s logs; the full logs are in the ConfigMap <name>-logs.'),
}).describe('Summary of one op of the finished job.');

/**
 * The create-once record of a post, as kept in status.pendingPost and (as JSON) in the
 * nosana.io/pending-post annotation. Every reader parses it with this one schema.
 */
export const pendingPostRecord = z.object({
  jobAddress: solanaAddress('The address of the job account the transaction creates.'),
  runAddress: solanaAddress('The address of the run account the transaction creates (used at once when a node waits in the queue).'),
  signature: z.string().max(128).describe('The transaction signature (base58).'),
  lastValidBlockHeight: z.int().min(0).describe('The block height after which the transaction can never land.'),
  preparedSlot: z.int().min(0).optional().describe('The slot the transaction\'s blockhash was fetched at: a history reaching back to it covers every block the post could land in.'),
  genesisHash: z.string().max(64).optional().describe('The genesis hash of the cluster the post was signed for; the post is never resolved against another cluster.'),
  transaction: z.string().max(4096).describe('The signed transaction (base64), re-sent unchanged if needed.'),
  preparedAt: timestamp('When the post was prepared.'),
}).describe('The post being broadcast, recorded before broadcasting so a crash can never post twice.');

const attempt = z.object({
  jobAddress: solanaAddress('The on-chain job of this attempt.'),
  postedAt: timestamp('When the attempt was posted (or adopted).').optional(),
  node: solanaAddress('The node that took the job.').optional(),
  outcome: z.string().max(64).optional().describe('How the attempt ended: Succeeded, Failed, NodeQuit, QueueTimeout, Cancelled, …'),
  endedAt: timestamp('When the attempt ended.').optional(),
  origin: z.enum(['posted', 'adopted', 'unverified']).optional().describe('posted: this resource paid for the job and may act on it; adopted: the job is only mirrored (spec.jobAddress, or a job address this resource did not post); unverified: only mirrored until it can be told whether this resource posted it. Unset means posted.'),
  binding: z.int().min(0).max(1000).optional().describe('The attempt number bound into the pinned definition (its meta.nosanaOperatorBinding), by which the operator finds this job again after a restore.'),
  missingSince: timestamp('When the job account was first found missing while the job was queued or running; the attempt counts as ended by someone else only once it stays missing, at finalized commitment, for a minute.').optional(),
}).describe('One on-chain job posted for this resource.');

export const nosanaJobStatus = z.object({
  phase: z.enum(NOSANA_JOB_PHASES).optional().describe('Where the job is: Pending, Posting, Queued, Running, Succeeded, Failed or Stopped.'),
  conditions: conditions.optional(),
  observedGeneration: observedGeneration.optional(),
  marketAddress: solanaAddress('The address of the market the job was posted to.').optional(),
  jobAddress: solanaAddress('The on-chain job account.').optional(),
  runAddress: solanaAddress('The on-chain run account while the job runs.').optional(),
  node: solanaAddress('The node running or having run the job.').optional(),
  ipfsJob: ipfsCid('The IPFS CID of the pinned job definition.').optional(),
  ipfsResult: ipfsCid('The IPFS CID of the result document.').optional(),
  price: nosAmountString('The job price in NOS per second.').optional(),
  priceBaseUnits: baseUnits('The job price in NOS base units per second.').optional(),
  cost: nosAmountString('What the job cost (or has cost so far), in NOS.').optional(),
  costBaseUnits: baseUnits('The cost in NOS base units.').optional(),
  timeStart: timestamp('When a node started the job.').optional(),
  timeEnd: timestamp('When the job ended.').optional(),
  queuePosition: z.int().min(0).optional().describe('Position in the market queue while queued (0 is next).'),
  serviceUrls: z.array(z.object({
    op: z.string().max(128).describe('The op exposing the port.'),
    port: z.int().min(1).max(65535).describe('The exposed container port.'),
    url: z.string().max(2048).describe('The public URL.'),
  })).max(64).optional().describe('Service URLs of exposed ports.'),
  ops: z.array(opSummary).max(64).optional().describe('Per-op results of the finished job.'),
  pendingPost: pendingPostRecord.optional(),
  duration: z.int().min(0).optional().describe('Seconds the job ran (timeEnd - timeStart).'),
  logsConfigMap: z.string().max(253).optional().describe('The ConfigMap holding the full logs of every op.'),
  attempts: z.array(attempt).max(16).optional().describe('Every on-chain job posted for this resource, oldest first; more than one when a node quit and the job was posted again.'),
}).describe('What the operator observed of the job on chain and on IPFS.');

export type NosanaJobSpec = z.infer<typeof nosanaJobSpec>;
export type NosanaJobStatus = z.infer<typeof nosanaJobStatus>;

/** A NosanaJob as the API server returns it. */
export interface NosanaJobObject extends KubernetesObject {
  spec: NosanaJobSpec;
  status?: NosanaJobStatus;
}

// --- the CRD ----------------------------------------------------------------------------

export const nosanaJobCrd: CrdDefinition = {
  kind: 'NosanaJob',
  plural: 'nosanajobs',
  singular: 'nosanajob',
  shortNames: ['nj'],
  description: 'A Nosana GPU job: applying it pins the definition to IPFS and posts the job to a market on Solana; its status mirrors the job until it ends; deleting it cancels the job.',
  spec: nosanaJobSpec,
  status: nosanaJobStatus,
  printerColumns: [
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Market', type: 'string', jsonPath: '.spec.market' },
    { name: 'Node', type: 'string', jsonPath: '.status.node' },
    { name: 'Cost', type: 'string', jsonPath: '.status.cost', description: 'NOS' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason', priority: 1 },
    { name: 'Job', type: 'string', jsonPath: '.status.jobAddress', priority: 1 },
    { name: 'Result', type: 'string', jsonPath: '.status.ipfsResult', priority: 1 },
  ],
  specRules: [
    {
      rule: 'has(self.definition) != has(self.definitionFrom) || has(self.jobAddress)',
      message: 'set exactly one of definition and definitionFrom (or jobAddress to adopt an existing job)',
    },
    {
      rule: '!has(self.definition) || !has(self.definitionFrom)',
      message: 'definition and definitionFrom are mutually exclusive',
    },
    {
      rule: `!has(self.timeout) || (type(self.timeout) == int ? int(self.timeout) > 0 : string(self.timeout).matches('${CEL_DURATION_PATTERN}') && duration(string(self.timeout)) > duration('0s'))`,
      message: 'timeout must be a positive number of seconds or a duration such as "30m"',
      fieldPath: '.timeout',
    },
    {
      rule: `!has(self.queueTimeout) || (type(self.queueTimeout) == int ? int(self.queueTimeout) > 0 : string(self.queueTimeout).matches('${CEL_DURATION_PATTERN}') && duration(string(self.queueTimeout)) > duration('0s'))`,
      message: 'queueTimeout must be a positive number of seconds or a duration such as "2h"',
      fieldPath: '.queueTimeout',
    },
    {
      rule: "!has(self.maxCost) || (type(self.maxCost) == int ? int(self.maxCost) >= 0 : string(self.maxCost).matches('^[0-9]{1,12}(\\\\.[0-9]{1,6})?$'))",
      message: 'maxCost must be an amount of NOS such as 2 or "0.75" (at most 6 decimals)',
      fieldPath: '.maxCost',
    },
  ],
  // Rules about changes after posting live in the admission policy (admission-policy.ts),
  // which also sees the job-address annotation that survives a restore without status.
};
