// `nosana-operator validate FILE…`: checks job definitions, in Nosana JSON files or in NosanaJob
// manifests, and prints one line per problem.
import { formatProblem, validateJobDefinition } from '../api/job-definition/index.ts';
import type { DefinitionProblem, Strictness } from '../api/job-definition/index.ts';
import { loadDocuments } from './definition-files.ts';
import type { SyntaxProblem } from './definition-files.ts';
import { EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE } from './io.ts';
import type { CommandIo } from './io.ts';

const NOSANA_JOB_API_VERSION = 'nosana.io/v1alpha1';
const NOSANA_JOB_KIND = 'NosanaJob';

export const VALIDATE_USAGE = `Usage: nosana-operator validate [--lenient] FILE…

Checks Nosana job definitions and prints one line per problem, with its JSON path.
A FILE is either a Nosana job definition (JSON), or NosanaJob manifests (YAML or JSON,
kind ${NOSANA_JOB_KIND}, apiVersion ${NOSANA_JOB_API_VERSION}), whose spec.definition is checked.
Other documents in a manifest file are listed as ignored.

Options:
  --lenient   unknown keys are warnings (as on a node), not errors
  --strict    unknown keys are errors (the default, as when posting)
  -h, --help  show this help

Exit status: 0 when every file is valid (warnings allowed), 1 when problems were found,
2 for a usage error or a file that cannot be read or parsed (reported on stderr).
`;

interface ValidateOptions {
  strictness: Strictness;
  files: string[];
  help: boolean;
}

function parseArguments(args: readonly string[]): ValidateOptions | { usageError: string } {
  const options: ValidateOptions = { strictness: 'strict', files: [], help: false };
  let optionsEnded = false;
  for (const arg of args) {
    if (optionsEnded || !arg.startsWith('-') || arg === '-') options.files.push(arg);
    else if (arg === '--') optionsEnded = true;
    else if (arg === '--lenient') options.strictness = 'lenient';
    else if (arg === '--strict') options.strictness = 'strict';
    else if (arg === '-h' || arg === '--help') options.help = true;
    else return { usageError: `unknown option ${arg}` };
  }
  if (!options.help && options.files.length === 0) return { usageError: 'no files given' };
  return options;
}

// ---------------------------------------------------------------------------------------------
// Reporting one file

/** The lines for one file, collected so that "FILE: valid" can be decided at the end. */
class FileReport {
  readonly file: string;
  readonly lines: string[] = [];
  problemCount = 0;

  constructor(file: string) {
    this.file = file;
  }

  problem(subject: string | undefined, text: string): void {
    this.problemCount += 1;
    this.lines.push(`${this.file}: ${subject === undefined ? '' : `${subject}: `}${text}`);
  }

  warning(subject: string | undefined, text: string): void {
    this.lines.push(`${this.file}: warning: ${subject === undefined ? '' : `${subject}: `}${text}`);
  }

