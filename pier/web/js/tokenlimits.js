// The billing page's limits per API token: what each token spent and holds this month, and its
// own monthly limit inside the account's (GET and PATCH /v1/billing/tokens/{id}).

import { api } from "./api.js";
import { h, mount, uid } from "./dom.js";
import { ago } from "./format.js";
import { toMicros, usd, usdText } from "./money.js";

/** The value the limit box shows: the amount without "$", or empty for no limit. */
function shown(limit) {
  return limit === null || limit === undefined ? "" : usdText(toMicros(limit)).replace(/^\$/, "").replace(/,/g, "");
}

function tokenRow(token, spend) {
  const id = uid("token-limit");
  const errorId = uid("err");
  const input = h("input", {
    id,
    type: "text",
    inputmode: "decimal",
    autocomplete: "off",
    placeholder: "No limit",
    "aria-describedby": errorId,
    value: shown(spend.monthly_limit_usd),
  });
  const error = h("p.field-error", { id: errorId, hidden: true });
  const status = h("span.save-status.muted", { role: "status" });
  const figures = h("span.token-spend.muted");
  const save = h("button.btn.small", { type: "submit" }, "Save");

  function draw(fresh) {
    figures.textContent = `${usd(fresh.spent_this_month_usd, { cents: true })} this month · ${usd(fresh.held_usd, { cents: true })} held`;
    input.value = shown(fresh.monthly_limit_usd);
  }

  async function submit(event) {
    event.preventDefault();
    const text = input.value.trim();
    error.hidden = true;
    input.removeAttribute("aria-invalid");
    status.textContent = "";
    save.disabled = true;
    try {
      draw(await api.setTokenLimit(token.id, text === "" ? null : text));
      status.textContent = "Saved";
    } catch (err) {
      const listed = ((err.body && err.body.invalid_fields) || [])[0];
      error.textContent = listed ? listed.description : err.message.replace(/^- /gm, "").trim();
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.focus();
    } finally {
      save.disabled = false;
    }
  }

  draw(spend);
  return h(
    "li.token-limit",
    { dataset: { token: token.id } },
    h(
      "form.token-limit-form",
      { novalidate: true, "aria-label": `Monthly limit of ${token.name}`, onsubmit: submit },
      h(
        "div.token-name",
        h("strong", token.name),
        h("span.muted", token.last_used_at ? ` · used ${ago(token.last_used_at)}` : " · never used"),
        h("br"),
        figures,
      ),
      h("label.token-limit-label", { for: id }, "Monthly limit (USD)"),
      h("div.amount-control", h("span.amount-prefix", { "aria-hidden": "true" }, "$"), input, save),
      status,
      error,
    ),
  );
}

/** The section: one row per API token of the account (playground sessions have no limit of their own). */
export function tokenLimits({ signal }) {
  const list = h("div", h("p.muted", "Loading…"));
  (async () => {
    const { results } = await api.tokens({ signal });
    const tokens = results.filter((t) => t.kind !== "session");
    if (!tokens.length) {
      mount(list, h("p.empty-note", "This account has no API tokens."));
      return;
    }
    const spends = await Promise.all(tokens.map((t) => api.tokenLimit(t.id, { signal })));
    mount(list, h("ul.token-limits", tokens.map((t, i) => tokenRow(t, spends[i]))));
  })().catch((err) => {
    if (err.name !== "AbortError") mount(list, h("p.error-box", `Could not load the tokens: ${err.message}`));
  });
  return h(
    "section.billing-section.pane",
    { "aria-labelledby": "token-limits-title" },
    h("h2#token-limits-title", "Limits per API token"),
    h("p.muted.section-note", "A token can have a monthly limit of its own, within the account's: a script or a teammate's key cannot spend more than you allow it. Empty: only the account's limit applies."),
    list,
  );
}
