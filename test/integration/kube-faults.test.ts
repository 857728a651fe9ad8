// Kubernetes faults in `npm test`: kube-apiserver and etcd each SIGKILLed and restarted once while
// the controller posts, and once more with two replicas whose leader is SIGKILLed during the API
// server's outage (NOSANA_CHAOS_RUNS overrides the rounds). The scenario lives in
// test/chaos/kube-faults-scenario.ts, shared with the full-count chaos suite.
import { chaosRuns } from '../chaos/crash-scenario.ts';
import { kubeFaultsScenario } from '../chaos/kube-faults-scenario.ts';

kubeFaultsScenario({ rounds: chaosRuns(1), jobsPerRound: 6, leaderHandover: true });
