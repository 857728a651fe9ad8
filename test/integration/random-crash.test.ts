// kill -9 at random instants, in `npm test`: a small batch on 4 NosanaNodes while the controller
// and the node agent are killed at random. The scenario lives in
// test/chaos/random-crash-scenario.ts; `npm run test:chaos` runs it with 200 jobs.
import { randomCrashScenario } from '../chaos/random-crash-scenario.ts';

randomCrashScenario({ jobs: 20, nodes: 4 });
