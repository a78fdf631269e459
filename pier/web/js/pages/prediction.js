// One prediction: its input, live output and logs, metrics, timestamps, the
// full JSON, and "Tweak" to open the model form filled with this input.

import { api } from "../api.js";
import { codeTab } from "../codetab.js";
import { copyText, h, icon, mount } from "../dom.js";
import { TIMING, ago, cost, dateTime, duration, shortId, timings } from "../format.js";
import { isFileUrl, mediaKind } from "../media.js";
import { ownFileId, ownFileView } from "../ownfiles.js";
import { nounNote } from "../nouns.js";
import { tweakInput } from "../playground.js";
import { navigate } from "../router.js";
import { ignoredText, ignoredWords, runView } from "../runview.js";
import { humanize, inputFields, mainTextField, outputShape } from "../schema.js";
import { isTerminal } from "../status.js";

const SOURCE_TEXT = { web: "from the playground", api: "from the API", example: "an example made at first start" };

function inputValue(value) {
  if (ownFileId(value)) return ownFileView(value);
  if (isFileUrl(value)) {
    const kind = mediaKind(value);
    const name = decodeURIComponent(String(value).split("?")[0].split("/").pop() || "file");
    return h(
      "span.input-file",
      kind === "image" ? h("img.input-thumb", { src: value, alt: "" }) : null,
      h("a", { href: value, target: "_blank", rel: "noopener" }, name),
    );
  }
  if (value === null || value === undefined) return h("em.muted", "(empty)");
  if (typeof value === "string") return h("span.input-text", value === "" ? h("em.muted", "(empty)") : value);
  if (Array.isArray(value) && value.every(isFileUrl)) return h("span.input-files", value.map((v) => inputValue(v)));
  if (typeof value === "object" && value !== null) return h("code.input-json", JSON.stringify(value));
  return h("code", String(value));
}

function inputTable(p, fields) {
  const input = p.input || {};
  const entries = Object.entries(input);
  const picked = p.metrics && p.metrics.seed;
  // A seed left to chance is not in the input; the one the model picked is shown in its place.
  if (typeof picked === "number" && fields.some((f) => f.name === "seed") && !("seed" in input)) entries.push(["seed", null]);
  const main = mainTextField(fields);
  const ignored = ignoredWords(p);
  const seed = p.metrics && p.metrics.seed;
  const note = (key) => {
    if (main && key === main.name && ignored.length) return h("p.field-note", { role: "note" }, ignoredText(ignored));
    if (key === "seed" && (input.seed === null || input.seed === undefined) && typeof seed === "number") {
      return h("p.muted.seed-note", `Left empty: the model picked seed ${seed}; the code and Tweak use it.`);
    }
    return null;
  };
  if (!entries.length) return h("p.muted", "No input (the model used its defaults).");
  const order = new Map(fields.map((f, i) => [f.name, i]));
  const titles = new Map(fields.map((f) => [f.name, f.title]));
  entries.sort(([a], [b]) => (order.get(a) ?? 1e9) - (order.get(b) ?? 1e9));
  return h(
    "dl.input-table",
    entries.flatMap(([key, value]) => [h("dt", titles.get(key) || humanize(key), h("span.muted.key-name", key)), h("dd", inputValue(value), note(key))]),
  );
}

function timing(p) {
  const m = p.metrics || {};
  const t = timings(p);
  const rows = [
    ["Created", p.created_at ? `${dateTime(p.created_at)} (${ago(p.created_at)})` : "—"],
    ["Started", dateTime(p.started_at)],
    ["Completed", dateTime(p.completed_at)],
  ].map(([k, v]) => [h("dt", k), h("dd", v)]);
  // The same four figures, names and formatting as the run view's badge and the history; the
  // JSON names beside them.
  for (const { key, label, metric, help } of TIMING) {
    rows.push([h("dt", { title: help }, label, h("code.muted.metric-name", metric)), h("dd", { dataset: { timing: key } }, t[key] === null ? "—" : duration(t[key]))]);
  }
  // What the run was charged, beside the times it was charged for.
  const price = cost(p);
  if (price) rows.push([h("dt", { title: "what this prediction was charged" }, "Cost", h("code.muted.metric-name", "cost_usd")), h("dd", { dataset: { cost: "" } }, price)]);
  const known = new Set([...TIMING.map((x) => x.metric), "cost_usd"]);
  for (const [k, v] of Object.entries(m).filter(([k]) => !known.has(k))) {
    const number = (n) => (Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(6))));
    const text = typeof v === "number" ? number(v) : Array.isArray(v) ? v.join(", ") : JSON.stringify(v);
    rows.push([h("dt", humanize(k), h("code.muted.metric-name", k)), h("dd", text)]);
  }
  return h("dl.timing-table", rows.flat());
}

