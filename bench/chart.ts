import { derive, fmt, runLabel } from './report.ts';
import type { ScenarioResult } from './scenario.ts';

// The report's chart, as hand-written SVG: throughput at saturation and p99 ack latency at a fixed rate,
// one horizontal bar per run.

interface Bar {
  label: string;
  value: number;
  text: string;
}

const ROW = 22;
const LABEL_WIDTH = 290;
const BAR_WIDTH = 260;
const PANEL_WIDTH = LABEL_WIDTH + BAR_WIDTH + 80;

const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function panel(
  left: number,
  title: string,
  bars: Bar[],
  scale: (value: number) => number,
  marker?: { at: number; label: string },
): string {
  const parts = [`<text x="${left}" y="20" font-weight="bold">${xml(title)}</text>`];
  bars.forEach((bar, i) => {
    const y = 36 + i * ROW;
    const width = Number.isFinite(bar.value) ? Math.max(1, scale(bar.value) * BAR_WIDTH) : 0;
    parts.push(
      `<text x="${left + LABEL_WIDTH - 6}" y="${y + 14}" text-anchor="end">${xml(bar.label)}</text>`,
      `<rect x="${left + LABEL_WIDTH}" y="${y + 3}" width="${width.toFixed(1)}" height="${ROW - 6}" fill="${bar.label.startsWith('edge-relay') ? '#2b6cb0' : '#a0aec0'}"/>`,
      `<text x="${(left + LABEL_WIDTH + width + 4).toFixed(1)}" y="${y + 14}">${xml(bar.text)}</text>`,
    );
  });
  if (marker) {
    const x = left + LABEL_WIDTH + scale(marker.at) * BAR_WIDTH;
    const bottom = 36 + bars.length * ROW;
    parts.push(
      `<line x1="${x.toFixed(1)}" y1="30" x2="${x.toFixed(1)}" y2="${bottom}" stroke="#c53030" stroke-dasharray="4 3"/>`,
      `<text x="${x.toFixed(1)}" y="${bottom + 14}" fill="#c53030" text-anchor="middle">${xml(marker.label)}</text>`,
    );
  }
  return parts.join('\n');
}

export function chartSvg(results: ScenarioResult[]): string {
  const throughput: Bar[] = results
    .filter((r) => r.scenario === 'saturation')
    .map((r) => {
      const spans = derive(r).spansPerSecond;
      return {
        label: runLabel(r),
        value: spans,
        text: `${fmt(spans / 1000, 1)}k spans/s`,
      };
    });
  const maxSpans = Math.max(1, ...throughput.map((b) => b.value));
  const latency: Bar[] = results
    .filter((r) => r.rate !== undefined)
    .map((r) => ({
      label: `${r.label}, ${r.scenario}`,
      value: r.load.latency.p99,
      text: `${fmt(r.load.latency.p99, 2)} ms`,
    }));
  // Latency on a log scale from 0.1 ms, so 0.5 ms and 500 ms both read.
  const maxMs = Math.max(10, ...latency.map((b) => (Number.isFinite(b.value) ? b.value : 0)));
  const logScale = (v: number) => Math.max(0, Math.log10(Math.max(v, 0.1) / 0.1) / Math.log10(maxMs / 0.1));
  const rows = Math.max(throughput.length, latency.length);
  const height = 36 + rows * ROW + 30;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${PANEL_WIDTH * 2}" height="${height}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
${panel(0, 'Throughput at saturation (spans/s)', throughput, (v) => v / maxSpans)}
${panel(PANEL_WIDTH, 'p99 ack latency at a fixed rate (ms, log scale)', latency, logScale, { at: 2, label: 'goal 2 ms' })}
</svg>
`;
}
