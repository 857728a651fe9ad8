// Chain and IPFS faults at full count: `npm run test:chaos` runs NOSANA_CHAOS_JOBS NosanaJobs (6
// by default) through the whole loop while the localnet misbehaves. The scenario lives in
// chain-faults-scenario.ts so a reduced count can join `npm test`.
import { chainFaultsScenario } from './chain-faults-scenario.ts';
import { chaosJobs } from './loop-batch.ts';

chainFaultsScenario(chaosJobs(6));