export async function render({ view, params, signal, setTitle }) {
  const id = params.id;
  setTitle(`Prediction ${shortId(id)}`);
  mount(view, h("h1", `Prediction ${id}`), h("p.muted", { role: "status" }, "Loading…"));
  const p = await api.prediction(id, { signal });
  const [owner, name] = String(p.model || "").split("/");
  let version = null;
  if (owner && name && p.version) {
    version = await api.version(owner, name, p.version, { signal }).catch(() => null);
  }
  const schema = (version && version.openapi_schema) || {};
  const fields = inputFields(schema);
  const shape = version ? outputShape(schema) : { kind: "json" };

  const timingBox = h("div.timing");
  const jsonPre = h("pre.json", { tabindex: "0", "aria-label": "Prediction JSON" });
  const copyJson = h("button.btn.small", { type: "button", onclick: (e) => copyText(jsonPre.textContent, e.currentTarget) }, icon("copy"), h("span.label", "Copy JSON"));
  let current = p;
  // The code that repeats exactly this prediction: its input, with the seed the model picked.
  const code = version
    ? codeTab(
        () => ({
          origin: location.origin,
          ref: `${p.model}:${p.version}`,
          version: p.version,
          input: tweakInput(current, fields),
          shape,
          kind: shape.kind,
        }),
        { intro: "This code repeats exactly this prediction on this server (with the seed the model used), with the official clients or cURL. It reads your API token from " },
      )
    : null;
  const update = (fresh) => {
    current = fresh;
    if (code) code.refresh();
    mount(timingBox, timing(fresh));
    const text = JSON.stringify(fresh, null, 2);
    if (jsonPre.textContent !== text) jsonPre.textContent = text;
  };
  const live = runView(p, { shape, signal, showLink: false, showMetrics: false, onUpdate: update });

  const tweakHref = owner && name ? `/models/${owner}/${name}?tweak=${encodeURIComponent(p.id)}` : null;
  mount(
    view,
    h(
      "div.page-head.prediction-head",
      h(
        "div",
        h("p.breadcrumb", h("a", { href: "/predictions" }, "Predictions"), " / "),
        h("h1", "Prediction", h("span.pred-id", p.id)),
        h(
          "p.muted.subtitle",
          owner ? h("a", { href: `/models/${owner}/${name}` }, p.model) : p.model,
          p.version ? ` · version ${shortId(p.version, 12)}` : "",
          p.source ? ` · ${SOURCE_TEXT[p.source] || `from ${p.source}`}` : "",
          ` · created ${ago(p.created_at)}`,
        ),
        p.tweaked_from
          ? h("p.tweaked-from", icon("edit"), " Tweaked from ", h("a.tweaked-from-link", { href: `/predictions/${p.tweaked_from}` }, `prediction ${shortId(p.tweaked_from, 10)}`))
          : null,
      ),
      h(
        "div.head-actions",
        h("a.btn.compare-link", { href: `/compare?predictions=${encodeURIComponent(p.id)}` }, h("span.label", "Compare with other models")),
        tweakHref ? h("a.btn.primary.tweak", { href: tweakHref }, icon("edit"), h("span.label", "Tweak")) : null,
        tweakHref ? nounNote("tweak") : null,
        isTerminal(p) ? deleteButton(p) : null,
      ),
    ),
    p.data_removed ? h("p.notice", "The input and output of this prediction have been removed.") : null,
    h(
      "div.prediction-grid",
      h("section.pane", { "aria-labelledby": "out-h" }, h("h2#out-h", "Output"), live.element),
      h(
        "div.side",
        h("section.pane", { "aria-labelledby": "in-h" }, h("h2#in-h", "Input"), inputTable(p, fields)),
        h("section.pane", { "aria-labelledby": "time-h" }, h("h2#time-h", "Timing"), timingBox),
      ),
    ),
    code ? h("section.pane.code-pane", { "aria-labelledby": "code-h" }, h("h2#code-h", "Run it again from code"), code.element) : null,
    h("details.pane.json-pane", h("summary", h("h2", "Full JSON")), h("div.output-tools", copyJson), jsonPre),
  );
  update(live.prediction);
}

/** Delete an ended prediction for good (its files too), after asking; then back to the history. */
function deleteButton(p) {
  return h(
    "button.btn.delete-prediction",
    {
      type: "button",
      onclick: async (e) => {
        const button = e.currentTarget;
        if (!window.confirm("Delete this prediction, its input, output and files? This cannot be undone.")) return;
        button.disabled = true;
        try {
          await api.deletePrediction(p.id);
          navigate("/predictions", { replace: true });
        } catch (err) {
          button.disabled = false;
          button.replaceChildren(h("span.label", `Could not delete: ${err.message}`));
        }
      },
    },
    icon("trash"),
    h("span.label", "Delete"),
  );
}
