// The chart's RBAC as a test reads it: the rules a release grants one ServiceAccount (through
// which bindings, in which namespaces), whether an API call from the audit log is among them, and
// which grants no call used. A rule may say why a verb goes unused in the audited run, in the
// comment above it: `# Unaudited (verb, verb): why` — a grant kept for a path this run does not
// take (a DRA cluster, an exposed port) stays deliberate rather than forgotten.
import { parseDocument } from 'yaml';
import type { AuditEvent } from './audit-log.ts';

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
}

export interface RenderedObject {
  object: {
    kind: string;
    metadata: { name: string; namespace?: string };
    rules?: PolicyRule[];
    roleRef?: { kind: string; name: string };
    subjects?: { kind: string; name: string; namespace?: string }[];
  };
  /** The object's text as rendered, comments included. */
  text: string;
}

/** One rule of one role, as bound to the ServiceAccount in one place. */
export interface Grant {
  /** "Role/name" or "ClusterRole/name": instances of one template in many namespaces share it. */
  role: string;
  ruleIndex: number;
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
  /** undefined: every namespace (a ClusterRoleBinding). */
  namespace?: string;
  /** Verbs the rule's comment says go unused in the audited run, and why. */
  unaudited: ReadonlySet<string>;
}

/** The objects of `helm get manifest` (or template) output, each with its own text. */
export function renderedObjects(manifest: string): RenderedObject[] {
  return manifest.split(/^---$/m).flatMap((text) => {
    const object = parseDocument(text).toJS() as RenderedObject['object'] | null;
    return object === null || typeof object !== 'object' ? [] : [{ object, text }];
  });
}

const UNAUDITED = /#\s*Unaudited \(([^)]+)\):\s*\S/;

/** For each rule of a role's text, the verbs its comment lines say go unused. */
function unauditedVerbsByRule(text: string): Set<string>[] {
  const lines = text.split('\n');
  const byRule: Set<string>[] = [];
  lines.forEach((line, index) => {
    if (!/^\s*- apiGroups:/.test(line)) return;
    const verbs = new Set<string>();
    for (let above = index - 1; above >= 0 && /^\s*#/.test(lines[above] ?? ''); above -= 1) {
      const match = UNAUDITED.exec(lines[above] ?? '');
      for (const verb of match?.[1]?.split(',') ?? []) verbs.add(verb.trim());
    }
    byRule.push(verbs);
  });
  return byRule;
}

/** Every rule bound to ServiceAccount `releaseNamespace/serviceAccount`, where it applies. */
export function grantsOf(rendered: readonly RenderedObject[], releaseNamespace: string, serviceAccount: string): Grant[] {
  const roles = new Map(
    rendered
      .filter(({ object }) => object.kind === 'Role' || object.kind === 'ClusterRole')
      .map((entry) => [`${entry.object.kind}/${entry.object.metadata.namespace ?? ''}/${entry.object.metadata.name}`, entry]),
  );
  const grants: Grant[] = [];
  for (const { object: binding } of rendered) {
    if (binding.kind !== 'RoleBinding' && binding.kind !== 'ClusterRoleBinding') continue;
    const bound = (binding.subjects ?? []).some(
      (subject) => subject.kind === 'ServiceAccount' && subject.name === serviceAccount && subject.namespace === releaseNamespace,
    );
    if (!bound || binding.roleRef === undefined) continue;
    const roleNamespace = binding.roleRef.kind === 'Role' ? (binding.metadata.namespace ?? '') : '';
    const role = roles.get(`${binding.roleRef.kind}/${roleNamespace}/${binding.roleRef.name}`);
    if (role === undefined)
      throw new Error(
        `${binding.kind} ${binding.metadata.name} refers to ${binding.roleRef.kind} ${binding.roleRef.name}, which the release does not hold`,
      );
    const unaudited = unauditedVerbsByRule(role.text);
    (role.object.rules ?? []).forEach((rule, ruleIndex) => {
      grants.push({
        role: `${role.object.kind}/${role.object.metadata.name}`,
        ruleIndex,
        apiGroups: rule.apiGroups ?? [],
        resources: rule.resources ?? [],
        verbs: rule.verbs ?? [],
        ...(rule.resourceNames === undefined ? {} : { resourceNames: rule.resourceNames }),
        ...(binding.kind === 'RoleBinding' ? { namespace: binding.metadata.namespace ?? '' } : {}),
        unaudited: unaudited[ruleIndex] ?? new Set(),
      });
    });
  }
  return grants;
}

type ResourceEvent = AuditEvent & { objectRef: NonNullable<AuditEvent['objectRef']> };

function resourceOf(event: ResourceEvent): string {
  const { resource = '', subresource } = event.objectRef;
  return subresource === undefined ? resource : `${resource}/${subresource}`;
}

function covers(grant: Grant, event: ResourceEvent, resource: string, verb: string): boolean {
  const ref = event.objectRef;
  return (
    grant.apiGroups.includes(ref.apiGroup ?? '') &&
    resource === resourceOf(event) &&
    grant.resources.includes(resource) &&
    verb === event.verb &&
    grant.verbs.includes(verb) &&
    (grant.namespace === undefined || grant.namespace === ref.namespace) &&
    (grant.resourceNames === undefined || grant.resourceNames.includes(ref.name ?? ''))
  );
}

/** Whether some grant allows the call. */
export function isGranted(grants: readonly Grant[], event: ResourceEvent): boolean {
  return grants.some((grant) => covers(grant, event, resourceOf(event), event.verb));
}

/**
 * Grants (role, rule, resource, verb — over every namespace the role is bound in) no call used and
 * no comment justifies; and justifications that went stale (the verb was used on every resource
 * of the rule after all).
 */
export function unusedGrants(
  grants: readonly Grant[],
  events: readonly ResourceEvent[],
): { unused: string[]; staleJustifications: string[] } {
  const used = new Set<string>();
  const key = (grant: Grant, resource: string, verb: string) =>
    `${grant.role} rule ${grant.ruleIndex}: ${verb} ${grant.apiGroups.join(',') || 'core'}/${resource}`;
  for (const grant of grants)
    for (const resource of grant.resources)
      for (const verb of grant.verbs)
        if (events.some((event) => covers(grant, event, resource, verb))) used.add(key(grant, resource, verb));
  const unused = new Set<string>();
  const stale = new Set<string>();
  for (const grant of grants) {
    for (const verb of grant.verbs) {
      const usedOn = grant.resources.filter((resource) => used.has(key(grant, resource, verb)));
      if (grant.unaudited.has(verb)) {
        if (usedOn.length === grant.resources.length)
          stale.add(`${grant.role} rule ${grant.ruleIndex}: ${verb} is marked Unaudited but was used`);
        continue;
      }
      for (const resource of grant.resources) if (!usedOn.includes(resource)) unused.add(key(grant, resource, verb));
    }
  }
  return { unused: [...unused].sort(), staleJustifications: [...stale].sort() };
}
