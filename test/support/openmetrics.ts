/** One sample of an OpenMetrics text exposition, with its exemplar when it has one. */
export interface OpenMetricsSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  exemplar?: { labels: Record<string, string>; value: number; timestamp: number };
}

const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;
const SAMPLE = /^(\w+)(?:\{(.*?)\})? (\S+)(?: # \{(.*)\} (\S+) (\S+))?$/;

function labels(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of (text ?? '').matchAll(LABEL))
    out[m[1] as string] = (m[2] as string).replace(/\\(.)/g, '$1');
  return out;
}

/** Parses samples (metric lines) of OpenMetrics text; the text must end with `# EOF`. */
export function parseOpenMetrics(text: string): OpenMetricsSample[] {
  if (!text.endsWith('# EOF\n')) throw new Error('OpenMetrics text must end with # EOF');
  const samples: OpenMetricsSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not an OpenMetrics sample: ${line}`);
    samples.push({
      name: m[1] as string,
      labels: labels(m[2]),
      value: Number(m[3]),
      ...(m[4] !== undefined
        ? { exemplar: { labels: labels(m[4]), value: Number(m[5]), timestamp: Number(m[6]) } }
        : {}),
    });
  }
  return samples;
}

/** Fetches /metrics as OpenMetrics, as Prometheus does with exemplar storage on. */
export async function scrapeOpenMetrics(adminPort: number): Promise<OpenMetricsSample[]> {
  const response = await fetch(`http://127.0.0.1:${adminPort}/metrics`, {
    headers: { accept: 'application/openmetrics-text; version=1.0.0' },
  });
  if (!response.headers.get('content-type')?.startsWith('application/openmetrics-text')) {
    throw new Error(`not OpenMetrics: ${response.headers.get('content-type')}`);
  }
  return parseOpenMetrics(await response.text());
}