  note(subject: string | undefined, text: string): void {
    this.lines.push(`${this.file}: ${subject === undefined ? '' : `${subject}: `}${text}`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function ownProperty(object: unknown, key: string): unknown {
  return isPlainObject(object) && Object.hasOwn(object, key) ? object[key] : undefined;
}

/** `nosanajob/whisper`, as kubectl names objects; a position when there is no name. */
function documentIdentity(document: Record<string, unknown>, index: number): string {
  const kind = ownProperty(document, 'kind');
  const name = ownProperty(ownProperty(document, 'metadata'), 'name');
  if (typeof kind !== 'string') return `document ${index + 1}`;
  return typeof name === 'string' ? `${kind.toLowerCase()}/${name}` : `${kind.toLowerCase()} (document ${index + 1})`;
}

/** Prefixes a definition path with where the definition sits in its document. */
function withinDocument(prefix: string, problem: DefinitionProblem): DefinitionProblem {
  if (prefix === '') return problem;
  if (problem.path === '(root)') return { ...problem, path: prefix };
  return { ...problem, path: problem.path.startsWith('[') ? `${prefix}${problem.path}` : `${prefix}.${problem.path}` };
}

function checkDefinition(
  definition: unknown,
  pathPrefix: string,
  subject: string | undefined,
  strictness: Strictness,
  report: FileReport,
): void {
  const result = validateJobDefinition(definition, { strictness });
  for (const problem of result.problems) report.problem(subject, formatProblem(withinDocument(pathPrefix, problem)));
  for (const warning of result.warnings) report.warning(subject, formatProblem(withinDocument(pathPrefix, warning)));
}

function checkManifest(document: Record<string, unknown>, subject: string, strictness: Strictness, report: FileReport): void {
  const kind = ownProperty(document, 'kind');
  const apiVersion = ownProperty(document, 'apiVersion');
  if (kind !== NOSANA_JOB_KIND) {
    report.note(subject, `ignored (not a ${NOSANA_JOB_KIND})`);
    return;
  }
  if (apiVersion !== NOSANA_JOB_API_VERSION) {
    report.note(subject, `ignored (apiVersion ${JSON.stringify(apiVersion ?? null)}, this validator knows ${NOSANA_JOB_API_VERSION})`);
    return;
  }
  const spec = ownProperty(document, 'spec');
  const definition = ownProperty(spec, 'definition');
  const definitionFrom = ownProperty(spec, 'definitionFrom');
  if (definition === undefined) {
    if (definitionFrom === undefined) {
      report.problem(subject, 'spec.definition: required: expected a job definition object (or spec.definitionFrom naming a ConfigMap)');
    } else {
      report.note(subject, 'spec.definitionFrom refers to a ConfigMap; its definition is checked when the resource is applied');
    }
    return;
  }
  if (definitionFrom !== undefined) report.problem(subject, 'spec: set spec.definition or spec.definitionFrom, not both');
  checkDefinition(definition, 'spec.definition', subject, strictness, report);
}

function formatSyntaxProblem(file: string, problem: SyntaxProblem): string {
  const position = problem.line === undefined ? '' : `:${problem.line}${problem.column === undefined ? '' : `:${problem.column}`}`;
  return `${file}${position}: ${problem.message}`;
}

async function validateFile(file: string, strictness: Strictness, io: CommandIo): Promise<number> {
  const loaded = await loadDocuments(file);
  if (loaded.outcome === 'unreadable') {
    io.stderr.write(`${file}: ${loaded.message}\n`);
    return EXIT_USAGE;
  }
  if (loaded.outcome === 'syntax-errors') {
    for (const error of loaded.errors) io.stderr.write(`${formatSyntaxProblem(file, error)}\n`);
    return EXIT_USAGE;
  }
  const report = new FileReport(file);
  const onlyDocument = loaded.documents.length === 1;
  loaded.documents.forEach((document, index) => {
    // A document with a `kind` is a Kubernetes object; anything else is taken as a job definition.
    if (isPlainObject(document) && Object.hasOwn(document, 'kind')) {
      checkManifest(document, documentIdentity(document, index), strictness, report);
    } else {
      checkDefinition(document, '', onlyDocument ? undefined : `document ${index + 1}`, strictness, report);
    }
  });
  for (const line of report.lines) io.stdout.write(`${line}\n`);
  if (report.problemCount > 0) return EXIT_PROBLEMS;
  io.stdout.write(`${file}: valid\n`);
  return EXIT_OK;
}

// ---------------------------------------------------------------------------------------------

export async function runValidate(args: readonly string[], io: CommandIo): Promise<number> {
  const options = parseArguments(args);
  if ('usageError' in options) {
    io.stderr.write(`nosana-operator validate: ${options.usageError}\n\n${VALIDATE_USAGE}`);
    return EXIT_USAGE;
  }
  if (options.help) {
    io.stdout.write(VALIDATE_USAGE);
    return EXIT_OK;
  }
  let exitCode = EXIT_OK;
  for (const file of options.files) exitCode = Math.max(exitCode, await validateFile(file, options.strictness, io));
  return exitCode;
}
