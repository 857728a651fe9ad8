// KWOK stages for the simulated GPU nodes and the Pods placed on them.
//
// Nodes become Ready and keep their Lease fresh. A Pod bound to a KWOK node runs only once the
// simulation has decided what it does (`sim.nosana.io/decided`, set by simulation.ts or by a
// test); until then it stays Pending, as on a kubelet that has not started it yet. Then:
// - with `sim.nosana.io/pull-error` it stays Pending, its container waiting with ErrImagePull;
// - otherwise it goes Running after `sim.nosana.io/start-delay` (default immediately), Ready at
//   once, or `sim.nosana.io/ready-after` later (a Go duration; "never" keeps it unready);
// - with `sim.nosana.io/exit-code` it terminates after `sim.nosana.io/run-duration` (a Go
//   duration such as "2s", default 500ms), phase Succeeded for 0 and Failed otherwise, reason
//   OOMKilled when `sim.nosana.io/oom-killed` is "true". Without it the Pod runs until deleted,
//   like a service would.
// (KWOK's stock completion stage only completes Pods owned by a batch Job.)

export const SIMULATION_ANNOTATIONS = {
  decided: 'sim.nosana.io/decided',
  exitCode: 'sim.nosana.io/exit-code',
  runDuration: 'sim.nosana.io/run-duration',
  startDelay: 'sim.nosana.io/start-delay',
  pullError: 'sim.nosana.io/pull-error',
  oomKilled: 'sim.nosana.io/oom-killed',
  readyAfter: 'sim.nosana.io/ready-after',
} as const;

const nodeInitialize = `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: node-initialize
spec:
  resourceRef:
    apiGroup: v1
    kind: Node
  selector:
    matchExpressions:
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: 'NotIn'
      values: ['True']
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      {{ range NodeConditions }}
      - lastHeartbeatTime: {{ $now | Quote }}
        lastTransitionTime: {{ $now | Quote }}
        message: {{ .message | Quote }}
        reason: {{ .reason | Quote }}
        status: {{ .status | Quote }}
        type: {{ .type | Quote }}
      {{ end }}
      addresses:
      {{ with NodeIP }}
      - address: {{ . | Quote }}
        type: InternalIP
      {{ end }}
      - address: {{ .metadata.name | Quote }}
        type: Hostname
      {{ with NodePort }}
      daemonEndpoints:
        kubeletEndpoint:
          Port: {{ . }}
      {{ end }}
      allocatable:
      {{ with .status.allocatable }}
      {{ YAML . 1 }}
      {{ else }}
        cpu: "64"
        memory: 512Gi
        pods: "110"
      {{ end }}
      capacity:
      {{ with .status.capacity }}
      {{ YAML . 1 }}
      {{ else }}
        cpu: "64"
        memory: 512Gi
        pods: "110"
      {{ end }}
      nodeInfo:
        architecture: amd64
        operatingSystem: linux
        kubeletVersion: {{ printf "kwok-%s" Version | Quote }}
        kubeProxyVersion: {{ printf "kwok-%s" Version | Quote }}
        containerRuntimeVersion: {{ printf "kwok-%s" Version | Quote }}
        kernelVersion: {{ printf "kwok-%s" Version | Quote }}
        osImage: "simulated"
        machineID: ""
        systemUUID: ""
        bootID: ""
      phase: Running
`;

/**
 * The Pod conditions every stage writes: scheduled and initialized since `since` (a template
 * variable), Ready and ContainersReady with `ready` (a template expression) and an optional reason.
 */
function podConditions(since: string, ready: string, reason?: string): string {
  const why = reason === undefined ? '' : `\n        reason: ${reason}`;
  return `      conditions:
      - lastTransitionTime: {{ ${since} | Quote }}
        status: "True"
        type: PodScheduled
      - lastTransitionTime: {{ ${since} | Quote }}
        status: "True"
        type: Initialized
      - lastTransitionTime: {{ $now | Quote }}
        status: ${ready}${why}
        type: Ready
      - lastTransitionTime: {{ $now | Quote }}
        status: ${ready}${why}
        type: ContainersReady`;
}

