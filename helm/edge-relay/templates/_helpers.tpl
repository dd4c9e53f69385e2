{{/* Names and labels. */}}
{{- define "edge-relay.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "edge-relay.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "edge-relay.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "edge-relay.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "edge-relay.selectorLabels" -}}
app.kubernetes.io/name: {{ include "edge-relay.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "edge-relay.chartLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "edge-relay.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "edge-relay.labels" -}}
{{- include "edge-relay.labelsWith" (list . (list "additionalLabels" .Values.additionalLabels)) }}
{{- end }}

{{/*
The chart's labels, then maps of more through tpl, each (list VALUE-NAME MAP), later ones winning:
(list CONTEXT SOURCE...). None may redefine a chart label: the selectors rely on them.
*/}}
{{- define "edge-relay.labelsWith" -}}
{{- $context := index . 0 }}
{{- $labels := include "edge-relay.chartLabels" $context | fromYaml }}
{{- $chartKeys := keys $labels }}
{{- range $source := rest . }}
{{- range $key, $value := include "edge-relay.tplMap" (list (index $source 1) $context) | fromYaml }}
{{- if has $key $chartKeys }}
{{- fail (printf "%s.%s: the chart sets this label itself" (index $source 0) $key) }}
{{- end }}
{{- $_ := set $labels $key $value }}
{{- end }}
{{- end }}
{{- toYaml $labels }}
{{- end }}

{{/* A ServiceMonitor's or PodMonitor's labels: (list CONTEXT VALUE-NAME); serviceMonitor.labels is extraLabels' former name. */}}
{{- define "edge-relay.monitorLabels" -}}
{{- $context := index . 0 }}
{{- $name := index . 1 }}
{{- $monitor := index $context.Values $name }}
{{- include "edge-relay.labelsWith" (list $context
  (list "additionalLabels" $context.Values.additionalLabels)
  (list (printf "%s.labels" $name) $monitor.labels)
  (list (printf "%s.extraLabels" $name) $monitor.extraLabels)) }}
{{- end }}

{{/* The one scrape endpoint, the same for a ServiceMonitor (Service port) and a PodMonitor (container port). */}}
{{- define "edge-relay.scrapeEndpoint" -}}
port: admin
path: /metrics
interval: {{ .interval }}
scrapeTimeout: {{ .scrapeTimeout }}
{{- with .relabelings }}
relabelings:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .metricRelabelings }}
metricRelabelings:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* A map of values through tpl, then read back: (list MAP CONTEXT). Values stay strings, as labels must be. */}}
{{- define "edge-relay.tplMap" -}}
{{- $context := index . 1 }}
{{- $out := dict }}
{{- range $key, $value := index . 0 }}
{{- $_ := set $out (tpl $key $context) (tpl (toString $value) $context) }}
{{- end }}
{{- toYaml $out }}
{{- end }}

{{/* repository@digest when a digest is set, else repository:tag. */}}
{{- define "edge-relay.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
extraEnvs, after the entries of the deprecated extraEnv whose names extraEnvs does not define: on a
variable both set, the new name wins instead of the two being listed.
*/}}
{{- define "edge-relay.extraEnvs" -}}
{{- $new := default (list) .Values.extraEnvs }}
{{- $names := list }}
{{- range $new }}
{{- $names = append $names .name }}
{{- end }}
{{- $out := list }}
{{- range default (list) .Values.extraEnv }}
{{- if not (has .name $names) }}
{{- $out = append $out . }}
{{- end }}
{{- end }}
{{- toJson (concat $out $new) }}
{{- end }}

