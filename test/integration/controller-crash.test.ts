// Create-once under kill -9, in `npm test`: one run per kill point (NOSANA_CHAOS_RUNS overrides).
// The scenario lives in test/chaos/crash-scenario.ts, shared with the full-count chaos suite.
import { chaosRuns, crashScenario } from '../chaos/crash-scenario.ts';

crashScenario(chaosRuns(1));
