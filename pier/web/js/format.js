// Formatting of times, durations and counts for display.

export function parseTime(value) {
  if (!value) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : t;
}

/** "850 ms", "4.2 s", "3 min 12 s", "1 h 4 min". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  const s = Math.max(0, seconds);
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Short clock-like elapsed time: "0:07", "12:30", "1:02:03". */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return hh ? `${hh}:${String(mm).padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
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

/** How long a prediction took: the model's own time when known, else wall time. */
export function predictionDuration(p) {
  const m = p.metrics || {};
  if (typeof m.predict_time === "number") return m.predict_time;
  const start = parseTime(p.started_at);
  const end = parseTime(p.completed_at);
  if (start !== null && end !== null) return (end - start) / 1000;
  return null;
}

export function shortId(id, n = 8) {
  return id ? String(id).slice(0, n) : "";
}

/**
 * Total time of a prediction, the same everywhere: from created to completed (the API's
 * `metrics.total_time` when the server gives it), or up to now while it is not done.
 */
export function totalTime(p) {
  const m = (p && p.metrics) || {};
  if (typeof m.total_time === "number") return m.total_time;
  const start = parseTime(p && p.created_at);
  if (start === null) return null;
  const end = parseTime(p.completed_at);
  return ((end ?? Date.now()) - start) / 1000;
}

/** "$0.0042" from `metrics.cost_usd`, or null when the prediction has no cost. */
export function cost(p) {
  const usd = p && p.metrics && p.metrics.cost_usd;
  if (typeof usd !== "number") return null;
  if (usd === 0) return "$0";
  return usd < 0.01 ? `$${usd.toPrecision(2)}` : `$${usd.toFixed(2)}`;
}
