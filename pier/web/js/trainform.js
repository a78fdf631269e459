// The Train tab: train()'s inputs as a form made by the same builder as the run form (files
// upload the same way), the model of one's own the new version goes into, and Start training,
// which opens the training's page to watch it.

import { api } from "./api.js";
import { h, icon, uid } from "./dom.js";
import { shortId } from "./format.js";
import { buildForm } from "./form.js";
import { nounNote } from "./nouns.js";
import { navigate } from "./router.js";
import { destinationProblem, destinations, trainingFields, trainingHref } from "./trainable.js";

/** The destination picker: the caller's own models, and a way to make a new one. */
function destinationField(model, username, signal) {
  const ids = { input: uid("destination"), help: uid("help"), error: uid("err") };
  const select = h("select.destination-select", { id: ids.input, name: "destination", "aria-describedby": `${ids.help} ${ids.error}` }, h("option", { value: "" }, "Loading your models…"));
  const error = h("p.field-error", { id: ids.error, hidden: true });
  const block = h(
    "div.field.destination-field",
    h("div.field-head", h("label.field-label", { for: ids.input }, "Destination", h("span.required", { title: "Required" }, h("span.visually-hidden", " (required)"), h("span", { "aria-hidden": "true" }, "*")))),
    h("div.destination-control", select, h("a.btn.small.new-destination", { href: "/models/new" }, icon("plus"), h("span.label", "New model"))),
    h("p.help", { id: ids.help }, "One of your models: the new version is added to it. It keeps this version's code and gets the trained weights."),
    error,
  );

  function setError(text) {
    error.textContent = text || "";
    error.hidden = !text;
    block.classList.toggle("invalid", Boolean(text));
    if (text) select.setAttribute("aria-invalid", "true");
    else select.removeAttribute("aria-invalid");
  }
  select.addEventListener("change", () => setError(null));

  /** Say what is wrong with the choice (on submit, beside the form's own checks); true if fine. */
  function check() {
    if (select.disabled) return false;
    const problem = destinationProblem(select.value);
    setError(problem);
    return !problem;
  }

  api
    .models({ signal })
    .then((models) => {
      const refs = destinations(models, username);
      const own = `${model.owner}/${model.name}`;
      if (!refs.length) {
        select.replaceChildren(h("option", { value: "" }, "You have no models yet"));
        select.disabled = true;
        setError("Make a model to receive the new version first (New model).");
        return;
      }
      // The model being trained is a valid destination, but a separate one keeps the base intact.
      select.replaceChildren(
        h("option", { value: "" }, "Choose one of your models"),
        ...refs.map((ref) => h("option", { value: ref }, ref === own ? `${ref} (this model)` : ref)),
      );
    })
    .catch((err) => {
      if (err.name !== "AbortError") setError(`Could not list your models: ${err.message}`);
    });

  return { block, setError, check, get value() { return select.value; }, focus: () => select.focus() };
}

/** The Train panel for `version` of `model`; `username` is the signed-in account's. */
export function trainPanel({ model, version, username, signal }) {
  const destination = destinationField(model, username, signal);
  const form = buildForm(trainingFields(version), { onRun: start, runLabel: "Start training", label: "Training input" });
  const summary = form.element.querySelector(".form-summary");
  form.element.insertBefore(destination.block, summary.nextSibling);
  form.element.addEventListener("submit", () => destination.check());

  async function start(input) {
    if (!destination.check()) {
      destination.focus();
      return;
    }
    let training;
    try {
      training = await api.createTraining(model.owner, model.name, version.id, destination.value, input);
    } catch (err) {
      const fieldErrors = err.status === 422 ? err.fieldErrors : {};
      if ((err.status === 404 && /destination/i.test(err.message)) || fieldErrors.destination) {
        destination.setError(fieldErrors.destination ? fieldErrors.destination.join(" ") : err.message);
        destination.focus();
        return;
      }
      if (err.status === 402) form.showServerErrors({}, err.message, { href: "/billing", label: "See your billing page." });
      else form.showServerErrors(fieldErrors, err.message);
      return;
    }
    navigate(trainingHref(training));
  }

  return h(
    "div.train-layout",
    h(
      "section.pane.train-pane",
      { "aria-labelledby": "train-heading" },
      h("h2#train-heading", "Train a new version"),
      nounNote("training"),
      h("p.train-base.muted", "Starts train() of version ", h("span.mono", shortId(version.id, 12)), " with the inputs below."),
      form.element,
    ),
    nextSteps(),
  );
}

/** What happens after Start training, beside the form. */
function nextSteps() {
  return h(
    "aside.pane.train-next",
    { "aria-labelledby": "train-next-heading" },
    h("h2#train-next-heading", "What happens next"),
    h(
      "ol",
      h("li", "The training waits in the queue and runs on this server like a prediction: its own page shows its progress and logs, and lets you cancel it."),
      h("li", "When it succeeds, the weights it made become a new version of the destination: this version's code with those weights."),
      h("li", "The training's page then links to the new version, ready to run. Its model's Versions tab says which training made it."),
    ),
  );
}
