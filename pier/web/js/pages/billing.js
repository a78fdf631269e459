// The billing page: balance, holds and what is available, this month's spend against the
// monthly limit, spend per day and per model, the ledger (with a CSV download), the limit
// and alert settings, and limits per API token.

import { api, ledgerCsv } from "../api.js";
import { settingsForm } from "../billingform.js";
import { dayChart, fillDays, modelChart } from "../chart.js";
import { h, icon, mount } from "../dom.js";
import { ago, dateTime, shortId } from "../format.js";
import { limitShare, toMicros, usd, usdText } from "../money.js";
import { tokenLimits } from "../tokenlimits.js";

const DAYS = 30;
const KINDS = { topup: "Top-up", hold: "Hold", release: "Released", charge: "Charge", adjust: "Adjustment" };

/** A figure at a glance: to the cent from a dollar up, the exact amount in its tooltip. */
function glance(value) {
  return h("span", { title: usd(value) }, usd(value, { cents: true }));
}

function tile(label, value, note, key) {
  return h("div.tile", { dataset: { figure: key } }, h("dt", label), h("dd", h("span.tile-value", glance(value)), note ? h("span.tile-note", note) : null));
}

function summary(b) {
  const held = toMicros(b.held_usd) || 0;
  return h(
    "dl.cluster-summary.billing-summary",
    tile("Balance", b.balance_usd, "your credit, holds included", "balance"),
    tile("Held", b.held_usd, held ? "set aside for predictions not yet ended" : "nothing running", "held"),
    tile("Available", b.available_usd, "what new predictions can use", "available"),
    tile("Spent this month", b.spent_this_month_usd, `${b.month} · ${usd(b.total_spent_usd, { cents: true })} in all`, "month"),
  );
}

/** This month's spend against the monthly limit, as a bar (or a note that there is none). */
function limitBar(b) {
  const spent = toMicros(b.spent_this_month_usd) || 0;
  const limit = toMicros(b.monthly_limit_usd);
  const share = limitShare(spent, limit);
  if (!share) {
    return h("p.limit-none.muted", `${usdText(spent, { cents: true })} spent this month. There is no monthly limit: set one below to cap what predictions may spend.`);
  }
  const fill = h(`span.limit-fill.level-${share.level}`);
  fill.style.width = `${share.percent}%`;
  const left = Math.max(0, limit - spent);
  return h(
    "div.limit",
    h("p.limit-text", h("strong", usdText(spent, { cents: true })), ` of ${usdText(limit, { cents: true })} this month`, h("span.muted", ` · ${usdText(left, { cents: true })} left`)),
    h(
      "div.limit-track",
      { role: "progressbar", "aria-label": "This month's spend against the limit", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(Math.round(share.percent)) },
      fill,
    ),
  );
}

/** The Amount cell: what a top-up or charge did to the balance; for a hold or release, what it
 * moved in or out of the held part (the balance stays the same). */
function amountCell(entry) {
  if (entry.kind === "hold" || entry.kind === "release") {
    const held = Math.abs(toMicros(entry.held_usd) || 0);
    return h("span.amount.moved", `${entry.kind === "hold" ? "held" : "released"} ${usdText(held)}`);
  }
  const amount = toMicros(entry.amount_usd) || 0;
  return h(`span.amount.${amount < 0 ? "debit" : "credit"}`, usdText(amount, { sign: true }));
}

function ledgerRow(entry) {
  const cell = (label, ...children) => h("td", { dataset: { label } }, h("div.cell-value", ...children));
  return h(
    "tr",
    { dataset: { kind: entry.kind, entry: String(entry.id) }, class: entry.kind === "hold" || entry.kind === "release" ? "is-hold" : null },
    h("th", { scope: "row", dataset: { label: "When" } }, h("div.cell-value", h("span", { title: dateTime(entry.created_at) }, ago(entry.created_at)))),
    cell("What", h(`span.kind-badge.kind-${entry.kind}`, KINDS[entry.kind] || entry.kind), entry.memo ? h("span.ledger-memo", entry.memo) : null),
    cell(
      "Prediction",
      entry.prediction_id
        ? h("span.ledger-ref", entry.model ? h("span", entry.model) : null, h("a.mono", { href: `/predictions/${entry.prediction_id}` }, shortId(entry.prediction_id, 10)))
        : h("span.muted", "—"),
    ),
    cell("Amount", amountCell(entry)),
  );
}

