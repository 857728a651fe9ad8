// The labels and annotations every object of a job carries, and the metadata block the builders
// share. Labels are how a restarted runner finds a job's objects again (the Akash provider's "chain
// ids as labels") and how selectors pick a job's Pods (Services, the NetworkPolicy), so the job
// label is set by the executor alone: nothing in a definition reaches a label key or a selector.
//
// A label value is at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends. A base58
// Solana address (32–44 alphanumerics) is one as it stands, so on the real network the job label
// is the address, readable with `kubectl get pods -l nosana.io/job=<address>`. A value that is not
// valid (a `run` job id with spaces, a long op id) becomes `sha256-<48 hex>`; base58 has no '-', so
// that form never equals an address. The raw ids are also kept in annotations, which take any text.
import type { V1LabelSelector, V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import { sha256Hex } from './names.ts';
import type { ExecutorSettings } from './settings.ts';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'nosana-operator';

export const JOB_LABEL = 'nosana.io/job';
export const OP_INDEX_LABEL = 'nosana.io/op-index';
export const OP_LABEL = 'nosana.io/op';
export const RUN_LABEL = 'nosana.io/run';
export const NODE_LABEL = 'nosana.io/node';
/** On a resource cache PVC: the name's hash, to list caches apart from job objects. */
export const RESOURCE_CACHE_LABEL = 'nosana.io/resource-cache';

/** The job id as given (labels may hold only a hash of it). */
export const JOB_ID_ANNOTATION = 'nosana.io/job-id';
/** The op id as given. */
export const OP_ID_ANNOTATION = 'nosana.io/op-id';

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const MAX_LABEL_VALUE_LENGTH = 63;
const LABEL_HASH_HEX_DIGITS = 48;

export function isLabelValue(text: string): boolean {
  return text.length <= MAX_LABEL_VALUE_LENGTH && LABEL_VALUE.test(text);
}

/** The text itself when it is a valid, non-empty label value; otherwise `sha256-<48 hex>`. */
export function labelValue(text: string): string {
  return text !== '' && isLabelValue(text) ? text : `sha256-${sha256Hex(text).slice(0, LABEL_HASH_HEX_DIGITS)}`;
}

// ---------------------------------------------------------------------------------------------
// What every builder is given

/** One job's objects: who they belong to, where they live, and (once it exists) their owner. */
export interface JobContext {
  jobId: string;
  settings: ExecutorSettings;
  /** From ownedBy(run ConfigMap); absent until that ConfigMap exists, or for shared objects. */
  ownerReferences?: V1OwnerReference[];
}

/** One op's objects. */
export interface OpContext extends JobContext {
  /** Position in `ops`: the op's names and its selector are built from it. */
  opIndex: number;
  /** undefined for an op without an id (the validator allows one, with a warning). */
  opId: string | undefined;
}

function identityLabels(settings: ExecutorSettings): Record<string, string> {
  const { run, node } = settings.identity ?? {};
  return {
    ...(run === undefined ? {} : { [RUN_LABEL]: labelValue(run) }),
    ...(node === undefined ? {} : { [NODE_LABEL]: labelValue(node) }),
  };
}

/** Labels of an object that belongs to the job as a whole. */
export function jobLabels(context: JobContext): Record<string, string> {
  return { [MANAGED_BY_LABEL]: MANAGED_BY, [JOB_LABEL]: labelValue(context.jobId), ...identityLabels(context.settings) };
}

/** Labels of an object that belongs to one op. */
export function opLabels(context: OpContext): Record<string, string> {
  return {
    ...jobLabels(context),
    [OP_INDEX_LABEL]: String(context.opIndex),
    ...(context.opId === undefined ? {} : { [OP_LABEL]: labelValue(context.opId) }),
  };
}

/** Every Pod of the job (the NetworkPolicy's peers). */
export function jobSelector(jobId: string): V1LabelSelector {
  return { matchLabels: { [MANAGED_BY_LABEL]: MANAGED_BY, [JOB_LABEL]: labelValue(jobId) } };
}

/** The one Pod of an op (its Service). */
export function opSelectorLabels(jobId: string, opIndex: number): Record<string, string> {
  return { [MANAGED_BY_LABEL]: MANAGED_BY, [JOB_LABEL]: labelValue(jobId), [OP_INDEX_LABEL]: String(opIndex) };
}

/** Labels of a resource cache: shared between jobs, so it carries no job or op. */
export function resourceCacheLabels(settings: ExecutorSettings, cacheHash: string): Record<string, string> {
  return { [MANAGED_BY_LABEL]: MANAGED_BY, [RESOURCE_CACHE_LABEL]: labelValue(cacheHash), ...identityLabels(settings) };
}

// ---------------------------------------------------------------------------------------------
// Metadata

function owners(context: JobContext): Pick<V1ObjectMeta, 'ownerReferences'> {
  return context.ownerReferences === undefined ? {} : { ownerReferences: context.ownerReferences };
}

/** Metadata of a job-wide object, in the settings' namespace, owned by the run when known. */
export function jobObjectMeta(context: JobContext, name: string, annotations: Record<string, string> = {}): V1ObjectMeta {
  return {
    name,
    namespace: context.settings.namespace,
    labels: jobLabels(context),
    annotations: { [JOB_ID_ANNOTATION]: context.jobId, ...annotations },
    ...owners(context),
  };
}

/** Metadata of an op's object. */
export function opObjectMeta(context: OpContext, name: string, annotations: Record<string, string> = {}): V1ObjectMeta {
  return {
    name,
    namespace: context.settings.namespace,
    labels: opLabels(context),
    annotations: {
      [JOB_ID_ANNOTATION]: context.jobId,
      ...(context.opId === undefined ? {} : { [OP_ID_ANNOTATION]: context.opId }),
      ...annotations,
    },
    ...owners(context),
  };
}
