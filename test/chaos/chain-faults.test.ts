// Chain and IPFS faults at full count: `npm run test:chaos` runs NOSANA_CHAOS_JOBS NosanaJobs (6
// by default) through the whole loop while the localnet misbehaves. The scenario lives in
// chain-faults-scenario.ts so a reduced count can join `npm test`.
import { chainFaultsScenario, chaosJobs } from './chain-faults-scenario.ts';

chainFaultsScenario(chaosJobs(6));
