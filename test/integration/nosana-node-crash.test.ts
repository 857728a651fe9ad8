// Exactly one ending under kill -9, one run per kill point. The scenario lives in
// test/chaos/node-crash-scenario.ts, shared with the full-count chaos suite.
import { chaosRuns, nodeCrashScenario } from '../chaos/node-crash-scenario.ts';

nodeCrashScenario(chaosRuns(1));
