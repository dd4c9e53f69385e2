import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CHART_DIR } from './chart.ts';
import { find, helm, type Manifest, template, templateError, workload } from './helm.ts';

/**
 * The values named as in the official opentelemetry-collector chart, rendered by helm: where each one
 * lands in the manifests, tpl expansion, and the former names this chart still reads.
 */

const json = (key: string, value: unknown): string[] => ['--set-json', `${key}=${JSON.stringify(value)}`];
const pod = (manifests: Manifest[]): Manifest => workload(manifests).spec.template.spec;
const relay = (manifests: Manifest[]): Manifest =>
  pod(manifests).containers.find((c: Manifest) => c.name === 'relay');
/** The chart's rule groups (templates/_rules.tpl), first in every PrometheusRule it renders. */
const DEFAULT_GROUPS = [
  'edge-relay.ingest',
  'edge-relay.delivery',
  'edge-relay.accounting',
  'edge-relay.versions',
];

describe.skipIf(!helm)('official-chart names, rendered', () => {
  it('pulls by digest when image.digest is set, by tag otherwise', () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    expect(relay(template(['--set', `image.digest=${digest}`])).image).toBe(`edge-relay@${digest}`);
    expect(relay(template([])).image).toBe('edge-relay:0.1.0');
    expect(templateError(['--set', `image.digest=@${digest}`])).toContain('/image/digest');
  });

  it('reads the former extraEnv beside extraEnvs, the new name winning on the same variable', () => {
    const manifests = template([
      ...json('extraEnv', [
        { name: 'ONLY_OLD', value: 'old' },
        { name: 'BOTH', value: 'old' },
      ]),
      ...json('extraEnvs', [{ name: 'BOTH', value: 'new' }]),
    ]);
    const env = relay(manifests).env as Manifest[];
    expect(env.filter((e) => e.name === 'BOTH')).toEqual([{ name: 'BOTH', value: 'new' }]);
    expect(env).toContainEqual({ name: 'ONLY_OLD', value: 'old' });
  });

  it('puts extra containers, volumes, mounts, envFrom and arguments where Kubernetes reads them', () => {
    const manifests = template([
      ...json('extraVolumes', [{ name: 'ca', configMap: { name: '{{ .Release.Name }}-ca' } }]),
      ...json('extraVolumeMounts', [{ name: 'ca', mountPath: '/etc/ca', readOnly: true }]),
      ...json('initContainers', [{ name: 'init', image: 'busybox' }]),
      ...json('extraContainers', [{ name: 'sidecar', image: 'busybox', args: ['{{ .Release.Namespace }}'] }]),
      ...json('extraEnvsFrom', [{ secretRef: { name: 'backend' } }]),
      ...json('command.extraArgs', ['--future-option']),
    ]);
    const spec = pod(manifests);
    expect(spec.volumes).toContainEqual({ name: 'ca', configMap: { name: 'r-ca' } });
    expect(relay(manifests).volumeMounts).toContainEqual({
      name: 'ca',
      mountPath: '/etc/ca',
      readOnly: true,
    });
    expect(spec.initContainers).toEqual([{ name: 'init', image: 'busybox' }]);
    expect(spec.containers.map((c: Manifest) => c.name)).toEqual(['relay', 'sidecar']);
    expect(spec.containers[1].args).toEqual(['default']);
    expect(relay(manifests).envFrom).toEqual([{ secretRef: { name: 'backend' } }]);
    expect(relay(manifests).args).toEqual(['--config', '/etc/edge-relay/relay.yaml', '--future-option']);
  });

  it('labels every object with additionalLabels, through tpl, and refuses one that redefines a chart label', () => {
    const manifests = template([...json('additionalLabels', { team: '{{ .Release.Name }}-owners' })]);
    for (const manifest of manifests) expect(manifest.metadata.labels.team, manifest.kind).toBe('r-owners');
    expect(templateError([...json('additionalLabels', { 'app.kubernetes.io/name': 'x' })])).toContain(
      'additionalLabels.app.kubernetes.io/name: the chart sets this label itself',
    );
    expect(find(manifests, 'Deployment')?.spec.template.metadata.labels.team).toBeUndefined();
  });

  it('expands templates in config values, as the official chart does', () => {
    const manifests = template([
      ...json('config.exporter.traces_endpoint', 'http://tempo.{{ .Release.Namespace }}.svc:4318/v1/traces'),
      ...json('config.exporter.headers.x-scope-orgid', '{{ .Release.Name }}'),
    ]);
    const config = parse(find(manifests, 'ConfigMap')?.data['relay.yaml']);
    expect(config.exporter.traces_endpoint).toBe('http://tempo.default.svc:4318/v1/traces');
    expect(config.exporter.headers['x-scope-orgid']).toBe('r');
  });

  it('mounts configMap.existingName instead of its own ConfigMap, only with configMap.create false', () => {
    const manifests = template([
      '--set',
      'configMap.create=false',
      ...json('configMap.existingName', '{{ .Release.Name }}-relay-config'),
    ]);
    expect(find(manifests, 'ConfigMap')).toBeUndefined();
    const volume = pod(manifests).volumes.find((v: Manifest) => v.name === 'config');
    expect(volume.configMap.name).toBe('r-relay-config');
    expect(workload(manifests).spec.template.metadata.annotations?.['checksum/config']).toBeUndefined();
    expect(templateError(['--set', 'configMap.existingName=mine'])).toContain(
      'only with configMap.create: false',
    );
    expect(templateError(['--set', 'configMap.create=false'])).toContain('needs configMap.existingName');
  });

  const relabelings = [{ action: 'replace', targetLabel: 'cluster', replacement: 'eu-central' }];
  const metricRelabelings = [{ action: 'drop', sourceLabels: ['__name__'], regex: 'nodejs_gc_.*' }];
  const scrape = (monitor: string): string[] => [
    '--set',
    `${monitor}.enabled=true`,
    ...json(`${monitor}.extraLabels`, { release: '{{ .Release.Name }}-prometheus' }),
    ...json(`${monitor}.relabelings`, relabelings),
    ...json(`${monitor}.metricRelabelings`, metricRelabelings),
  ];
  const endpoint = { port: 'admin', path: '/metrics', interval: '30s', scrapeTimeout: '10s' };

  it('scrapes the admin port with a ServiceMonitor, or the same endpoint with a PodMonitor', () => {
    const service = find(template(scrape('serviceMonitor')), 'ServiceMonitor') as Manifest;
    expect(service.metadata.labels.release).toBe('r-prometheus');
    expect(service.spec.endpoints).toEqual([{ ...endpoint, relabelings, metricRelabelings }]);

    const manifests = template(scrape('podMonitor'));
    expect(find(manifests, 'ServiceMonitor')).toBeUndefined();
    const podMonitor = find(manifests, 'PodMonitor') as Manifest;
    expect(podMonitor.metadata.labels.release).toBe('r-prometheus');
    expect(podMonitor.spec.podMetricsEndpoints).toEqual([{ ...endpoint, relabelings, metricRelabelings }]);
    expect(podMonitor.spec.selector.matchLabels).toEqual(workload(manifests).spec.template.metadata.labels);
    expect(relay(manifests).ports.map((p: Manifest) => p.name)).toContain('admin');

    expect(templateError([...scrape('podMonitor'), '--set', 'serviceMonitor.enabled=true'])).toContain(
      'enable one',
    );
  });

  it('reads the former serviceMonitor.labels beside extraLabels, the new name winning on the same key', () => {
    const labels = (
      find(
        template([
          '--set',
          'serviceMonitor.enabled=true',
          ...json('serviceMonitor.labels', { release: 'old', team: 'tracing' }),
          ...json('serviceMonitor.extraLabels', { release: 'new' }),
        ]),
        'ServiceMonitor',
      ) as Manifest
    ).metadata.labels;
    expect(labels).toMatchObject({ release: 'new', team: 'tracing' });
  });

  it('renders the default alerts with your labels and annotations, then your own groups', () => {
    const own = {
      name: 'mine',
      rules: [{ alert: 'Mine', expr: 'vector(1)', annotations: { x: '{{ $value }}' } }],
    };
    const rule = find(
      template([
        '--set',
        'prometheusRule.enabled=true',
        ...json('prometheusRule.extraLabels', { release: '{{ .Release.Name }}-prometheus' }),
        ...json('prometheusRule.defaultRules.additionalRuleLabels', { team: 'tracing' }),
        ...json('prometheusRule.defaultRules.additionalRuleAnnotations', {
          runbook_url: 'https://runbooks/relay',
        }),
        ...json('prometheusRule.groups', [own]),
      ]),
      'PrometheusRule',
    ) as Manifest;
    expect(rule.metadata.labels.release).toBe('r-prometheus');
    const groups = rule.spec.groups as Manifest[];
    expect(groups.map((g) => g.name)).toEqual([...DEFAULT_GROUPS, 'mine']);
    const alerts = groups.slice(0, DEFAULT_GROUPS.length).flatMap((g) => g.rules as Manifest[]);
    expect(alerts.map((a) => a.alert)).toEqual([
      'EdgeRelayShedding',
      'EdgeRelayRefusingRequests',
      'EdgeRelaySpansDropped',
      'EdgeRelaySendingQueueFilling',
      'EdgeRelaySpansStuck',
      'EdgeWorkerVersionRegressed',
      'EdgeWorkerVersionErrorRate',
    ]);
    for (const a of alerts) {
      expect(a.labels).toMatchObject({ team: 'tracing', severity: expect.any(String) });
      expect(a.annotations).toMatchObject({
        runbook_url: 'https://runbooks/relay',
        description: expect.any(String),
      });
    }
    // Scoped to this release's pods, so that two releases do not alert on each other's series.
    for (const a of alerts) expect(a.expr).toContain('namespace="default",pod=~"r-edge-relay-(');
    expect(groups[DEFAULT_GROUPS.length]).toEqual(own);
  });

  it('renders only your groups with defaultRules off, and refuses a rule with none', () => {
    const groups = [{ name: 'mine', rules: [{ alert: 'Mine', expr: 'vector(1)' }] }];
    const rule = find(
      template([
        '--set',
        'prometheusRule.enabled=true',
        '--set',
        'prometheusRule.defaultRules.enabled=false',
        ...json('prometheusRule.groups', groups),
      ]),
      'PrometheusRule',
    ) as Manifest;
    expect(rule.spec.groups).toEqual(groups);
    expect(
      templateError([
        '--set',
        'prometheusRule.enabled=true',
        '--set',
        'prometheusRule.defaultRules.enabled=false',
      ]),
    ).toContain('prometheusRule.enabled with no rules');
  });

  it('releases extraManifests through tpl, maps and template strings alike', () => {
    const manifests = template([
      ...json('extraManifests', [
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: '{{ .Release.Name }}-ca' },
          data: { a: 'b' },
        },
        'apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-extra\n{{- if .Values.ingress.enabled }}\nstringData: {on: "yes"}\n{{- end }}',
      ]),
    ]);
    expect(manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'r-ca')?.data).toEqual({
      a: 'b',
    });
    expect(find(manifests, 'Secret')).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'r-extra' },
    });
    expect(templateError([...json('extraManifests', [{ kind: 'ConfigMap' }])])).toContain('apiVersion');
  });

  describe("examples/collector-chart-style.yaml, a values file in the official chart's names", () => {
    const example = ['-f', `${CHART_DIR}examples/collector-chart-style.yaml`];
    let manifests: Manifest[] = [];
    let spec: Manifest = {};
    beforeAll(() => {
      manifests = template(example);
      spec = pod(manifests);
    });

    it('runs the relay by digest, with its sidecar, init container, volumes and environment', () => {
      expect(relay(manifests).image).toMatch(/^registry\.example\.com\/edge-relay@sha256:[0-9a-f]{64}$/);
      expect(spec.initContainers.map((c: Manifest) => c.name)).toEqual(['wait-for-tempo']);
      expect(spec.initContainers[0].command[2]).toContain('tempo-distributor.default.svc.cluster.local');
      expect(spec.containers.map((c: Manifest) => c.name)).toEqual(['relay', 'origin-mtls']);
      expect(spec.volumes).toContainEqual({ name: 'origin-tls', secret: { secretName: 'r-origin-tls' } });
      expect(relay(manifests).volumeMounts).toContainEqual({
        name: 'diagnostics',
        mountPath: '/var/lib/edge-relay-diagnostics',
      });
      const mounted = new Set(
        spec.containers.flatMap((c: Manifest) => c.volumeMounts.map((m: Manifest) => m.name)),
      );
      for (const volume of spec.volumes)
        expect(mounted, `volume ${volume.name} is mounted`).toContain(volume.name);
      expect(relay(manifests).env.map((e: Manifest) => e.name)).toContain('TEMPO_TENANT_TOKEN');
      expect(relay(manifests).envFrom).toEqual([
        { configMapRef: { name: 'edge-relay-tuning', optional: true } },
      ]);
    });

    it('expands the release name and namespace inside config', () => {
      const config = parse(find(manifests, 'ConfigMap')?.data['relay.yaml']);
      expect(config.exporter.traces_endpoint).toBe(
        'http://tempo-distributor.default.svc.cluster.local:4318/v1/traces',
      );
      expect(config.exporter.headers).toEqual({
        'X-Scope-OrgID': 'r',
        authorization: 'Bearer ${env:TEMPO_TENANT_TOKEN}',
      });
    });

    it('releases the extra manifests, the origin Service selecting the relay pods', () => {
      const certificate = find(manifests, 'Certificate') as Manifest;
      expect(certificate.spec.secretName).toBe('r-origin-tls');
      const origin = manifests.find(
        (m) => m.kind === 'Service' && m.metadata.name === 'r-origin',
      ) as Manifest;
      expect(workload(manifests).spec.template.metadata.labels).toMatchObject(origin.spec.selector);
      expect(spec.containers[1].ports).toContainEqual({ name: 'origin', containerPort: 8443 });
    });

    it("labels the chart's objects with additionalLabels, through tpl", () => {
      for (const manifest of manifests.filter((m) => m.metadata.labels?.['helm.sh/chart']))
        expect(manifest.metadata.labels, manifest.kind).toMatchObject({
          'app.kubernetes.io/part-of': 'tracing',
          'tracing.example.com/tenant': 'r',
        });
    });

    it('scrapes with a PodMonitor, or with the ServiceMonitor instead, with the labels and relabelings', () => {
      const podMonitor = find(manifests, 'PodMonitor') as Manifest;
      expect(podMonitor.metadata.labels.release).toBe('kube-prometheus-stack');
      expect(podMonitor.spec.podMetricsEndpoints[0]).toMatchObject({
        port: 'admin',
        relabelings: [{ targetLabel: 'cluster' }],
        metricRelabelings: [{ action: 'drop' }],
      });
      const swapped = template([
        ...example,
        '--set',
        'podMonitor.enabled=false',
        '--set',
        'serviceMonitor.enabled=true',
      ]);
      expect(find(swapped, 'PodMonitor')).toBeUndefined();
      expect((find(swapped, 'ServiceMonitor') as Manifest).spec.endpoints[0].relabelings).toHaveLength(1);
    });

    it("carries the chart's alerts and its own, with Prometheus templates left for Prometheus", () => {
      const rule = find(manifests, 'PrometheusRule') as Manifest;
      expect(rule.metadata.labels.release).toBe('kube-prometheus-stack');
      const groups = rule.spec.groups as Manifest[];
      expect(groups.map((g) => g.name)).toEqual([...DEFAULT_GROUPS, 'edge-relay.tempo']);
      const [, delivery, , , own] = groups as [Manifest, Manifest, Manifest, Manifest, Manifest];
      expect(own.rules[0].annotations.description).toContain('{{ $labels.pod }}');
      expect(delivery.rules[0].labels).toEqual({ severity: 'critical', team: 'tracing' });
    });

    it('refuses a misspelt name, naming it', () => {
      for (const [value, path] of [
        ['extraEnvFrom[0].secretRef.name=x', "additional properties 'extraEnvFrom'"],
        ['podMonitor.extraLabel.release=x', "at '/podMonitor': additional properties 'extraLabel'"],
        ['prometheusRule.defaultRules.additionalLabels.a=x', "additional properties 'additionalLabels'"],
      ] as const)
        expect(templateError([...example, '--set', value])).toContain(path);
    });
  });
});
