#!/usr/bin/env node
// Launcher for the TypeScript CLI, which Node runs directly by stripping types. That works out of
// the box from Node 22.18 (and 23.6); older versions get a clear message instead of a syntax error.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const stripsTypes = major > 23 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18);

if (!stripsTypes) {
  console.error(`nosana-operator needs Node.js 24 (this is Node.js ${process.versions.node}, which cannot run TypeScript directly).`);
  process.exit(2);
}

// A reader that quits early (`| head`) closes the pipe: stop quietly instead of with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => process.exit(error.code === 'EPIPE' ? (process.exitCode ?? 0) : 2));
}

try {
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // main() handles its own failures; this is a broken installation (a module that does not load).
  console.error(`nosana-operator: cannot start: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
}
