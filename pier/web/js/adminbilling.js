// The operator page's money sections: prices (per second of a hardware class, or per run or
// per output unit of a model) and credit top-ups for accounts, through the admin API.

import { api } from "./api.js";
import { h, mount, uid } from "./dom.js";
import { priceText } from "./estimate.js";
import { usd } from "./money.js";

function field(label, control, help) {
  const id = control.id || uid("f");
  control.id = id;
  return h("div.field", h("label.field-label", { for: id }, label), control, help ? h("p.help", help) : null);
}

function amountInput(name) {
  return h("input", { name, type: "text", inputmode: "decimal", autocomplete: "off", placeholder: "0.00", required: true });
}

/** Run `action`, showing the server's message in `problem` (and nothing else) if it fails. */
async function attempt(button, problem, action) {
  button.disabled = true;
  problem.hidden = true;
  try {
    return await action();
  } catch (err) {
    problem.textContent = err.message.replace(/^- /gm, "").trim();
    problem.hidden = false;
    return null;
  } finally {
    button.disabled = false;
  }
}

function pricesSection(signal) {
  const list = h("div.price-list", h("p.muted", "Loading…"));
  const problem = h("p.error-box", { role: "alert", hidden: true });
  const scope = h("select", { name: "scope", onchange: sync }, h("option", { value: "hardware" }, "Hardware class"), h("option", { value: "model" }, "Model"));
  const key = h("input", { name: "key", type: "text", autocomplete: "off", list: uid("keys"), required: true });
  const keys = h("datalist", { id: key.getAttribute("list") });
  const basis = h("select", { name: "basis", onchange: sync }, h("option", { value: "per_second" }, "per second"), h("option", { value: "per_run" }, "per run"), h("option", { value: "per_unit" }, "per output unit"));
  const unit = h("input", { name: "unit", type: "text", autocomplete: "off", placeholder: "image" });
  const amount = amountInput("amount");
  const save = h("button.btn.primary", { type: "submit" }, "Set price");
  const keyField = field("Hardware class", key);
  const unitField = field("Unit", unit);
  let hardware = [];
  let models = [];

  function sync() {
    const isModel = scope.value === "model";
    keyField.querySelector("label").textContent = isModel ? "Model (owner/name)" : "Hardware class";
    key.placeholder = isModel ? "owner/name" : "cpu";
    for (const option of basis.options) option.disabled = isModel ? option.value === "per_second" : option.value !== "per_second";
    if (basis.selectedOptions[0].disabled) basis.value = isModel ? "per_run" : "per_second";
    unitField.hidden = basis.value !== "per_unit";
    mount(keys, (isModel ? models : hardware).map((value) => h("option", { value })));
  }

  async function load() {
    const { results } = await api.prices({ signal });
    if (!results.length) {
      mount(list, h("p.empty-note", "No prices yet: every run is free."));
      return;
    }
    mount(
      list,
      h(
        "div.table-scroll",
        h(
          "table.cluster-table.price-table",
          h("caption.visually-hidden", "Prices"),
          h("thead", h("tr", ["Applies to", "Price", ""].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", results.map(priceRow)),
        ),
      ),
    );
  }

  function priceRow(price) {
    const which = price.model ? "model" : "hardware";
    const name = price[which];
    const remove = h("button.btn.small.danger", { type: "button", "aria-label": `Remove the price of ${name}` }, "Remove");
    remove.onclick = () => attempt(remove, problem, async () => {
      await api.removePrice({ [which]: name });
      await load();
    });
    return h(
      "tr",
      { dataset: { price: name } },
      h("th", { scope: "row", dataset: { label: "Applies to" } }, h("div.cell-value", h("span.muted", which === "model" ? "Model " : "Hardware "), h("strong", name))),
      h("td", { dataset: { label: "Price" } }, h("div.cell-value", priceText(price))),
      h("td", { dataset: { label: "" } }, h("div.cell-value", remove)),
    );
  }

  async function submit(event) {
    event.preventDefault();
    const body = { [scope.value]: key.value.trim(), [`${basis.value}_usd`]: amount.value.trim() };
    if (basis.value === "per_unit") body.unit = unit.value.trim();
    const done = await attempt(save, problem, async () => {
      await api.setPrice(body);
      await load();
      return true;
    });
    if (done) {
      key.value = "";
      amount.value = "";
    }
  }

  const form = h(
    "form.admin-form.price-form",
    { novalidate: true, "aria-label": "Set a price", onsubmit: submit },
    field("Price for", scope),
    keyField,
    keys,
    field("Charged", basis),
    unitField,
    field("Amount (USD)", amount),
    h("div.admin-form-actions", save),
  );
  sync();
  load().catch((err) => mount(list, h("p.error-box", `Could not load the prices: ${err.message}`)));
  api.hardware({ signal }).then((rows) => ((hardware = rows.map((r) => r.sku)), sync())).catch(() => {});
  api.models({ signal }).then((rows) => ((models = rows.map((m) => `${m.owner}/${m.name}`)), sync())).catch(() => {});
  return h(
    "section.cluster-section",
    { "aria-labelledby": "prices-title" },
    h("h2#prices-title", "Prices"),
    h("p.muted.section-note", "A hardware class is charged per second a prediction runs on it. A model's own price, per run or per output unit, replaces that for its runs."),
    list,
    form,
    problem,
  );
}

function creditSection(signal) {
  const list = h("div.credit-list", h("p.muted", "Loading…"));
  const problem = h("p.error-box", { role: "alert", hidden: true });
  const done = h("p.notice.credit-done", { role: "status", hidden: true });
  const account = h("input", { name: "account", type: "text", autocomplete: "off", list: uid("accounts"), required: true, placeholder: "username" });
  const accounts = h("datalist", { id: account.getAttribute("list") });
  const amount = amountInput("amount");
  const memo = h("input", { name: "memo", type: "text", autocomplete: "off", placeholder: "Invoice 1042, trial credit…" });
  const add = h("button.btn.primary", { type: "submit" }, "Add credit");

  async function load() {
    const { results } = await api.accountsBilling({ signal });
    mount(accounts, results.map((r) => h("option", { value: r.username })));
    mount(
      list,
      h(
        "div.table-scroll",
        h(
          "table.cluster-table.credit-table",
          h("caption.visually-hidden", "Accounts' credit"),
          h("thead", h("tr", ["Account", "Balance", "Held", "This month", "Monthly limit"].map((t) => h("th", { scope: "col" }, t)))),
          h(
            "tbody",
            results.map((r) =>
              h(
                "tr",
                { dataset: { account: r.username } },
                h("th", { scope: "row", dataset: { label: "Account" } }, h("div.cell-value", h("strong", r.username))),
                ...[
                  ["Balance", usd(r.balance_usd, { cents: true })],
                  ["Held", usd(r.held_usd, { cents: true })],
                  ["This month", usd(r.spent_this_month_usd, { cents: true })],
                  ["Monthly limit", r.monthly_limit_usd === null || r.monthly_limit_usd === undefined ? "None" : usd(r.monthly_limit_usd, { cents: true })],
                ].map(([label, text]) => h("td", { dataset: { label } }, h("div.cell-value", text))),
              ),
            ),
          ),
        ),
      ),
    );
  }

  async function submit(event) {
    event.preventDefault();
    done.hidden = true;
    const name = account.value.trim();
    const billing = await attempt(add, problem, () => api.addCredit(name, amount.value.trim(), memo.value.trim()));
    if (!billing) return;
    done.textContent = `Added ${usd(amount.value.trim())} to ${name}. Their balance is now ${usd(billing.balance_usd, { cents: true })}.`;
    done.hidden = false;
    amount.value = "";
    memo.value = "";
    await load().catch(() => {});
  }

  load().catch((err) => mount(list, h("p.error-box", `Could not load the accounts: ${err.message}`)));
  return h(
    "section.cluster-section",
    { "aria-labelledby": "credit-title" },
    h("h2#credit-title", "Credit"),
    h("p.muted.section-note", "Prepaid credit per account. A top-up is added to the account's balance at once and written to its ledger with the memo."),
    list,
    h(
      "form.admin-form.credit-form",
      { novalidate: true, "aria-label": "Add credit", onsubmit: submit },
      field("Account", account),
      accounts,
      field("Amount (USD)", amount),
      field("Memo", memo),
      h("div.admin-form-actions", add),
    ),
    problem,
    done,
  );
}

/** The prices and credit sections, below the cluster (they are not redrawn by its refresh). */
export function billingAdmin({ signal }) {
  return h("div.cluster.admin-billing", pricesSection(signal), creditSection(signal));
}
