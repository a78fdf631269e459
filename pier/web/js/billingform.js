// The billing page's settings: the monthly spend limit, the low-balance alert and the alert
// webhook (PATCH /v1/billing). The server checks every value; its message shows under the
// field it is about.

import { api } from "./api.js";
import { h, uid } from "./dom.js";
import { toMicros, usdText } from "./money.js";

const FIELDS = [
  {
    name: "monthly_limit_usd",
    label: "Monthly spend limit",
    unit: "USD",
    placeholder: "No limit",
    help: "New predictions are refused once this calendar month's spend would go past it. Empty: no limit.",
  },
  {
    name: "low_balance_alert_usd",
    label: "Low-balance alert",
    unit: "USD",
    placeholder: "No alert",
    help: "An alert when your balance falls below this amount. Empty: no alert.",
  },
  {
    name: "alert_webhook",
    label: "Alert webhook",
    placeholder: "https://example.com/pier-alerts",
    help: "Pier POSTs each alert here as JSON: the first dollar spent, 50, 80 and 100 % of the monthly limit, and a low balance. Empty: e-mail only.",
  },
];

/** The value a setting's box shows for the billing object (an amount without its "$"). */
function shown(billing, name) {
  const value = billing[name];
  if (value === null || value === undefined) return "";
  if (name === "alert_webhook") return String(value);
  return usdText(toMicros(value)).replace(/^\$/, "").replace(/,/g, "");
}

/**
 * The setting a problem from the server is about and what to say under it: the first of its
 * `invalid_fields` that names a setting, else the first setting its message names; null when
 * it names none (the message then shows above Save).
 */
export function problemField(body, names = FIELDS.map((f) => f.name)) {
  if (!body || typeof body !== "object") return null;
  for (const item of body.invalid_fields || []) {
    const name = String(item.field || "").split(".").pop();
    if (names.includes(name)) return { name, message: item.description || item.message || body.detail };
  }
  const text = `${body.detail || ""} ${body.title || ""}`;
  const name = names.find((n) => text.includes(n));
  return name ? { name, message: String(body.detail || body.title).trim() } : null;
}

/** The settings form; `onSaved(billing)` gets the billing object the server answered. */
export function settingsForm(billing, { onSaved }) {
  const blocks = FIELDS.map((field) => {
    const ids = { input: uid(field.name), help: uid("help"), error: uid("err") };
    const input = h("input", {
      id: ids.input,
      name: field.name,
      type: field.name === "alert_webhook" ? "url" : "text",
      inputmode: field.unit ? "decimal" : "url",
      autocomplete: "off",
      placeholder: field.placeholder,
      "aria-describedby": `${ids.help} ${ids.error}`,
      value: shown(billing, field.name),
    });
    const error = h("p.field-error", { id: ids.error, hidden: true });
    const control = field.unit ? h("div.amount-control", h("span.amount-prefix", { "aria-hidden": "true" }, "$"), input) : input;
    const block = h(
      "div.field",
      { dataset: { field: field.name } },
      h("label.field-label", { for: ids.input }, field.label, field.unit ? h("span.muted.unit", ` (${field.unit})`) : null),
      control,
      h("p.help", { id: ids.help }, field.help),
      error,
    );
    return { field, input, error, block };
  });
  const formError = h("p.form-error.error-box", { role: "alert", hidden: true });
  const saved = h("span.save-status.muted", { role: "status" });
  const save = h("button.btn.primary", { type: "submit" }, h("span.label", "Save"));

  function setError(block, message) {
    block.error.textContent = message || "";
    block.error.hidden = !message;
    block.block.classList.toggle("invalid", Boolean(message));
    if (message) block.input.setAttribute("aria-invalid", "true");
    else block.input.removeAttribute("aria-invalid");
  }

  async function submit(event) {
    event.preventDefault();
    const changes = {};
    for (const block of blocks) {
      setError(block, null);
      const text = block.input.value.trim();
      changes[block.field.name] = text === "" ? null : text;
    }
    formError.hidden = true;
    saved.textContent = "";
    save.disabled = true;
    try {
      const fresh = await api.updateBilling(changes);
      for (const block of blocks) block.input.value = shown(fresh, block.field.name);
      saved.textContent = "Saved";
      onSaved(fresh);
    } catch (err) {
      const problem = problemField(err.body);
      const block = problem && blocks.find((b) => b.field.name === problem.name);
      if (block) {
        setError(block, problem.message);
        block.input.focus();
      } else {
        formError.textContent = err.message;
        formError.hidden = false;
      }
    } finally {
      save.disabled = false;
    }
  }

  return h(
    "form.settings-form",
    { novalidate: true, "aria-labelledby": "settings-title", onsubmit: submit },
    blocks.map((b) => b.block),
    formError,
    h("div.settings-actions", save, saved),
  );
}
