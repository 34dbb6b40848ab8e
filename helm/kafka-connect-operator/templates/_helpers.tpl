{{/* The name of every object: <release>-kafka-connect-operator, or the release name when it says so already. */}}
{{- define "kco.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/*
Selector labels. app.kubernetes.io/name is fixed: the NetworkPolicy the operator puts in front of each
Connect cluster's REST port admits Pods with this label (connect_operator.render.names.OPERATOR_LABELS).
*/}}
{{- define "kco.selectorLabels" -}}
app.kubernetes.io/name: kafka-connect-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kco.labels" -}}
{{ include "kco.selectorLabels" . }}
app.kubernetes.io/component: operator
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "kco.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{- define "kco.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "kco.fullname" .) -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* "true" when kopf peering is on: several replicas, or asked for. Empty otherwise. */}}
{{- define "kco.peering" -}}
{{- if or .Values.ha.enabled (gt (int .Values.replicas) 1) -}}true{{- end -}}
{{- end -}}

{{- define "kco.peeringName" -}}
{{- .Values.ha.peeringName | default (include "kco.fullname" .) -}}
{{- end -}}

{{/*
The rules on namespaced resources: in the ClusterRole when the operator watches the whole cluster, in a
Role per namespace otherwise. Keep equal to connect_operator.rbac.NAMESPACED (tests/unit/test_helm_chart.py).
*/}}
{{- define "kco.namespacedRules" -}}
# kopf watches both kinds and patches its annotations and finalizers onto them; the Connector handlers read
# a KafkaConnect (get) and the sync loop lists a cluster's Connectors.
- apiGroups: [kco.dev]
  resources: [kafkaconnects]
  verbs: [get, list, watch, patch]
- apiGroups: [kco.dev]
  resources: [connectors]
  verbs: [list, watch, patch]
- apiGroups: [kco.dev]
  resources: [kafkaconnects/status, connectors/status]
  verbs: [patch]
# Everything a KafkaConnect becomes is server-side applied (a patch, which needs create for a new object),
# and watched, so that a child deleted or edited by hand is applied again.
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create, patch]
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, watch, create, patch]
- apiGroups: [""]
  resources: [services, serviceaccounts]
  verbs: [list, watch, create, patch]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [list, watch, create, patch]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [list, watch, create, patch]
# A standalone worker's offsets volume.
- apiGroups: [""]
  resources: [persistentvolumeclaims]
  verbs: [list, watch, create, patch]
# Worker Pod IPs; worker Pods annotated with their node's rack label.
- apiGroups: [""]
  resources: [pods]
  verbs: [list, watch, patch]
# Restarts on exposed Secret changes; Kafka credentials for the internal topics; the REST listener's
# certificates (read, and the CA and certificate the operator issues applied). Read by name only: never listed.
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, create, patch]
- apiGroups: [""]
  resources: [events]
  verbs: [create]
{{- end -}}

{{/* Cluster-scoped reads, in a ClusterRole in every mode. Keep equal to connect_operator.rbac.CLUSTER_SCOPED. */}}
{{- define "kco.clusterRules" -}}
# kopf scans the CRDs for the resources it serves.
- apiGroups: [apiextensions.k8s.io]
  resources: [customresourcedefinitions]
  verbs: [list, watch]
# Rack awareness: a worker's node label.
- apiGroups: [""]
  resources: [nodes]
  verbs: [get]
{{- end -}}

{{- define "kco.peeringVerbs" -}}
verbs: [get, list, watch, patch]
{{- end -}}
