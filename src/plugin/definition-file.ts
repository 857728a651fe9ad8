// The job definition file `post` is given: read, parsed and validated with the operator's own
// validator (strict, as the controller checks it before posting) before anything reaches the
// cluster, so a mistake is named by its file, line or JSON path at once instead of showing up later
// as a NosanaJob stalled with InvalidDefinition. Every problem is a usage error (exit 2).
import { formatProblem, validateJobDefinition } from '../api/job-definition/index.ts';
import { loadDocuments } from '../cli/definition-files.ts';
import { badValue } from './errors.ts';

export interface CheckedDefinition {
  definition: unknown;
  /** Lines to show: what nodes accept but is worth knowing. */
  warnings: string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The definition in `file`, or a usage error listing every problem with its path. */
export async function readDefinition(file: string): Promise<CheckedDefinition> {
  const loaded = await loadDocuments(file);
  if (loaded.outcome === 'unreadable') throw badValue(`${file}: ${loaded.message}`);
  if (loaded.outcome === 'syntax-errors') {
    const lines = loaded.errors.map((error) => {
      const position = error.line === undefined ? '' : `:${error.line}${error.column === undefined ? '' : `:${error.column}`}`;
      return `${file}${position}: ${error.message}`;
    });
    throw badValue(`${file} cannot be parsed:\n  ${lines.join('\n  ')}`);
  }
  if (loaded.documents.length !== 1) throw badValue(`${file}: expected one job definition, found ${loaded.documents.length} documents`);
  const definition = loaded.documents[0];
  if (isRecord(definition) && typeof definition['kind'] === 'string') {
    throw badValue(
      `${file} is a Kubernetes manifest (kind ${definition['kind']}), not a Nosana job definition: apply it with kubectl apply -f ${file}`,
    );
  }
  const result = validateJobDefinition(definition, { strictness: 'strict' });
  if (result.problems.length > 0) {
    const count = result.problems.length === 1 ? '1 problem' : `${result.problems.length} problems`;
    throw badValue(`${file} is not a valid Nosana job definition (${count}):\n  ${result.problems.map(formatProblem).join('\n  ')}`);
  }
  return { definition, warnings: result.warnings.map((warning) => `${file}: warning: ${formatProblem(warning)}`) };
}
