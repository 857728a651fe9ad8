// The entry point: schema issues and cross-field rules, merged into one sorted report.
import { checkLiteralReferences } from './literal-references.ts';
import { readableMessage } from './messages.ts';
import { readOperations } from './op-views.ts';
import { ROOT_PATH, findingsFromIssues, sortByAppearance, toDefinitionProblem, withoutDuplicates } from './problems.ts';
import type { DefinitionProblem, Finding, PathSegment } from './problems.ts';
import { checkContainerArgs, checkDependencies, checkOpIds, checkResultPatterns, checkTopLevel } from './rules.ts';
import { jobDefinitionSchema, lenientJobDefinitionSchema } from './schema.ts';
import type { JobDefinition, Strictness } from './schema.ts';
import { unwrapTolerances } from './tolerances.ts';

export type { Strictness } from './schema.ts';

export interface ValidationOptions {
  strictness?: Strictness;
}

export interface ValidationResult {
  ok: boolean;
  /**
   * The parsed definition, present exactly when `ok`: unknown keys removed and, when lenient, the
   * shapes only Nosana's nodes take normalised or left out (tolerances.ts).
   */
  definition?: JobDefinition;
  problems: DefinitionProblem[];
  warnings: DefinitionProblem[];
}

interface SchemaOutcome {
  definition?: JobDefinition;
  findings: Finding[];
}

function checkSchema(input: unknown, strictness: Strictness): SchemaOutcome {
  if (strictness === 'strict') {
    const result = jobDefinitionSchema.safeParse(input, { error: readableMessage });
    if (result.success) return { definition: result.data, findings: [] };
    return { findings: findingsFromIssues(result.error.issues, input) };
  }
  const result = lenientJobDefinitionSchema.safeParse(input, { error: readableMessage });
  if (!result.success) return { findings: findingsFromIssues(result.error.issues, input) };
  // The shapes only Nosana's nodes take come out of the parse marked; their notes are the warnings.
  const { value, warnings } = unwrapTolerances(result.data);
  return { definition: value as JobDefinition, findings: warnings };
}

function checkRules(input: unknown): Finding[] {
  const views = readOperations(input);
  return [
    ...checkTopLevel(input),
    ...checkOpIds(views),
    ...checkDependencies(views),
    ...checkContainerArgs(views),
    ...checkResultPatterns(views),
    ...checkLiteralReferences(input, views),
  ];
}

function copyContainer(value: object): Record<PropertyKey, unknown> {
  return (Array.isArray(value) ? [...(value as unknown[])] : { ...value }) as Record<PropertyKey, unknown>;
}

/** A copy of `root` without the keys at `paths`; only the containers along the paths are copied. */
function withoutKeys(root: unknown, paths: readonly PathSegment[][]): unknown {
  if (typeof root !== 'object' || root === null) return root;
  const copies = new WeakSet<object>();
  const ownCopy = (value: object): Record<PropertyKey, unknown> => {
    if (copies.has(value)) return value as Record<PropertyKey, unknown>;
    const copy = copyContainer(value);
    copies.add(copy);
    return copy;
  };
  const result = ownCopy(root);
  for (const path of paths) {
    let parent = result;
    for (const segment of path.slice(0, -1)) {
      const child = parent[segment];
      if (typeof child !== 'object' || child === null) break;
      const copy = ownCopy(child);
      // defineProperty, not assignment: a "__proto__" key must stay a plain data property.
      Object.defineProperty(parent, segment, { value: copy, writable: true, enumerable: true, configurable: true });
      parent = copy;
    }
    const last = path.at(-1);
    if (last !== undefined) delete parent[last];
  }
  return result;
}

/** On the node side, unknown keys and the errors Nosana's nodes run all the same are warnings. */
function asSeverityFor(strictness: Strictness): (finding: Finding) => Finding {
  return (finding) => {
    if (strictness === 'strict' || finding.severity === 'warning') return finding;
    if (finding.lenientWarning !== undefined) return { segments: finding.segments, message: finding.lenientWarning, severity: 'warning' };
    return finding.unknownKey === true ? { ...finding, severity: 'warning' } : finding;
  };
}

function validate(input: unknown, strictness: Strictness): ValidationResult {
  const severityFor = asSeverityFor(strictness);
  const schema = checkSchema(input, strictness);
  const schemaFindings = schema.findings.map(severityFor);
  const findings = withoutDuplicates([...schemaFindings, ...checkRules(input).map(severityFor)]);
  const errors = findings.filter((finding) => finding.severity === 'error');
  const warnings = findings.filter((finding) => finding.severity === 'warning');

  let definition = schema.definition;
  if (errors.length === 0 && definition === undefined) {
    // Lenient, and unknown keys were the only schema findings: parse again without them.
    const unknownKeyPaths = schemaFindings.filter((finding) => finding.unknownKey === true).map((finding) => finding.segments);
    const retry = checkSchema(withoutKeys(input, unknownKeyPaths), strictness);
    definition = retry.definition;
    for (const finding of retry.findings) (finding.severity === 'error' ? errors : warnings).push(finding);
  }

  const ok = errors.length === 0 && definition !== undefined;
  return {
    ok,
    ...(ok ? { definition } : {}),
    problems: sortByAppearance(errors, input).map(toDefinitionProblem),
    warnings: sortByAppearance(warnings, input).map(toDefinitionProblem),
  };
}

/**
 * Checks a parsed JSON value against the Nosana job-definition format and the rules nodes
 * enforce. Reports every problem at once, each with its JSON path; never throws.
 */
export function validateJobDefinition(input: unknown, options: ValidationOptions = {}): ValidationResult {
  const strictness: Strictness = options.strictness === 'lenient' ? 'lenient' : 'strict';
  try {
    return validate(input, strictness);
  } catch (failure) {
    // Only reachable through a bug (or a non-JSON input such as a cyclic object); the tests
    // assert that this message never appears.
    const reason = failure instanceof Error ? failure.message : String(failure);
    return { ok: false, problems: [{ path: ROOT_PATH, message: `internal validator error: ${reason}` }], warnings: [] };
  }
}
