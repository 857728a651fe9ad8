// Bad input through a real API server, in `npm test`: a reduced count of generated specs
// (NOSANA_FUZZ_CASES overrides). The scenario lives in spec-fuzz-scenario.ts, shared with the
// full-count chaos suite (test/chaos/spec-fuzz.test.ts).
import { fuzzCases, specFuzzScenario } from './spec-fuzz-scenario.ts';

specFuzzScenario(fuzzCases(2000));
