// Where and how a NosanaNode's jobs may run, whatever its spec says. Jobs are strangers' images,
// so their Pods run only in namespaces an administrator marked for them with a label (labelling a
// namespace is a cluster administrator's right, not a tenant's), never beside a node's key Secret,
// and never with more than the agent's ceilings. The agent labels each job namespace for Pod
// Security (baseline enforced, restricted warned), so the API server refuses a privileged Pod
// even if the executor built one. Pure: the acting layer reads the Namespace and applies the labels.
import type { V1Namespace } from '@kubernetes/client-node';
import type { ResourceLimits } from '../../executor/settings.ts';
import { quantityNanos } from '../../runtime/quantity.ts';

/** The label (and its value) an administrator puts on a namespace to let job Pods run there. */
export const JOB_NAMESPACE_LABEL = 'nosana.io/jobs';
export const JOB_NAMESPACE_ALLOWED = 'allowed';

/** The Pod Security labels every job namespace carries. */
export const JOB_NAMESPACE_POD_SECURITY: Readonly<Record<string, string>> = {
  'pod-security.kubernetes.io/enforce': 'baseline',
  'pod-security.kubernetes.io/warn': 'restricted',
};

export interface PlacementFacts {
  /** The namespace the node's job Pods would use (spec.pods.namespace, else the NosanaNode's). */
  jobNamespace: string;
  /** That Namespace as the cache holds it; undefined: it does not exist. */
  namespace: V1Namespace | undefined;
  /** Namespaces holding a NosanaNode, and so its key Secret. */
  nodeNamespaces: ReadonlySet<string>;
  /** The limits the spec gives every job container. */
  limits: ResourceLimits;
  /** The agent's ceilings (its flags); a limit above one is refused. */
  ceilings?: Partial<ResourceLimits>;
}

const LIMIT_FIELDS: readonly (keyof ResourceLimits)[] = ['cpu', 'memory', 'ephemeralStorage'];

/** Why the node's jobs may not run as its spec asks, or undefined when they may. */
export function placementRefusal(facts: PlacementFacts): string | undefined {
  const { jobNamespace } = facts;
  if (facts.nodeNamespaces.has(jobNamespace))
    return (
      `job Pods may not run in namespace ${jobNamespace}: it holds a NosanaNode and so its key Secret; ` +
      `set spec.pods.namespace to a namespace labelled ${JOB_NAMESPACE_LABEL}=${JOB_NAMESPACE_ALLOWED}`
    );
  if (facts.namespace === undefined) return `namespace ${jobNamespace} (spec.pods.namespace) does not exist`;
  if (facts.namespace.metadata?.labels?.[JOB_NAMESPACE_LABEL] !== JOB_NAMESPACE_ALLOWED)
    return (
      `namespace ${jobNamespace} (spec.pods.namespace) is not marked for jobs: ` +
      `an administrator labels it ${JOB_NAMESPACE_LABEL}=${JOB_NAMESPACE_ALLOWED} to let job Pods run there`
    );
  const over = LIMIT_FIELDS.flatMap((field) => {
    const ceiling = facts.ceilings?.[field];
    if (ceiling === undefined) return [];
    const wanted = quantityNanos(facts.limits[field]);
    const most = quantityNanos(ceiling);
    if (wanted === undefined)
      return [`spec.limits.${field} "${facts.limits[field]}" is not a quantity the agent can compare with its ceiling`];
    // A ceiling that cannot be compared bounds nothing: refuse rather than let any limit through.
    if (most === undefined) return [`the agent's ceiling for spec.limits.${field}, "${ceiling}", is not a quantity it can compare`];
    return wanted > most ? [`spec.limits.${field} ${facts.limits[field]} is above the agent's ceiling ${ceiling}`] : [];
  });
  return over.length === 0 ? undefined : over.join('; ');
}

/**
 * The labels a job namespace still lacks (to apply), or undefined when it has them all. A level an
 * administrator set is kept unless it is weaker than the agent's (an explicit `privileged`): the
 * agent only ever tightens Pod Security, never loosens a `restricted` namespace to `baseline`.
 */
export function missingPodSecurityLabels(namespace: V1Namespace): Record<string, string> | undefined {
  const labels = namespace.metadata?.labels ?? {};
  const missing = Object.entries(JOB_NAMESPACE_POD_SECURITY).filter(([key]) => labels[key] === undefined || labels[key] === 'privileged');
  return missing.length === 0 ? undefined : Object.fromEntries(missing);
}