const podRunning = `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-running
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Pending']
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: 'NotIn'
      values: ['True']
    - key: '.metadata.annotations["${SIMULATION_ANNOTATIONS.decided}"]'
      operator: 'Exists'
    - key: '.metadata.annotations["${SIMULATION_ANNOTATIONS.pullError}"]'
      operator: 'DoesNotExist'
  delay:
    durationMilliseconds: 0
    durationFrom:
      expressionFrom: '.metadata.annotations["${SIMULATION_ANNOTATIONS.startDelay}"]'
  next:
    statusTemplate: |
      {{ $now := Now }}
      {{ $ready := not ( index .metadata.annotations "${SIMULATION_ANNOTATIONS.readyAfter}" ) }}
${podConditions('$now', '{{ if $ready }}"True"{{ else }}"False"{{ end }}')}
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        imageID: {{ printf "simulated://%s" .image | Quote }}
        containerID: {{ printf "kwok://%s" .name | Quote }}
        name: {{ .name | Quote }}
        ready: {{ $ready }}
        started: true
        restartCount: 0
        state:
          running:
            startedAt: {{ $now | Quote }}
      {{ end }}
      initContainerStatuses:
      {{ range .spec.initContainers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: true
        restartCount: 0
        state:
          terminated:
            exitCode: 0
            finishedAt: {{ $now | Quote }}
            reason: Completed
            startedAt: {{ $now | Quote }}
      {{ end }}
      {{ with NodeIPsWith .spec.nodeName }}
      hostIP: {{ index . 0 | Quote }}
      hostIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}
      {{ with PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
      podIP: {{ index . 0 | Quote }}
      podIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}
      phase: Running
      startTime: {{ $now | Quote }}
`;

const podComplete = `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-complete
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Running']
    - key: '.metadata.annotations["${SIMULATION_ANNOTATIONS.exitCode}"]'
      operator: 'Exists'
  delay:
    durationMilliseconds: 500
    durationFrom:
      expressionFrom: '.metadata.annotations["${SIMULATION_ANNOTATIONS.runDuration}"]'
  next:
    statusTemplate: |
      {{ $now := Now }}
      {{ $code := index .metadata.annotations "${SIMULATION_ANNOTATIONS.exitCode}" }}
      {{ $oom := or ( index .metadata.annotations "${SIMULATION_ANNOTATIONS.oomKilled}" ) "false" }}
      {{ $started := or .status.startTime $now }}
${podConditions('$now', '"False"', 'PodCompleted')}
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        imageID: {{ printf "simulated://%s" .image | Quote }}
        containerID: {{ printf "kwok://%s" .name | Quote }}
        name: {{ .name | Quote }}
        ready: false
        started: false
        restartCount: 0
        state:
          terminated:
            exitCode: {{ $code }}
            reason: {{ if eq $code "0" }}Completed{{ else if eq $oom "true" }}OOMKilled{{ else }}Error{{ end }}
            startedAt: {{ $started | Quote }}
            finishedAt: {{ $now | Quote }}
      {{ end }}
      phase: {{ if eq $code "0" }}Succeeded{{ else }}Failed{{ end }}
`;

const podReady = `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-ready
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Running']
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: 'NotIn'
      values: ['True']
    - key: '.metadata.annotations["${SIMULATION_ANNOTATIONS.readyAfter}"]'
      operator: 'Exists'
    - key: '.metadata.annotations["${SIMULATION_ANNOTATIONS.readyAfter}"]'
      operator: 'NotIn'
      values: ['never']
  delay:
    durationMilliseconds: 0
    durationFrom:
      expressionFrom: '.metadata.annotations["${SIMULATION_ANNOTATIONS.readyAfter}"]'
  next:
    statusTemplate: |
      {{ $now := Now }}
      {{ $started := or .status.startTime $now }}
${podConditions('$started', '"True"')}
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        imageID: {{ printf "simulated://%s" .image | Quote }}
        containerID: {{ printf "kwok://%s" .name | Quote }}
        name: {{ .name | Quote }}
        ready: true
        started: true
        restartCount: 0
        state:
          running:
            startedAt: {{ $started | Quote }}
      {{ end }}
`;

const podPullError = `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-pull-error
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Pending']
    - key: '.metadata.annotations["${SIMULATION_ANNOTATIONS.pullError}"]'
      operator: 'Exists'
    - key: '.status.containerStatuses.[0].state.waiting.reason'
      operator: 'NotIn'
      values: ['ErrImagePull']
  delay:
    durationMilliseconds: 0
    durationFrom:
      expressionFrom: '.metadata.annotations["${SIMULATION_ANNOTATIONS.startDelay}"]'
  next:
    statusTemplate: |
      {{ $now := Now }}
      {{ $message := index .metadata.annotations "${SIMULATION_ANNOTATIONS.pullError}" }}
${podConditions('$now', '"False"', 'ContainersNotReady')}
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        imageID: ""
        name: {{ .name | Quote }}
        ready: false
        started: false
        restartCount: 0
        state:
          waiting:
            reason: ErrImagePull
            message: {{ $message | Quote }}
      {{ end }}
      phase: Pending
      startTime: {{ $now | Quote }}
`;

const podDelete = `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-delete
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'Exists'
  next:
    finalizers:
      empty: true
    delete: true
`;

export function kwokStagesYaml(): string {
  return [nodeInitialize, podRunning, podReady, podPullError, podComplete, podDelete].map((doc) => doc.trim()).join('\n---\n') + '\n';
}
