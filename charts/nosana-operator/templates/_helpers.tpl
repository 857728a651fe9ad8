{{/*
Names and labels shared by the controller's objects. Names derive from the release so two
releases in one cluster (say, one per team namespace) never collide.
*/}}
{{- define "nosana-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "nosana-operator.serviceAccountName" -}}
{{- if .Values.controller.serviceAccount.create -}}
{{- default (include "nosana-operator.fullname" .) .Values.controller.serviceAccount.name -}}
{{- else -}}
{{- required "controller.serviceAccount.name is required when controller.serviceAccount.create is false" .Values.controller.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "nosana-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}

{{/*
Labels of the objects that serve the whole release (monitoring, network policy, dashboard) rather
than one component: no component label, so neither component's selectors pick them up.
*/}}
{{- define "nosana-operator.releaseLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "nosana-operator.labels" -}}
{{ include "nosana-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/*
The node agent's names and labels. Its own name, ServiceAccount and component label keep it a
separate workload from the controller: the controller's Service and selectors never pick up the
agent's Pods, and node keys never meet poster wallets in one process or one identity.
*/}}
{{- define "nosana-operator.nodeAgent.fullname" -}}
{{- printf "%s-node" (include "nosana-operator.fullname" . | trunc 58 | trimSuffix "-") -}}
{{- end -}}

{{- define "nosana-operator.nodeAgent.serviceAccountName" -}}
{{- if .Values.nodeAgent.serviceAccount.create -}}
{{- default (include "nosana-operator.nodeAgent.fullname" .) .Values.nodeAgent.serviceAccount.name -}}
{{- else -}}
{{- required "nodeAgent.serviceAccount.name is required when nodeAgent.serviceAccount.create is false" .Values.nodeAgent.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "nosana-operator.nodeAgent.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: node-agent
{{- end -}}

{{- define "nosana-operator.nodeAgent.labels" -}}
{{ include "nosana-operator.nodeAgent.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/*
The agent's image: each field left empty in nodeAgent.image is the controller's, so one image
setting serves both (the agent is the same command).
*/}}
{{- define "nosana-operator.nodeAgent.image" -}}
{{- $agent := .Values.nodeAgent.image -}}
{{- $controller := .Values.controller.image -}}
{{- printf "%s:%s" (default $controller.repository $agent.repository) (default (default .Chart.AppVersion $controller.tag) $agent.tag) -}}
{{- end -}}

{{/*
Settings the agent cannot work with fail the render, naming the value to change. Called from
the agent's Deployment, so every render with the agent enabled checks them.
*/}}
{{- define "nosana-operator.nodeAgent.validate" -}}
{{- $a := .Values.nodeAgent -}}
{{- if and (gt (int $a.replicas) 1) (not $a.leaderElection.enabled) -}}
{{- fail "nodeAgent.replicas above 1 needs nodeAgent.leaderElection.enabled: replicas without an election would each sign for the same NosanaNodes" -}}
{{- end -}}
{{- if and (not $a.nodeNamespaces) (not $a.clusterWideSecrets) -}}
{{- fail "nodeAgent.nodeNamespaces is empty, so the agent would watch NosanaNodes in every namespace and need to read Secrets cluster-wide: list the namespaces of your NosanaNodes in nodeAgent.nodeNamespaces, or set nodeAgent.clusterWideSecrets: true to accept that" -}}
{{- end -}}
{{- if and $a.rbac.create (not $a.jobNamespaces) -}}
{{- fail "nodeAgent.jobNamespaces is empty: name the namespaces job Pods may run in (the agent is granted Pods, Secrets and Services there only)" -}}
{{- end -}}
{{- range $a.jobNamespaces -}}
{{- if has . $a.nodeNamespaces -}}
{{- fail (printf "nodeAgent.jobNamespaces and nodeAgent.nodeNamespaces both name %s: job Pods (strangers' images) never run beside NosanaNodes and their key Secrets" .) -}}
{{- end -}}
{{- if eq . $.Release.Namespace -}}
{{- fail (printf "nodeAgent.jobNamespaces names the release namespace %s, which holds the operator's own Secrets: run jobs in a namespace of their own" .) -}}
{{- end -}}
{{- end -}}
{{- if and $a.createJobNamespaces (has .Release.Namespace $a.jobNamespaces) -}}
{{- fail (printf "nodeAgent.jobNamespaces names the release namespace %s, which nodeAgent.createJobNamespaces cannot create: run jobs in a namespace of their own" .Release.Namespace) -}}
{{- end -}}
{{- if and .Values.controller.enabled (eq (include "nosana-operator.nodeAgent.serviceAccountName" .) (include "nosana-operator.serviceAccountName" .)) -}}
{{- fail "nodeAgent.serviceAccount.name is the controller's ServiceAccount: the node agent (node keys) and the controller (poster wallets) must run as different identities" -}}
{{- end -}}
{{- end -}}

{{/*
The components whose metrics Services this release renders, for the ServiceMonitor's selector
and the alerts' default series selector (a ServiceMonitor names a target's job after its Service).
*/}}
{{- define "nosana-operator.metricsComponents" -}}
{{- $components := list -}}
{{- if and .Values.controller.enabled .Values.controller.metricsService.enabled -}}
{{- $components = append $components (dict "component" "controller" "service" (printf "%s-metrics" (include "nosana-operator.fullname" .))) -}}
{{- end -}}
{{- if and .Values.nodeAgent.enabled .Values.nodeAgent.metricsService.enabled -}}
{{- $components = append $components (dict "component" "node-agent" "service" (printf "%s-metrics" (include "nosana-operator.nodeAgent.fullname" .))) -}}
{{- end -}}
{{- toJson $components -}}
{{- end -}}

{{/*
The label matchers every alert expression selects this release's series with.
*/}}
{{- define "nosana-operator.seriesSelector" -}}
{{- with .Values.metrics.prometheusRule.seriesSelector -}}
{{- . -}}
{{- else -}}
{{- $services := list -}}
{{- range (include "nosana-operator.metricsComponents" . | fromJsonArray) -}}
{{- $services = append $services .service -}}
{{- end -}}
{{- if not $services -}}
{{- fail "metrics.prometheusRule.enabled needs a metrics Service to select series by (controller.metricsService.enabled or nodeAgent.metricsService.enabled), or metrics.prometheusRule.seriesSelector" -}}
{{- end -}}
{{- printf "job=~%q" (join "|" $services) -}}
{{- end -}}
{{- end -}}
