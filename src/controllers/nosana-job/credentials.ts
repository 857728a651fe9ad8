// Finding credentials in a job definition before it is pinned. Whatever is pinned goes to public
// IPFS, where anyone who learns the CID (it is on chain, in every job account) can read it, so a
// registry password, S3 keys or a Hugging Face token in the definition would be published.
import type { ContainerRunArgs, JobDefinition } from '../../api/job-definition/index.ts';

function filled(value: unknown): boolean {
  return typeof value === 'string' && value.trim() !== '';
}

function credentialsInArgs(args: ContainerRunArgs, at: string): string[] {
  const found: string[] = [];
  const docker = args.authentication?.docker;
  // An empty block is a template (the Nosana examples ship one); only filled values are secrets.
  for (const field of ['username', 'password'] as const) {
    if (filled(docker?.[field])) found.push(`${at}.authentication.docker.${field}`);
  }
  (args.resources ?? []).forEach((resource, index) => {
    if (typeof resource !== 'object' || !('type' in resource)) return;
    const where = `${at}.resources[${index}]`;
    if (resource.type === 'S3' && (filled(resource.IAM?.ACCESS_KEY_ID) || filled(resource.IAM?.SECRET_ACCESS_KEY)))
      found.push(`${where}.IAM`);
    if (resource.type === 'HF' && filled(resource.accessToken)) found.push(`${where}.accessToken`);
  });
  return found;
}

/** The paths of every credential in the definition (empty when there is none). */
export function findPublicCredentials(definition: JobDefinition): string[] {
  return definition.ops.flatMap((op, index) => (op.type === 'container/run' ? credentialsInArgs(op.args, `ops[${index}].args`) : []));
}

export function publicCredentialsMessage(paths: readonly string[]): string {
  return (
    `the definition carries credentials (${paths.join(', ')}); definitions are pinned to public IPFS, where anyone can read them, ` +
    'so it was not pinned or posted. Remove the credentials, or set spec.allowPublicCredentials: true to publish them knowingly'
  );
}
