{{/* Names, labels, the settings table and the checks every template relies on. */}}

{{- define "sundial.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sundial.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "sundial.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "sundial.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "sundial.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sundial.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "sundial.workerSelectorLabels" -}}
app.kubernetes.io/name: {{ include "sundial.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: worker
{{- end -}}

{{- define "sundial.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "sundial.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create=false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "sundial.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "sundial.webhookSecretName" -}}
{{- printf "%s-webhook-tls" (include "sundial.fullname" .) -}}
{{- end -}}

{{/*
The operator settings: values key under .Values.config -> environment variable. One row per
setting of operator/sundial/settings.py (SETTINGS); tests/unit/test_chart_values.py fails when a
setting has no row here (or a row names no setting).
*/}}
{{- define "sundial.configEnv" -}}
defaultTaskQueue: SUNDIAL_DEFAULT_TASK_QUEUE
defaultWorkflowType: SUNDIAL_DEFAULT_WORKFLOW_TYPE
resyncSeconds: SUNDIAL_RESYNC_SECONDS
fullCheckSeconds: SUNDIAL_FULL_CHECK_SECONDS
runsPollSeconds: SUNDIAL_RUNS_POLL_SECONDS
overdueGraceSeconds: SUNDIAL_OVERDUE_GRACE_SECONDS
sweepPageSize: SUNDIAL_SWEEP_PAGE_SIZE
orphanPolicy: SUNDIAL_ORPHAN_POLICY
minIntervalMinutes: SCHEDULE_MIN_INTERVAL_MINS
maxPerNamespace: SCHEDULE_MAX_PER_NAMESPACE
maxPerUser: SCHEDULE_MAX_PER_USER
maxBudgetUSD: SCHEDULE_MAX_BUDGET_USD
maxConcurrentTemporalCalls: SUNDIAL_MAX_CONCURRENT_TEMPORAL_CALLS
allowedWorkflowTypes: SUNDIAL_ALLOWED_WORKFLOW_TYPES
allowedTaskQueues: SUNDIAL_ALLOWED_TASK_QUEUES
maxRetryAttempts: SUNDIAL_MAX_RETRY_ATTEMPTS
triggerMinIntervalMinutes: SUNDIAL_TRIGGER_MIN_INTERVAL_MINS
{{- end -}}

{{/* The operator's rules on Schedules and Events, the same cluster-wide or per namespace. */}}
{{- define "sundial.scheduleRules" }}
- apiGroups: [sundial.dev]
  resources: [schedules]
  verbs: [get, list, watch, patch]
- apiGroups: [sundial.dev]
  resources: [schedules/status]
  verbs: [patch]
- apiGroups: [""]
  resources: [events]
  verbs: [create]
{{- end }}

{{/* SchedulePolicies (cluster-scoped) and the namespaces' labels they select by: read cluster-wide
(so only without watchNamespaces); the operator writes only the policies' status. */}}
{{- define "sundial.policyRules" }}
- apiGroups: [sundial.dev]
  resources: [schedulepolicies]
  verbs: [get, list, watch]
- apiGroups: [sundial.dev]
  resources: [schedulepolicies/status]
  verbs: [patch]
- apiGroups: [""]
  resources: [namespaces]
  verbs: [list, watch]
{{- end }}

{{/* Impossible combinations stop the render with one line that says why. */}}
{{- define "sundial.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.peering.enabled) -}}
{{- fail (printf "replicaCount: %d needs peering.enabled=true: without kopf peering every replica would reconcile every Schedule at once" (int .Values.replicaCount)) -}}
{{- end -}}
{{- if and .Values.podDisruptionBudget.enabled (le (int .Values.replicaCount) (int .Values.podDisruptionBudget.minAvailable)) -}}
{{- fail (printf "podDisruptionBudget.minAvailable: %d with replicaCount: %d would block every node drain; raise replicaCount (with peering) or lower minAvailable" (int .Values.podDisruptionBudget.minAvailable) (int .Values.replicaCount)) -}}
{{- end -}}
{{- if and .Values.webhook.certManager.enabled (not .Values.webhook.enabled) -}}
{{- fail "webhook.certManager.enabled=true needs webhook.enabled=true: there is no webhook to issue a certificate for" -}}
{{- end -}}
{{- if and .Values.metrics.serviceMonitor.enabled .Values.metrics.podMonitor.enabled -}}
{{- fail "metrics.serviceMonitor.enabled and metrics.podMonitor.enabled are both true: Prometheus would scrape every pod twice; pick one" -}}
{{- end -}}
{{- if and .Values.metrics.serviceMonitor.enabled (not .Values.metrics.service.enabled) -}}
{{- fail "metrics.serviceMonitor.enabled=true needs metrics.service.enabled=true: a ServiceMonitor selects the metrics Service" -}}
{{- end -}}
{{- if and (has .Release.Namespace .Values.watchNamespaces) .Values.webhook.enabled -}}
{{- fail (printf "watchNamespaces contains the release namespace %q, which the webhook excludes (so the operator can always start): install the chart in its own namespace" .Release.Namespace) -}}
{{- end -}}
{{- range $key, $value := .Values.config -}}
{{- if not (hasKey (include "sundial.configEnv" $ | fromYaml) $key) -}}
{{- fail (printf "config.%s has no environment variable in sundial.configEnv" $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The chart-generated webhook CA and serving certificate (without cert-manager), computed once per
render and cached on the root context, so the Secret, the caBundle and the pod checksum agree. On
upgrade the existing Secret is looked up and kept (helm template / Argo CD cannot look up: they
generate a new pair on each render; use cert-manager there).
*/}}
{{- define "sundial.webhookTLS" -}}
{{- if not (hasKey .Values "__webhookTLS") -}}
{{- $secret := lookup "v1" "Secret" .Release.Namespace (include "sundial.webhookSecretName" .) -}}
{{- if and $secret $secret.data (hasKey $secret.data "ca.crt") -}}
{{- $_ := set .Values "__webhookTLS" (dict "ca" (index $secret.data "ca.crt") "crt" (index $secret.data "tls.crt") "key" (index $secret.data "tls.key")) -}}
{{- else -}}
{{- $svc := printf "%s-webhook" (include "sundial.fullname" .) -}}
{{- $days := int .Values.webhook.certValidityDays -}}
{{- $ca := genCA (printf "%s-ca" $svc) $days -}}
{{- $names := list $svc (printf "%s.%s" $svc .Release.Namespace) (printf "%s.%s.svc" $svc .Release.Namespace) -}}
{{- $cert := genSignedCert (printf "%s.%s.svc" $svc .Release.Namespace) nil $names $days $ca -}}
{{- $_ := set .Values "__webhookTLS" (dict "ca" ($ca.Cert | b64enc) "crt" ($cert.Cert | b64enc) "key" ($cert.Key | b64enc)) -}}
{{- end -}}
{{- end -}}
{{- toYaml (get .Values "__webhookTLS") -}}
{{- end -}}

{{- define "sundial.webhookCertificate" -}}
{{- (include "sundial.webhookTLS" . | fromYaml).crt -}}
{{- end -}}
