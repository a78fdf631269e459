// The input form generated from a version's schema: labels, help, limits,
// defaults, per-field errors (from the browser's checks and from the
// server's 422), and a Run button.

import { h, icon, uid } from "./dom.js";
import { createWidget } from "./fields.js";
import { checkValue } from "./schema.js";

function limitsText(field) {
  const parts = [];
  const t = field.type === "array" && field.items ? `list of ${field.items.type || "values"}` : field.type;
  if (field.format === "uri") parts.push("file");
  else if (t && t !== "any" && t !== "string") parts.push(t === "integer" ? "whole number" : t);
  if (field.minimum !== undefined && field.maximum !== undefined) parts.push(`${field.minimum} – ${field.maximum}`);
  else if (field.minimum !== undefined) parts.push(`≥ ${field.minimum}`);
  else if (field.maximum !== undefined) parts.push(`≤ ${field.maximum}`);
  if (field.maxLength !== undefined) parts.push(`max ${field.maxLength} chars`);
  if (field.hasDefault && field.default !== null && field.default !== "" && field.widget !== "textarea") {
    parts.push(`default ${typeof field.default === "object" ? JSON.stringify(field.default) : field.default}`);
  }
  return parts.join(" · ");
}

function fieldBlock(field, onChange) {
  const ids = { input: uid(`in-${field.name}`), label: uid("label"), help: null, error: uid("err") };
  if (field.description) ids.help = uid("help");
  const widget = createWidget(field, ids, () => onChange(field));
  const labelTag = field.widget === "checkboxes" ? "span" : "label";
  const label = h(
    `${labelTag}.field-label`,
    { id: ids.label, for: labelTag === "label" ? ids.input : undefined },
    field.title,
    field.required ? h("span.required", { title: "Required" }, h("span.visually-hidden", " (required)"), h("span", { "aria-hidden": "true" }, "*")) : null,
  );
  const error = h("p.field-error", { id: ids.error, hidden: true });
  const block = h(
    `div.field.widget-${field.widget}`,
    { dataset: { field: field.name } },
    h("div.field-head", label, h("span.field-meta", limitsText(field))),
    widget.control,
    field.description ? h("p.help", { id: ids.help }, field.description) : null,
    error,
  );
  return { field, widget, block, error };
}

/**
 * Build the form. `onRun(input)` is called with the checked input object;
 * `onChange()` after any edit (the API tab uses it to refresh its code); `actionsNote`, an
 * element shown beside Run (the cost estimate); `label`, the form's accessible name.
 */
