#!/usr/bin/env node
// Launcher for the nosana-operator command. In a checkout it runs the TypeScript in src/, which Node
// runs directly by stripping types. An installed package has no src/: Node refuses to strip types
// under node_modules, so it ships the JavaScript compiled into dist/ (npm run build, run by prepack)
// and runs that. A checkout always prefers src/, so a dist/ left by `npm pack` never runs stale code.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const fromSource = existsSync(join(import.meta.dirname, '..', 'src', 'cli', 'main.ts'));

if (fromSource) {
  // Type stripping works out of the box from Node 22.18 (and 23.6); older versions get a clear
  // message instead of a syntax error.
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const stripsTypes = major > 23 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18);
  if (!stripsTypes) {
    console.error(`nosana-operator needs Node.js 24 (this is Node.js ${process.versions.node}, which cannot run TypeScript directly).`);
    process.exit(2);
  }
}

// A reader that quits early (`| head`) closes the pipe: stop quietly instead of with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => process.exit(error.code === 'EPIPE' ? (process.exitCode ?? 0) : 2));
}

try {
  const { main } = fromSource ? await import('../src/cli/main.ts') : await import('../dist/cli/main.js');
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // main() handles its own failures; this is a broken installation (a module that does not load).
  console.error(`nosana-operator: cannot start: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
}
