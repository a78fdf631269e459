// Inputs can point at the account's own uploads (`<server>/v1/files/{id}`). Those URLs need
// the token, so a plain <img> or link cannot open them: fetch the record and the bytes with
// the token, then show the file's name, a thumbnail for images, and a download that works.

import { api, fileBlob } from "./api.js";
import { h, icon } from "./dom.js";
import { bytes } from "./format.js";

const OWN_FILE = /\/v1\/files\/([^/?#]+)\/?$/;
const records = new Map();

/** The file id when `url` is one of this server's upload URLs, else null. */
export function ownFileId(url) {
  if (typeof url !== "string") return null;
  try {
    const parsed = new URL(url, location.href);
    const match = parsed.pathname.match(OWN_FILE);
    return match ? decodeURIComponent(match[1]) : null;
  } catch {
    return null;
  }
}

/** {name, content_type, size, objectUrl} for an upload, fetched once per page load. */
export function loadOwnFile(id) {
  if (!records.has(id)) {
    const loading = api.file(id).then(async (record) => {
      const blob = await fileBlob(id);
      return { ...record, objectUrl: URL.createObjectURL(blob) };
    });
    loading.catch(() => records.delete(id));
    records.set(id, loading);
  }
  return records.get(id);
}

/** A small view of an uploaded input file: thumbnail (images), name, size and Download. */
export function ownFileView(url) {
  const id = ownFileId(url);
  const thumb = h("span.file-thumb.icon-thumb", icon("other"));
  const name = h("span.file-name", id);
  const link = h("a.btn.small", { href: url, "aria-disabled": "true" }, icon("download"), h("span.label", "Download"));
  const view = h("span.own-file", thumb, name, link);
  loadOwnFile(id)
    .then((file) => {
      name.textContent = file.name || id;
      name.title = `${file.name} · ${file.content_type} · ${bytes(file.size)}`;
      if (String(file.content_type).startsWith("image/")) {
        thumb.replaceWith(h("img.file-thumb", { src: file.objectUrl, alt: "" }));
      }
      link.href = file.objectUrl;
      link.setAttribute("download", file.name || id);
      link.removeAttribute("aria-disabled");
      link.querySelector(".label").after(h("span.visually-hidden", ` ${file.name}`));
    })
    .catch(() => {
      name.textContent = `${id} (no longer available)`;
      link.remove();
    });
  return view;
}
