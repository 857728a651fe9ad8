#!/usr/bin/env node
// Launcher of the kubectl plugin: kubectl runs `kubectl-nosana` from PATH for `kubectl nosana …`.
// In a checkout it runs the TypeScript in src/ (Node strips types); an installed package has no src/
// (Node refuses to strip types under node_modules) and runs the JavaScript compiled into dist/, as
// bin/nosana-operator.js does.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const fromSource = existsSync(join(import.meta.dirname, '..', 'src', 'plugin', 'main.ts'));

if (fromSource) {
  // Type stripping works out of the box from Node 22.18 (and 23.6); older versions get a clear
  // message instead of a syntax error.
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const stripsTypes = major > 23 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18);
  if (!stripsTypes) {
    console.error(`kubectl-nosana needs Node.js 24 (this is Node.js ${process.versions.node}, which cannot run TypeScript directly).`);
    process.exit(2);
  }
}

// A reader that quits early (`| head`) closes the pipe: stop quietly instead of with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => process.exit(error.code === 'EPIPE' ? (process.exitCode ?? 0) : 2));
}

// Ctrl-C ends a wait or a watch cleanly; a second one gets Node's default handling and ends at once.
const stop = new globalThis.AbortController();
const onSignal = () => stop.abort(new Error('interrupted'));
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

try {
  const { runPlugin } = fromSource ? await import('../src/plugin/main.ts') : await import('../dist/plugin/main.js');
  process.exitCode = await runPlugin(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    signal: stop.signal,
    now: () => Date.now(),
  });
} catch (error) {
  // runPlugin() handles its own failures; this is a broken installation (a module that does not load).
  console.error(`kubectl-nosana: cannot start: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
}
// The answer is given: end now, once what was written has been handed to the OS, rather than wait
// for a socket a watch or a log stream may still hold.
for (const stream of [process.stdout, process.stderr]) await new Promise((resolve) => stream.write('', resolve));
process.exit(process.exitCode);
