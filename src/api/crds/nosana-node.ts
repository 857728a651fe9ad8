// NosanaNode: this cluster serving a Nosana market as a node: it queues, claims jobs and
// runs their ops as GPU Pods. The spec holds what a GPU owner decides per node (which market,
// which key, where its payments go, how job Pods are placed, limited and published); the
// containment every job gets whatever the spec says (namespaces jobs may use, egress denied,
// ceilings) comes from the operator's own settings, so whoever may edit a NosanaNode cannot
// loosen it.
import type { KubernetesObject } from '@kubernetes/client-node';
import { z } from 'zod';
import { baseUnits, conditions, nosAmountString, observedGeneration, secretKeyRef, solanaAddress, timestamp } from './common.ts';
import type { CrdDefinition, ValidationRule } from './crd.ts';

export const NOSANA_NODE_PHASES = ['Idle', 'Queued', 'Running', 'Draining', 'Error'] as const;
export type NosanaNodePhase = (typeof NOSANA_NODE_PHASES)[number];

// --- spec: placement --------------------------------------------------------------------

const toleration = z.object({
  key: z.string().max(316).optional().describe('The taint key the toleration applies to; empty matches all keys.'),
  operator: z.enum(['Exists', 'Equal']).optional().describe('Exists or Equal (default Equal).'),
  value: z.string().max(63).optional().describe('The taint value to match with Equal.'),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional().describe('The taint effect to match; empty matches all.'),
  tolerationSeconds: z.int().optional().describe('For NoExecute: how long the Pod stays bound after the taint appears.'),
}).describe('A toleration for job Pods (core/v1 Toleration).');

/** The device-plugin fields' defaults: a node using DRA leaves them as they are. */
export const DEFAULT_GPU_RESOURCE_NAME = 'nvidia.com/gpu';
export const DEFAULT_GPUS_PER_JOB = 1;

/** A lowercase DNS subdomain (RFC 1123), as Kubernetes object names and host names are. */
const dnsSubdomain = (description: string) =>
  z.string().min(1).max(253).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, {
    error: 'must be a lowercase DNS name, such as nodes.example.com',
  }).describe(description);

const dra = z.object({
  deviceClassName: dnsSubdomain('The DeviceClass the GPUs are claimed from (e.g. gpu.nvidia.com).'),
  count: z.int().min(1).max(64).default(1).describe('How many devices each job claims; all its Pods share them, as every op of a job sees all the GPUs on a Nosana node.'),
}).describe('Dynamic Resource Allocation (Kubernetes 1.34 or later): one ResourceClaim per job instead of the device plugin\'s extended resource. Set it instead of gpuResourceName and gpusPerJob.');

// --- spec: limits -----------------------------------------------------------------------

// A positive Kubernetes quantity: a number that is not zero, then a binary (Ki … Ei) or decimal
// (n, u, m, k … E) suffix or an exponent. RE2 has no look-ahead (the API server checks patterns
// with Go's regexp), so "not zero" is spelt as "a non-zero digit before the suffix".
// The exponent form is bounded to two digits: a quantity like 1e999999999 would cost whoever compares it
// with a ceiling seconds of arithmetic, and no real limit needs more than 10^99.
const POSITIVE_QUANTITY = /^(0*[1-9][0-9]*(\.[0-9]*)?|0*\.0*[1-9][0-9]*)(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?[0-9]{1,2}))?$/;

const quantity = (description: string, fallback: string) =>
  z.string().max(64).regex(POSITIVE_QUANTITY, { error: 'must be a Kubernetes quantity greater than zero, such as "4", "500m" or "16Gi"' })
    .default(fallback).describe(`${description} Defaults to "${fallback}".`);

/**
 * What every job container gets when the spec says nothing: the executor's defaults. Kept here
 * because api/ sits below the executor; a test holds the two equal.
 */
export const DEFAULT_JOB_LIMITS = { cpu: '8', memory: '32Gi', ephemeralStorage: '50Gi' } as const;

const limits = z.object({
  cpu: quantity('CPU limit of every job container, as a Kubernetes quantity.', DEFAULT_JOB_LIMITS.cpu),
  memory: quantity('Memory limit of every job container, as a Kubernetes quantity.', DEFAULT_JOB_LIMITS.memory),
  ephemeralStorage: quantity('Ephemeral-storage limit of every job container (its writable layer and logs), as a Kubernetes quantity.', DEFAULT_JOB_LIMITS.ephemeralStorage),
}).prefault({}).describe('Limits every job container gets; a job definition cannot ask for more. The operator\'s own ceilings, from its settings, still bound them.');

// --- spec: rules between fields ---------------------------------------------------------

/**
 * A rule between fields, written twice side by side: as CEL for the API server and as the same
 * test in TypeScript for the zod schema (callers that check a spec without an API server).
 */
export interface FieldRule<T> {
  rule: string;
  holds: (self: T) => boolean;
  message: string;
  /** the field the error names, relative to the object the rule is on */
  fieldPath: string;
}

