// The cost estimate beside Run (GET /v1/billing/estimate): "Free", "$0.25 per run", or
// "≈ $0.0012" from recent runs of the version. Nothing at all when the server has none.

import { api } from "./api.js";
import { h } from "./dom.js";
import { duration } from "./format.js";
import { usd } from "./money.js";

const UNIT_WORDS = { per_second: "second", per_run: "run" };

/** What a price costs, in words: "$0.0001 per second of cpu", "$0.01 per image". */
export function priceText(price) {
  if (!price || typeof price !== "object") return "";
  for (const basis of ["per_second", "per_run", "per_unit"]) {
    const amount = price[`${basis}_usd`];
    if (amount === null || amount === undefined) continue;
    const unit = basis === "per_unit" ? price.unit || "unit" : UNIT_WORDS[basis];
    const on = basis === "per_second" && price.hardware ? ` of ${price.hardware}` : "";
    return `${usd(amount)} per ${unit}${on}`;
  }
  return "";
}

/** The estimate's short text and its longer explanation (for the tooltip). */
export function estimateText(estimate) {
  if (!estimate || typeof estimate !== "object") return null;
  if (estimate.basis === "free") return { text: "Free", title: "Runs of this model cost nothing on this server." };
  const price = priceText(estimate.price);
  const hold = estimate.hold_usd ? ` Up to ${usd(estimate.hold_usd)} is held from your credit while it runs; only the real cost is charged.` : "";
  if (estimate.estimate_usd === null || estimate.estimate_usd === undefined) {
    // No run of this version measured yet: the price says more than a guess would.
    return price ? { text: price, title: `No run of this version has been measured yet.${hold}` } : null;
  }
  if (estimate.basis === "per_run") return { text: `${usd(estimate.estimate_usd)} per run`, title: price ? `The price is ${price}.` : "A fixed price per run." };
  const seconds = estimate.typical_run_seconds;
  const basis = typeof seconds === "number" ? `Estimated from recent runs of this version (about ${duration(seconds)} each)` : "Estimated before any run of this version was measured";
  return { text: `≈ ${usd(estimate.estimate_usd)}`, title: `${basis}${price ? ` at ${price}` : ""}.${hold}` };
}

/**
 * A note for beside Run, filled in once the server answers for `ref` ("owner/name:version");
 * `refresh()` asks again (after a run, whose time changes the estimate).
 */
export function estimateNote(ref, { signal } = {}) {
  const element = h("span.run-estimate.muted", { dataset: { estimate: "" } });
  async function refresh() {
    let shown = null;
    try {
      shown = estimateText(await api.estimate(ref, { signal }));
    } catch {
      shown = null; // no estimate: say nothing rather than guess
    }
    if (signal && signal.aborted) return;
    element.replaceChildren(...(shown ? [h("span.visually-hidden", "Estimated cost: "), shown.text] : []));
    element.title = shown ? shown.title : "";
    element.classList.toggle("free", Boolean(shown && shown.text === "Free"));
  }
  refresh();
  return { element, refresh };
}
