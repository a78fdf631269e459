// One prediction: its input, live output and logs, metrics, timestamps, the
// full JSON, and "Tweak" to open the model form filled with this input.

import { api } from "../api.js";
import { copyText, h, icon, mount } from "../dom.js";
import { ago, dateTime, duration, shortId } from "../format.js";
import { isFileUrl, mediaKind } from "../media.js";
import { ownFileId, ownFileView } from "../ownfiles.js";
import { runView } from "../runview.js";
import { humanize, inputFields, outputShape } from "../schema.js";
import { secondsBetween } from "../watch.js";

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
  if (typeof value === "string") return h("span.input-text", value === "" ? h("em.muted", "(empty)") : value);
  if (Array.isArray(value) && value.every(isFileUrl)) return h("span.input-files", value.map((v) => inputValue(v)));
  if (typeof value === "object" && value !== null) return h("code.input-json", JSON.stringify(value));
  return h("code", String(value));
}

function inputTable(input, fields) {
  const entries = Object.entries(input || {});
  if (!entries.length) return h("p.muted", "No input (the model used its defaults).");
  const order = new Map(fields.map((f, i) => [f.name, i]));
  const titles = new Map(fields.map((f) => [f.name, f.title]));
  entries.sort(([a], [b]) => (order.get(a) ?? 1e9) - (order.get(b) ?? 1e9));
  return h(
    "dl.input-table",
    entries.flatMap(([key, value]) => [h("dt", titles.get(key) || humanize(key), h("span.muted.key-name", key)), h("dd", inputValue(value))]),
  );
}

function timing(p) {
  const m = p.metrics || {};
  const rows = [
    ["Created", p.created_at ? `${dateTime(p.created_at)} (${ago(p.created_at)})` : "—"],
    ["Started", dateTime(p.started_at)],
    ["Completed", dateTime(p.completed_at)],
    ["Queue time", typeof m.queue_time === "number" ? duration(m.queue_time) : secondsBetween(p.created_at, p.started_at) !== null && p.started_at ? duration(secondsBetween(p.created_at, p.started_at)) : "—"],
    ["Setup time", typeof m.setup_time === "number" ? duration(m.setup_time) : "—"],
    ["Predict time", typeof m.predict_time === "number" ? duration(m.predict_time) : "—"],
    ["Total time", typeof m.total_time === "number" ? duration(m.total_time) : "—"],
  ];
  const extra = Object.entries(m).filter(([k]) => !["queue_time", "setup_time", "predict_time", "total_time"].includes(k));
  for (const [k, v] of extra) rows.push([humanize(k), typeof v === "number" ? String(Number(v.toPrecision(6))) : JSON.stringify(v)]);
  return h("dl.timing-table", rows.flatMap(([k, v]) => [h("dt", k), h("dd", v)]));
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
  const update = (fresh) => {
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
          p.source ? ` · from the ${p.source === "web" ? "playground" : p.source}` : "",
          ` · created ${ago(p.created_at)}`,
        ),
      ),
      h(
        "div.head-actions",
        tweakHref ? h("a.btn.primary.tweak", { href: tweakHref }, icon("edit"), h("span.label", "Tweak")) : null,
      ),
    ),
    p.data_removed ? h("p.notice", "The input and output of this prediction have been removed.") : null,
    h(
      "div.prediction-grid",
      h("section.pane", { "aria-labelledby": "out-h" }, h("h2#out-h", "Output"), live.element),
      h(
        "div.side",
        h("section.pane", { "aria-labelledby": "in-h" }, h("h2#in-h", "Input"), inputTable(p.input, fields)),
        h("section.pane", { "aria-labelledby": "time-h" }, h("h2#time-h", "Timing"), timingBox),
      ),
    ),
    h("details.pane.json-pane", h("summary", h("h2", "Full JSON")), h("div.output-tools", copyJson), jsonPre),
  );
  update(live.prediction);
}
