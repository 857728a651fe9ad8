// Writes the files generated from the TypeScript definitions in src/api: the CRDs (crds/ and the
// chart's), the NosanaJob admission policy, the Argo CD health checks, docs/ (conditions, field
// reference, troubleshooting) and the troubleshooting block of README.md.
//   node hack/generate-crds.ts          regenerate
//   node hack/generate-crds.ts --check  exit 1 if a generated file is stale
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { renderManifests } from '../src/api/crds/manifests.ts';
import { BlockMarkersError } from '../src/api/docs/generated-block.ts';

const root = resolve(import.meta.dirname, '..');
const check = process.argv.includes('--check');

let files: Map<string, string>;
try {
  files = renderManifests({ readme: await readFile(join(root, 'README.md'), 'utf8') });
} catch (error) {
  // A lost marker is the author's to fix, not a crash to debug: say only what is wrong.
  if (!(error instanceof BlockMarkersError)) throw error;
  console.error(error.message);
  process.exit(1);
}

let stale = 0;
for (const [relative, wanted] of files) {
  const file = join(root, relative);
  const current = await readFile(file, 'utf8').catch(() => '');
  if (current === wanted) continue;
  if (check) {
    console.error(`${relative} is stale: run npm run generate`);
    stale++;
  } else {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, wanted);
    console.log(`wrote ${relative}`);
  }
}
if (stale > 0) process.exit(1);
if (check) console.log('generated manifests are up to date');
