// Time-series charts with the vendored uPlot: one line per series, drag to
// zoom (double-click resets), a legend that shows the values under the
// cursor and toggles series on click.

import uPlot from '../vendor/uplot/uPlot.esm.js';

const PALETTE = ['#3b82f6', '#ef4444', '#10b981', '#f59e0b', '#8b5cf6', '#06b6d4', '#ec4899', '#84cc16', '#f97316', '#6366f1',
  '#14b8a6', '#e11d48', '#a3a3a3', '#0ea5e9', '#d946ef', '#22c55e'];

export const MAX_SERIES = 40;

const NUMERIC = new Set(['DOUBLE', 'BIGINT', 'INTEGER']);

// parseTime reads a Timestream TIMESTAMP ("2024-01-02 03:04:05.123456789")
// as seconds since the epoch.
export function parseTime(s) {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?/.exec(s);
  if (!m) return NaN;
  const ms = Date.parse(m[1] + 'T' + m[2] + 'Z');
  return ms / 1000 + (m[3] ? Number('0.' + m[3]) : 0);
}

// fromResult turns a query result into chart data, or null when it has no
// TIMESTAMP column or no numeric column: x is the first TIMESTAMP column;
// each numeric column is a line per combination of the text columns
// (the dimensions).
export function fromResult(cols, rows) {
  const t = cols.findIndex((c) => c.type === 'TIMESTAMP');
  const nums = cols.map((c, i) => (NUMERIC.has(c.type) ? i : -1)).filter((i) => i >= 0);
  if (t < 0 || !nums.length) return null;
  const dims = cols.map((c, i) => (c.type === 'VARCHAR' || c.type === 'BOOLEAN' ? i : -1)).filter((i) => i >= 0);
  const times = new Map(); // seconds -> x index
  const series = new Map(); // label -> Map(x seconds -> value)
  for (const r of rows) {
    if (r[t] === null) continue;
    const x = parseTime(r[t]);
    if (Number.isNaN(x)) continue;
    times.set(x, 0);
    const key = dims.map((d) => `${cols[d].name}=${r[d] === null ? 'NULL' : r[d]}`).join(', ');
    for (const n of nums) {
      if (r[n] === null) continue;
      const label = (nums.length > 1 || !key ? cols[n].name : '') + (key ? (nums.length > 1 ? ' {' + key + '}' : key) : '');
      let s = series.get(label);
      if (!s) {
        if (series.size >= MAX_SERIES) continue;
        s = new Map(); series.set(label, s);
      }
      s.set(x, Number(r[n]));
    }
  }
  return align(times, series);
}

function align(times, series) {
  const xs = [...times.keys()].sort((a, b) => a - b);
  const data = [xs];
  const labels = [];
  for (const [label, s] of series) {
    labels.push(label);
    data.push(xs.map((x) => (s.has(x) ? s.get(x) : null)));
  }
  return labels.length ? { data, labels } : null;
}

// fromMatrix turns a Prometheus range-query matrix into chart data.
export function fromMatrix(result) {
  const times = new Map();
  const series = new Map();
  for (const r of result.slice(0, MAX_SERIES)) {
    const { __name__: name, ...rest } = r.metric;
    const labels = Object.entries(rest).map(([k, v]) => `${k}="${v}"`).join(', ');
    const label = (name || '') + (labels ? `{${labels}}` : '') || '{}';
    const s = new Map();
    for (const [t, v] of r.values) { times.set(t, 0); s.set(t, Number(v)); }
    series.set(label, s);
  }
  return align(times, series);
}

function cssVar(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }

// draw replaces el's chart with one of d ({data, labels}); it returns the
// uPlot instance.
export function draw(el, d) {
  if (el.plot) el.plot.destroy();
  el.replaceChildren();
  const fg = cssVar('--fg') || '#222';
  const grid = cssVar('--border') || '#ddd';
  const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  const opts = {
    width: Math.max(300, el.clientWidth || el.parentElement.clientWidth - 4),
    height: Math.max(260, Math.min(420, Math.round(window.innerHeight * 0.45))),
    cursor: { drag: { x: true, y: false }, focus: { prox: 24 } },
    focus: { alpha: 0.35 },
    legend: { live: true },
    scales: { x: { time: true } },
    axes: [axis, { ...axis, size: 60 }],
    series: [{ label: 'time' }, ...d.labels.map((l, i) => ({
      label: l, stroke: PALETTE[i % PALETTE.length], width: 1.5, spanGaps: true, points: { show: false },
    }))],
  };
  const plot = new uPlot(opts, d.data, el);
  el.plot = plot;
  if (!el.resizeWatch) {
    el.resizeWatch = new ResizeObserver(() => {
      if (el.plot && el.clientWidth) el.plot.setSize({ width: el.clientWidth, height: el.plot.height });
    });
    el.resizeWatch.observe(el);
  }
  return plot;
}
