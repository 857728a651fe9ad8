// What the demo's simulated containers do. The local cluster's GPU nodes are KWOK's: nothing runs
// in them, so each job Pod's behaviour is decided here. The story job's image prints a short story
// written in advance and marked as such, because no language model runs; any other image runs for
// two seconds and exits 0.
import type { SimulationRule } from '../local-cluster/simulation.ts';

/** The image of the story job (the seeds' story.json). */
export const STORY_IMAGE = 'docker.io/jeisses/tinyllama:v4';

/** What the story container prints: canned text, said to be canned in its first line. */
export const CANNED_STORY_LINES: readonly string[] = [
  '[canned story: the simulated container prints this text; no model ran]',
  'Tony the tiny hawk lived on a windowsill above a busy street.',
  'One stormy night he spread his wings, caught the wind and flew.',
  'The end.',
];

const SIMULATED_RUN = '2s';

export const DEMO_SIMULATION_RULES: readonly SimulationRule[] = [
  {
    name: 'story',
    match: { image: STORY_IMAGE },
    then: { exitCode: 0, runFor: SIMULATED_RUN, logs: CANNED_STORY_LINES.map((text) => ({ stream: 'stdout' as const, text })) },
  },
  {
    name: 'any',
    match: {},
    then: {
      exitCode: 0,
      runFor: SIMULATED_RUN,
      logs: [{ stream: 'stdout', text: `(a simulated container: it ran for ${SIMULATED_RUN} and exited 0)` }],
    },
  },
];
