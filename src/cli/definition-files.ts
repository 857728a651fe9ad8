// Reads a file given to `validate`: JSON (a job definition, or a manifest) or YAML (one or more
// documents). Syntax errors come back with line and column instead of being thrown.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { locateJsonSyntaxError } from './json-location.ts';

export interface SyntaxProblem {
  line?: number;
  column?: number;
  message: string;
}

export type LoadedFile =
  | { outcome: 'unreadable'; message: string }
  | { outcome: 'syntax-errors'; errors: SyntaxProblem[] }
  | { outcome: 'documents'; format: 'json' | 'yaml'; documents: unknown[] };

/** Aliases can expand exponentially ("billion laughs"); a real manifest needs few. */
const MAX_YAML_ALIAS_EXPANSION = 1000;

function reasonOf(failure: unknown): string {
  return failure instanceof Error ? failure.message : String(failure);
}

function looksLikeJson(path: string, text: string): boolean {
  const extension = extname(path).toLowerCase();
  if (extension === '.json') return true;
  if (extension === '.yaml' || extension === '.yml') return false;
  return /^\s*[[{]/.test(text);
}

function parseJson(text: string): LoadedFile {
  try {
    return { outcome: 'documents', format: 'json', documents: [JSON.parse(text) as unknown] };
  } catch (failure) {
    const located = locateJsonSyntaxError(text);
    return { outcome: 'syntax-errors', errors: [located ?? { message: `invalid JSON: ${reasonOf(failure)}` }] };
  }
}

/** The yaml package appends " at line L, column C:" and a code excerpt; the position is reported separately. */
function firstLineWithoutPosition(message: string): string {
  const firstLine = message.split('\n')[0] ?? message;
  return firstLine.replace(/ at line \d+, column \d+:?\s*$/, '');
}

function parseYaml(text: string): LoadedFile {
  const parsed = parseAllDocuments(text);
  const documents = Array.isArray(parsed) ? parsed : [];
  const errors: SyntaxProblem[] = documents.flatMap((document) =>
    document.errors.map((error) => {
      const position = error.linePos?.[0];
      return { line: position?.line, column: position?.col, message: firstLineWithoutPosition(error.message) };
    }),
  );
  if (errors.length > 0) return { outcome: 'syntax-errors', errors };
  try {
    const values = documents.map((document) => document.toJS({ maxAliasCount: MAX_YAML_ALIAS_EXPANSION }) as unknown);
    // `---` at the end of a file makes an empty document; it holds nothing to check.
    return { outcome: 'documents', format: 'yaml', documents: values.filter((value) => value !== null && value !== undefined) };
  } catch (failure) {
    return { outcome: 'syntax-errors', errors: [{ message: `cannot convert YAML: ${reasonOf(failure)}` }] };
  }
}

export async function loadDocuments(path: string): Promise<LoadedFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (failure) {
    return { outcome: 'unreadable', message: `cannot read file: ${reasonOf(failure)}` };
  }
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  return looksLikeJson(path, text) ? parseJson(text) : parseYaml(text);
}
