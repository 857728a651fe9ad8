// The published package as a user gets it: `npm pack` (whose prepack compiles src/ into dist/ of
// the checkout), the tarball installed with its production dependencies into an empty directory,
// and the nosana-operator command run from there. Node refuses to strip types under node_modules,
// so this is what proves the compiled JavaScript is complete. The image (Dockerfile) takes the same
// steps. Needs the npm registry (or a warm ~/.npm cache); no cluster.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT } from '../../src/local-cluster/binaries.ts';

/** The same flags as the Dockerfile's: no dev tools and not the optional Node binary npm scripts use. */
const PACKAGE_INSTALL_FLAGS = ['--omit=dev', '--omit=optional', '--no-audit', '--no-fund'];

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * A fresh shell's environment: this test's Node 24 first on PATH (the command's shebang finds it,
 * whatever the system Node is), and none of the npm_* settings of an enclosing `npm run`.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_'));
  return { ...Object.fromEntries(inherited), PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` };
}

function runIn(cwd: string, file: string, args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env: cleanEnv(), maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr: error !== null && code === -1 ? `${error.message}\n${stderr}` : stderr });
    });
  });
}

async function mustRun(cwd: string, file: string, args: string[]): Promise<string> {
  const ran = await runIn(cwd, file, args);
  // tsc (the prepack build) reports on stdout, npm on stderr
  assert.equal(ran.code, 0, `${file} ${args.join(' ')} failed:\n${ran.stdout.slice(-4000)}\n${ran.stderr}`);
  return ran.stdout;
}

async function* filesUnder(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(path);
    else yield path;
  }
}

describe('the npm package, installed from npm pack in a clean directory', () => {
  let workDir: string;
  let installDir: string;
  let packageDir: string;
  let command: string;

  before(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'nosana-package-'));
    const packDir = join(workDir, 'pack');
    installDir = join(workDir, 'install');
    await mkdir(packDir);
    await mkdir(installDir);
    await mustRun(REPO_ROOT, 'npm', ['pack', '--pack-destination', packDir]);
    const tarballs = (await readdir(packDir)).filter((name) => name.endsWith('.tgz'));
    assert.equal(tarballs.length, 1, `npm pack left ${tarballs.join(', ') || 'nothing'}`);
    await writeFile(join(installDir, 'package.json'), JSON.stringify({ name: 'package-test', private: true }));
    await mustRun(installDir, 'npm', ['install', ...PACKAGE_INSTALL_FLAGS, join(packDir, tarballs[0]!)]);
    await copyFile(join(REPO_ROOT, 'test', 'fixtures', 'story.json'), join(installDir, 'story.json'));
    packageDir = join(installDir, 'node_modules', 'nosana-operator');
    command = join(installDir, 'node_modules', '.bin', 'nosana-operator');
  });

  after(async () => {
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });

  test('ships the compiled command and no TypeScript (Node would refuse to run it there)', async () => {
    const files: string[] = [];
    for await (const file of filesUnder(packageDir)) files.push(file.slice(packageDir.length + 1));
    assert.ok(files.includes('dist/cli/main.js'), `no dist/cli/main.js among ${files.length} files`);
    assert.ok(files.includes('deploy/install.yaml'));
    assert.deepEqual(
      files.filter((file) => file.endsWith('.ts')),
      [],
    );
  });

  test('every command the package declares starts from the install (--help)', async () => {
    const declared = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    const failed: string[] = [];
    for (const name of Object.keys(declared.bin)) {
      const ran = await runIn(installDir, join(installDir, 'node_modules', '.bin', name), ['--help']);
      if (ran.code !== 0 || ran.stdout === '') failed.push(`${name} --help: exit ${ran.code}: ${ran.stderr.trim()}`);
    }
    assert.deepEqual(failed, []);
  });

  const commands: { reason: string; args: string[]; want: RegExp }[] = [
    { reason: 'the usage', args: ['--help'], want: /^Usage: nosana-operator <command>/ },
    { reason: 'a valid job definition is valid', args: ['validate', 'story.json'], want: /^story\.json: valid$/m },
    { reason: "the controller's options load its modules", args: ['controller', '--help'], want: /^Usage: nosana-operator controller/ },
    { reason: "the node agent's options load its modules", args: ['node', '--help'], want: /^Usage: nosana-operator node/ },
  ];
  for (const { reason, args, want } of commands) {
    test(`nosana-operator ${args.join(' ')}: ${reason}`, async () => {
      const ran = await runIn(installDir, command, args);
      assert.equal(ran.code, 0, ran.stderr);
      assert.match(ran.stdout, want);
    });
  }
});