function celRules<T>(rules: readonly FieldRule<T>[]): ValidationRule[] {
  return rules.map(({ rule, message, fieldPath }) => ({ rule, message, fieldPath }));
}

/** Adds an issue at `at` + the rule's field for every rule `self` breaks. */
function checkRules<T>(self: T, rules: readonly FieldRule<T>[], at: string[], ctx: z.RefinementCtx): void {
  for (const { holds, message, fieldPath } of rules)
    if (!holds(self)) ctx.addIssue({ code: 'custom', path: [...at, ...fieldPath.slice(1).split('.')], message });
}

// --- spec: exposure ---------------------------------------------------------------------

const exposureShape = z.object({
  baseDomain: dnsSubdomain('The domain exposed ports are published under: a port gets the host <its Nosana expose id>.<baseDomain>, lowercased. A wildcard DNS record for it must reach the cluster\'s ingress or gateway.'),
  kind: z.enum(['Ingress', 'HTTPRoute']).default('Ingress').describe('How exposed ports are published: an Ingress per port (default), or a Gateway API HTTPRoute per port.'),
  ingressClassName: z.string().min(1).max(253).optional().describe('For kind Ingress: the IngressClass of the Ingresses. Unset: the cluster\'s default class.'),
  gateway: z.object({
    namespace: z.string().min(1).max(63).describe('Namespace of the Gateway.'),
    name: z.string().min(1).max(253).describe('Name of the Gateway.'),
  }).optional().describe('For kind HTTPRoute (required there): the Gateway the routes attach to; it must allow routes from the job Pods\' namespace.'),
});

// kind has a default, yet every rule reads a field only after has(): a rule never relies on
// defaulting having run.
export const EXPOSURE_RULES: readonly FieldRule<z.infer<typeof exposureShape>>[] = [
  {
    rule: "!has(self.kind) || self.kind != 'HTTPRoute' || has(self.gateway)",
    holds: (self) => self.kind !== 'HTTPRoute' || self.gateway !== undefined,
    message: 'an HTTPRoute exposure needs gateway (the Gateway its routes attach to)',
    fieldPath: '.gateway',
  },
  {
    rule: "!has(self.gateway) || (has(self.kind) && self.kind == 'HTTPRoute')",
    holds: (self) => self.kind === 'HTTPRoute' || self.gateway === undefined,
    message: 'gateway applies only to kind HTTPRoute',
    fieldPath: '.gateway',
  },
  {
    rule: "!has(self.ingressClassName) || !has(self.kind) || self.kind == 'Ingress'",
    holds: (self) => self.kind === 'Ingress' || self.ingressClassName === undefined,
    message: 'ingressClassName applies only to kind Ingress',
    fieldPath: '.ingressClassName',
  },
];

const exposure = exposureShape
  .describe('Publish the ports jobs expose at public HTTPS hosts, as Nosana\'s node does. Unset: exposed ports get in-cluster Services only.')
  .meta({ 'x-kubernetes-validations': celRules(EXPOSURE_RULES) });

// --- spec -------------------------------------------------------------------------------

const nodeSpecShape = z.object({
  market: z.string().min(1).max(253).describe('The market to serve: a NosanaMarket name in this namespace, or a market address.'),
  keySecretRef: secretKeyRef('The Secret holding the node\'s Solana keypair: its identity on chain, and the account that pays transaction fees and run rent.', 'keypair'),
  payoutAddress: solanaAddress('The NOS token account that receives this node\'s payments when it finishes a job (an SPL token account of the NOS mint, not a wallet address). Unset: the node\'s own NOS token account (the associated token account of its key).').optional(),
  gpuResourceName: z.string().max(253).default(DEFAULT_GPU_RESOURCE_NAME).describe('The extended resource job Pods request for GPUs (device plugin). Leave unset with dra.'),
  gpusPerJob: z.int().min(0).max(64).default(DEFAULT_GPUS_PER_JOB).describe('How many GPUs each job Pod requests (device plugin). Leave unset with dra.'),
  dra: dra.optional(),
  pods: z.object({
    namespace: z.string().min(1).max(63).optional().describe('Namespace for job Pods: one an administrator labelled nosana.io/jobs=allowed, and never one holding a NosanaNode (its key Secret lives there). Defaults to this resource\'s namespace, which is therefore refused: set it.'),
    nodeSelector: z.record(z.string(), z.string()).optional().describe('Node labels job Pods must match, e.g. nvidia.com/gpu.product.'),
    tolerations: z.array(toleration).max(32).optional().describe('Tolerations for job Pods.'),
    runtimeClassName: z.string().max(253).optional().describe('RuntimeClass for job Pods (e.g. nvidia, or a sandboxed runtime for untrusted images).'),
    storageClassName: z.string().max(253).optional().describe('StorageClass for job volumes and downloaded resources.'),
  }).optional().describe('Where and how job Pods run.'),
  limits,
  exposure: exposure.optional(),
  maxConcurrentJobs: z.int().min(1).max(1).default(1).describe('Jobs run at once. Nosana gives one job at a time to a node identity, so this is 1; run more NosanaNodes for more.'),
  paused: z.boolean().default(false).describe('Stop taking new jobs (a running job finishes; the node leaves the queue).'),
});

