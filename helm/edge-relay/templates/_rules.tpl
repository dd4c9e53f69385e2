{{/*
The chart's alerting rules, one group per concern; prometheusrule.yaml adds defaultRules.additionalRuleLabels
and additionalRuleAnnotations to each. Metric names and drop reasons: docs/operations.md; version health
(verdicts, RED metrics per EdgeWorker version) and its runbook: docs/version-health.md.
*/}}

{{/* This release's series: its namespace, and pod names of its Deployment (<name>-<hash>-<id>) or StatefulSet (<name>-<n>). */}}
{{- define "edge-relay.ruleSelector" -}}
namespace="{{ .Release.Namespace }}",pod=~"{{ include "edge-relay.fullname" . | replace "." "[.]" }}-([0-9]+|[a-z0-9]+-[a-z0-9]{5})"
{{- end }}

{{- define "edge-relay.defaultRuleGroups" -}}
{{- $s := include "edge-relay.ruleSelector" . }}
- name: edge-relay.ingest
  rules:
    - alert: EdgeRelayShedding
      expr: rate(edge_relay_requests_rejected_total{ {{- $s }},reason="overloaded"}[5m]) > 0
      for: 5m
      labels:
        severity: warning
      annotations:
        summary: edge-relay refuses data with 429 (memory, sending queue or hand-off full)
        description: {{ `'{{ $labels.pod }} refuses {{ $value | humanize }} requests/s with 429: it sheds load before memory runs out. Add CPU or replicas, or find why the backend is slow (edge_relay_sending_queue_fill_ratio, edge_relay_admission_shedding).'` }}
    - alert: EdgeRelayRefusingRequests
      expr: |-
        sum without (reason) (rate(edge_relay_requests_rejected_total{ {{- $s }},reason!~"overloaded|shutting_down"}[5m]))
          / (
            sum without (reason) (rate(edge_relay_requests_rejected_total{ {{- $s }}}[5m]))
            # A relay that has acknowledged nothing yet has no acknowledgement series: count it as none.
            + (
              sum without (route) (rate(edge_relay_ack_latency_seconds_count{ {{- $s }}}[5m]))
              or sum without (reason) (rate(edge_relay_requests_rejected_total{ {{- $s }}}[5m])) * 0
            )
          )
          > 0.05
      for: 15m
      labels:
        severity: warning
      annotations:
        summary: edge-relay refuses more than 5 % of requests as invalid, unauthorized or too large
        description: {{ `'{{ $value | humanizePercentage }} of the requests {{ $labels.pod }} receives are refused (400, 401, 413, 415): an EdgeWorker version sends malformed beacons or a wrong token. edge_relay_requests_rejected_total by reason says which.'` }}
- name: edge-relay.delivery
  rules:
    - alert: EdgeRelaySpansDropped
      expr: rate(edge_relay_spans_dropped_total{ {{- $s }}}[5m]) > 0
      for: 2m
      labels:
        severity: critical
      annotations:
        summary: edge-relay drops accepted spans
        description: {{ `'{{ $labels.pod }} drops {{ $value | humanize }} spans/s, reason {{ $labels.reason }}: spans it acknowledged that will never reach the backend. docs/operations.md lists the reasons and what to do.'` }}
    - alert: EdgeRelaySendingQueueFilling
      expr: edge_relay_sending_queue_fill_ratio{ {{- $s }}} > 0.8
      for: 5m
      labels:
        severity: warning
      annotations:
        summary: the edge-relay sending queue is filling
        description: {{ `'The sending queue of {{ $labels.pod }} is at {{ $value | humanizePercentage }}; from 90 % the relay refuses data (429). The backend is slower than ingest, or down (edge_relay_export_requests_total by outcome).'` }}
- name: edge-relay.accounting
  rules:
    - alert: EdgeRelaySpansStuck
      expr: |-
        min_over_time(edge_relay_spans_in_flight{ {{- $s }}}[15m]) > 0
        unless
          (
            increase(edge_relay_spans_exported_total{ {{- $s }}}[15m])
            + increase(edge_relay_spans_sampled_out_total{ {{- $s }}}[15m])
            + increase(edge_relay_cluster_spans_forwarded_total{ {{- $s }}}[15m])
            + sum without (reason) (increase(edge_relay_spans_dropped_total{ {{- $s }}}[15m]))
          ) > 0
      for: 5m
      labels:
        severity: warning
      annotations:
        summary: edge-relay holds spans that do not move
        description: {{ `'{{ $labels.pod }} has held spans in flight (edge_relay_spans_in_flight) for 20 minutes while none was exported, sampled out, forwarded or dropped: the backend is down with retries still running, or a worker is stuck.'` }}
{{- $d := .Values.prometheusRule.defaultRules }}
{{- $server := printf "%s,span_kind=\"SPAN_KIND_SERVER\"" $s }}
- name: edge-relay.versions
  rules:
    # Each replica judges the traffic it receives: one alert per candidate as soon as any replica finds it
    # regressed (the judge has already corrected for repeated looks, so no `for`).
    - alert: EdgeWorkerVersionRegressed
      expr: max by (worker_id, candidate, baseline) (edge_relay_version_verdict{ {{- $s }},state="regressed"}) == 1
      labels:
        severity: critical
      annotations:
        summary: an EdgeWorker version is judged regressed against its baseline
        description: {{ `'EdgeWorker {{ $labels.worker_id }} version {{ $labels.candidate }} is regressed against {{ $labels.baseline }}: the admin /versions page of the relay and GET /v1/versions say which comparison and why. Runbook: docs/version-health.md, "Runbook".'` }}
    # The error ratio of server spans per version, over every replica; versions with little traffic are left
    # out, since a few errors among a handful of requests are no signal.
    - alert: EdgeWorkerVersionErrorRate
      expr: |-
        (
          sum by (akamai_edgeworker_id, akamai_edgeworker_version) (rate(edge_relay_edge_errors_total{ {{- $server }}}[5m]))
            / sum by (akamai_edgeworker_id, akamai_edgeworker_version) (rate(edge_relay_edge_requests_total{ {{- $server }}}[5m]))
        ) > {{ $d.versionErrorRate }}
        and sum by (akamai_edgeworker_id, akamai_edgeworker_version) (rate(edge_relay_edge_requests_total{ {{- $server }}}[5m])) >= {{ $d.versionMinRequestRate }}
      for: 10m
      labels:
        severity: warning
      annotations:
        summary: an EdgeWorker version fails more than the configured share of requests
        description: {{ `'{{ $value | humanizePercentage }} of the requests EdgeWorker {{ $labels.akamai_edgeworker_id }} version {{ $labels.akamai_edgeworker_version }} served failed over 10 minutes (status ERROR or 5xx, server spans, counted before sampling). Compare with the other versions of the id: docs/version-health.md, "Runbook".'` }}
{{- end }}