{{- define "edge-relay.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "edge-relay.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The headless Service: peer discovery, and the StatefulSet's governing service. */}}
{{/*
Several replicas at once (replicaCount > 1, or the autoscaler): tail sampling then needs every span of a
trace on one replica, so the relay's cluster is turned on through the headless peers Service.
*/}}
{{- define "edge-relay.clustered" -}}
{{- if or (gt (int .Values.replicaCount) 1) .Values.autoscaling.enabled }}true{{ end }}
{{- end }}

{{- define "edge-relay.peersServiceName" -}}
{{- printf "%s-peers" (include "edge-relay.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Container ports: the port part of the relay's own listen endpoints, so the two cannot disagree. */}}
{{- define "edge-relay.receiverPort" -}}
{{- regexReplaceAll "^.*:" (toString .Values.config.receiver.endpoint) "" }}
{{- end }}

{{- define "edge-relay.adminPort" -}}
{{- regexReplaceAll "^.*:" (toString .Values.config.admin.endpoint) "" }}
{{- end }}

{{/* Whether the chart creates the Secret, and which Secret and key each token comes from. */}}
{{- define "edge-relay.createSecret" -}}
{{- if or (and .Values.lightstep.accessToken (not .Values.lightstep.existingSecret)) (and .Values.beaconAuth.tokens (not .Values.beaconAuth.existingSecret)) }}true{{ end }}
{{- end }}

{{/* Beacon token environment variables as a list of {name, secret, key}. */}}
{{- define "edge-relay.beaconTokenEnv" -}}
{{- $out := list }}
{{- if .Values.beaconAuth.existingSecret }}
{{- range $i, $key := .Values.beaconAuth.existingSecretKeys }}
{{- $out = append $out (dict "name" (printf "EDGE_RELAY_BEACON_TOKEN_%d" $i) "secret" $.Values.beaconAuth.existingSecret "key" $key) }}
{{- end }}
{{- else }}
{{- range $i, $_ := .Values.beaconAuth.tokens }}
{{- $out = append $out (dict "name" (printf "EDGE_RELAY_BEACON_TOKEN_%d" $i) "secret" (include "edge-relay.fullname" $) "key" (printf "beacon-token-%d" $i)) }}
{{- end }}
{{- end }}
{{- toJson $out }}
{{- end }}

{{/* The ConfigMap the pods mount: the chart's, or configMap.existingName with configMap.create false. */}}
{{- define "edge-relay.configMapName" -}}
{{- if and .Values.configMap.create .Values.configMap.existingName }}
{{- fail "configMap.existingName is mounted only with configMap.create: false (the chart's ConfigMap would be unused)" }}
{{- else if .Values.configMap.existingName }}
{{- tpl .Values.configMap.existingName . }}
{{- else if .Values.configMap.create }}
{{- include "edge-relay.fullname" . }}
{{- else }}
{{- fail "configMap.create: false needs configMap.existingName: the relay cannot start without a config file" }}
{{- end }}
{{- end }}

{{/*
The relay config the ConfigMap holds: .Values.config plus what the chart wires in, and nothing else,
through tpl (as the official collector chart does) once the chart's additions are in.
- beacon tokens: ${env:EDGE_RELAY_BEACON_TOKEN_<i>} references appended to receiver.auth.tokens;
- persistence: exporter.sending_queue.storage defaults to <mountPath>/queue (a directory of its own: a fresh
  volume's root may hold lost+found) and must lie on the volume, the only writable disk.
*/}}
{{- define "edge-relay.config" -}}
{{- $config := deepCopy .Values.config }}
{{- $tokens := include "edge-relay.beaconTokenEnv" . | fromJsonArray }}
{{- if $tokens }}
{{- $receiver := default (dict) $config.receiver }}
{{- $auth := default (dict) $receiver.auth }}
{{- $refs := default (list) $auth.tokens }}
{{- range $tokens }}
{{- $refs = append $refs (printf "${env:%s}" .name) }}
{{- end }}
{{- $_ := set $auth "tokens" $refs }}
{{- $_ = set $receiver "auth" $auth }}
{{- $_ = set $config "receiver" $receiver }}
{{- end }}
{{- if .Values.persistence.enabled }}
{{- $exporter := default (dict) $config.exporter }}
{{- $queue := default (dict) $exporter.sending_queue }}
{{- $mount := .Values.persistence.mountPath }}
{{- $storage := toString (default (printf "%s/queue" $mount) $queue.storage) }}
{{- /* The Collector's form names a file_storage extension; its directory is what must be on the volume. */}}
{{- $directory := $storage }}
{{- with get (default (dict) $config.extensions) $storage }}
{{- $directory = toString (default "/var/lib/edge-relay/file_storage" .directory) }}
{{- end }}
{{- if not (or (eq $directory $mount) (hasPrefix (printf "%s/" $mount) $directory)) }}
{{- fail (printf "config.exporter.sending_queue.storage (%s, directory %s) must lie under persistence.mountPath (%s), the only writable disk" $storage $directory $mount) }}
{{- end }}
{{- $_ := set $queue "storage" $storage }}
{{- $_ = set $exporter "sending_queue" $queue }}
{{- $_ = set $config "exporter" $exporter }}
{{- end }}
{{- if and (include "edge-relay.clustered" .) (not (hasKey $config "cluster")) }}
{{- $port := include "edge-relay.receiverPort" . }}
{{- $dns := dict "hostname" (printf "%s.%s.svc.cluster.local" (include "edge-relay.peersServiceName" .) .Release.Namespace) "port" ($port | int) }}
{{- $_ := set $config "cluster" (dict "self" (printf "http://${env:POD_IP}:%s" $port) "dns" $dns) }}
{{- end }}
{{- tpl (toYaml $config) . }}
{{- end }}

{{/*
Milliseconds in a Go-style duration ("30s", "1m30s", "500ms") or a number of milliseconds, as the relay
reads config.shutdown_timeout (default 30s).
*/}}
{{- define "edge-relay.durationMs" -}}
{{- $text := toString . }}
{{- if regexMatch "^[0-9.]+$" $text }}
{{- $text }}
{{- else }}
{{- $units := dict "ns" 0.000001 "us" 0.001 "µs" 0.001 "ms" 1.0 "s" 1000.0 "m" 60000.0 "h" 3600000.0 }}
{{- $total := 0.0 }}
{{- range regexFindAll "[0-9.]+(ns|us|µs|ms|s|m|h)" $text -1 }}
{{- $unit := regexReplaceAll "^[0-9.]+" . "" }}
{{- $total = addf $total (mulf (regexFind "^[0-9.]+" . | float64) (get $units $unit)) }}
{{- end }}
{{- $total }}
{{- end }}
{{- end }}

{{/* The grace period: long enough for the preStop sleep, the relay's drain and its own 5 s last resort. */}}
{{- define "edge-relay.terminationGracePeriodSeconds" -}}
{{- $shutdownMs := include "edge-relay.durationMs" (default "30s" .Values.config.shutdown_timeout) | float64 }}
{{- $minimum := add (ceil (divf $shutdownMs 1000.0) | int) .Values.preStopSleepSeconds 10 }}
{{- $set := int .Values.terminationGracePeriodSeconds }}
{{- if eq $set 0 }}
{{- $minimum }}
{{- else if lt $set $minimum }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be at least %d: config.shutdown_timeout + preStopSleepSeconds + 10 s, or the kubelet kills the relay mid-drain" $set $minimum) }}
{{- else }}
{{- $set }}
{{- end }}
{{- end }}
