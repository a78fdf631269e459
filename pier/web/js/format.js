// Formatting of times, durations and counts for display.

import { toMicros, usdText } from "./money.js";

export function parseTime(value) {
  if (!value) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : t;
}

/**
 * The one way Pier writes a duration, on every page: "850 ms", "4.2 s", "3 min 12 s",
 * "1 h 4 min". It cuts (never rounds up) to what it shows, so a clock that ticks and the
 * final figure of the same span always agree, and no text claims time not yet spent.
 */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  const s = Math.max(0, seconds);
  if (s < 1) return `${Math.floor(s * 1000)} ms`;
  if (s < 10) return `${(Math.floor(s * 10) / 10).toFixed(1)} s`;
  if (s < 60) return `${Math.floor(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.floor(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/**
 * The timing vocabulary, the same in badges, lists, the timing card and the JSON:
 * queue (waiting for a worker, `metrics.queue_time`), setup (booting the model,
 * `metrics.setup_time`, only when this prediction waited for it), run (the model's predict,
 * `metrics.predict_time` as Replicate defines it) and total (created to completed,
 * `metrics.total_time`). Parts not known (yet) are null; a live prediction's parts grow.
 */
export const TIMING = [
  { key: "queue", label: "Queue", metric: "queue_time", help: "waiting for a worker" },
  { key: "setup", label: "Setup", metric: "setup_time", help: "booting the model for this prediction" },
  { key: "run", label: "Run", metric: "predict_time", help: "the model running" },
  { key: "total", label: "Total", metric: "total_time", help: "from created to completed" },
];

export function timings(p, now = Date.now()) {
  const m = (p && p.metrics) || {};
  const num = (v) => (typeof v === "number" ? v : null);
  const created = parseTime(p && p.created_at);
  const started = parseTime(p && p.started_at);
  const ended = parseTime(p && p.completed_at);
  const queueEnd = started ?? ended ?? now;
  const queue = num(m.queue_time) ?? (created === null ? null : Math.max(0, (queueEnd - created) / 1000));
  const running = p && p.status === "processing" && started !== null;
  const run = num(m.predict_time) ?? (running ? Math.max(0, (now - started) / 1000) : null);
  return { queue, setup: num(m.setup_time), run, total: totalTime(p, now) };
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** "just now", "5 minutes ago", "yesterday", then a date. */
export function ago(value, now = Date.now()) {
  const t = parseTime(value);
  if (t === null) return "—";
  const diff = (t - now) / 1000;
  const abs = Math.abs(diff);
  if (abs < 45) return "just now";
  if (abs < 3600) return relative.format(Math.round(diff / 60), "minute");
  if (abs < 86400) return relative.format(Math.round(diff / 3600), "hour");
  if (abs < 86400 * 7) return relative.format(Math.round(diff / 86400), "day");
  return new Date(t).toLocaleDateString();
}

export function dateTime(value) {
  const t = parseTime(value);
  if (t === null) return "—";
  return new Date(t).toLocaleString(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

export function count(n, noun) {
  const value = Number(n || 0);
  const text = value >= 10000 ? Intl.NumberFormat(undefined, { notation: "compact" }).format(value) : value.toLocaleString();
  return `${text} ${noun}${value === 1 ? "" : "s"}`;
}

export function bytes(n) {
  if (n === null || n === undefined) return "";
  const units = ["B", "KB", "MB", "GB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export function shortId(id, n = 8) {
  return id ? String(id).slice(0, n) : "";
}

/**
 * Total time of a prediction, the same everywhere: from created to completed (the API's
 * `metrics.total_time` when the server gives it), or up to now while it is not done.
 */
export function totalTime(p, now = Date.now()) {
  const m = (p && p.metrics) || {};
  if (typeof m.total_time === "number") return m.total_time;
  const start = parseTime(p && p.created_at);
  if (start === null) return null;
  const end = parseTime(p.completed_at);
  return Math.max(0, ((end ?? now) - start) / 1000);
}

/** "$0.0042" from `metrics.cost_usd` (a decimal string of dollars), or null when it has none. */
export function cost(p) {
  const micros = toMicros(p && p.metrics && p.metrics.cost_usd);
  return micros === null ? null : usdText(micros);
}
