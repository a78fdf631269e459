// The playground: the generated input form beside the output pane, which
// shows the default example until the user runs the model, then the live run.

import { api } from "./api.js";
import { h, icon } from "./dom.js";
import { estimateNote } from "./estimate.js";
import { buildForm } from "./form.js";
import { renderOutput } from "./output.js";
import { setQuery } from "./router.js";
import { ignoredText, ignoredWords, runView } from "./runview.js";
import { inputFields, mainTextField, outputShape } from "./schema.js";
import { duration, shortId } from "./format.js";

/**
 * The input a tweak starts from: the original's, with the seed the model reported it used
 * (`metrics.seed`) filled in where the original left the seed to chance, so that running it
 * unchanged repeats the original exactly.
 */
export function tweakInput(prediction, fields) {
  const input = { ...(prediction.input || {}) };
  const seed = prediction.metrics && prediction.metrics.seed;
  const hasSeed = fields.some((f) => f.name === "seed");
  if (hasSeed && typeof seed === "number" && (input.seed === undefined || input.seed === null)) input.seed = seed;
  return input;
}

/** What this machine measured for the model's default settings (`model.run_time`). */
export function runTimeNote(model) {
  const rt = model.run_time;
  if (!rt) return null;
  const d = rt.default_settings;
  const ex = rt.example;
  let text = null;
  if (d) {
    const measured = `about ${duration(d.predict_time)} per run on this machine (median of ${d.runs} run${d.runs === 1 ? "" : "s"})`;
    text = rt.heavy ? `Heavy defaults: ${measured}.` : `At default settings: ${measured}.`;
  } else if (ex) {
    const settings = Object.entries(ex.input || {}).map(([k, v]) => `${k} ${v}`).join(", ");
    const example = `the example${settings ? ` (${settings})` : ""}`;
    if (rt.heavy) text = `Heavy defaults: they ask for more work than ${example}, which already took ${duration(ex.predict_time)} on this machine.`;
    else if (rt.heavier_than_example) text = `Not yet measured at default settings here; they ask for more work than ${example}, which took ${duration(ex.predict_time)}.`;
    else text = `Not yet measured at default settings here; ${example} took ${duration(ex.predict_time)}.`;
  }
  if (!text) return null;
  if (rt.heavy) text += " Lower the settings for a quicker try.";
  return h(`p.run-time-note${rt.heavy ? ".heavy" : ".muted"}`, { role: "note" }, rt.heavy ? icon("clock") : null, rt.heavy ? " " : null, text);
}

export function playground({ model, version, signal, tweak, initialInput, predictionId, onChange, onCreated = () => {} }) {
  const schema = version.openapi_schema || {};
  const fields = inputFields(schema);
  const shape = outputShape(schema);
  const outputPane = h("div.output-pane-body");
  let runController = null;
  signal.addEventListener("abort", () => runController && runController.abort());

  const estimate = estimateNote(`${model.owner}/${model.name}:${version.id}`, { signal });
  const form = buildForm(fields, { onRun: run, onChange, actionsNote: estimate.element });
  if (initialInput) form.fill(initialInput);
  const main = mainTextField(fields);
  const promptField = main ? main.name : null;

  async function run(input) {
    let prediction;
    try {
      prediction = await api.createPrediction(version.id, input, { tweakedFrom: tweak ? tweak.id : null });
    } catch (err) {
      if (err.status === 422) form.showServerErrors(err.fieldErrors, err.message);
      else if (err.status === 402) form.showServerErrors({}, err.message, { href: "/billing", label: "See your billing page." });
      else form.showServerErrors({}, err.message);
      return;
    }
    setQuery({ prediction: prediction.id });
    show(prediction);
    reveal();
    onCreated(prediction);
  }

  function show(prediction, label = null) {
    if (runController) runController.abort();
    runController = new AbortController();
    const notePrompt = (p) => {
      const words = ignoredWords(p);
      if (promptField) form.setNote(promptField, words.length ? ignoredText(words) : null);
    };
    const view = runView(prediction, {
      shape,
      signal: runController.signal,
      onUpdate: notePrompt,
      onSettled: (p) => {
        estimate.refresh();
        onCreated(p, true);
      },
    });
    outputPane.replaceChildren(...(label ? [label, view.element] : [view.element]));
  }

  function reveal() {
    // On a narrow screen the output sits below the form: bring it into view.
    const rect = outputPane.getBoundingClientRect();
    if (rect.top > window.innerHeight * 0.6) outputPane.parentElement.scrollIntoView({ behavior: "smooth", block: "start" });
  }

  function example() {
    const ex = model.default_example;
    if (!ex || ex.output === null || ex.output === undefined) {
      return h("div.output-empty", h("p", "Fill in the form and press Run. The output appears here, with the model's progress and logs as it runs."));
    }
    return h(
      "div.example",
      h(
        "div.example-head",
        h("span.example-label", "Example output"),
        h("span.spacer"),
        ex.input
          ? h(
              "button.btn.small",
              {
                type: "button",
                onclick: () => {
                  form.fill(ex.input);
                  onChange();
                  form.focusFirst();
                },
              },
              "Use these inputs",
            )
          : null,
      ),
      renderOutput(ex.output, { shape }),
    );
  }

  if (tweak && !predictionId) {
    // The original stays in view while the form is edited.
    show(tweak, h("p.original-label.muted", icon("edit"), "The original: ", h("a", { href: `/predictions/${tweak.id}` }, `prediction ${shortId(tweak.id, 10)}`)));
  } else if (predictionId) {
    outputPane.append(h("p.muted", "Loading the prediction…"));
    api
      .prediction(predictionId, { signal })
      .then((p) => {
        if (p.version !== version.id) return outputPane.replaceChildren(example());
        // Back on a run's address (a reload, Back): the form shows what was run.
        if (!initialInput && p.input) {
          form.fill(p.input);
          onChange();
        }
        return show(p);
      })
      .catch(() => outputPane.replaceChildren(example()));
  } else {
    outputPane.append(example());
  }

  const notice = tweak
    ? h(
        "p.notice.tweak-notice",
        icon("edit"),
        " Filled in from ",
        h("a", { href: `/predictions/${tweak.id}` }, `prediction ${shortId(tweak.id, 10)}`),
        ". Change anything and press Run: that makes a new prediction of the same version.",
      )
    : null;

  const element = h(
    "div.playground",
    h("section.pane.input-pane", { "aria-labelledby": "input-heading" }, h("h2#input-heading", "Input"), notice, runTimeNote(model), form.element),
    h("section.pane.output-pane", { "aria-labelledby": "output-heading" }, h("h2#output-heading", "Output"), outputPane),
  );
  return { element, currentInput: form.currentInput };
}
