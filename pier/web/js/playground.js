// The playground: the generated input form beside the output pane, which
// shows the default example until the user runs the model, then the live run.

import { api } from "./api.js";
import { h, icon } from "./dom.js";
import { buildForm } from "./form.js";
import { renderOutput } from "./output.js";
import { setQuery } from "./router.js";
import { runView } from "./runview.js";
import { inputFields, outputShape } from "./schema.js";
import { shortId } from "./format.js";

export function playground({ model, version, signal, tweak, initialInput, predictionId, onChange }) {
  const schema = version.openapi_schema || {};
  const fields = inputFields(schema);
  const shape = outputShape(schema);
  const outputPane = h("div.output-pane-body");
  let runController = null;
  signal.addEventListener("abort", () => runController && runController.abort());

  const form = buildForm(fields, { onRun: run, onChange });
  if (initialInput) form.fill(initialInput);

  async function run(input) {
    let prediction;
    try {
      prediction = await api.createPrediction(version.id, input);
    } catch (err) {
      if (err.status === 422) form.showServerErrors(err.fieldErrors, err.message);
      else form.showServerErrors({}, err.message);
      return;
    }
    setQuery({ prediction: prediction.id });
    show(prediction);
    reveal();
  }

  function show(prediction) {
    if (runController) runController.abort();
    runController = new AbortController();
    const view = runView(prediction, { shape, signal: runController.signal });
    outputPane.replaceChildren(view.element);
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

  if (predictionId) {
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
    h("section.pane.input-pane", { "aria-labelledby": "input-heading" }, h("h2#input-heading", "Input"), notice, form.element),
    h("section.pane.output-pane", { "aria-labelledby": "output-heading" }, h("h2#output-heading", "Output"), outputPane),
  );
  return { element, currentInput: form.currentInput };
}
