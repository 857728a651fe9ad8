// Exactly one ending under kill -9 at full count: `npm run test:chaos` sets NOSANA_CHAOS_RUNS (20
// by default) runs per kill point. The scenario is shared with test/integration/nosana-node-crash.test.ts.
import { chaosRuns, nodeCrashScenario } from './node-crash-scenario.ts';

nodeCrashScenario(chaosRuns(20));
