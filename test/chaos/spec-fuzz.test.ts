// Bad input through a real API server at full count: `npm run test:chaos` sends 10,000 generated
// specs (NOSANA_FUZZ_CASES overrides). The scenario is shared with test/integration/spec-fuzz.test.ts.
import { fuzzCases, specFuzzScenario } from '../integration/spec-fuzz-scenario.ts';

specFuzzScenario(fuzzCases(10_000));
