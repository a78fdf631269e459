// The list of the account's predictions, newest first, with live status for
// the ones still running.

import { api } from "../api.js";
import { h, icon, mount } from "../dom.js";
import { ago, dateTime, duration, predictionDuration, shortId } from "../format.js";
import { isFileUrl, mediaKind } from "../media.js";
import { setQuery } from "../router.js";
import { isTerminal } from "../status.js";
import { phaseOf, secondsBetween } from "../watch.js";

/** A small preview of a prediction's output: first image, a line of text, or an icon. */
export function thumbnail(p) {
  const out = p.output;
  const values = Array.isArray(out) ? out : out === null || out === undefined ? [] : [out];
  const image = values.find((v) => isFileUrl(v) && mediaKind(v) === "image");
  if (image) return h("span.thumb", h("img", { src: image, alt: "", loading: "lazy" }));
  const media = values.find((v) => isFileUrl(v));
  if (media) {
    const kind = mediaKind(media);
    return h("span.thumb.icon-thumb", icon(kind === "video" || kind === "audio" ? kind : "other"));
  }
  if (values.length && values.every((v) => typeof v === "string")) {
    return h("span.thumb.text-thumb", { "aria-hidden": "true" }, values.join("").slice(0, 60));
  }
  if (values.length) return h("span.thumb.icon-thumb", icon("embedding"));
  const symbol = { failed: "x", canceled: "stop" }[p.status] || "clock";
  return h("span.thumb.icon-thumb", icon(symbol));
}

export function statusPill(p) {
  const phase = phaseOf(p);
  return h(`span.status-pill.phase-${phase.key}`, phase.label);
}

function row(p) {
  const d = predictionDuration(p);
  return h(
    "li.history-row",
    { dataset: { id: p.id } },
    h(
      "a.history-link",
      { href: `/predictions/${p.id}` },
      thumbnail(p),
      h("span.h-model", h("span.h-model-name", p.model || "—"), h("span.h-id.muted", shortId(p.id, 10))),
      h("span.h-status", statusPill(p)),
      h("span.h-created", { title: dateTime(p.created_at) }, h("span.visually-hidden", "Created "), ago(p.created_at)),
      h("span.h-duration", h("span.visually-hidden", "Duration "), d !== null ? duration(d) : isTerminal(p) ? "—" : `${duration(secondsBetween(p.started_at || p.created_at))} so far`),
    ),
  );
}

export async function render({ view, query, signal, setTitle }) {
  setTitle("Predictions");
  const modelFilter = query.get("model");
  const base = modelFilter ? `/v1/predictions?model=${encodeURIComponent(modelFilter)}` : "/v1/predictions";
  mount(view, h("div.page-head", h("h1", "Predictions")), h("p.muted", { role: "status" }, "Loading predictions…"));
  const first = await api.predictions(base, { signal });
  const items = [...(first.results || [])];
  let next = first.next;

  const list = h("ul.history-list", { "aria-label": "Predictions" });
  const more = h("button.btn.load-more", { type: "button", onclick: loadMore }, "Load more");
  const filter = modelFilter
    ? h(
        "p.filter-note",
        "Showing predictions of ",
        h("a", { href: `/models/${modelFilter}` }, modelFilter),
        ". ",
        h("a", { href: "/predictions", onclick: () => setQuery({ model: "" }) }, "Show all"),
      )
    : null;

  function draw() {
    if (!items.length) {
      list.replaceChildren(
        h("li.empty-state", h("p", modelFilter ? "No predictions of this model yet." : "No predictions yet."), h("a.btn.primary", { href: modelFilter ? `/models/${modelFilter}` : "/" }, "Run a model")),
      );
    } else {
      list.replaceChildren(...items.map(row));
    }
    more.hidden = !next;
  }

  async function loadMore() {
    more.disabled = true;
    try {
      const page = await api.predictions(next, { signal });
      items.push(...(page.results || []));
      next = page.next;
      draw();
    } finally {
      more.disabled = false;
    }
  }

  // Keep running predictions' rows current.
  async function refresh() {
    if (signal.aborted) return;
    const open = items.filter((p) => !isTerminal(p));
    await Promise.all(
      open.map(async (p) => {
        try {
          const fresh = await api.prediction(p.id, { signal });
          const i = items.findIndex((x) => x.id === p.id);
          if (i >= 0 && JSON.stringify(fresh) !== JSON.stringify(items[i])) {
            items[i] = fresh;
            const old = list.querySelector(`[data-id="${CSS.escape(p.id)}"]`);
            if (old) old.replaceWith(row(fresh));
          }
        } catch {
          // Try again on the next round.
        }
      }),
    );
    if (!signal.aborted) setTimeout(refresh, 1500);
  }

  mount(
    view,
    h("div.page-head", h("div", h("h1", "Predictions"), h("p.muted.subtitle", "Everything you have run, newest first."))),
    filter,
    h(
      "div.history-header",
      { "aria-hidden": "true" },
      h("span"),
      h("span", "Model"),
      h("span", "Status"),
      h("span", "Created"),
      h("span", "Duration"),
    ),
    list,
    more,
  );
  draw();
  setTimeout(refresh, 1500);
}
