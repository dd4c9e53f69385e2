// A line chart as inline SVG, written by hand: the /versions page must work from the relay alone
// (no script, no framework, no fetch of a chart library), and a few polylines are all it needs.

export interface Series {
  readonly name: string;
  readonly color: string;
  /** Whether to draw the line dashed (the baseline, so the two versions differ without colour too). */
  readonly dashed?: boolean;
  readonly points: readonly (readonly [time: number, value: number | undefined])[];
}

export interface ChartOptions {
  readonly title: string;
  readonly series: readonly Series[];
  /** How a value reads on the axis and in the legend (e.g. as a percentage). */
  readonly format: (value: number) => string;
  readonly width?: number;
  readonly height?: number;
}

/** HTML-escapes text for an element's content or an attribute. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const MARGIN = { left: 64, right: 12, top: 24, bottom: 40 };

const defined = (p: readonly [number, number | undefined]): p is readonly [number, number] =>
  p[1] !== undefined && Number.isFinite(p[1]);

/** The chart; with fewer than one point it says there is no data yet instead of drawing empty axes. */
export function lineChart({ title, series, format, width = 420, height = 180 }: ChartOptions): string {
  const points = series.flatMap((s) => s.points.filter(defined));
  const label = `<text x="${MARGIN.left}" y="16" class="chart-title">${escapeHtml(title)}</text>`;
  const open = `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" aria-label="${escapeHtml(title)}">`;
  if (points.length === 0) {
    return `${open}${label}<text x="${MARGIN.left}" y="${height / 2}" class="chart-empty">no data yet</text></svg>`;
  }
  const times = points.map((p) => p[0]);
  const values = points.map((p) => p[1]);
  const t0 = Math.min(...times);
  const t1 = Math.max(...times, t0 + 1);
  // From zero: a rate or a latency read against zero shows how large a change is, not only its shape.
  const top = Math.max(...values) * 1.1 || 1;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const x = (t: number) => MARGIN.left + ((t - t0) / (t1 - t0)) * plotW;
  const y = (v: number) => MARGIN.top + plotH - (v / top) * plotH;
  const axes = [
    `<line x1="${MARGIN.left}" y1="${y(0)}" x2="${MARGIN.left + plotW}" y2="${y(0)}" class="axis"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${y(0)}" class="axis"/>`,
    `<text x="${MARGIN.left - 4}" y="${y(top) + 4}" text-anchor="end" class="tick">${escapeHtml(format(top))}</text>`,
    `<text x="${MARGIN.left - 4}" y="${y(0) + 4}" text-anchor="end" class="tick">${escapeHtml(format(0))}</text>`,
    `<text x="${MARGIN.left}" y="${y(0) + 14}" class="tick">${clock(t0)}</text>`,
    `<text x="${MARGIN.left + plotW}" y="${y(0) + 14}" text-anchor="end" class="tick">${clock(t1)}</text>`,
  ];
  const lines = series.map((s) => {
    const shown = s.points.filter(defined);
    const coordinates = shown.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    const dash = s.dashed ? ' stroke-dasharray="5 3"' : '';
    const last = shown.at(-1);
    // A dot on the latest value: the one sample of a new pair is visible before it becomes a line.
    const dot = last
      ? `<circle cx="${x(last[0]).toFixed(1)}" cy="${y(last[1]).toFixed(1)}" r="3" fill="${s.color}"/>`
      : '';
    return `<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${coordinates}"><title>${escapeHtml(s.name)}</title></polyline>${dot}`;
  });
  const legend = series.map((s, i) => {
    const last = s.points.filter(defined).at(-1)?.[1];
    const lx = MARGIN.left + i * Math.floor(plotW / Math.max(series.length, 1));
    const text = `${s.name}${last === undefined ? '' : ` ${format(last)}`}`;
    return `<rect x="${lx}" y="${height - 12}" width="10" height="3" fill="${s.color}"/><text x="${lx + 14}" y="${height - 8}" class="legend">${escapeHtml(text)}</text>`;
  });
  return `${open}${label}${axes.join('')}${lines.join('')}${legend.join('')}</svg>`;
}

/** HH:MM:SS in UTC, as the relay's logs give times. */
const clock = (time: number): string => new Date(time).toISOString().slice(11, 19);
