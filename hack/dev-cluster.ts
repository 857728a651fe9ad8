// Starts the test control plane for a person to use, prints how to reach it, and stops
// it on Ctrl-C:   npm run dev-cluster
import { LocalCluster } from '../src/local-cluster/cluster.ts';

const started = Date.now();
const cluster = await LocalCluster.start();
const { handle } = cluster;
console.log(`Kubernetes ${handle.version} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`  export KUBECONFIG=${handle.kubeconfigPath}`);
console.log(`  GPU nodes: ${handle.gpuNodes.join(', ')}; StorageClass: ${handle.storageClass}`);
console.log(`  logs and audit log: ${handle.workDir}/logs`);
console.log('Ctrl-C stops it and removes everything.');
const stop = async (): Promise<void> => {
  await cluster.stop();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
