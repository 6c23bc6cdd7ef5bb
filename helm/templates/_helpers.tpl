{{/* Names ---------------------------------------------------------------- */}}

{{- define "logbuch.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "logbuch.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* "<fullname>-<suffix>", kept within 63 characters. Call with (list $ "suffix"). */}}
{{- define "logbuch.suffixed" -}}
{{- $root := index . 0 }}
{{- $suffix := index . 1 }}
{{- printf "%s-%s" (include "logbuch.fullname" $root | trunc (int (sub 62 (len $suffix))) | trimSuffix "-") $suffix }}
{{- end }}

{{- define "logbuch.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels --------------------------------------------------------------- */}}

{{- define "logbuch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "logbuch.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "logbuch.labels" -}}
helm.sh/chart: {{ include "logbuch.chart" . }}
{{ include "logbuch.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: logbuch
{{- end }}

{{/* Labels of one component. Call with (list $ "http"). */}}
{{- define "logbuch.componentSelectorLabels" -}}
{{ include "logbuch.selectorLabels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "logbuch.componentLabels" -}}
{{ include "logbuch.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* Image and ServiceAccount --------------------------------------------- */}}

{{- define "logbuch.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "logbuch.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "logbuch.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The migration hook runs before the release's ServiceAccount exists on a
fresh install: it gets a hook copy of its own when the chart creates one. */}}
{{- define "logbuch.migrationServiceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- include "logbuch.suffixed" (list . "migrate") }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Secrets ---------------------------------------------------------------
Each credential comes from (first match wins):
  1. the area's existingSecret (key: the area's existingSecretKey),
  2. a value in these values (rendered into the chart Secret),
  3. the shared top-level existingSecret (key: the area's existingSecretKey).
"logbuch.secretRef" returns "name/key", or "" when the credential is not set.
Call with (list $ "database" "url" "database-url").
*/}}
{{- define "logbuch.secretRef" -}}
{{- $root := index . 0 }}
{{- $area := index $root.Values (index . 1) }}
{{- $value := index $area (index . 2) }}
{{- $chartKey := index . 3 }}
{{- $secret := index . 4 }}
{{- if $area.existingSecret }}
{{- printf "%s/%s" $area.existingSecret $area.existingSecretKey }}
{{- else if $value }}
{{- printf "%s/%s" $secret $chartKey }}
{{- else if $root.Values.existingSecret }}
{{- printf "%s/%s" $root.Values.existingSecret $area.existingSecretKey }}
{{- end }}
{{- end }}

{{/* Data of the chart-managed Secret (YAML map, possibly empty). */}}
{{- define "logbuch.secretData" -}}
{{- $v := .Values }}
{{- if and $v.database.url (not $v.database.existingSecret) }}
database-url: {{ $v.database.url | b64enc | quote }}
{{- end }}
{{- if and $v.redis.enabled $v.redis.url (not $v.redis.existingSecret) }}
redis-url: {{ $v.redis.url | b64enc | quote }}
{{- end }}
{{- if and $v.smtp.host $v.smtp.password (not $v.smtp.existingSecret) }}
smtp-password: {{ $v.smtp.password | b64enc | quote }}
{{- end }}
{{- if and $v.oidc.issuer $v.oidc.clientSecret (not $v.oidc.existingSecret) }}
oidc-client-secret: {{ $v.oidc.clientSecret | b64enc | quote }}
{{- end }}
{{- if and $v.metrics.token (not $v.metrics.existingSecret) }}
metrics-token: {{ $v.metrics.token | b64enc | quote }}
{{- end }}
{{- if and $v.audit.signingKey (not $v.audit.existingSecret) }}
audit-signing-key: {{ $v.audit.signingKey | b64enc | quote }}
{{- end }}
{{- if and $v.pgp.secret (not $v.pgp.existingSecret) }}
pgp-secret: {{ $v.pgp.secret | b64enc | quote }}
{{- end }}
{{- end }}

{{- define "logbuch.imapSecretData" -}}
{{- range $name, $password := .Values.imap.passwords }}
{{ $name }}: {{ $password | toString | b64enc | quote }}
{{- end }}
{{- end }}

{{/* An env entry from a "name/key" secret reference. */}}
{{- define "logbuch.secretEnv" -}}
{{- $ref := splitList "/" (index . 1) -}}
- name: {{ index . 0 }}
  valueFrom:
    secretKeyRef:
      name: {{ index $ref 0 }}
      key: {{ index $ref 1 }}
{{- end }}

{{/* Checks that fail the rendering with a clear message. */}}
{{- define "logbuch.validate" -}}
{{- $v := .Values }}
{{- if not (include "logbuch.secretRef" (list . "database" "url" "database-url" "x")) }}
{{- fail "Logbuch braucht PostgreSQL / needs PostgreSQL: set database.url, database.existingSecret or existingSecret (the embedded SQLite default is not for Kubernetes)." }}
{{- end }}
{{- if and $v.redis.enabled (not (include "logbuch.secretRef" (list . "redis" "url" "redis-url" "x"))) }}
{{- fail "redis.enabled is true but no Redis is given: set redis.url, redis.existingSecret or existingSecret – or redis.enabled=false to keep the job queue in PostgreSQL." }}
{{- end }}
{{- if not (include "logbuch.secretRef" (list . "audit" "signingKey" "audit-signing-key" "x")) }}
{{- fail "audit.signingKey is needed (64 hex digits: openssl rand -hex 32), or audit.existingSecret / existingSecret: every pod must sign the audit checkpoints with the same key." }}
{{- end }}
{{- if not (include "logbuch.secretRef" (list . "pgp" "secret" "pgp-secret" "x")) }}
{{- fail "pgp.secret is needed (a long random text), or pgp.existingSecret / existingSecret: every pod must unlock the queues' OpenPGP keys with the same secret." }}
{{- end }}
{{- if and $v.federation $v.existingFederationConfigMap }}
{{- fail "Give either federation (inline TOML) or existingFederationConfigMap, not both." }}
{{- end }}
{{- if and $v.smtp.user (not $v.smtp.host) }}
{{- fail "smtp.user is set but smtp.host is empty." }}
{{- end }}
{{- if and $v.oidc.issuer (not $v.oidc.clientId) }}
{{- fail "oidc.issuer is set but oidc.clientId is empty." }}
{{- end }}
{{- end }}

{{/* Federation ------------------------------------------------------------ */}}

{{- define "logbuch.federationConfigMap" -}}
{{- if .Values.existingFederationConfigMap }}
{{- .Values.existingFederationConfigMap }}
{{- else if .Values.federation }}
{{- include "logbuch.suffixed" (list . "federation") }}
{{- end }}
{{- end }}

{{- define "logbuch.federationKey" -}}
{{- if .Values.existingFederationConfigMap }}
{{- .Values.existingFederationConfigMapKey }}
{{- else }}
{{- "federation.toml" }}
{{- end }}
{{- end }}

{{/* Pod parts -------------------------------------------------------------
Environment of every Logbuch container. Call with (dict "root" $ "component"
"http" "secret" <chart Secret name> "imapSecret" <chart IMAP Secret name>). */}}
{{- define "logbuch.env" -}}
{{- $root := .root }}
{{- $v := $root.Values }}
{{- $secret := .secret }}
- name: LOGBUCH__DATA_DIR
  value: /var/lib/logbuch/data
{{- if eq .component "http" }}
- name: LOGBUCH__SERVER__LISTEN
  value: "0.0.0.0:8080"
{{- if and $v.ingress.enabled $v.portal.clientIpHeader }}
- name: LOGBUCH__PORTAL__CLIENT_IP_HEADER
  value: {{ $v.portal.clientIpHeader | quote }}
{{- end }}
{{- end }}
{{- with $v.config.publicUrl }}
- name: LOGBUCH__SERVER__PUBLIC_URL
  value: {{ . | quote }}
{{- end }}
{{- if include "logbuch.federationConfigMap" $root }}
- name: LOGBUCH__FEDERATION_FILE
  value: /etc/logbuch/federation.toml
{{- end }}
{{ include "logbuch.secretEnv" (list "LOGBUCH__DATABASE__URL" (include "logbuch.secretRef" (list $root "database" "url" "database-url" $secret))) }}
- name: LOGBUCH__DATABASE__MAX_CONNECTIONS
  value: {{ $v.database.maxConnections | quote }}
{{- if $v.redis.enabled }}
{{ include "logbuch.secretEnv" (list "LOGBUCH__REDIS__URL" (include "logbuch.secretRef" (list $root "redis" "url" "redis-url" $secret))) }}
- name: LOGBUCH__REDIS__PREFIX
  value: {{ $v.redis.prefix | quote }}
{{- end }}
{{- if $v.smtp.host }}
- name: LOGBUCH__SMTP__HOST
  value: {{ $v.smtp.host | quote }}
- name: LOGBUCH__SMTP__PORT
  value: {{ $v.smtp.port | quote }}
- name: LOGBUCH__SMTP__SECURITY
  value: {{ $v.smtp.security | quote }}
{{- with $v.smtp.user }}
- name: LOGBUCH__SMTP__USER
  value: {{ . | quote }}
{{- $ref := include "logbuch.secretRef" (list $root "smtp" "password" "smtp-password" $secret) }}
{{- if $ref }}
{{ include "logbuch.secretEnv" (list "LOGBUCH__SMTP__PASSWORD" $ref) }}
{{- end }}
{{- end }}
{{- end }}
{{- if $v.oidc.issuer }}
- name: LOGBUCH__OIDC__ISSUER
  value: {{ $v.oidc.issuer | quote }}
- name: LOGBUCH__OIDC__CLIENT_ID
  value: {{ $v.oidc.clientId | quote }}
{{- $ref := include "logbuch.secretRef" (list $root "oidc" "clientSecret" "oidc-client-secret" $secret) }}
{{- if $ref }}
{{ include "logbuch.secretEnv" (list "LOGBUCH__OIDC__CLIENT_SECRET" $ref) }}
{{- end }}
{{- end }}
{{- if or $v.metrics.token $v.metrics.existingSecret }}
{{ include "logbuch.secretEnv" (list "LOGBUCH__SERVER__METRICS_TOKEN" (include "logbuch.secretRef" (list $root "metrics" "token" "metrics-token" $secret))) }}
{{- end }}
{{ include "logbuch.secretEnv" (list "LOGBUCH__AUDIT__SIGNING_KEY" (include "logbuch.secretRef" (list $root "audit" "signingKey" "audit-signing-key" $secret))) }}
{{ include "logbuch.secretEnv" (list "LOGBUCH__PGP__SECRET" (include "logbuch.secretRef" (list $root "pgp" "secret" "pgp-secret" $secret))) }}
- name: LOGBUCH_LOG_FORMAT
  value: {{ $v.config.logFormat | quote }}
- name: RUST_LOG
  value: {{ $v.config.logLevel | quote }}
{{- if $v.otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $v.otel.endpoint | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ $v.otel.serviceName | quote }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ printf "service.namespace=%s,logbuch.component=%s" $root.Release.Namespace .component | quote }}
{{- end }}
{{- with $v.config.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* envFrom: IMAP passwords (workers only) and extra sources. */}}
{{- define "logbuch.envFrom" -}}
{{- $v := .root.Values }}
{{- if eq .component "worker" }}
{{- if $v.imap.passwords }}
- secretRef:
    name: {{ include "logbuch.suffixed" (list .root "imap") }}
{{- end }}
{{- with $v.imap.existingSecret }}
- secretRef:
    name: {{ . }}
{{- end }}
{{- end }}
{{- with $v.config.extraEnvFrom }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "logbuch.volumeMounts" -}}
- name: data
  mountPath: /var/lib/logbuch/data
- name: tmp
  mountPath: /tmp
{{- if include "logbuch.federationConfigMap" .root }}
- name: federation
  mountPath: /etc/logbuch
  readOnly: true
{{- end }}
{{- end }}

{{/* Call with (dict "root" $ "configMap" <federation ConfigMap name>). */}}
{{- define "logbuch.volumes" -}}
- name: data
  emptyDir:
    sizeLimit: {{ .root.Values.dataDir.sizeLimit }}
- name: tmp
  emptyDir:
    sizeLimit: {{ .root.Values.tmpDir.sizeLimit }}
{{- if .configMap }}
- name: federation
  configMap:
    name: {{ .configMap }}
    items:
      - key: {{ include "logbuch.federationKey" .root }}
        path: federation.toml
{{- end }}
{{- end }}

{{/* Checksums that roll the pods when their configuration changes. */}}
{{- define "logbuch.checksums" -}}
checksum/secret: {{ print (include "logbuch.secretData" .) (include "logbuch.imapSecretData" .) | sha256sum }}
checksum/federation: {{ .Values.federation | sha256sum }}
{{- end }}

{{/* NetworkPolicy egress (only when restricted; else all egress is allowed). */}}
{{- define "logbuch.egressRules" -}}
{{- if .Values.networkPolicy.egress.restrict }}
egress:
  # DNS
  - ports:
      - port: 53
        protocol: UDP
      - port: 53
        protocol: TCP
  {{- with .Values.networkPolicy.egress.rules }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
{{- end }}
