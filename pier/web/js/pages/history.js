// The list of the account's predictions, newest first: each row with its prompt, a thumbnail,
// where it came from and how long it took; filters by model, status and source (kept in the
// address); live status for the ones still running; and a selection that opens in Compare.

import { api } from "../api.js";
import { h, icon, mount } from "../dom.js";
import { TIMING, ago, dateTime, duration, shortId, timings } from "../format.js";
import { isFileUrl, mediaKind } from "../media.js";
import { navigate, setQuery } from "../router.js";
import { promptOf } from "../schema.js";
import { isTerminal } from "../status.js";
import { phaseOf } from "../watch.js";

/** Where a prediction came from, as the API's `source` spells it. */
export const SOURCES = { web: "Playground", api: "API", example: "Example" };

const STATUSES = { starting: "Starting", processing: "Processing", succeeded: "Succeeded", failed: "Failed", canceled: "Canceled" };

// The source filter: the default (no parameter) is the person's own predictions.
const SOURCE_FILTERS = [
  ["", "Yours (playground and API)"],
  ["web", "Playground"],
  ["api", "API"],
  ["example", "Examples"],
  ["all", "All"],
];

/** A small preview of a prediction's output: an image, a video's first frame, text, or an icon. */
export function thumbnail(p) {
  const out = p.output;
  const values = Array.isArray(out) ? out : out === null || out === undefined ? [] : [out];
  const image = values.find((v) => isFileUrl(v) && mediaKind(v) === "image");
  if (image) return h("span.thumb", h("img", { src: image, alt: "", loading: "lazy" }));
  const video = values.find((v) => isFileUrl(v) && mediaKind(v) === "video");
  if (video) {
    // The browser fetches only the header and the frame at 0.1 s: a poster without a server-side still.
    return h(
      "span.thumb.video-thumb",
      h("video", { src: `${video}#t=0.1`, preload: "metadata", muted: true, playsInline: true, tabIndex: -1, "aria-hidden": "true" }),
      h("span.thumb-badge", icon("play")),
    );
  }
  const media = values.find((v) => isFileUrl(v));
  if (media) return h("span.thumb.icon-thumb", icon(mediaKind(media) === "audio" ? "audio" : "other"));
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

export function sourceBadge(p) {
  const label = SOURCES[p.source] || p.source || "API";
  return h(`span.source-badge.source-${p.source || "api"}`, label);
}

/** Total time (created to completed), with the queue, setup and run times in its tooltip. */
function durationCell(p) {
  const times = timings(p);
  const parts = TIMING.filter((t) => times[t.key] !== null).map((t) => `${t.label} ${duration(times[t.key])}`);
  const title = isTerminal(p) && parts.length ? parts.join(" · ") : undefined;
  const text = times.total === null ? "—" : isTerminal(p) ? duration(times.total) : `${duration(times.total)} so far`;
  return h("span.h-duration", { title }, h("span.visually-hidden", "Total time "), text);
}

function row(p, selection) {
  const prompt = promptOf(p.input);
  const box = h("input", {
    type: "checkbox",
    checked: selection.has(p.id),
    "aria-label": `Select ${prompt ? `“${prompt.slice(0, 40)}”` : p.model || "prediction"} (${shortId(p.id, 10)}) to compare`,
    onchange: () => selection.toggle(p.id, box.checked),
  });
  return h(
    "li.history-row",
    { dataset: { id: p.id } },
    h("span.h-select", box),
    h(
      "a.history-link",
      { href: `/predictions/${p.id}` },
      thumbnail(p),
      h(
        "span.h-main",
        prompt ? h("span.h-prompt", prompt) : null,
        h("span.h-model", h("span.h-model-name", p.model || "—"), h("span.h-id.muted", shortId(p.id, 10))),
      ),
      h("span.h-source", h("span.visually-hidden", "From "), sourceBadge(p)),
      h("span.h-status", statusPill(p)),
      h("span.h-created", { title: dateTime(p.created_at) }, h("span.visually-hidden", "Created "), ago(p.created_at)),
      durationCell(p),
    ),
  );
}

function filterSelect(id, label, options, value, onChange) {
  const select = h(
    `select#${id}`,
    { onchange: () => onChange(select.value) },
    options.map(([v, text]) => h("option", { value: v }, text)),
  );
  select.value = options.some(([v]) => v === value) ? value : "";
  return h("div.filter", h("label", { for: id }, label), select);
}

export async function render({ view, query, signal, setTitle }) {
  setTitle("Predictions");
  const filters = { model: query.get("model") || "", status: query.get("status") || "", source: query.get("source") || "" };
  mount(view, h("div.page-head", h("h1", "Predictions")), h("p.muted", { role: "status" }, "Loading predictions…"));
  const models = await api.models({ signal }).catch(() => []);

  let items = [];
  let next = null;
  let generation = 0;
  const list = h("ul.history-list", { "aria-label": "Predictions" });
  const more = h("button.btn.load-more", { type: "button", onclick: loadMore }, "Load more");
  const status = h("p.visually-hidden", { role: "status" });

  // The predictions picked for Compare (kept while filters change).
  const picked = [];
  const compareButton = h("button.btn.primary.small", { type: "button", onclick: () => navigate(`/compare?predictions=${picked.join(",")}`) }, h("span.label", "Compare"));
  const pickedText = h("span.muted");
  const selection = {
    has: (id) => picked.includes(id),
    toggle(id, on) {
      const i = picked.indexOf(id);
      if (on && i < 0) picked.push(id);
      if (!on && i >= 0) picked.splice(i, 1);
      drawSelection();
    },
  };
  function drawSelection() {
    compareButton.disabled = picked.length < 2;
    compareButton.querySelector(".label").textContent = picked.length >= 2 ? `Compare ${picked.length}` : "Compare";
    pickedText.textContent = picked.length ? `${picked.length} selected.` : "Tick two or more to see them side by side.";
  }

  const modelOptions = [["", "All models"], ...models.map((m) => [`${m.owner}/${m.name}`, `${m.owner}/${m.name}`])];
  if (filters.model && !modelOptions.some(([v]) => v === filters.model)) modelOptions.push([filters.model, filters.model]);
  const toolbar = h(
    "div.toolbar.history-filters",
    { role: "group", "aria-label": "Filters" },
    filterSelect("filter-model", "Model", modelOptions, filters.model, (v) => change("model", v)),
    filterSelect("filter-status", "Status", [["", "Any status"], ...Object.entries(STATUSES)], filters.status, (v) => change("status", v)),
    filterSelect("filter-source", "From", SOURCE_FILTERS, filters.source, (v) => change("source", v)),
  );

  function change(key, value) {
    filters[key] = value;
    setQuery({ [key]: value });
    load();
  }

  function url() {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    const text = q.toString();
    return text ? `/v1/predictions?${text}` : "/v1/predictions";
  }

  async function load() {
    const mine = ++generation;
    list.setAttribute("aria-busy", "true");
    try {
      const first = await api.predictions(url(), { signal });
      if (mine !== generation) return;
      items = [...(first.results || [])];
      next = first.next;
      draw();
      status.textContent = `${items.length}${next ? "+" : ""} prediction${items.length === 1 ? "" : "s"}`;
    } catch (err) {
      if (err.name === "AbortError" || mine !== generation) return;
      list.replaceChildren(h("li.error-box", err.message));
      next = null;
      more.hidden = true;
    } finally {
      if (mine === generation) list.removeAttribute("aria-busy");
    }
  }

  function draw() {
    if (!items.length) {
      const filtered = Object.values(filters).some(Boolean);
      list.replaceChildren(
        h(
          "li.empty-state",
          h("p", filtered ? "No predictions match these filters." : "No predictions yet."),
          h("a.btn.primary", { href: filters.model ? `/models/${filters.model}` : "/" }, "Run a model"),
        ),
      );
    } else {
      list.replaceChildren(...items.map((p) => row(p, selection)));
    }
    more.hidden = !next;
  }

  async function loadMore() {
    more.disabled = true;
    const mine = generation;
    try {
      const page = await api.predictions(next, { signal });
      if (mine !== generation) return;
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
            if (old) old.replaceWith(row(fresh, selection));
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
    toolbar,
    h("div.compare-bar", pickedText, compareButton),
    status,
    h(
      "div.history-header",
      { "aria-hidden": "true" },
      h("span"),
      h("span", "Prompt and model"),
      h("span", "From"),
      h("span", "Status"),
      h("span", "Created"),
      h("span", "Total time"),
    ),
    list,
    more,
  );
  drawSelection();
  await load();
  setTimeout(refresh, 1500);
}
