// The gallery: every model as a card, with search and a filter by kind.

import { api } from "../api.js";
import { h, icon, mount } from "../dom.js";
import { count } from "../format.js";
import { setQuery } from "../router.js";

export const KINDS = ["image", "video", "text", "audio", "embedding", "other"];
const KIND_LABELS = { image: "Image", video: "Video", text: "Text", audio: "Audio", embedding: "Embedding", other: "Other" };

export function kindBadge(kind) {
  const k = KINDS.includes(kind) ? kind : "other";
  return h(`span.kind-badge.kind-${k}`, icon(k), KIND_LABELS[k]);
}

export function coverFor(model, { large = false } = {}) {
  const kind = KINDS.includes(model.kind) ? model.kind : "other";
  // No cover, or one that does not load: a tinted panel with the kind's icon and the initial.
  const placeholder = () =>
    h(`div.cover.placeholder.kind-${kind}${large ? ".large" : ""}`, { "aria-hidden": "true" }, icon(kind), h("span.cover-initial", model.name.slice(0, 1).toUpperCase()));
  if (!model.cover_image_url) return placeholder();
  const cover = h(
    `div.cover${large ? ".large" : ""}`,
    h("img", { src: model.cover_image_url, alt: "", loading: "lazy", decoding: "async", onerror: () => cover.replaceWith(placeholder()) }),
  );
  return cover;
}

function card(model) {
  return h(
    "li.model-card",
    h(
      "a.card-link",
      { href: `/models/${model.owner}/${model.name}` },
      coverFor(model),
      h(
        "div.card-body",
        h("h2.card-title", h("span.owner", `${model.owner}/`), model.name),
        h("p.card-desc", model.description || "No description."),
        h("div.card-foot", kindBadge(model.kind), h("span.run-count", icon("play"), count(model.run_count, "run"))),
      ),
    ),
  );
}

function matches(model, text, kind) {
  if (kind && (KINDS.includes(model.kind) ? model.kind : "other") !== kind) return false;
  if (!text) return true;
  const hay = `${model.owner}/${model.name} ${model.description || ""} ${model.kind || ""}`.toLowerCase();
  return text
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((word) => hay.includes(word));
}

export async function render({ view, query, signal, setTitle }) {
  setTitle("Models");
  mount(view, h("div.page-head", h("h1", "Models")), h("p.muted", { role: "status" }, "Loading models…"));
  const models = await api.models({ signal });

  let text = query.get("q") || "";
  let kind = KINDS.includes(query.get("kind")) ? query.get("kind") : "";

  const search = h("input#model-search", {
    type: "search",
    value: text,
    placeholder: "Search by name or description",
    autocomplete: "off",
    oninput: () => {
      text = search.value;
      setQuery({ q: text });
      update();
    },
  });
  const counts = Object.fromEntries(KINDS.map((k) => [k, models.filter((m) => matches(m, "", k)).length]));
  const kinds = KINDS.filter((k) => k !== "other" || counts.other);
  const chips = h(
    "div.chips",
    { role: "radiogroup", "aria-label": "Kind of output" },
    ["", ...kinds].map((k) => {
      const id = `kind-${k || "all"}`;
      return h(
        "span.chip",
        h("input.visually-hidden", {
          type: "radio",
          name: "kind",
          id,
          value: k,
          checked: k === kind,
          onchange: () => {
            kind = k;
            setQuery({ kind: k });
            update();
          },
        }),
        h("label", { for: id }, k ? KIND_LABELS[k] : "All", h("span.chip-count", String(k ? counts[k] : models.length))),
      );
    }),
  );
  const grid = h("ul.model-grid", { "aria-label": "Models" });
  const summary = h("p.muted.result-count", { role: "status" });

  function update() {
    const shown = models.filter((m) => matches(m, text.trim(), kind));
    summary.textContent = shown.length === models.length ? count(models.length, "model") : `${shown.length} of ${count(models.length, "model")}`;
    if (!shown.length) {
      grid.replaceChildren(
        h(
          "li.empty-state.grid-empty",
          h("p", models.length ? "No model matches your search." : "No models yet. Create one and push a version to it, or start the server with its built-in models."),
          models.length
            ? h(
                "button.btn",
                {
                  type: "button",
                  onclick: () => {
                    text = "";
                    kind = "";
                    search.value = "";
                    chips.querySelector("#kind-all").checked = true;
                    setQuery({ q: "", kind: "" });
                    update();
                    search.focus();
                  },
                },
                "Clear filters",
              )
            : null,
        ),
      );
      return;
    }
    grid.replaceChildren(...shown.map(card));
  }

  mount(
    view,
    h(
      "div.page-head",
      h("div", h("h1", "Models"), h("p.muted.subtitle", "Pick a model, fill in its form, and watch it run.")),
      h("a.btn.new-model", { href: "/models/new" }, icon("plus"), h("span.label", "New model")),
    ),
    h(
      "div.toolbar",
      h("div.search", h("label.visually-hidden", { for: "model-search" }, "Search models"), icon("search"), search),
      chips,
    ),
    summary,
    grid,
  );
  update();
}
