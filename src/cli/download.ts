// `nosana-operator download <S3|HF|Ollama> --dest DIR --resource JSON`: what a resource's init
// container runs (the executor's build-pod.ts writes the command line, build-secret.ts the
// credential environment). The operator's own image does the download, so a cluster trusts one
// image for it, not a helper image per source.
//
// The resource comes from a stranger's job definition: src/download/ holds it to http(s) URLs,
// paths inside --dest, verified bytes and a cache marker. Credentials arrive only through the
// environment, and every line this command prints has them removed, whatever produced it.
import { parseArgs } from 'node:util';
import { redactSecrets, REDACTED } from '../http/redact.ts';
import { downloadResource, OLLAMA_REGISTRY_ENV } from '../download/download.ts';
import type { ProgressEvent } from '../download/download.ts';
import type { FetchSettings } from '../download/fetch-retry.ts';
import { checkedRegistry } from '../download/ollama.ts';
import { describeResource, parseDownloadSpec } from '../download/resource-spec.ts';
import { EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE } from './io.ts';
import type { CommandIo, TextOutput } from './io.ts';

export const DOWNLOAD_USAGE = `Usage: nosana-operator download S3|HF|Ollama --dest DIR --resource JSON [options]

Fetches one resource of a Nosana job definition into DIR, as Nosana's node does before it starts
an op: an S3 prefix, a Hugging Face repository or an Ollama model. JSON is the resource as in the
definition, without "target", "allowWrite" and credentials.

DIR is a cache: a completed download leaves a marker there, and running again for the same
resource only checks it. A DIR that holds another resource is refused.

Options:
  --dest DIR              where the files go (created if missing)
  --resource JSON         the resource, e.g. {"type":"HF","repo":"org/model"}
  --ollama-registry URL   fetch Ollama models from this registry (default $${OLLAMA_REGISTRY_ENV},
                          else the model's own host, https://registry.ollama.ai for most)
  -h, --help              this help

Environment:
  AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY   sign S3 requests (anonymous without them)
  HF_TOKEN      a Hugging Face token, for private and gated repositories
  HF_ENDPOINT   the Hugging Face Hub to use (default https://huggingface.co)

Progress: one JSON line per file on stdout, then a "done" (or "cached") line. Errors on stderr.
Exit status: 0 when the resource is in DIR, 1 when it could not be fetched, 2 for a usage error.
`;

/** Environment variables whose values never appear in what this command prints. */
const CREDENTIAL_ENV = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'HF_TOKEN'] as const;
// Shorter values are not credentials worth the name, and replacing them would garble the output.
const MIN_SCRUBBED_LENGTH = 4;

const OPTIONS = {
  dest: { type: 'string' },
  resource: { type: 'string' },
  'ollama-registry': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** What tests replace: the environment, and the retry timing. */
export interface DownloadCommandContext {
  env?: Readonly<Record<string, string | undefined>>;
  settings?: Partial<Omit<FetchSettings, 'signal'>>;
}

/**
 * `output` with every occurrence of the credentials' values removed, and with `broadly` also what
 * redactSecrets recognises (for messages; progress lines keep file names as they are).
 */
function scrubbed(output: TextOutput, secrets: readonly string[], broadly: boolean): TextOutput {
  return {
    write: (text: string) => {
      let clean = broadly ? redactSecrets(text) : text;
      for (const secret of secrets) clean = clean.split(secret).join(REDACTED);
      return output.write(clean);
    },
  };
}

export async function runDownload(args: readonly string[], io: CommandIo, context: DownloadCommandContext = {}): Promise<number> {
  const env = context.env ?? process.env;
  const secrets = CREDENTIAL_ENV.map((name) => env[name] ?? '').filter((value) => value.length >= MIN_SCRUBBED_LENGTH);
  const stdout = scrubbed(io.stdout, secrets, false);
  const stderr = scrubbed(io.stderr, secrets, true);
  const usage = (message: string): number => {
    stderr.write(`nosana-operator download: ${message}\n\n${DOWNLOAD_USAGE}`);
    return EXIT_USAGE;
  };

  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    return usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    stdout.write(DOWNLOAD_USAGE);
    return EXIT_OK;
  }
  const [type] = positionals;
  if (type === undefined || positionals.length > 1) return usage('give exactly one resource type: S3, HF or Ollama');
  if (values.dest === undefined || values.dest === '') return usage('--dest is required');
  if (values.resource === undefined) return usage('--resource is required');
  const spec = parseDownloadSpec(type, values.resource);
  if ('problem' in spec) return usage(spec.problem);
  if (values['ollama-registry'] !== undefined) {
    try {
      checkedRegistry(values['ollama-registry'], '--ollama-registry');
    } catch (error) {
      return usage((error as Error).message);
    }
  }

  const resource = describeResource(spec);
  const stop = new AbortController();
  const interrupt = (): void => stop.abort(new Error('stopped by a signal'));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    await downloadResource(spec, {
      dest: values.dest,
      env,
      ...(values['ollama-registry'] === undefined ? {} : { ollamaRegistry: values['ollama-registry'] }),
      settings: { ...context.settings, signal: stop.signal },
      onProgress: (event: ProgressEvent) => stdout.write(`${JSON.stringify(event)}\n`),
    });
    return EXIT_OK;
  } catch (error) {
    const reason = stop.signal.aborted ? 'stopped by a signal before it completed' : error instanceof Error ? error.message : String(error);
    stderr.write(`nosana-operator download: ${resource}: ${reason}\n`);
    return EXIT_PROBLEMS;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}
