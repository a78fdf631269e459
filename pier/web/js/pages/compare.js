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
import { compareCell } from "../comparecell.js";
import { MAX_CELLS, compareUrl, newCell, parseRef, readState, versionResolver, withoutDefaults } from "../comparestate.js";
import { inputFields, mainTextField, promptOf } from "../schema.js";

export async function render({ view, query, signal, setTitle }) {
  setTitle("Compare");
  mount(view, h("h1", "Compare"), h("p.muted", { role: "status" }, "Loading…"));
  const state = readState(query);
  const versionOf = versionResolver(signal);
  const live = []; // the cells' views, stopped when the grid is redrawn

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
  const cellContext = (cell) => ({
    signal,
    versionOf,
    prompt: () => state.prompt,
    onChange: save,
    onRemove: () => {
      state.cells = state.cells.filter((c) => c !== cell);
      save();
      draw();
    },
    onVersion: () => {
      save();
      draw();
    },
  });

  function draw() {
    live.splice(0).forEach((c) => c.stop());
    if (!state.cells.length) {
      grid.replaceChildren(h("div.empty-note", { role: "listitem" }, "Add two or more models (or the same model twice, with different inputs) and press Run all. The results appear here side by side."));
      return;
    }
    const counts = {};
    for (const cell of state.cells) {
      const name = parseRef(cell.ref).model;
      counts[name] = (counts[name] || 0) + 1;
      live.push(compareCell(cell, counts[name], cellContext(cell)));
    }
    grid.replaceChildren(...live.map((c) => c.element));
  }

  mount(
    view,
    h("div.page-head", h("div", h("h1", "Compare"), h("p.muted.subtitle", "One prompt, several models, side by side. The address keeps the comparison: share it or come back to it."))),
    form,
    grid,
  );
  draw();
}

