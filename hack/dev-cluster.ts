// Starts the local control plane for a person to use, prints how to reach it, and stops
// it on Ctrl-C:   npm run dev-cluster
// Its simulated containers follow the demo's rule table: the docs' story job prints a canned story,
// every other container runs for two seconds and exits 0.
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { LocalCluster } from '../src/local-cluster/cluster.ts';
import { SimulationWatcher } from '../src/local-cluster/simulation.ts';
import { DEMO_SIMULATION_RULES } from '../src/demo/simulation-rules.ts';

const started = Date.now();
const cluster = await LocalCluster.start();
const { handle } = cluster;
console.log(`Kubernetes ${handle.version} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`  export KUBECONFIG=${handle.kubeconfigPath}`);
console.log(`  GPU nodes: ${handle.gpuNodes.join(', ')}; StorageClass: ${handle.storageClass}`);
console.log(`  logs and audit log: ${handle.workDir}/logs`);
const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(handle.kubeconfigPath);
const simulation = new SimulationWatcher({
  kubeConfig,
  logsDir: handle.kwokLogsDir,
  log: pino({ level: 'warn' }),
  rules: DEMO_SIMULATION_RULES,
});
await simulation.start();
console.log('  simulated containers: the story job prints a canned story; anything else runs 2 s and exits 0');
console.log('Ctrl-C stops it and removes everything.');
const stop = async (): Promise<void> => {
  await simulation.stop();
  await cluster.stop();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
