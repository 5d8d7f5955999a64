{{/* Names, labels and the pieces several templates share. */}}

{{- define "aim-engine.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "aim-engine.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "aim-engine.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "aim-engine.image" -}}
{{- $repository := required "image.repository is not set: no public image of AIM Engine for Python is published. Build it from the repository's Dockerfile and push it where your nodes pull from, e.g. `make image IMAGE=registry.example/aim-engine:0.1.0 && make push IMAGE=registry.example/aim-engine:0.1.0`, then pass --set image.repository=registry.example/aim-engine --set image.tag=0.1.0" .Values.image.repository -}}
{{ $repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "aim-engine.webhookService" -}}
{{ include "aim-engine.fullname" . }}-webhook
{{- end -}}

{{- define "aim-engine.certSecret" -}}
{{ include "aim-engine.fullname" . }}-webhook-tls
{{- end -}}

{{/*
The webhook's serving certificate and CA when the chart manages them: generated once per
render (cached in .Values so every template sees the same pair), reused from the Secret on
upgrades while more than a third of its validity is left.
*/}}
{{- define "aim-engine.selfManagedTLS" -}}
{{- if not (hasKey .Values "_tls") -}}
{{- $service := include "aim-engine.webhookService" . -}}
{{- $names := list $service (printf "%s.%s" $service .Release.Namespace) (printf "%s.%s.svc" $service .Release.Namespace) (printf "%s.%s.svc.cluster.local" $service .Release.Namespace) -}}
{{- $days := int .Values.webhook.certificateValidityDays -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "aim-engine.certSecret" .) -}}
{{- $tls := dict -}}
{{- if and $existing (index $existing.data "ca.crt") (index $existing.metadata.annotations "aim.eai.amd.com/renew-after") -}}
{{- if lt (now | unixEpoch | atoi) (index $existing.metadata.annotations "aim.eai.amd.com/renew-after" | atoi) -}}
{{- $tls = dict "ca" (index $existing.data "ca.crt") "caKey" (index $existing.data "ca.key") "cert" (index $existing.data "tls.crt") "key" (index $existing.data "tls.key") "renewAfter" (index $existing.metadata.annotations "aim.eai.amd.com/renew-after") -}}
{{- end -}}
{{- end -}}
{{- if not $tls -}}
{{- $ca := genCA "aim-engine-webhook-ca" (mul $days 3 | int) -}}
{{- $cert := genSignedCert $service nil $names $days $ca -}}
{{- $renewAfter := add (now | unixEpoch) (div (mul $days 86400 2) 3) -}}
{{- $tls = dict "ca" ($ca.Cert | b64enc) "caKey" ($ca.Key | b64enc) "cert" ($cert.Cert | b64enc) "key" ($cert.Key | b64enc) "renewAfter" (toString $renewAfter) -}}
{{- end -}}
{{- $_ := set .Values "_tls" $tls -}}
{{- end -}}
{{- end -}}

{{- define "aim-engine.caBundle" -}}
{{- if .Values.webhook.caBundle -}}
{{ .Values.webhook.caBundle }}
{{- else -}}
{{- include "aim-engine.selfManagedTLS" . -}}
{{ .Values._tls.ca }}
{{- end -}}
{{- end -}}

{{/* clientConfig for a webhook path: the given URL (local development) or the Service. */}}
{{- define "aim-engine.clientConfig" -}}
{{- $root := .root -}}
{{- if $root.Values.webhook.url -}}
url: {{ printf "%s%s" $root.Values.webhook.url .path | quote }}
{{- else -}}
service:
  name: {{ include "aim-engine.webhookService" $root }}
  namespace: {{ $root.Release.Namespace }}
  path: {{ .path }}
  port: 443
{{- end }}
{{- if or $root.Values.webhook.url (not $root.Values.certManager.enabled) }}
caBundle: {{ include "aim-engine.caBundle" $root }}
{{- end }}
{{- end -}}

{{- define "aim-engine.selfManaged" -}}
{{- if and (not .Values.certManager.enabled) (not .Values.webhook.url) }}true{{ end -}}
{{- end -}}

{{- define "aim-engine.certManagerAnnotation" -}}
{{- if and .Values.certManager.enabled (not .Values.webhook.url) }}
cert-manager.io/inject-ca-from: {{ .Release.Namespace }}/{{ include "aim-engine.fullname" . }}-webhook
{{- end }}
{{- end -}}

{{/* The conversion stanza of the multi-version CRDs (included by the generated CRD files). */}}
{{- define "aim-engine.crdConversion" -}}
conversion:
  strategy: Webhook
  webhook:
    conversionReviewVersions: ["v1"]
    clientConfig:
      {{- include "aim-engine.clientConfig" (dict "root" . "path" "/convert") | nindent 6 }}
{{- end -}}
