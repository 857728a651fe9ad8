// Create-once under kill -9 at full count: `npm run test:chaos` sets NOSANA_CHAOS_RUNS (20 by
// default) runs per kill point. The scenario is shared with test/integration/controller-crash.test.ts.
import { chaosRuns, crashScenario } from './crash-scenario.ts';

crashScenario(chaosRuns(20));
