// Cancelling and extending under kill -9 at full count: `npm run test:chaos` sets NOSANA_CHAOS_RUNS
// (20 by default) runs per kill point. The scenario is shared with
// test/integration/controller-lifecycle-crash.test.ts (one run per point).
import { chaosRuns } from './crash-scenario.ts';
import { lifecycleCrashScenario } from './lifecycle-crash-scenario.ts';

lifecycleCrashScenario(chaosRuns(20));
