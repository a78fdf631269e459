// Render a prediction's output by what it is: images in a gallery with a
// full-size view, video and audio players, streaming text, numbers, vectors,
// JSON, and a download link for every file.

import { copyText, h, icon } from "./dom.js";
import { extensionOf, isFileUrl, mediaKind, probeKind } from "./media.js";

/**
 * `shape` comes from schema.outputShape(); `live` is true while the
 * prediction is still running (text streams then show a caret).
 */
export function renderOutput(output, { shape = { kind: "json" }, live = false } = {}) {
  if (output === null || output === undefined) return null;
  if (shape.kind === "text-stream" || (Array.isArray(output) && output.length && output.every((x) => typeof x === "string") && !output.some(isFileUrl) && shape.iterator)) {
    const text = Array.isArray(output) ? output.join("") : String(output);
    return textOutput(text, live);
  }
  if (typeof output === "string") return isFileUrl(output) ? filesOutput([output]) : textOutput(output, false);
  if (typeof output === "number" || typeof output === "boolean") return h("div.scalar-output", String(output));
  if (Array.isArray(output)) {
    if (output.length && output.every(isFileUrl)) return filesOutput(output);
    if (output.length > 2 && output.every((x) => typeof x === "number")) return vectorOutput(output);
    if (output.length && output.every((x) => Array.isArray(x) && x.length && x.every((y) => typeof y === "number"))) {
      return vectorList(output);
    }
  }
  return jsonOutput(output);
}

function textOutput(text, live) {
  const body = h("div.text-output", { tabindex: "0", role: "region", "aria-label": "Text output" }, text, live ? h("span.caret", { "aria-hidden": "true" }) : null);
  const copy = h("button.btn.ghost.small", { type: "button", onclick: (e) => copyText(text, e.currentTarget) }, icon("copy"), h("span.label", "Copy"));
  return h("div.output-block", body, h("div.output-tools", copy));
}

// Many vectors (a batch of embeddings): plot the first few, and keep all of them in the JSON.
const SHOWN_VECTORS = 12;

function vectorList(vectors) {
  const shown = vectors.slice(0, SHOWN_VECTORS).map((v, i) => vectorOutput(v, `Vector ${i + 1} of ${vectors.length}: `));
  const more = vectors.length > SHOWN_VECTORS ? h("p.muted", `${vectors.length - SHOWN_VECTORS} more in the JSON below.`) : null;
  return h("div.stack", shown, more, jsonOutput(vectors, { collapsed: true, label: `All ${vectors.length} vectors as JSON` }));
}

function vectorOutput(values, prefix = "") {
  const min = Math.min(...values);
  const max = Math.max(...values);
  const norm = Math.sqrt(values.reduce((s, v) => s + v * v, 0));
  const width = 600;
  const height = 60;
  const span = max - min || 1;
  const points = values
    .map((v, i) => `${((i / Math.max(1, values.length - 1)) * width).toFixed(1)},${(height - ((v - min) / span) * height).toFixed(1)}`)
    .join(" ");
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("class", "sparkline");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `Plot of ${values.length} values`);
  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("points", points);
  svg.append(line);
  const fmt = (n) => Number(n.toPrecision(4));
  return h(
    "div.vector-output",
    h("p.vector-summary", h("strong", `${prefix}${values.length}-dimensional vector`), ` · min ${fmt(min)} · max ${fmt(max)} · norm ${fmt(norm)}`),
    svg,
    prefix ? null : jsonOutput(values, { collapsed: true, label: "All values" }),
  );
}

export function jsonOutput(value, { collapsed = false, label = "JSON" } = {}) {
  const text = JSON.stringify(value, null, 2);
  const pre = h("pre.json", { tabindex: "0" }, text);
  const copy = h("button.btn.ghost.small", { type: "button", onclick: (e) => copyText(text, e.currentTarget) }, icon("copy"), h("span.label", "Copy"));
  const files = collectUrls(value);
  const links = files.length ? h("ul.download-list", files.map((url) => h("li", downloadLink(url)))) : null;
  if (collapsed) return h("details.json-details", h("summary", label), pre, h("div.output-tools", copy));
  return h("div.output-block", pre, links, h("div.output-tools", copy));
}

function collectUrls(value, out = []) {
  if (isFileUrl(value) && !String(value).startsWith("data:")) out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => collectUrls(v, out));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => collectUrls(v, out));
  return out;
}

function fileLabel(url, index) {
  if (url.startsWith("data:")) return `output-${index + 1}.${extensionOf(url) || "bin"}`;
  try {
    return decodeURIComponent(new URL(url, location.href).pathname.split("/").pop()) || `output-${index + 1}`;
  } catch {
    return `output-${index + 1}`;
  }
}

