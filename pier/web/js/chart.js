// Bar charts of spend made of plain elements (no chart library, no inline style
// attributes: bar sizes are set through the CSSOM, which the page's CSP allows).
// The scaling helpers at the top are pure, so they are tested on their own.

import { h } from "./dom.js";
import { toMicros, usdText } from "./money.js";

const DAY_MS = 86_400_000;

/**
 * The top of a chart's scale for a largest bar of `micros`: the next 1, 2, 2.5 or 5 times a
 * power of ten, so the axis reads as a round amount. 0 stays 0 (nothing to draw).
 */
export function niceCeiling(micros) {
  if (!(micros > 0)) return 0;
  let step = 1;
  while (step * 10 < micros) step *= 10;
  for (const factor of [1, 2, 2.5, 5, 10]) {
    if (step * factor >= micros) return step * factor;
  }
  return step * 10;
}

/** A bar's length in percent of `max` (0–100); a spend too small to see still shows a sliver. */
export function barPercent(micros, max) {
  if (!(max > 0) || !(micros > 0)) return 0;
  return Math.min(100, Math.max(1, (micros * 100) / max));
}

function isoDay(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * One entry per day for the `count` days that end on the last day the API reported (today,
 * by UTC, when it reported none), with the days it left out as zero:
 * [{date: "YYYY-MM-DD", micros}], oldest first.
 */
export function fillDays(rows, count, today = isoDay(Date.now())) {
  const spent = new Map();
  for (const row of rows || []) spent.set(row.date, (spent.get(row.date) || 0) + (toMicros(row.spent_usd) || 0));
  const last = [...spent.keys()].sort().pop();
  const end = Date.parse(`${last && last > today ? last : today}T00:00:00Z`);
  const days = [];
  for (let i = count - 1; i >= 0; i -= 1) {
    const date = isoDay(end - i * DAY_MS);
    days.push({ date, micros: spent.get(date) || 0 });
  }
  return days;
}

/** "Nov 3" for a "YYYY-MM-DD" day (read as UTC, the day the server counted it in). */
export function dayLabel(date) {
  return new Date(`${date}T00:00:00Z`).toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
}

/** Vertical bars, one per day, with the scale's top and the first, middle and last dates. */
export function dayChart(days) {
  const top = niceCeiling(Math.max(0, ...days.map((d) => d.micros)));
  const total = days.reduce((n, d) => n + d.micros, 0);
  const bars = days.map((d) => {
    const fill = h("span.day-fill");
    fill.style.height = `${barPercent(d.micros, top)}%`;
    const text = `${dayLabel(d.date)}: ${usdText(d.micros)}`;
    return h("li.day-bar", { title: text, dataset: { date: d.date, micros: String(d.micros) } }, fill, h("span.visually-hidden", text));
  });
  const marks = [0, Math.floor((days.length - 1) / 2), days.length - 1].filter((i, n, all) => days[i] && all.indexOf(i) === n);
  return h(
    "figure.chart.day-chart",
    h("figcaption.chart-caption", `Spend per day, last ${days.length} days: ${usdText(total, { cents: true })} in all`),
    h(
      "div.day-plot",
      h("div.chart-axis", { "aria-hidden": "true" }, h("span", usdText(top)), h("span", usdText(0))),
      h("ol.day-bars", bars),
    ),
    h("div.day-marks", { "aria-hidden": "true" }, marks.map((i) => h("span", dayLabel(days[i].date)))),
  );
}

/** Horizontal bars, one per model, largest spend first. */
export function modelChart(models, days = 30) {
  const rows = (models || [])
    .map((m) => ({ model: m.model, runs: m.runs || 0, micros: toMicros(m.spent_usd) || 0 }))
    .sort((a, b) => b.micros - a.micros || a.model.localeCompare(b.model));
  const top = niceCeiling(Math.max(0, ...rows.map((r) => r.micros)));
  return h(
    "figure.chart.model-chart",
    h("figcaption.chart-caption", `Spend per model, last ${days} days`),
    h(
      "ul.model-bars",
      rows.map((r) => {
        const fill = h("span.model-fill");
        fill.style.width = `${barPercent(r.micros, top)}%`;
        return h(
          "li.model-bar",
          { dataset: { model: r.model, micros: String(r.micros) } },
          h("span.model-bar-head", h("a.model-bar-name", { href: `/models/${r.model}` }, r.model), h("span.model-bar-amount", usdText(r.micros), h("span.muted", ` · ${r.runs} run${r.runs === 1 ? "" : "s"}`))),
          h("span.model-track", { "aria-hidden": "true" }, fill),
        );
      }),
    ),
  );
}
