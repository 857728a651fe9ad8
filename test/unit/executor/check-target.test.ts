// Where a runner-performed health check is sent: the op's Service by its cluster DNS name by
// default, or the Pod's own address.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkTarget, defaultCheckTargetResolver, podAddress, serviceAddress } from '../../../src/executor/check-target.ts';
import { opPodName, opServiceName } from '../../../src/executor/names.ts';

const JOB = '7Uq9yCqnYbTTLfqVv5rZ3gYjNpJZRsqZJ7m2iYVQmAbW';

describe('the target of a check', () => {
  test("names the op's Service and Pod as the executor names them, and carries the Pod IP once known", () => {
    assert.deepEqual(checkTarget({ namespace: 'jobs', jobId: JOB, opIndex: 2, podIP: '10.1.2.3' }, 8000), {
      namespace: 'jobs',
      serviceName: opServiceName(JOB, 2),
      port: 8000,
      podName: opPodName(JOB, 2),
      podIP: '10.1.2.3',
    });
    assert.equal(
      'podIP' in checkTarget({ namespace: 'jobs', jobId: JOB, opIndex: 2, podIP: '' }, 8000),
      false,
      'an empty status.podIP is none',
    );
  });

  test('the default reaches the Service by its cluster DNS name, on the exposed port itself', async () => {
    const target = checkTarget({ namespace: 'jobs', jobId: JOB, opIndex: 0, podIP: '10.1.2.3' }, 9000);
    assert.equal(defaultCheckTargetResolver, podAddress);
    assert.deepEqual(await serviceAddress(target), { host: `${opServiceName(JOB, 0)}.jobs.svc`, port: 9000 });
  });

  test('the Pod address is the Pod IP, and is refused while the Pod has none', async () => {
    assert.deepEqual(await podAddress(checkTarget({ namespace: 'jobs', jobId: JOB, opIndex: 0, podIP: 'fd00::7' }, 80)), {
      host: 'fd00::7',
      port: 80,
    });
    await assert.rejects(podAddress(checkTarget({ namespace: 'jobs', jobId: JOB, opIndex: 0 }, 80)), /has no IP address yet/);
  });
});
