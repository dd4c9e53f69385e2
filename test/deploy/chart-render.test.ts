import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseDuration } from '../../src/lib/duration.ts';
import { resolveConfig } from '../../src/service/load-config.ts';
import { chartConfig, defaultValues, exampleFiles, mergeValues, readYaml } from './chart.ts';
import { find, helm, lint, type Manifest, template, templateError, workload } from './helm.ts';

/** `helm lint` and `helm template` on the chart and every example, where a helm binary is available. */

/** The container's environment as the kubelet would set it, with stand-ins for secret values. */
function containerEnv(container: Manifest): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const item of container.env ?? []) {
    if (item.value !== undefined) env[item.name] = item.value;
    else if (item.valueFrom?.resourceFieldRef)
      env[item.name] = item.name.includes('CPU') ? '2' : '1073741824';
    else env[item.name] = `stand-in-secret-for-${item.name}`;
  }
  return env;
}

const cases = [
  { name: 'values.yaml', file: undefined },
  ...exampleFiles().map((file) => ({ name: `examples/${basename(file)}`, file })),
];

describe.skipIf(!helm)('helm lint and helm template', () => {
  it.each(cases)('helm lint passes with $name', ({ file }) => {
    const { status, output } = lint(file ? ['-f', file] : []);
    expect(status, output).toBe(0);
  });

  it.each(cases)('$name renders a workload the relay can run', ({ file }) => {
    const manifests = template(file ? ['-f', file] : []);
    const values = file ? mergeValues(defaultValues(), readYaml(file)) : defaultValues();
    const rendered = parse(find(manifests, 'ConfigMap')?.data['relay.yaml']) as Record<string, unknown>;
    expect(rendered, 'helm renders what test/deploy/chart.ts mirrors').toEqual(chartConfig(values));

    const pod = workload(manifests).spec.template.spec;
    const container = pod.containers[0];
    const config = resolveConfig(rendered, containerEnv(container));

    const ports = Object.fromEntries(container.ports.map((p: Manifest) => [p.name, p.containerPort]));
    expect(ports).toEqual({
      receiver: Number(config.receiver.endpoint.split(':').at(-1)),
      admin: Number(config.admin.endpoint.split(':').at(-1)),
    });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'admin' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'admin' });
    const preStop = Number(container.lifecycle.preStop.exec.command[1]);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
      config.shutdown_timeout + preStop * 1000,
    );
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.env).toContainEqual({
      name: 'EDGE_RELAY_MEMORY_LIMIT',
      valueFrom: { resourceFieldRef: { containerName: 'relay', resource: 'limits.memory', divisor: '1' } },
    });
    expect(pod.topologySpreadConstraints[0].topologyKey).toBe('topology.kubernetes.io/zone');
    expect(find(manifests, 'Service')).toBeDefined();
    expect(manifests.some((m) => m.kind === 'Service' && m.spec.clusterIP === 'None')).toBe(true);

    if ((values.persistence as { enabled: boolean }).enabled) {
      const storage = (rendered.exporter as any).sending_queue.storage as string;
      const mount = container.volumeMounts.find((m: Manifest) => m.name === 'queue').mountPath as string;
      expect(workload(manifests).kind).toBe('StatefulSet');
      expect(storage.startsWith(`${mount}/`)).toBe(true);
    }
  });

  it('keeps tokens out of the ConfigMap and feeds them from the Secret', () => {
    const manifests = template([
      '--set',
      'lightstep.accessToken=lightstep-secret-value',
      '--set',
      'beaconAuth.tokens={beacon-secret-value-0001}',
    ]);
    expect(JSON.stringify(find(manifests, 'ConfigMap'))).not.toContain('secret-value');
    const secret = find(manifests, 'Secret') as Manifest;
    expect(Buffer.from(secret.data['lightstep-access-token'], 'base64').toString()).toBe(
      'lightstep-secret-value',
    );
    const env = workload(manifests).spec.template.spec.containers[0].env as Manifest[];
    expect(env.find((e) => e.name === 'LIGHTSTEP_ACCESS_TOKEN')?.valueFrom.secretKeyRef.key).toBe(
      'lightstep-access-token',
    );
    expect(env.find((e) => e.name === 'EDGE_RELAY_BEACON_TOKEN_0')?.valueFrom.secretKeyRef.key).toBe(
      'beacon-token-0',
    );
  });

  it('derives the grace period from shutdown_timeout and refuses one too short', () => {
    const pod = workload(template(['--set', 'config.shutdown_timeout=1m30s'])).spec.template.spec;
    expect(pod.terminationGracePeriodSeconds).toBe(parseDuration('', '1m30s') / 1000 + 5 + 10);
    expect(templateError(['--set', 'terminationGracePeriodSeconds=20'])).toContain('must be at least 45');
  });

  it('refuses a queue directory off the persistent volume', () => {
    expect(
      templateError([
        '--set',
        'persistence.enabled=true',
        '--set',
        'config.exporter.sending_queue.storage=/data',
      ]),
    ).toContain('must lie under persistence.mountPath');
  });

  it("checks the directory of a file_storage extension the queue names, the Collector's form", () => {
    const withExtension = (directory: string) => [
      '--set',
      'persistence.enabled=true',
      '--set-string',
      `config.extensions.file_storage/queue.directory=${directory}`,
      '--set-string',
      'config.exporter.sending_queue.storage=file_storage/queue',
    ];
    const manifests = template(withExtension('/var/lib/edge-relay/queue'));
    const rendered = parse(find(manifests, 'ConfigMap')?.data['relay.yaml']) as {
      exporter: { sending_queue: { storage: string } };
    };
    expect(rendered.exporter.sending_queue.storage).toBe('file_storage/queue');
    expect(templateError(withExtension('/tmp/queue'))).toContain('directory /tmp/queue) must lie under');
  });

  it('rolls the pods when the config changes', () => {
    const checksum = (args: string[]) =>
      workload(template(args)).spec.template.metadata.annotations['checksum/config'] as string;
    expect(checksum([])).not.toBe(checksum(['--set', 'config.log.level=debug']));
  });
});
