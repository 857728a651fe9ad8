// Real job definitions from the reference material in ../shared (read at test time, never
// copied into the repository): the saved job examples, and the definitions printed in the
// Nosana docs the project started from.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHARED_DIR = fileURLToPath(new URL('../../../../shared/', import.meta.url));
const EXAMPLES_DIR = join(SHARED_DIR, 'nosana', 'job-examples');
const SEEDS_DIR = join(SHARED_DIR, 'seeds');

/** A reason to skip, or undefined when the reference material is present. */
export const sharedMissingReason: string | undefined =
  existsSync(EXAMPLES_DIR) && existsSync(SEEDS_DIR)
    ? undefined
    : `reference material not found at ${SHARED_DIR} (expected nosana/job-examples and seeds)`;

export interface ReferenceDefinition {
  name: string;
  definition: unknown;
}

export function jobExamples(): ReferenceDefinition[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({ name: `job-examples/${file}`, definition: JSON.parse(readFileSync(join(EXAMPLES_DIR, file), 'utf8')) as unknown }));
}

export interface SeedDefinition extends ReferenceDefinition {
  /** Op ids, to recognise which documented example this is. */
  opIds: string[];
  /** True when the block only parses once its `// …` comment lines are dropped. */
  neededCommentRemoval: boolean;
}

const FENCED_JSON = /```json\n([\s\S]*?)```/g;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isJobDefinitionLike(value: unknown): value is { ops: unknown[] } {
  return typeof value === 'object' && value !== null && Array.isArray((value as { ops?: unknown }).ops) && !('$schema' in value);
}

/**
 * Every ```json block of the seed documents that is a job definition. Blocks that are not
 * definitions (the docs' JSON Schema, which is not even valid JSON) are left out; the tests
 * then check that the expected examples were all found.
 */
export function seedDefinitions(): SeedDefinition[] {
  const found: SeedDefinition[] = [];
  for (const file of readdirSync(SEEDS_DIR)
    .filter((name) => name.endsWith('.txt'))
    .sort()) {
    const text = readFileSync(join(SEEDS_DIR, file), 'utf8');
    let blockIndex = 0;
    for (const match of text.matchAll(FENCED_JSON)) {
      blockIndex += 1;
      const block = match[1] ?? '';
      const asPrinted = parseJson(block);
      const withoutComments = asPrinted === undefined ? parseJson(block.replace(/^\s*\/\/.*$/gm, '')) : undefined;
      const definition = asPrinted ?? withoutComments;
      if (!isJobDefinitionLike(definition)) continue;
      const opIds = definition.ops.map((op) => String((op as { id?: unknown }).id));
      found.push({ name: `seeds/${file} block ${blockIndex}`, definition, opIds, neededCommentRemoval: asPrinted === undefined });
    }
  }
  return found;
}
