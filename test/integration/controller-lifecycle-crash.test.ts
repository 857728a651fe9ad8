// Cancelling and extending under kill -9, in `npm test`: one run per kill point (NOSANA_CHAOS_RUNS
// overrides). The scenario lives in test/chaos/lifecycle-crash-scenario.ts, shared with the
// full-count chaos suite.
import { chaosRuns } from '../chaos/crash-scenario.ts';
import { lifecycleCrashScenario } from '../chaos/lifecycle-crash-scenario.ts';

lifecycleCrashScenario(chaosRuns(1));