export function buildForm(fields, { onRun, onChange = () => {}, runLabel = "Run", actionsNote = null, label = "Model input" }) {
  let attempted = false;
  // Fields are re-checked as the user types, so a message appears while they are still in the
  // field (not on blur, which would shift the Run button under a moving pointer). Before the
  // first Run, an empty required field is not yet an error.
  const blocks = fields.map((field) =>
    fieldBlock(field, (f) => {
      validateOne(byName.get(f.name), !attempted);
      if (!summary.hidden) pruneSummary();
      onChange();
    }),
  );
  const byName = new Map(blocks.map((b) => [b.field.name, b]));
  const summary = h("div.form-summary", { role: "alert", hidden: true, tabindex: "-1" });
  const runButton = h("button.btn.primary.run", { type: "submit" }, icon("play"), h("span.label", runLabel));
  const resetButton = h(
    "button.btn",
    {
      type: "button",
      onclick: () => {
        reset();
        onChange();
      },
    },
    "Reset",
  );
  const form = h(
    "form.input-form",
    { novalidate: true, "aria-label": label, onsubmit: submit },
    summary,
    blocks.length ? blocks.map((b) => b.block) : h("p.muted", "This model takes no input."),
    h(
      "div.form-actions",
      resetButton,
      actionsNote,
      h("span.kbd-hint.muted", { "aria-hidden": "true" }, h("kbd", navigator.platform.includes("Mac") ? "⌘" : "Ctrl"), "+", h("kbd", "Enter")),
      runButton,
    ),
  );
  form.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.requestSubmit();
    }
  });

  function setError(block, messages) {
    const text = (Array.isArray(messages) ? messages : [messages]).filter(Boolean).join(" ");
    block.error.textContent = text;
    block.error.hidden = !text;
    block.block.classList.toggle("invalid", Boolean(text));
    for (const el of block.block.querySelectorAll("input, textarea, select")) {
      if (text) el.setAttribute("aria-invalid", "true");
      else el.removeAttribute("aria-invalid");
    }
  }

  function readOne(block) {
    const result = block.widget.read();
    if (result.error) return { error: result.error };
    const problem = checkValue(block.field, result.value);
    if (problem) return { error: problem, missing: result.value === undefined || result.value === null };
    return { value: result.value };
  }

  function validateOne(block, quiet = false) {
    if (!block) return;
    const { error, missing } = readOne(block);
    setError(block, quiet && missing ? null : error);
  }

  /** The current input, leaving out fields with problems (for the code tab). */
  function currentInput() {
    const input = {};
    for (const block of blocks) {
      const { value } = readOne(block);
      if (value !== undefined) input[block.field.name] = value;
    }
    return input;
  }

  /** Drop fixed fields from the summary (and hide it once all are fixed). */
  function pruneSummary() {
    const open = [...summary.querySelectorAll("li[data-name]")].filter((li) => {
      const block = byName.get(li.dataset.name);
      return !block || !block.error.hidden;
    });
    const listed = summary.querySelectorAll("li[data-name]").length;
    if (open.length === listed) return;
    showSummary(open.map((li) => [li.dataset.name, li.dataset.message]));
  }

  function showSummary(problems, link = null) {
    if (!problems.length) {
      summary.hidden = true;
      summary.replaceChildren();
      return;
    }
    summary.hidden = false;
    if (problems.length === 1 && !problems[0][0]) {
      // A refusal that is about no field (no credit left, say): the server's words, and where to go.
      summary.replaceChildren(h("strong", "Not started: "), problems[0][1], ...(link ? [" ", h("a", { href: link.href }, link.label)] : []));
      return;
    }
    summary.replaceChildren(
      h("strong", problems.length === 1 ? "One field needs attention:" : `${problems.length} fields need attention:`),
      h(
        "ul",
        problems.map(([name, message]) => {
          const block = byName.get(name);
          const title = block ? block.field.title : name;
          return h(
            "li",
            { dataset: { name, message } },
            block
              ? h("a", { href: `#${name}`, onclick: (e) => (e.preventDefault(), block.widget.focus()) }, title)
              : h("span", title),
            `: ${message}`,
          );
        }),
      ),
    );
  }

  async function submit(event) {
    event.preventDefault();
    attempted = true;
    setBusy(true, "Uploading…");
    try {
      await Promise.all(blocks.map((b) => (b.widget.pending ? b.widget.pending() : null)));
    } finally {
      setBusy(false);
    }
    const input = {};
    const problems = [];
    for (const block of blocks) {
      const { value, error } = readOne(block);
      setError(block, error);
      if (error) problems.push([block.field.name, error]);
      else if (value !== undefined) input[block.field.name] = value;
    }
    showSummary(problems);
    if (problems.length) {
      byName.get(problems[0][0]).widget.focus();
      return;
    }
    setBusy(true, "Starting…");
    try {
      await onRun(input);
    } finally {
      setBusy(false);
    }
  }

  function setBusy(busy, text) {
    runButton.disabled = busy;
    runButton.querySelector(".label").textContent = busy ? text : runLabel;
  }

  /** Show the server's 422 messages next to their fields; `link` ({href, label}) follows a message about no field. */
  function showServerErrors(fieldErrors, fallback, link = null) {
    const problems = [];
    for (const [name, messages] of Object.entries(fieldErrors)) {
      const block = byName.get(name);
      if (block) setError(block, messages);
      problems.push([name, messages.join(" ")]);
    }
    if (!problems.length && fallback) problems.push(["", fallback]);
    showSummary(problems, link);
    if (problems.length && byName.get(problems[0][0])) byName.get(problems[0][0]).widget.focus();
    else summary.focus();
  }

  function fill(input) {
    for (const block of blocks) {
      const { field } = block;
      let value = input && Object.prototype.hasOwnProperty.call(input, field.name) ? input[field.name] : undefined;
      // The server stores secrets masked; never send the mask back as a value.
      if (field.format === "password" && typeof value === "string" && /^\*+$/.test(value)) value = undefined;
      block.widget.write(value !== undefined ? value : field.hasDefault ? field.default : undefined);
      setError(block, null);
    }
    showSummary([]);
  }

  function reset() {
    attempted = false;
    fill({});
  }

  /** A note under a field (e.g. the words of a prompt the model ignored); null removes it. */
  function setNote(name, text) {
    const block = byName.get(name);
    if (!block) return;
    let note = block.block.querySelector(".field-note");
    if (!text) {
      if (note) note.remove();
      return;
    }
    if (!note) {
      note = h("p.field-note", { role: "note" });
      block.block.insertBefore(note, block.error);
    }
    note.textContent = text;
  }

  reset();
  return { element: form, currentInput, showServerErrors, fill, reset, setNote, focusFirst: () => blocks[0] && blocks[0].widget.focus() };
}
