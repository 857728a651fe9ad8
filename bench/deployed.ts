// The operator as it is deployed, so that benchmarks time and weigh what users run:
// - The image installs the package `npm pack` builds, whose launcher runs the JavaScript compiled
//   into dist/, not the TypeScript in src/ (Node strips types only outside node_modules, and the
//   stripper costs a process about 30 MiB of resident memory and its start-up CPU). The benchmark
//   compiles src/ the same way (tsconfig.build.json) into a directory of the checkout, beside a
//   copy of the launcher, where the compiled modules still resolve the checkout's node_modules.
// - The chart gives each Pod a memory limit, and Node sizes V8's heap from the container's limit
//   rather than the machine's memory: half of it (a quarter, doubled for 64-bit pointers), at
//   least 256 MiB. On this machine without a limit V8 would allow itself 4 GiB and collect garbage
//   lazily, which no deployed controller does. Each process gets the heap its Pod's default limit
//   gives it, with --max-old-space-size, the flag that sets what Node would otherwise derive.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { REPO_ROOT } from '../src/local-cluster/binaries.ts';
import { quantityNanos } from '../src/runtime/quantity.ts';
import { OPERATOR_ENTRY_VARIABLE, OPERATOR_HEAP_VARIABLE } from '../test/harness/operator-process.ts';

/** Rebuilt on every run, so a benchmark never times code older than the checkout. */
const BUILD_DIR = join(REPO_ROOT, '.bench-build');
const VALUES = join(REPO_ROOT, 'charts', 'nosana-operator', 'values.yaml');
const MIB = 2 ** 20;

export interface DeployedOperator {
  launcher: string;
  /** Per subcommand (controller, node): the Pod's default memory limit and the heap Node gives it, in MiB. */
  heaps: Record<string, { limitMiB: number; heapMiB: number }>;
}

/**
 * What Node gives V8 for old objects in a container limited to `limitBytes` (Node's
 * environment.cc hands the limit to V8's ConfigureDefaults): half of it, at least 256 MiB and at
 * most 4 GiB.
 */
export function oldSpaceMiBFor(limitBytes: number): number {
  return Math.min(4_096, Math.max(256, Math.floor(limitBytes / 2 / MIB)));
}

/**
 * Compiles the operator into BUILD_DIR and has every operator process the harness starts from now
 * on run it, with the heap its Pod would have.
 */
export async function useDeployedOperator(): Promise<DeployedOperator> {
  await rm(BUILD_DIR, { recursive: true, force: true });
  await mkdir(join(BUILD_DIR, 'bin'), { recursive: true });
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const options = [
    '-p',
    join(REPO_ROOT, 'tsconfig.build.json'),
    '--outDir',
    join(BUILD_DIR, 'dist'),
    '--declaration',
    'false',
    '--sourceMap',
    'false',
  ];
  await promisify(execFile)(process.execPath, [tsc, ...options], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 }).catch(
    (error: unknown) => {
      const { stdout = '', message } = error as { stdout?: string; message: string };
      throw new Error(`compiling the operator for the benchmark failed: ${message}\n${stdout.slice(-4_000)}`, { cause: error });
    },
  );
  // Without src/ beside it, the launcher runs ../dist/cli/main.js, as in the installed package.
  const launcher = join(BUILD_DIR, 'bin', 'nosana-operator.js');
  await copyFile(join(REPO_ROOT, 'bin', 'nosana-operator.js'), launcher);

  const values = parse(await readFile(VALUES, 'utf8')) as Record<string, { resources?: { limits?: { memory?: string } } } | undefined>;
  const heaps: DeployedOperator['heaps'] = {};
  for (const [subcommand, section] of [
    ['controller', 'controller'],
    ['node', 'nodeAgent'],
  ] as const) {
    const limit = values[section]?.resources?.limits?.memory;
    const nanos = limit === undefined ? undefined : quantityNanos(String(limit));
    if (nanos === undefined) throw new Error(`${VALUES}: ${section}.resources.limits.memory is not a quantity (${String(limit)})`);
    const limitBytes = Number(nanos / 1_000_000_000n);
    heaps[subcommand] = { limitMiB: limitBytes / MIB, heapMiB: oldSpaceMiBFor(limitBytes) };
  }
  process.env[OPERATOR_ENTRY_VARIABLE] = launcher;
  process.env[OPERATOR_HEAP_VARIABLE] = JSON.stringify(
    Object.fromEntries(Object.entries(heaps).map(([name, heap]) => [name, heap.heapMiB])),
  );
  return { launcher, heaps };
}
