// Compare: one prompt run on several models (or versions of one, or one model with different
// inputs), the results side by side. The whole comparison lives in the address, so a link
// reopens it with the same results:
//
//   /compare?prompt=a+red+star&model=pier/echo&model=pier/stream-words:<version>
//           &input2={"delay":0.2}&predictions=<id>,<id>
//
// `model` repeats once per cell (owner/name runs the latest version, owner/name:version that
// one); `inputN` holds cell N's inputs besides the prompt (JSON); `predictions` lists each
// cell's last run, in cell order. `/compare?predictions=a,b` alone (from the history) opens
// those predictions and rebuilds the rest from them.

import { api } from "../api.js";
import { h, icon, mount, uid } from "../dom.js";
import { TIMING, cost, duration, shortId, timings } from "../format.js";
import { runView } from "../runview.js";
import { inputFields, mainTextField, outputShape, promptOf } from "../schema.js";
import { isTerminal } from "../status.js";

const MAX_CELLS = 12;

function parseRef(ref) {
  const [path, version = ""] = String(ref).split(":");
  const [owner = "", name = ""] = path.split("/");
  return { owner, name, model: `${owner}/${name}`, version };
}

function parseOverrides(text) {
  if (!text) return {};
  try {
    const value = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

/** The comparison the address describes. */
export function readState(query) {
  const refs = query.getAll("model").filter((r) => /^[^/:\s]+\/[^/:\s]+(:[0-9a-f]+)?$/.test(r)).slice(0, MAX_CELLS);
  const ids = (query.get("predictions") || "").split(",").map((s) => s.trim());
  const cells = refs.map((ref, i) => newCell(ref, parseOverrides(query.get(`input${i + 1}`)), ids[i] || null));
  return { prompt: query.get("prompt") || "", cells, fromPredictions: refs.length ? [] : ids.filter(Boolean).slice(0, MAX_CELLS) };
}

/** The address of a comparison (the inverse of readState). */
export function compareUrl(state) {
  const q = new URLSearchParams();
  if (state.prompt) q.set("prompt", state.prompt);
  state.cells.forEach((cell, i) => {
    q.append("model", cell.ref);
    if (Object.keys(cell.overrides).length) q.set(`input${i + 1}`, JSON.stringify(cell.overrides));
  });
  const ids = state.cells.map((c) => c.predictionId || "");
  if (ids.some(Boolean)) q.set("predictions", ids.join(","));
  const text = q.toString();
  return text ? `/compare?${text}` : "/compare";
}

function newCell(ref, overrides = {}, predictionId = null) {
  return { key: uid("cell"), ref, overrides, predictionId, prediction: null, error: null };
}

export async function render({ view, query, signal, setTitle }) {
  setTitle("Compare");
  mount(view, h("h1", "Compare"), h("p.muted", { role: "status" }, "Loading…"));
  const state = readState(query);
  const cache = new Map(); // "owner/name" -> Promise<{model, versions}>
  const runs = new Map(); // cell key -> AbortController of its live view

  function modelInfo(name) {
    if (!cache.has(name)) {
      const { owner, name: n } = parseRef(name);
      const info = Promise.all([api.model(owner, n, { signal }), api.versions(owner, n, { signal }).catch(() => [])]).then(([model, versions]) => {
        const latest = model.latest_version;
        if (latest && !versions.some((v) => v.id === latest.id)) versions.unshift(latest);
        return { model, versions };
      });
      cache.set(name, info);
    }
    return cache.get(name);
  }

  /** The version a cell runs: the one it names, else the model's latest. */
  async function versionOf(cell) {
    const ref = parseRef(cell.ref);
    const { model, versions } = await modelInfo(ref.model);
    const wanted = ref.version || (model.latest_version && model.latest_version.id);
    let version = versions.find((v) => v.id === wanted || (ref.version && v.id.startsWith(ref.version)));
    if (!version && ref.version) version = await api.version(ref.owner, ref.name, ref.version, { signal });
    if (!version) throw new Error(`${ref.model} has no versions yet.`);
    return { model, versions, version };
  }

  // From the history: rebuild the cells from the predictions themselves.
  if (state.fromPredictions.length) {
    const found = await Promise.all(state.fromPredictions.map((id) => api.prediction(id, { signal }).catch(() => null)));
    for (const p of found.filter(Boolean)) {
      const cell = newCell(`${p.model}:${p.version}`, {}, p.id);
      cell.prediction = p;
      try {
        const { version } = await versionOf(cell);
        const fields = inputFields(version.openapi_schema);
        const main = mainTextField(fields);
        cell.overrides = withoutDefaults(p.input, fields, main);
        if (!state.prompt && main && typeof p.input[main.name] === "string") state.prompt = p.input[main.name];
      } catch {
        cell.overrides = {};
      }
      state.cells.push(cell);
    }
    if (!state.prompt) state.prompt = found.map((p) => (p ? promptOf(p.input) : "")).find(Boolean) || "";
    save();
  }

  function save() {
    const url = compareUrl(state);
    if (location.pathname + location.search !== url) history.replaceState(history.state, "", url);
  }

  const allModels = await api.models({ signal }).catch(() => []);

  // --- the prompt and the Run button ------------------------------------------------------
  const promptBox = h("textarea#compare-prompt", {
    rows: 3,
    placeholder: "a red star on a black background",
    value: state.prompt,
    oninput: () => {
      state.prompt = promptBox.value;
      promptError.hidden = true;
      save();
    },
  });
  promptBox.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  const promptError = h("p.field-error", { hidden: true, id: uid("err") });
  promptBox.setAttribute("aria-describedby", promptError.id);
  const runButton = h("button.btn.primary.run", { type: "submit" }, icon("play"), h("span.label", "Run all"));
  const picker = h(
    "select#compare-add",
    h("option", { value: "" }, "Choose a model…"),
    allModels.map((m) => h("option", { value: `${m.owner}/${m.name}` }, `${m.owner}/${m.name}`)),
  );
  const addButton = h("button.btn", { type: "button", onclick: addModel }, icon("plus"), h("span.label", "Add"));
  const form = h(
    "form.compare-form.pane",
    { novalidate: true, "aria-label": "Comparison", onsubmit: runAll },
    h("div.field", h("label.field-label", { for: "compare-prompt" }, "Prompt"), promptBox, h("p.help", "Goes into each model's main text input; the other inputs keep their defaults unless a cell sets them."), promptError),
    h(
      "div.compare-actions",
      h("div.compare-add", h("label.field-label", { for: "compare-add" }, "Add a model"), h("div.compare-add-row", picker, addButton)),
      runButton,
    ),
  );
  const grid = h("div.compare-grid", { role: "list", "aria-label": "Results" });

  function addModel() {
    if (!picker.value || state.cells.length >= MAX_CELLS) return;
    state.cells.push(newCell(picker.value));
    picker.value = "";
    save();
    draw();
  }

  async function runAll(event) {
    event.preventDefault();
    if (!state.cells.length) {
      promptError.textContent = "Add at least one model to run.";
      promptError.hidden = false;
      picker.focus();
      return;
    }
    runButton.disabled = true;
    runButton.querySelector(".label").textContent = "Starting…";
    try {
      const resolved = await Promise.all(state.cells.map((cell) => versionOf(cell).then((v) => ({ cell, ...v }), (err) => ({ cell, err }))));
      const needsPrompt = resolved.some((r) => r.version && mainTextField(inputFields(r.version.openapi_schema)));
      if (needsPrompt && !state.prompt.trim()) {
        promptError.textContent = "Type a prompt first.";
        promptError.hidden = false;
        promptBox.focus();
        return;
      }
      await Promise.all(resolved.map((r) => start(r)));
      save();
      draw();
    } finally {
      runButton.disabled = false;
      runButton.querySelector(".label").textContent = "Run all";
    }
  }

  async function start({ cell, version, err }) {
    cell.error = null;
    if (err) {
      cell.error = err.message;
      return;
    }
    const main = mainTextField(inputFields(version.openapi_schema));
    const input = { ...cell.overrides };
    if (main && state.prompt) input[main.name] = state.prompt;
    try {
      const p = await api.createPrediction(version.id, input);
      cell.predictionId = p.id;
      cell.prediction = p;
    } catch (e) {
      const fields = Object.entries(e.fieldErrors || {});
      cell.error = fields.length ? fields.map(([k, v]) => `${k}: ${v.join(" ")}`).join("\n") : e.message;
    }
  }

  // --- the cells ------------------------------------------------------------------------
  function draw() {
    for (const controller of runs.values()) controller.abort();
    runs.clear();
    if (!state.cells.length) {
      grid.replaceChildren(h("div.empty-note", { role: "listitem" }, "Add two or more models (or the same model twice, with different inputs) and press Run all. The results appear here side by side."));
      return;
    }
    const counts = {};
    grid.replaceChildren(
      ...state.cells.map((cell) => {
        const name = parseRef(cell.ref).model;
        counts[name] = (counts[name] || 0) + 1;
        return cellView(cell, counts[name]);
      }),
    );
  }

  function cellView(cell, nth) {
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
      save();
    });
    const inputsSummary = h("span", summaryText(cell));
    const inputs = h("details.cell-inputs", h("summary", inputsSummary), inputsBox, inputsError, defaults);
    const remove = h(
      "button.btn.ghost.small.icon-only",
      {
        type: "button",
        "aria-label": `Remove ${label}`,
        title: "Remove",
        onclick: () => {
          state.cells = state.cells.filter((c) => c !== cell);
          save();
          draw();
        },
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
    fill(cell, { body, foot, versionSelect, defaults });
    return element;
  }

  async function fill(cell, { body, foot, versionSelect, defaults }) {
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
      save();
      draw();
    });
    const fields = inputFields(version.openapi_schema);
    const main = mainTextField(fields);
    const others = fields.filter((f) => f !== main && f.hasDefault && f.default !== null);
    defaults.textContent = [
      main ? `The prompt goes into “${main.name}”.` : "This model takes no text: the prompt is not used.",
      others.length ? `Defaults: ${others.map((f) => `${f.name} ${JSON.stringify(f.default)}`).join(", ")}.` : "",
    ].join(" ");

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
    const controller = new AbortController();
    signal.addEventListener("abort", () => controller.abort());
    runs.set(cell.key, controller);
    const ran = main && typeof p.input[main.name] === "string" ? p.input[main.name] : promptOf(p.input);
    const prompt = ran && ran !== state.prompt ? h("p.cell-prompt", h("span.muted", "Prompt: "), ran) : null;
    const live = runView(p, {
      shape: outputShape(version.openapi_schema),
      signal: controller.signal,
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

  function footText(foot, p) {
    // The timing vocabulary of every page (queue, setup, run, total), once the run has ended.
    const times = timings(p);
    const bits = isTerminal(p) ? TIMING.filter((t) => times[t.key] !== null).map((t) => `${t.label} ${duration(times[t.key])}`) : [];
    const price = cost(p);
    if (price) bits.push(price);
    foot.textContent = bits.join(" · ");
    foot.hidden = !bits.length;
  }

  mount(
    view,
    h("div.page-head", h("div", h("h1", "Compare"), h("p.muted.subtitle", "One prompt, several models, side by side. The address keeps the comparison: share it or come back to it."))),
    form,
    grid,
  );
  draw();
}

/** A prediction's input minus the prompt and the values equal to their defaults. */
function withoutDefaults(input, fields, main) {
  const out = {};
  const byName = new Map(fields.map((f) => [f.name, f]));
  for (const [name, value] of Object.entries(input || {})) {
    if (main && name === main.name) continue;
    const field = byName.get(name);
    if (field && field.hasDefault && JSON.stringify(field.default) === JSON.stringify(value)) continue;
    if (field && field.format === "password") continue;
    out[name] = value;
  }
  return out;
}

function summaryText(cell) {
  const entries = Object.entries(cell.overrides);
  if (!entries.length) return "Other inputs: defaults";
  return `Other inputs: ${entries.map(([k, v]) => `${k} ${typeof v === "string" ? v.slice(0, 24) : JSON.stringify(v)}`).join(", ")}`;
}
