// `kubectl nosana get [jobs|markets|nodes|deployments] [NAME]`: the nosana.io objects as tables of the CRDs'
// printer columns (what `kubectl get` shows, with -o wide the rest), or as JSON or YAML; -w goes on
// printing a row for every change until Ctrl-C.
import type { KubernetesObject } from '@kubernetes/client-node';
import { keyOf, keyString } from '../runtime/types.ts';
import type { CacheEvent } from '../runtime/types.ts';
import {
  ALL_NAMESPACES_HELP,
  ALL_NAMESPACES_OPTION,
  COMMON_HELP,
  COMMON_OPTIONS,
  OUTPUT_OPTION,
  outputFormat,
  parseCommandArgs,
  positionalArguments,
} from './args.ts';
import { Cluster } from './cluster.ts';
import { printedHelp } from './command.ts';
import type { PluginIo } from './command.ts';
import { EXIT_OK, usageError } from './errors.ts';
import { JOBS, PLUGIN_KINDS, kindNamed } from './kinds.ts';
import type { PluginKind } from './kinds.ts';
import { formatObjects, formatStreamedObject } from './output.ts';
import { sortedObjects, tableHeader, tableRow } from './resource-table.ts';
import type { TableOptions } from './resource-table.ts';
import { columnWidths, renderRow } from './table.ts';
import { watchKind } from './watch.ts';

const HELP = `Usage: kubectl nosana get [jobs|markets|nodes|deployments] [NAME] [options]

Lists NosanaJobs (the default), NosanaMarkets, NosanaNodes or NosanaDeployments with the columns kubectl get shows.
Kinds may also be named as kubectl names them: nj, nmkt, nnode, ndep, nosanajobs, …

Options:
  -o, --output FORMAT      wide (every column), json or yaml
  -w, --watch              after the list, print a line for every change until Ctrl-C
${ALL_NAMESPACES_HELP}
${COMMON_HELP}

Exit status: 0 ok, 2 usage, 3 no such object or no cluster.
`;

function kindOf(word: string | undefined): PluginKind {
  if (word === undefined) return JOBS;
  const kind = kindNamed(word);
  if (kind === undefined) throw usageError(`unknown kind "${word}": expected ${PLUGIN_KINDS.map((known) => known.word).join(', ')}`);
  return kind;
}

export async function runGet(args: readonly string[], io: PluginIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    ...COMMON_OPTIONS,
    ...ALL_NAMESPACES_OPTION,
    ...OUTPUT_OPTION,
    watch: { type: 'boolean', short: 'w' },
  });
  if (printedHelp(values, HELP, io)) return EXIT_OK;
  const [word, name] = positionalArguments(positionals, [], ['KIND', 'NAME']);
  const kind = kindOf(word);
  const allNamespaces = values['all-namespaces'] === true;
  if (allNamespaces && name !== undefined) throw usageError('a name cannot be looked up across all namespaces: drop -A or the name');
  const format = outputFormat(values.output, ['wide', 'json', 'yaml']);
  const cluster = Cluster.open(values, io.env, io.signal);
  const namespace = allNamespaces ? undefined : cluster.namespace;

  const objects = sortedObjects(
    name === undefined ? await cluster.list(kind, namespace) : [await cluster.get(kind, cluster.namespace, name)],
  );
  const table = { wide: format === 'wide', allNamespaces, now: io.now() };
  const printer = format === 'json' || format === 'yaml' ? new StructuredPrinter(format, io) : new TablePrinter(kind, table, io);
  printer.list(objects, name !== undefined);
  if (objects.length === 0 && printer instanceof TablePrinter) {
    io.stderr.write(allNamespaces ? 'No resources found\n' : `No resources found in ${cluster.namespace} namespace.\n`);
  }
  if (values.watch === true) await follow(cluster, kind, { namespace, name }, objects, printer, io);
  return EXIT_OK;
}

interface Printer {
  list(objects: readonly KubernetesObject[], single: boolean): void;
  change(event: CacheEvent<KubernetesObject>): void;
}

class TablePrinter implements Printer {
  readonly #kind: PluginKind;
  readonly #options: TableOptions;
  readonly #io: PluginIo;
  #widths: number[] | undefined;

  constructor(kind: PluginKind, options: TableOptions, io: PluginIo) {
    this.#kind = kind;
    this.#options = options;
    this.#io = io;
  }

  list(objects: readonly KubernetesObject[]): void {
    if (objects.length === 0) return;
    const header = tableHeader(this.#kind, this.#options);
    const rows = objects.map((object) => tableRow(this.#kind, object, this.#options));
    this.#widths = columnWidths(header, rows);
    for (const row of [header, ...rows]) this.#io.stdout.write(`${renderRow(row, this.#widths)}\n`);
  }

  /** A row aligned with the table printed first (or, when the list was empty, under a header of its own). */
  change(event: CacheEvent<KubernetesObject>): void {
    const row = tableRow(this.#kind, event.object, { ...this.#options, now: this.#io.now() });
    if (this.#widths === undefined) {
      const header = tableHeader(this.#kind, this.#options);
      this.#widths = columnWidths(header, [row]);
      this.#io.stdout.write(`${renderRow(header, this.#widths)}\n`);
    }
    this.#io.stdout.write(`${renderRow(row, this.#widths)}${event.type === 'deleted' ? '   (deleted)' : ''}\n`);
  }
}

class StructuredPrinter implements Printer {
  readonly #format: 'json' | 'yaml';
  readonly #io: PluginIo;

  constructor(format: 'json' | 'yaml', io: PluginIo) {
    this.#format = format;
    this.#io = io;
  }

  list(objects: readonly KubernetesObject[], single: boolean): void {
    this.#io.stdout.write(formatObjects(objects, this.#format, single));
  }

  change(event: CacheEvent<KubernetesObject>): void {
    this.#io.stdout.write(formatStreamedObject(event.object, this.#format));
  }
}

/** Prints every change after the list until Ctrl-C; a version already printed is not printed again. */
async function follow(
  cluster: Cluster,
  kind: PluginKind,
  scope: { namespace: string | undefined; name: string | undefined },
  listed: readonly KubernetesObject[],
  printer: Printer,
  io: PluginIo,
): Promise<void> {
  const printed = new Map(listed.map((object) => [keyString(keyOf(object)), object.metadata?.resourceVersion]));
  const informer = watchKind(cluster, kind, { namespace: scope.namespace, name: scope.name }, io);
  informer.on((event) => {
    const key = keyString(keyOf(event.object));
    if (event.type !== 'deleted' && printed.get(key) === event.object.metadata?.resourceVersion) return;
    if (event.type === 'deleted') printed.delete(key);
    else printed.set(key, event.object.metadata?.resourceVersion);
    printer.change(event);
  });
  const interrupted = new Promise<void>((resolve) => {
    if (io.signal.aborted) resolve();
    io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  informer.start().catch(() => undefined);
  await interrupted;
  await informer.stop();
}