function downloadLink(url, index = 0) {
  const name = fileLabel(url, index);
  return h("a.btn.small.download", { href: url, download: name, target: "_blank", rel: "noopener" }, icon("download"), h("span.label", "Download"), h("span.visually-hidden", ` ${name}`));
}

/** Files: images become a gallery, the rest get players or links. */
function filesOutput(urls) {
  const container = h("div.files-output");
  const images = [];
  urls.forEach((url, index) => {
    const slot = h("div.file-slot");
    container.append(slot);
    const kind = mediaKind(url);
    if (kind === "file") {
      // No telling extension: ask the server what it is, then fill the slot.
      slot.append(h("p.muted", "Loading file…"));
      probeKind(url).then((k) => slot.replaceChildren(fileItem(url, k, index, images, urls.length)));
    } else {
      slot.append(fileItem(url, kind, index, images, urls.length));
    }
  });
  container.classList.toggle("gallery", urls.length > 1 && urls.every((u) => mediaKind(u) === "image"));
  return container;
}

function fileItem(url, kind, index, images, total) {
  const name = fileLabel(url, index);
  if (kind === "image") {
    images.push(url);
    const open = () => openLightbox(images, images.indexOf(url));
    const img = h("img.output-image", { src: url, alt: total > 1 ? `Output image ${index + 1} of ${total}` : "Output image", loading: "lazy", decoding: "async", onclick: open });
    return h(
      "figure.image-item",
      img,
      h(
        "figcaption.output-tools",
        h("button.btn.small", { type: "button", onclick: open }, icon("expand"), h("span.label", "Full size"), h("span.visually-hidden", ` ${name}`)),
        downloadLink(url, index),
      ),
    );
  }
  if (kind === "video") {
    return h("figure.media-item", h("video", { src: url, controls: true, playsinline: true, preload: "metadata", "aria-label": name }), h("figcaption.output-tools", downloadLink(url, index)));
  }
  if (kind === "audio") {
    return h("figure.media-item", h("audio", { src: url, controls: true, preload: "metadata", "aria-label": name }), h("figcaption.output-tools", downloadLink(url, index)));
  }
  if (kind === "text" || kind === "json") {
    const pre = h("pre.json.file-preview", { tabindex: "0" }, "Loading…");
    fetch(url)
      .then((r) => r.text())
      .then((t) => (pre.textContent = t.length > 100000 ? `${t.slice(0, 100000)}\n…` : t))
      .catch(() => (pre.textContent = "Could not load a preview."));
    return h("div.file-item-output", h("p.file-name", name), pre, h("div.output-tools", downloadLink(url, index)));
  }
  return h("div.file-item-output", h("p.file-name", icon("other"), " ", name), h("div.output-tools", downloadLink(url, index)));
}

// One shared <dialog> shows images full size; arrows move, Escape closes.
let lightbox = null;

function openLightbox(urls, start) {
  if (!lightbox) lightbox = buildLightbox();
  lightbox.show(urls, Math.max(0, start));
}

function buildLightbox() {
  const img = h("img.lightbox-image", { alt: "" });
  const counter = h("span.lightbox-count");
  const download = h("a.btn.small", { download: "" }, icon("download"), h("span.label", "Download"));
  const prev = h("button.btn.small", { type: "button", "aria-label": "Previous image", onclick: () => move(-1) }, "‹");
  const next = h("button.btn.small", { type: "button", "aria-label": "Next image", onclick: () => move(1) }, "›");
  const close = h("button.btn.small", { type: "button", onclick: () => dialog.close() }, icon("x"), h("span.label", "Close"));
  const dialog = h(
    "dialog.lightbox",
    { "aria-label": "Full-size image", onclick: (e) => e.target === dialog && dialog.close() },
    h("div.lightbox-bar", counter, h("span.spacer"), prev, next, download, close),
    h("div.lightbox-stage", img),
  );
  dialog.addEventListener("keydown", (e) => {
    if (e.key === "ArrowLeft") move(-1);
    if (e.key === "ArrowRight") move(1);
  });
  document.body.append(dialog);
  let list = [];
  let index = 0;
  function showAt(i) {
    index = (i + list.length) % list.length;
    img.src = list[index];
    img.alt = `Image ${index + 1} of ${list.length}`;
    download.href = list[index];
    download.setAttribute("download", fileLabel(list[index], index));
    counter.textContent = list.length > 1 ? `${index + 1} / ${list.length}` : "";
    prev.hidden = next.hidden = list.length < 2;
  }
  function move(d) {
    if (list.length > 1) showAt(index + d);
  }
  return {
    show(urls, i) {
      list = urls;
      showAt(i);
      dialog.showModal();
      close.focus();
    },
  };
}
