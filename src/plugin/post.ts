// `kubectl nosana post -f job.json --market M`: posts a Nosana job definition the way Nosana's CLI
// does, but as a NosanaJob: the definition is checked first, then wrapped and applied (server-side
// apply, so the object is the plugin's under its own field manager); the controller pins, posts and
// follows it. --wait follows the job's phases until it ends, prints its result and exits 0 when it
// Succeeded, 1 when it did not.
import type { NosanaJobObject } from '../api/crds/nosana-job.ts';
import { jobLine } from '../demo/phase-lines.ts';
import { COMMON_HELP, COMMON_OPTIONS, parseCommandArgs, positionalArguments } from './args.ts';
import { Cluster } from './cluster.ts';
import { printedHelp } from './command.ts';
import type { PluginIo } from './command.ts';
import { readDefinition } from './definition-file.ts';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, PluginError, badValue, usageError } from './errors.ts';
import { checkObjectName, generatedJobName, maxCostFlag, nosanaJobManifest, timeoutFlag } from './job-manifest.ts';
import { JOBS, objectPath, qualifiedName } from './kinds.ts';
import { printResult } from './result.ts';
import { awaitJob, printVerdict } from './wait.ts';

export const FIELD_MANAGER = 'kubectl-nosana';

const HELP = `Usage: kubectl nosana post -f JOB.json --market M [options]

Posts a Nosana job definition (the JSON Nosana's CLI posts) to a market as a NosanaJob. The file is
checked first; every problem is listed with its JSON path and nothing is applied. The controller
then pins the definition to IPFS, posts the job on chain and mirrors it in the NosanaJob's status.

Options:
  -f, --filename FILE      the job definition (JSON)
      --market M           a NosanaMarket of the namespace, or a market address
      --timeout D          how long the job may run, e.g. 30m (default: the market's job timeout);
                           the deposit is the price × this
      --wallet SECRET      the Secret (key "keypair") of the wallet that pays (default: the market's)
      --max-cost NOS       refuse to post when price × timeout exceeds this many NOS
      --name N             the NosanaJob's name (default: the file's name and a random suffix)
      --wait               wait until the job ends, then print its result
${COMMON_HELP}

Exit status: 0 applied (with --wait: the job Succeeded), 1 refused by the cluster (with --wait: the
job Failed, was Stopped or stalled), 2 usage or an invalid definition, 3 no cluster.
`;

export async function runPost(args: readonly string[], io: PluginIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    ...COMMON_OPTIONS,
    filename: { type: 'string', short: 'f' },
    market: { type: 'string' },
    timeout: { type: 'string' },
    wallet: { type: 'string' },
    'max-cost': { type: 'string' },
    name: { type: 'string' },
    wait: { type: 'boolean' },
  });
  if (printedHelp(values, HELP, io)) return EXIT_OK;
  positionalArguments(positionals, []);
  const file = values.filename;
  if (file === undefined) throw usageError('-f JOB.json is required: the Nosana job definition to post');
  const market = values.market;
  if (market === undefined) throw usageError('--market is required: a NosanaMarket of the namespace, or a market address');
  if (market === '' || market.length > 253) throw badValue(`--market "${market}" is not a NosanaMarket name or a market address`);
  const name = values.name === undefined ? generatedJobName(file) : checkObjectName(values.name, '--name');
  const timeoutSeconds = values.timeout === undefined ? undefined : timeoutFlag(values.timeout);
  const maxCost = values['max-cost'] === undefined ? undefined : maxCostFlag(values['max-cost']);
  const wallet = values.wallet === undefined ? undefined : checkObjectName(values.wallet, '--wallet');

  const { definition, warnings } = await readDefinition(file);
  for (const warning of warnings) io.stderr.write(`${warning}\n`);
  const cluster = Cluster.open(values, io.env, io.signal);
  const { namespace } = cluster;
  const manifest = nosanaJobManifest(definition, {
    name,
    namespace,
    market,
    ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
    ...(maxCost === undefined ? {} : { maxCost }),
    ...(wallet === undefined ? {} : { walletSecret: wallet }),
  });
  // applying over an existing NosanaJob would not post anything new (its definition is frozen once posted)
  if ((await cluster.find(JOBS, namespace, name)) !== undefined) {
    throw new PluginError(`${JOBS.kind} "${name}" exists already in namespace "${namespace}": choose another --name`, EXIT_FAILED);
  }
  await cluster.request(`apply ${JOBS.kind} ${namespace}/${name}`, 'PATCH', objectPath(JOBS, namespace, name), {
    query: { fieldManager: FIELD_MANAGER },
    contentType: 'application/apply-patch+yaml',
    body: manifest,
  });
  io.stdout.write(`${qualifiedName(JOBS, name)} created\n`);
  if (values.wait !== true) return EXIT_OK;

  const verdict = await awaitJob(cluster, {
    namespace,
    name,
    target: { condition: 'Completed' },
    timeoutMs: Number.POSITIVE_INFINITY,
    io,
    onChange: (event) => {
      if (event.type === 'deleted') return;
      const line = jobLine(event.object, event.type === 'modified' ? event.previous : undefined);
      if (line !== undefined) io.stderr.write(`${line}\n`);
    },
  });
  if (verdict.exitCode === EXIT_INTERRUPTED) {
    io.stderr.write(`stopped waiting; the job goes on (kubectl nosana stop ${name} cancels it)\n`);
    return EXIT_INTERRUPTED;
  }
  const job = await cluster.find<NosanaJobObject>(JOBS, namespace, name);
  const ended = job !== undefined && ['Succeeded', 'Failed', 'Stopped'].includes(job.status?.phase ?? '');
  if (ended) await printResult(cluster, job, io);
  return ended ? verdict.exitCode : printVerdict(verdict, name, io);
}
