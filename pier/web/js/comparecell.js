// One cell of the compare grid: the model and its version, the cell's own inputs (JSON), and
// its last run, live (status, progress, output) with its times and cost.

import { api } from "./api.js";
import { h, icon, mount } from "./dom.js";
import { TIMING, cost, duration, shortId, timings } from "./format.js";
import { runView } from "./runview.js";
import { inputFields, mainTextField, outputShape, promptOf } from "./schema.js";
import { isTerminal } from "./status.js";
import { parseRef } from "./comparestate.js";

/**
 * The element of `cell` (the `nth` cell of its model). `ctx`: the page's `signal`, `versionOf`,
 * `prompt()` (the shared prompt now), `onChange()` (the cell's inputs changed), `onRemove()`,
 * `onVersion()` (its version changed: the page redraws).
 */
export function compareCell(cell, nth, ctx) {
  const { signal, versionOf } = ctx;
  const ref = parseRef(cell.ref);
  const label = nth > 1 ? `${ref.model} (${nth})` : ref.model;
  const body = h("div.cell-body", h("p.muted", "Loading…"));
  const foot = h("p.cell-foot");
  const versionSelect = h("select.cell-version", { "aria-label": `Version of ${label}`, disabled: true }, h("option", { value: "" }, ref.version ? shortId(ref.version, 12) : "Latest"));
  const inputsBox = h("textarea.mono", {
    rows: 3,
    "aria-label": `Other inputs of ${label} (JSON)`,
    value: Object.keys(cell.overrides).length ? JSON.stringify(cell.overrides, null, 1) : "",
    placeholder: "{}",
  });
  const inputsError = h("p.field-error", { hidden: true });
  const defaults = h("p.help.cell-defaults");
  inputsBox.addEventListener("input", () => {
    const text = inputsBox.value.trim();
    let value = {};
    try {
      value = text ? JSON.parse(text) : {};
      if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error("not an object");
    } catch {
      inputsError.textContent = 'Write a JSON object, e.g. {"seed": 3}.';
      inputsError.hidden = false;
      inputsBox.setAttribute("aria-invalid", "true");
      return;
    }
    inputsError.hidden = true;
    inputsBox.removeAttribute("aria-invalid");
    cell.overrides = value;
    inputsSummary.textContent = summaryText(cell);
    ctx.onChange();
  });
  const inputsSummary = h("span", summaryText(cell));
  const inputs = h("details.cell-inputs", h("summary", inputsSummary), inputsBox, inputsError, defaults);
  const remove = h(
    "button.btn.ghost.small.icon-only",
    {
      type: "button",
      "aria-label": `Remove ${label}`,
      title: "Remove",
      onclick: () => ctx.onRemove(),
    },
    icon("x"),
  );
  const element = h(
    "article.compare-cell",
    { role: "listitem", "aria-label": label, dataset: { ref: cell.ref } },
    h("div.cell-head", h("h2", h("a", { href: `/models/${ref.model}` }, ref.model)), versionSelect, remove),
    inputs,
    body,
    foot,
  );
  const controller = new AbortController(); // stops its live view when the grid is redrawn
  signal.addEventListener("abort", () => controller.abort());
  fill(cell, ctx, { body, foot, versionSelect, defaults, signal: controller.signal });
  return { element, stop: () => controller.abort() };
}

/** Resolve the cell's version: its picker, the note on where the prompt goes, then its run. */
async function fill(cell, { versionOf, prompt, onVersion }, { body, foot, versionSelect, defaults, signal }) {
  let resolved;
  try {
    resolved = await versionOf(cell);
  } catch (err) {
    if (signal.aborted) return;
    mount(body, h("p.error-box", err.status === 404 ? `There is no model ${parseRef(cell.ref).model} (or it is not yours to run).` : err.message));
    return;
  }
  const { model, versions, version } = resolved;
  const latestId = model.latest_version && model.latest_version.id;
  const pinned = parseRef(cell.ref).version;
  mount(
    versionSelect,
    h("option", { value: "" }, `Latest (${shortId(latestId, 8)})`),
    versions.map((v) => h("option", { value: v.id }, shortId(v.id, 12))),
  );
  versionSelect.value = pinned ? version.id : "";
  versionSelect.disabled = false;
  versionSelect.addEventListener("change", () => {
    cell.ref = versionSelect.value ? `${model.owner}/${model.name}:${versionSelect.value}` : `${model.owner}/${model.name}`;
    cell.predictionId = null;
    cell.prediction = null;
    onVersion();
  });
  const fields = inputFields(version.openapi_schema);
  const main = mainTextField(fields);
  const others = fields.filter((f) => f !== main && f.hasDefault && f.default !== null);
  defaults.textContent = [
    main ? `The prompt goes into “${main.name}”.` : "This model takes no text: the prompt is not used.",
    others.length ? `Defaults: ${others.map((f) => `${f.name} ${JSON.stringify(f.default)}`).join(", ")}.` : "",
  ].join(" ");
  showRun(cell, { version, main, prompt }, { body, foot, signal });
}

/** The cell's last run, live; or why there is none. */
async function showRun(cell, { version, main, prompt: shared }, { body, foot, signal }) {
  if (cell.error) {
    mount(body, h("p.error-box", { role: "alert" }, cell.error));
    return;
  }
  if (!cell.predictionId) {
    mount(body, h("div.output-empty", h("p", "Not run yet.")));
    return;
  }
  let p = cell.prediction;
  if (!p || p.id !== cell.predictionId) {
    try {
      p = await api.prediction(cell.predictionId, { signal });
    } catch (err) {
      if (signal.aborted) return;
      mount(body, h("p.error-box", err.status === 404 ? "This prediction is gone (or is not yours)." : err.message));
      return;
    }
    cell.prediction = p;
  }
  if (signal.aborted) return;
  const ran = main && typeof p.input[main.name] === "string" ? p.input[main.name] : promptOf(p.input);
  const prompt = ran && ran !== shared() ? h("p.cell-prompt", h("span.muted", "Prompt: "), ran) : null;
  const live = runView(p, {
    shape: outputShape(version.openapi_schema),
    signal,
    showMetrics: false,
    onUpdate: (next) => {
      cell.prediction = next;
      footText(foot, next);
    },
  });
  const logs = live.element.querySelector(".logs-panel");
  if (logs) logs.open = false;
  mount(body, prompt, live.element);
  footText(foot, p);
}

/** The timing vocabulary of every page (queue, setup, run, total) once the run ended, and cost. */
function footText(foot, p) {
  const times = timings(p);
  const bits = isTerminal(p) ? TIMING.filter((t) => times[t.key] !== null).map((t) => `${t.label} ${duration(times[t.key])}`) : [];
  const price = cost(p);
  if (price) bits.push(price);
  foot.textContent = bits.join(" · ");
  foot.hidden = !bits.length;
}

function summaryText(cell) {
  const entries = Object.entries(cell.overrides);
  if (!entries.length) return "Other inputs: defaults";
  return `Other inputs: ${entries.map(([k, v]) => `${k} ${typeof v === "string" ? v.slice(0, 24) : JSON.stringify(v)}`).join(", ")}`;
}