export const NODE_SPEC_RULES: readonly FieldRule<z.infer<typeof nodeSpecShape>>[] = [
  {
    // Defaults are applied before rules run, so "left unset" reads as "still the default".
    rule: `!has(self.dra) || ((!has(self.gpuResourceName) || self.gpuResourceName == '${DEFAULT_GPU_RESOURCE_NAME}') && (!has(self.gpusPerJob) || self.gpusPerJob == ${DEFAULT_GPUS_PER_JOB}))`,
    holds: (self) => self.dra === undefined || (self.gpuResourceName === DEFAULT_GPU_RESOURCE_NAME && self.gpusPerJob === DEFAULT_GPUS_PER_JOB),
    message: 'dra replaces the device-plugin fields: with dra set, leave gpuResourceName and gpusPerJob unset (dra.count says how many devices a job gets)',
    fieldPath: '.dra',
  },
];

export const nosanaNodeSpec = nodeSpecShape
  .superRefine((spec, ctx) => {
    checkRules(spec, NODE_SPEC_RULES, [], ctx);
    if (spec.exposure !== undefined) checkRules(spec.exposure, EXPOSURE_RULES, ['exposure'], ctx);
  })
  .describe('Which market to serve, where payments go, and how job Pods run.');

// --- status -----------------------------------------------------------------------------

export const nosanaNodeStatus = z.object({
  phase: z.enum(NOSANA_NODE_PHASES).optional().describe('Idle, Queued (waiting for a job), Running, Draining or Error.'),
  conditions: conditions.optional(),
  observedGeneration: observedGeneration.optional(),
  nodeAddress: solanaAddress('The node\'s Solana address.').optional(),
  queuePosition: z.int().min(0).optional().describe('Position in the market\'s node queue while queued (0 is next).'),
  currentJob: solanaAddress('The job being run.').optional(),
  currentRun: solanaAddress('The run account of the job being run.').optional(),
  startedAt: timestamp('When the current run started: the time the chain recorded when this node took the job.').optional(),
  jobsCompleted: z.int().min(0).optional().describe('Jobs finished with every op succeeded.'),
  jobsFailed: z.int().min(0).optional().describe('Jobs finished with a failed op or flow (the job\'s own failure; the node is paid).'),
  jobsQuit: z.int().min(0).optional().describe('Jobs given up unpaid because the cluster, not the job, could not run them (expired before they started, Pods lost or unschedulable, a plan larger than the cluster).'),
  earnings: nosAmountString('NOS earned from finished jobs.').optional(),
  earningsBaseUnits: baseUnits('Earnings in NOS base units.').optional(),
  joinedPlacement: z.string().max(64).optional().describe('A fingerprint of where and how jobs run (job namespace, GPUs, placement, limits, exposure) when the node last joined the queue: a claimed job runs only as the node joined, so an edit after a claim cannot loosen what the job gets.'),
  lastError: z.string().max(1024).optional().describe('The last error the node met (a transaction that failed, a chain that could not be read), in short; never key material.'),
}).describe('What the node is doing.');

export type NosanaNodeSpec = z.infer<typeof nosanaNodeSpec>;
export type NosanaNodeStatus = z.infer<typeof nosanaNodeStatus>;

/** A NosanaNode as the API server returns it. */
export interface NosanaNodeObject extends KubernetesObject {
  spec: NosanaNodeSpec;
  status?: NosanaNodeStatus;
}

// --- the CRD ----------------------------------------------------------------------------

export const nosanaNodeCrd: CrdDefinition = {
  kind: 'NosanaNode',
  plural: 'nosananodes',
  singular: 'nosananode',
  shortNames: ['nnode'],
  description: 'This cluster as a Nosana node: it joins a market queue, claims jobs and runs each op as a Pod requesting GPUs, then pins the result and finishes the job on chain.',
  spec: nosanaNodeSpec,
  status: nosanaNodeStatus,
  printerColumns: [
    { name: 'Market', type: 'string', jsonPath: '.spec.market' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Node', type: 'string', jsonPath: '.status.nodeAddress' },
    { name: 'Job', type: 'string', jsonPath: '.status.currentJob' },
    { name: 'Completed', type: 'integer', jsonPath: '.status.jobsCompleted' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason', priority: 1 },
    { name: 'Failed', type: 'integer', jsonPath: '.status.jobsFailed', priority: 1 },
    { name: 'Quit', type: 'integer', jsonPath: '.status.jobsQuit', priority: 1 },
    { name: 'Earnings', type: 'string', jsonPath: '.status.earnings', description: 'NOS', priority: 1 },
  ],
  specRules: celRules(NODE_SPEC_RULES),
};
