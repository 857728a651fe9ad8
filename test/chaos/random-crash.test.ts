// kill -9 at random instants at full count: `npm run test:chaos` runs NOSANA_CHAOS_CRASH_JOBS NosanaJobs
// (200 by default) on 8 NosanaNodes while the controller and the node agent are killed at random.
// The scenario lives in random-crash-scenario.ts, shared with a small batch in `npm test`.
import { chaosJobs } from './loop-batch.ts';
import { randomCrashScenario } from './random-crash-scenario.ts';

randomCrashScenario({ jobs: chaosJobs(200, 'NOSANA_CHAOS_CRASH_JOBS'), nodes: 8 });
