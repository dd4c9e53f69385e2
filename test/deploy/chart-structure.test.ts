import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { relaySchema } from '../../src/service/relay-schema.ts';
import {
  CHART_DIR,
  defaultValues,
  deprecatedInSchema,
  hasPath,
  readYaml,
  schemaDeclares,
  valuesSchema,
} from './chart.ts';

/** The chart's "rendered structure" as far as it can be checked without helm: every name it uses exists. */

const REPO = new URL('../../', import.meta.url).pathname;
const values = defaultValues();
const schema = valuesSchema();
const readme = readFileSync(join(CHART_DIR, 'README.md'), 'utf8');

/** The text of the README section under a heading, up to the next heading of any level. */
function section(heading: string): string {
  const start = readme.indexOf(`\n${heading}\n`);
  if (start === -1) throw new Error(`the chart README has no "${heading}"`);
  const rest = readme.slice(start + heading.length + 2);
  const end = rest.search(/^#/m);
  return end === -1 ? rest : rest.slice(0, end);
}

/** The values in the first column of the tables of a README section. */
const firstColumn = (text: string): string[] =>
  [...text.matchAll(/^\|\s*`([^`]+)`\s*\|/gm)].map((match) => match[1] as string);

/** A value the chart documents: in values.yaml, and declared by the values schema (or, under config, the relay's). */
function expectDeclared(path: string, where: string): void {
  expect(hasPath(values, path), `${where}: ${path} is in values.yaml`).toBe(true);
  const declared = path.startsWith('config.')
    ? schemaDeclares(relaySchema as unknown as Record<string, unknown>, path.slice('config.'.length))
    : schemaDeclares(schema, path);
  expect(declared, `${where}: ${path} is declared by the schema`).toBe(true);
}

const templateFiles = readdirSync(join(CHART_DIR, 'templates')).map((name) =>
  join(CHART_DIR, 'templates', name),
);

describe('chart structure', () => {
  it("the chart's appVersion, the default image tag, is the relay's version", () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect(readYaml(join(CHART_DIR, 'Chart.yaml')).appVersion).toBe(pkg.version);
  });

  it('every .Values reference in the templates exists in values.yaml and values.schema.json', () => {
    const references = new Set<string>();
    for (const file of templateFiles) {
      for (const match of readFileSync(file, 'utf8').matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
        references.add((match[1] as string).slice(1));
      }
    }
    expect(references.size).toBeGreaterThan(40);
    for (const path of references) {
      expect(schemaDeclares(schema, path), `${path} is declared by values.schema.json`).toBe(true);
      if (!deprecatedInSchema(schema, path))
        expect(hasPath(values, path), `${path} is in values.yaml`).toBe(true);
    }
  });

  const tableKeys = firstColumn(section('## Values'));
  const deprecatedKeys = firstColumn(section('### Former names'));

  it('every value in the chart README table exists in values.yaml and the schema', () => {
    expect(tableKeys.length).toBeGreaterThan(50);
    for (const key of tableKeys) expectDeclared(key, 'README table');
  });

  it('every value of values.yaml and values.schema.json is in the README table', () => {
    const documented = new Set(tableKeys);
    // Descends where the chart defines the keys (schema `properties`, outside the relay's own config);
    // Kubernetes objects passed through whole (resources, affinity...) are one value each.
    const walk = (node: Record<string, unknown>, prefix: string): void => {
      const properties = (node.properties ?? {}) as Record<string, Record<string, unknown>>;
      for (const [key, child] of Object.entries(properties)) {
        const path = prefix + key;
        if (child.deprecated === true) {
          expect(hasPath(values, path), `${path} (deprecated) is left out of values.yaml`).toBe(false);
          expect(deprecatedKeys, `${path} is in the README's former names`).toContain(path);
          continue;
        }
        expect(hasPath(values, path), `${path} (schema) is in values.yaml`).toBe(true);
        if (child.properties && path !== 'config') walk(child, `${path}.`);
        else expect(documented.has(path), `${path} is in the README table`).toBe(true);
      }
    };
    walk(schema, '');
    for (const key of Object.keys(values))
      expect(schemaDeclares(schema, key), `${key} in the schema`).toBe(true);
  });

  it("the README's former names are the schema's deprecated values, each naming its successor", () => {
    const rows = [...section('### Former names').matchAll(/^\|\s*`([^`]+)`\s*\|\s*`([^`]+)`\s*\|/gm)];
    expect(rows.length).toBe(deprecatedKeys.length);
    for (const [, former, current] of rows) {
      expect(deprecatedInSchema(schema, former as string), `${former} is deprecated in the schema`).toBe(
        true,
      );
      expectDeclared(current as string, `successor of ${former}`);
    }
  });

  it('the three install commands use only values and files that exist', () => {
    const install = /## Install[^\n]*\n[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] as string;
    const commands = install.trim().split('\n');
    expect(commands).toHaveLength(3);
    expect(commands[2]).toMatch(/^helm install /);
    const sets = [...install.matchAll(/--set ([\w.-]+)=/g)].map((m) => m[1] as string);
    expect(sets).toContain('image.repository');
    for (const key of sets) expectDeclared(key, 'install command');
    for (const match of install.matchAll(/ -f (\S+)/g)) {
      expect(existsSync(join(REPO, match[1] as string)), `${match[1]} exists`).toBe(true);
    }
    const example = readFileSync(join(CHART_DIR, 'examples/sampling.yaml'), 'utf8');
    expect(example).toContain('tail_sampling:');
    expect(example).toContain('existingSecret: lightstep');
    expect(commands[1]).toContain('secret generic lightstep --from-literal=lightstep-access-token=');
  });
});
