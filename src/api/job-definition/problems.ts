// Problems as users see them: a JSON path such as `ops[1].args.expose[0].port` and a message.
// Also flattens zod's nested union issues into the one alternative the input was aiming for, and
// sorts problems into the order their paths appear in the document.
import type { z } from 'zod';
import { isPlainObject } from './json-values.ts';

export interface DefinitionProblem {
  path: string;
  message: string;
}

export type PathSegment = string | number;

export type Severity = 'error' | 'warning';

/** A problem before formatting; `unknownKey` problems change severity with the strictness. */
export interface Finding {
  segments: PathSegment[];
  message: string;
  severity: Severity;
  unknownKey?: boolean;
  /** Set on an error that Nosana's nodes run all the same: in lenient mode it is this warning instead. */
  lenientWarning?: string;
}

export const ROOT_PATH = '(root)';

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function formatPath(segments: readonly PathSegment[]): string {
  if (segments.length === 0) return ROOT_PATH;
  let path = '';
  for (const segment of segments) {
    if (typeof segment === 'number') path += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) path += path === '' ? segment : `.${segment}`;
    else path += `[${JSON.stringify(segment)}]`;
  }
  return path;
}

export function formatProblem(problem: DefinitionProblem): string {
  return `${problem.path}: ${problem.message}`;
}

export function toDefinitionProblem(finding: Finding): DefinitionProblem {
  return { path: formatPath(finding.segments), message: finding.message };
}

// ---------------------------------------------------------------------------------------------
// Walking the input along a path

/** The value at `segments`, and whether every step existed. */
export function lookup(root: unknown, segments: readonly PathSegment[]): { found: boolean; value: unknown } {
  let current = root;
  for (const segment of segments) {
    if (Array.isArray(current) && typeof segment === 'number' && segment >= 0 && segment < current.length) {
      current = current[segment];
    } else if (isPlainObject(current) && Object.hasOwn(current, String(segment))) {
      current = current[String(segment)];
    } else {
      return { found: false, value: undefined };
    }
  }
  return { found: true, value: current };
}

function toSegment(key: PropertyKey): PathSegment {
  return typeof key === 'number' ? key : String(key);
}

// ---------------------------------------------------------------------------------------------
// zod issues → findings

type Issue = z.core.$ZodIssue;

/**
 * The alternative failed because the value is of a different kind altogether (a string where
 * an object was wanted). A fractional number for an integer is the right kind, wrongly valued.
 */
function isKindMismatch(issue: Issue, value: unknown): boolean {
  if (issue.path.length !== 0) return false;
  if (issue.code === 'invalid_type') return !(issue.expected === 'int' && typeof value === 'number');
  if (issue.code === 'invalid_value') return true;
  if (issue.code === 'invalid_union' && issue.discriminator === undefined && issue.errors.length > 0) {
    return issue.errors.every((branch) => branch.some((inner) => isKindMismatch(inner, value)));
  }
  return false;
}

/**
 * Which union alternative the author meant: among those whose kind matches the value (an
 * object for an object, …), the one with the fewest missing or unknown keys, then the fewest
 * other issues. `{"port": "x"}` is then an exposed port with a bad port, not a spread marker
 * missing its "__spread__".
 */
function pickIntendedBranch(branches: readonly Issue[][], prefix: readonly PathSegment[], input: unknown): Issue[] | undefined {
  let best: Issue[] | undefined;
  let bestScore: [number, number] = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
  const value = lookup(input, prefix).value;
  for (const branch of branches) {
    if (branch.length === 0 || branch.some((issue) => isKindMismatch(issue, value))) continue;
    const score: [number, number] = [0, 0];
    for (const issue of branch) {
      if (issue.code === 'unrecognized_keys') score[0] += issue.keys.length;
      else if (!lookup(input, [...prefix, ...issue.path.map(toSegment)]).found) score[0] += 1;
      else score[1] += 1;
    }
    if (score[0] < bestScore[0] || (score[0] === bestScore[0] && score[1] < bestScore[1])) {
      best = branch;
      bestScore = score;
    }
  }
  return best;
}

function collect(issue: Issue, prefix: readonly PathSegment[], input: unknown, findings: Finding[]): void {
  const segments = [...prefix, ...issue.path.map(toSegment)];
  if (issue.code === 'unrecognized_keys') {
    // One message line per key (see messages.ts).
    const lines = issue.message.split('\n');
    issue.keys.forEach((key, index) => {
      findings.push({
        segments: [...segments, key],
        message: lines[index] ?? `unknown key ${JSON.stringify(key)}`,
        severity: 'error',
        unknownKey: true,
      });
    });
    return;
  }
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const branch = pickIntendedBranch(issue.errors, segments, input);
    if (branch !== undefined) {
      for (const inner of branch) collect(inner, segments, input, findings);
      return;
    }
  }
  findings.push({ segments, message: issue.message, severity: 'error' });
}

export function findingsFromIssues(issues: readonly Issue[], input: unknown): Finding[] {
  const findings: Finding[] = [];
  for (const issue of issues) collect(issue, [], input, findings);
  return findings;
}

// ---------------------------------------------------------------------------------------------
// Ordering

/**
 * Position of each path step in the document: array index, or the key's position among its
 * object's keys. Keys that are absent (a missing required key) sort after the present ones.
 */
function appearanceRank(root: unknown, segments: readonly PathSegment[]): number[] {
  const rank: number[] = [];
  let current = root;
  for (const segment of segments) {
    if (Array.isArray(current) && typeof segment === 'number') {
      rank.push(segment);
      current = current[segment];
    } else if (isPlainObject(current)) {
      const keys = Object.keys(current);
      const index = keys.indexOf(String(segment));
      rank.push(index === -1 ? keys.length : index);
      current = index === -1 ? undefined : current[String(segment)];
    } else {
      rank.push(0);
      current = undefined;
    }
  }
  return rank;
}

function compareRanks(a: readonly number[], b: readonly number[]): number {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index += 1) {
    const difference = (a[index] ?? 0) - (b[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
}

/** Sorted by where the path appears in the document; stable for problems at the same path. */
export function sortByAppearance(findings: readonly Finding[], root: unknown): Finding[] {
  const ranked = findings.map((finding) => ({ finding, rank: appearanceRank(root, finding.segments) }));
  ranked.sort((a, b) => compareRanks(a.rank, b.rank));
  return ranked.map(({ finding }) => finding);
}

/** Drops repeats of the same message at the same path (schema and rules may both see a fault). */
export function withoutDuplicates(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((finding) => {
    const key = `${finding.severity}\u0000${formatPath(finding.segments)}\u0000${finding.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
