// Certificates for a throwaway local control plane. The API server, its clients and the
// KWOK kubelet endpoint all authenticate with X.509, as in a kubeadm cluster, so RBAC and
// the audit log see real user names. openssl ships with every Debian machine (the
// ca-certificates package depends on it); EC P-256 keys keep generation fast.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CertificatePair {
  cert: string;
  key: string;
}

export interface ClusterPki {
  caCert: string;
  caKey: string;
  apiServer: CertificatePair;
  kubelet: CertificatePair;
  /** the API server's client identity towards kubelets (here: KWOK) */
  apiServerKubeletClient: CertificatePair;
  admin: CertificatePair;
  scheduler: CertificatePair;
  controllerManager: CertificatePair;
  serviceAccountKey: string;
  serviceAccountPublicKey: string;
}

async function openssl(args: string[]): Promise<void> {
  await run('openssl', args);
}

async function newKey(path: string): Promise<void> {
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
}

interface Subject {
  commonName: string;
  organization?: string;
  /** subjectAltName entries such as IP:127.0.0.1, DNS:localhost */
  altNames?: string[];
  serverAuth?: boolean;
}

async function issue(dir: string, name: string, subject: Subject, caCert: string, caKey: string): Promise<CertificatePair> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  await newKey(key);
  const dn = `/CN=${subject.commonName}${subject.organization ? `/O=${subject.organization}` : ''}`;
  await openssl(['req', '-new', '-key', key, '-out', csr, '-subj', dn]);
  const lines = [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${subject.serverAuth ? 'serverAuth' : 'clientAuth'}`,
  ];
  if (subject.altNames?.length) lines.push(`subjectAltName=${subject.altNames.join(',')}`);
  await writeFile(ext, lines.join('\n') + '\n');
  await openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    caCert,
    '-CAkey',
    caKey,
    // explicit random serials: -CAcreateserial races when certificates are issued in parallel
    '-set_serial',
    `0x${randomBytes(16).toString('hex')}`,
    '-out',
    cert,
    '-days',
    '30',
    '-sha256',
    '-extfile',
    ext,
  ]);
  return { cert, key };
}

export async function generateClusterPki(dir: string): Promise<ClusterPki> {
  const caKey = join(dir, 'ca.key');
  const caCert = join(dir, 'ca.crt');
  await newKey(caKey);
  await openssl(['req', '-x509', '-new', '-key', caKey, '-out', caCert, '-days', '30', '-subj', '/CN=nosana-operator-local-ca']);

  const serverNames = [
    'IP:127.0.0.1',
    'IP:10.0.0.1',
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
  ];
  const [apiServer, kubelet, apiServerKubeletClient, admin, scheduler, controllerManager] = await Promise.all([
    issue(dir, 'apiserver', { commonName: 'kube-apiserver', altNames: serverNames, serverAuth: true }, caCert, caKey),
    issue(dir, 'kubelet', { commonName: 'kwok-kubelet', altNames: ['IP:127.0.0.1', 'DNS:localhost'], serverAuth: true }, caCert, caKey),
    issue(dir, 'apiserver-kubelet-client', { commonName: 'kube-apiserver-kubelet-client', organization: 'system:masters' }, caCert, caKey),
    issue(dir, 'admin', { commonName: 'admin', organization: 'system:masters' }, caCert, caKey),
    issue(dir, 'scheduler', { commonName: 'system:kube-scheduler' }, caCert, caKey),
    issue(dir, 'controller-manager', { commonName: 'system:kube-controller-manager' }, caCert, caKey),
  ]);

  const serviceAccountKey = join(dir, 'sa.key');
  const serviceAccountPublicKey = join(dir, 'sa.pub');
  await newKey(serviceAccountKey);
  await openssl(['pkey', '-in', serviceAccountKey, '-pubout', '-out', serviceAccountPublicKey]);

  return {
    caCert,
    caKey,
    apiServer,
    kubelet,
    apiServerKubeletClient,
    admin,
    scheduler,
    controllerManager,
    serviceAccountKey,
    serviceAccountPublicKey,
  };
}
