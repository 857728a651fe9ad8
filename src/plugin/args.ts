// The command line of every `kubectl nosana` command: the flags kubectl users expect everywhere
// (-n, --kubeconfig, -A, -o, -h) spelt as kubectl spells them, strict parsing (an unknown flag is a
// usage error, never ignored), and the checks on positional arguments and output formats that
// every command would otherwise repeat.
import { parseArgs } from 'node:util';
import type { ParseArgsOptionsConfig } from 'node:util';
import { badValue, usageError } from './errors.ts';

/** The flags every command takes. */
export const COMMON_OPTIONS = {
  namespace: { type: 'string', short: 'n' },
  kubeconfig: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

export const ALL_NAMESPACES_OPTION = { 'all-namespaces': { type: 'boolean', short: 'A' } } as const satisfies ParseArgsOptionsConfig;

export const OUTPUT_OPTION = { output: { type: 'string', short: 'o' } } as const satisfies ParseArgsOptionsConfig;

/** The help lines of COMMON_OPTIONS, for the end of each command's help. */
export const COMMON_HELP = `  -n, --namespace NS       the namespace (default: the kubeconfig context's, else "default")
      --kubeconfig PATH    the kubeconfig (default: $KUBECONFIG, else ~/.kube/config)
  -h, --help               this help`;

export const ALL_NAMESPACES_HELP = '  -A, --all-namespaces     every namespace you may list';

export type OutputFormat = 'text' | 'wide' | 'json' | 'yaml';

/**
 * Parses `args` against `options`; an unknown flag, a flag without its value or a value given to a
 * boolean flag is a usage error with node's own explanation.
 */
export function parseCommandArgs<const Options extends ParseArgsOptionsConfig>(args: readonly string[], options: Options) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    if (!String((error as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')) throw error;
    // node adds a sentence on how to pass a positional that starts with "-": not what went wrong
    throw usageError((error as Error).message.split('. To specify a positional')[0] ?? (error as Error).message);
  }
}

/**
 * The positional arguments, named as the help names them: each of `required` must be there, then
 * at most `optional.length` more. Returns them in order (missing optional ones are undefined).
 */
export function positionalArguments(
  positionals: readonly string[],
  required: readonly string[],
  optional: readonly string[] = [],
): (string | undefined)[] {
  if (positionals.length < required.length) throw usageError(`missing ${required.slice(positionals.length).join(' ')}`);
  const extra = positionals[required.length + optional.length];
  if (extra !== undefined) throw usageError(`unexpected argument "${extra}"`);
  return [...required, ...optional].map((_, index) => positionals[index]);
}

/** The -o value among those the command supports; text when none is given. */
export function outputFormat(value: string | undefined, supported: readonly Exclude<OutputFormat, 'text'>[]): OutputFormat {
  if (value === undefined) return 'text';
  if ((supported as readonly string[]).includes(value)) return value as OutputFormat;
  throw badValue(`-o ${value}: this command prints ${supported.join(', ')} (or text, without -o)`);
}
