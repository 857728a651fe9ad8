// Writes the CRDs (crds/) and the NosanaJob admission policy (deploy/admission/) from the
// TypeScript definitions in src/api/crds.
//   node hack/generate-crds.ts          regenerate
//   node hack/generate-crds.ts --check  exit 1 if a generated file is stale
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { renderManifests } from '../src/api/crds/manifests.ts';

const root = resolve(import.meta.dirname, '..');
const check = process.argv.includes('--check');

let stale = 0;
for (const [relative, wanted] of renderManifests()) {
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
