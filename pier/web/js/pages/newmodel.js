// New model: a name, who may see it, the hardware it is meant for and a description. Once made,
// the model's page shows how to push its first version.

import { api, session } from "../api.js";
import { h, mount, uid } from "../dom.js";
import { navigate } from "../router.js";

// The server's rule for a model's name (POST /v1/models checks it too).
const NAME_RE = /^[a-z0-9][a-z0-9_.-]{0,127}$/;
const NAME_HELP = "Lowercase letters, digits, dashes (-), underscores (_) and dots (.), starting with a letter or digit.";
const VISIBILITY = [
  { value: "private", label: "Private", help: "Only you can see and run it." },
  { value: "public", label: "Public", help: "Every account on this server can see and run it." },
];

function field(id, label, control, help) {
  const error = h("p.field-error", { id: `${id}-error`, hidden: true });
  const wrap = h(
    "div.field",
    h("div.field-head", h("label.field-label", { for: id }, label)),
    control,
    help ? h("p.help", { id: `${id}-help` }, help) : null,
    error,
  );
  return { wrap, error };
}

function showError(entry, control, message) {
  entry.error.textContent = message || "";
  entry.error.hidden = !message;
  entry.wrap.classList.toggle("invalid", Boolean(message));
  if (control) control.setAttribute("aria-invalid", message ? "true" : "false");
}

export async function render({ view, signal, setTitle }) {
  setTitle("New model");
  const owner = session.username || "you";

  const name = h("input#model-name", {
    name: "name",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    maxlength: 128,
    "aria-describedby": "model-name-help model-name-error",
  });
  const nameField = field("model-name", "Name", h("div.name-control", h("span.name-owner", { "aria-hidden": "true" }, `${owner} /`), name), NAME_HELP);
  name.addEventListener("input", () => {
    name.value = name.value.toLowerCase().replace(/\s+/g, "-");
    showError(nameField, name, "");
  });

  const description = h("textarea#model-description", { name: "description", rows: 3, maxlength: 5000 });
  const descriptionField = field("model-description", "Description", description, "What it does, in a sentence. Shown in the gallery.");

  const visibilityId = uid("visibility");
  const visibility = h(
    "fieldset.field.choice-group",
    h("legend.field-label", "Visibility"),
    VISIBILITY.map((choice, i) =>
      h(
        "label.choice",
        h("input", { type: "radio", name: "visibility", value: choice.value, checked: i === 0, id: `${visibilityId}-${choice.value}` }),
        h("span.choice-text", h("strong", choice.label), h("span.muted", choice.help)),
      ),
    ),
  );

  const hardware = h("select#model-hardware", { name: "hardware" }, h("option", { value: "cpu" }, "CPU"));
  const hardwareField = field("model-hardware", "Hardware", hardware, "The machines it is meant to run on; the operator's prices are per hardware class.");
  api
    .hardware({ signal })
    .then((rows) => mount(hardware, rows.map((row) => h("option", { value: row.sku }, `${row.name} (${row.sku})`))))
    .catch(() => {}); // CPU stays the one choice

  const summary = h("div.form-summary", { role: "alert", hidden: true });
  const submit = h("button.btn.primary", { type: "submit" }, "Create model");
  const fields = { name: [nameField, name], description: [descriptionField, description], hardware: [hardwareField, hardware] };

  const form = h(
    "form.input-form.pane.new-model-form",
    { novalidate: true, "aria-labelledby": "new-model-title" },
    summary,
    nameField.wrap,
    descriptionField.wrap,
    visibility,
    hardwareField.wrap,
    h("div.form-actions", h("a.btn", { href: "/" }, "Cancel"), submit),
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    summary.hidden = true;
    for (const [entry, control] of Object.values(fields)) showError(entry, control, "");
    if (!NAME_RE.test(name.value)) {
      showError(nameField, name, name.value ? NAME_HELP : "A model needs a name.");
      name.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = "Creating…";
    try {
      const model = await api.createModel({
        owner,
        name: name.value,
        visibility: form.elements.visibility.value,
        hardware: hardware.value,
        description: description.value.trim() || null,
      });
      navigate(`/models/${model.owner}/${model.name}?created=1`);
    } catch (err) {
      submit.disabled = false;
      submit.textContent = "Create model";
      const byField = err.fieldErrors || {};
      let first = null;
      for (const [key, messages] of Object.entries(byField)) {
        const [entry, control] = fields[key] || [];
        if (!entry) continue;
        showError(entry, control, messages.join(" "));
        first ||= control;
      }
      if (err.status === 409) {
        showError(nameField, name, err.message);
        first = name;
      }
      if (first) {
        first.focus();
      } else {
        summary.textContent = err.message;
        summary.hidden = false;
        summary.focus?.();
      }
    }
  });

  mount(
    view,
    h(
      "div.page-head",
      h(
        "div",
        h("p.breadcrumb", h("a", { href: "/" }, "Models"), " / New"),
        h("h1#new-model-title", "New model"),
        h("p.muted.subtitle", "A model is a name for a series of versions. Make it here, then push its code with the pier command: each push of new code or weights is a new version."),
      ),
    ),
    form,
  );
}
