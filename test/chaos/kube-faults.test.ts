// Kubernetes faults at full count: `npm run test:chaos` sets NOSANA_CHAOS_RUNS (20 by default)
// rounds per killed component, plus the two-replica leader handover while the API server is down.
// The reduced count runs in test/integration/kube-faults.test.ts.
import { chaosRuns } from './crash-scenario.ts';
import { kubeFaultsScenario } from './kube-faults-scenario.ts';

kubeFaultsScenario({ rounds: chaosRuns(20), jobsPerRound: 8, leaderHandover: true });
