// Field types shared by the nosana.io CRDs. Each carries the description that
// `kubectl explain` shows, and the bounds that keep CEL rule costs low.
import { z } from 'zod';

export const GROUP = 'nosana.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** A Solana address: base58 of 32 bytes. */
export const solanaAddress = (description: string) =>
  z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/).describe(description);

/** An IPFS CIDv0 (what the jobs program stores). */
export const ipfsCid = (description: string) => z.string().max(128).describe(description);

/** A decimal NOS amount, e.g. "0.5"; NOS has 6 decimals. */
export const nosAmountString = (description: string) =>
  z.string().regex(/^[0-9]{1,12}(\.[0-9]{1,6})?$/).describe(description);

/** An amount in NOS base units (1 NOS = 1,000,000), as a string because it can exceed 2^53. */
export const baseUnits = (description: string) => z.string().regex(/^[0-9]{1,20}$/).describe(description);

export const timestamp = (description: string) => z.iso.datetime().describe(description);

/**
 * An integer or a string, validated in CEL (structural schemas allow no other form of
 * int-or-string). `rule` sees `self` as either.
 */
export const intOrString = (description: string) =>
  z.union([z.int(), z.string().max(32)]).describe(description).meta({ 'x-kubernetes-int-or-string': true });

/** CEL: a Go duration string such as "90s", "30m", "1h30m". */
export const CEL_DURATION_PATTERN = "^([0-9]+(\\\\.[0-9]+)?(ns|us|ms|s|m|h))+$";

export const secretKeyRef = (description: string, defaultKey: string) =>
  z.object({
    name: z.string().min(1).max(253).describe('Name of the Secret, in the same namespace as this resource.'),
    key: z.string().min(1).max(253).default(defaultKey).describe(`Key in the Secret's data. Defaults to "${defaultKey}".`),
  }).describe(description);

export const configMapKeyRef = (description: string) =>
  z.object({
    name: z.string().min(1).max(253).describe('Name of the ConfigMap, in the same namespace as this resource.'),
    key: z.string().min(1).max(253).describe("Key in the ConfigMap's data."),
  }).describe(description);

/** metav1.Condition, as Kubernetes' own types declare it. */
export const condition = z.object({
  type: z.string().max(316).regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/)
    .describe('Type of condition in CamelCase, e.g. Ready.'),
  status: z.enum(['True', 'False', 'Unknown']).describe('Status of the condition: True, False or Unknown.'),
  observedGeneration: z.int().min(0).optional()
    .describe('The .metadata.generation the condition was set for; older than .metadata.generation means stale.'),
  lastTransitionTime: z.iso.datetime().describe('Last time the status changed (not the reason or message).'),
  reason: z.string().min(1).max(1024).regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
    .describe('Programmatic CamelCase identifier of why the condition is in this status.'),
  message: z.string().max(32768).describe('Human-readable details about the transition.'),
}).describe('A condition of the resource (metav1.Condition).');

export const conditions = z.array(condition).max(16)
  .describe('The latest observations of the resource, one per type. Ready summarises them; Reconciling and Stalled follow the kstatus conventions so Flux, Argo CD and kubectl wait understand them.')
  .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });

export const observedGeneration = z.int().min(0)
  .describe('The .metadata.generation the operator last acted on.');

export type Condition = z.infer<typeof condition>;