/** A `next` from the API: a link to follow, or a bare cursor for the ledger's `?cursor=`. */
function nextUrl(next) {
  if (!next) return null;
  return /^(https?:|\/)/.test(next) ? next : `/v1/billing/ledger?cursor=${encodeURIComponent(next)}`;
}

function ledgerSection(first, signal) {
  const body = h("tbody");
  const more = h("button.btn.load-more", { type: "button", onclick: loadMore }, "Load more");
  const problem = h("p.poll-error", { role: "status", hidden: true });
  let next = nextUrl(first.next);

  function add(page) {
    body.append(...page.results.map(ledgerRow));
    next = nextUrl(page.next);
    more.hidden = !next;
  }

  async function loadMore() {
    more.disabled = true;
    try {
      add(await api.ledger(next, { signal }));
      problem.hidden = true;
    } catch (err) {
      if (err.name === "AbortError") return;
      problem.textContent = `Could not load more: ${err.message}`;
      problem.hidden = false;
    } finally {
      more.disabled = false;
    }
  }

  const download = h("button.btn.small", { type: "button", onclick: (e) => saveCsv(e.currentTarget, problem) }, icon("download"), h("span.label", "Download CSV"));
  const table = first.results.length
    ? h(
        "div.table-scroll",
        h(
          "table.cluster-table.ledger-table",
          h("caption.visually-hidden", "Ledger"),
          h("thead", h("tr", ["When", "What", "Prediction", "Amount"].map((t) => h("th", { scope: "col" }, t)))),
          body,
        ),
      )
    : h("p.empty-note", "Nothing yet: top-ups, holds and charges show here as they happen.");
  add(first);
  return h(
    "section.billing-section",
    { "aria-labelledby": "ledger-title" },
    h("div.section-head", h("h2#ledger-title", "Ledger"), h("span.spacer"), download),
    h("p.muted.section-note", "Every change to your credit, newest first. A prediction first holds what it may cost; when it ends, the charge takes its real cost from the hold and the rest is released."),
    table,
    problem,
    more,
  );
}

/** Fetch the CSV with the token and hand it to the browser as a download. */
async function saveCsv(button, problem) {
  button.disabled = true;
  try {
    const blob = await ledgerCsv();
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: `pier-ledger-${new Date().toISOString().slice(0, 10)}.csv`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    problem.hidden = true;
  } catch (err) {
    problem.textContent = `Could not download the ledger: ${err.message}`;
    problem.hidden = false;
  } finally {
    button.disabled = false;
  }
}

function usageSection(usage) {
  const days = fillDays(usage.days, DAYS);
  const spent = days.some((d) => d.micros > 0);
  return h(
    "section.billing-section",
    { "aria-labelledby": "usage-title" },
    h("h2#usage-title", "Spend"),
    spent
      ? h("div.charts", h("div.pane", dayChart(days)), h("div.pane", modelChart(usage.models, DAYS)))
      : h("p.empty-note", `No spend in the last ${DAYS} days.`),
  );
}

export async function render({ view, signal, setTitle }) {
  setTitle("Billing");
  mount(view, h("h1", "Billing"), h("p.muted", { role: "status" }, "Loading…"));
  const [billing, usage, ledger] = await Promise.all([api.billing({ signal }), api.usage(DAYS, { signal }), api.ledger(null, { signal })]);

  const top = h("div.billing-top");
  const limitBox = h("div.pane.limit-pane");
  function draw(b) {
    mount(top, summary(b));
    mount(limitBox, h("h2", "Monthly limit"), limitBar(b));
  }
  draw(billing);

  mount(
    view,
    h("div.page-head", h("div", h("h1", "Billing"), h("p.muted.subtitle", "Your prepaid credit, what it went on, and the limits that guard it. Amounts are in US dollars."))),
    top,
    h("div.billing", limitBox, usageSection(usage), ledgerSection(ledger, signal), h(
      "section.billing-section.pane",
      { "aria-labelledby": "settings-title" },
      h("h2#settings-title", "Limit and alerts"),
      settingsForm(billing, { onSaved: draw }),
    ), tokenLimits({ signal })),
  );
}
