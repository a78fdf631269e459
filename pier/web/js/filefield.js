// The file input: a drop zone and picker that upload through /v1/files at once (with
// progress), a URL box for files that are already online, and previews.

import { uploadFile } from "./api.js";
import { h, icon } from "./dom.js";
import { bytes } from "./format.js";
import { mediaKind } from "./media.js";
import { loadOwnFile, ownFileId } from "./ownfiles.js";

function describedBy(ids) {
  return [ids.help, ids.error].filter(Boolean).join(" ");
}

/** A drop zone with a file picker that uploads through /v1/files, plus a URL box. */
export function fileWidget(field, ids, onChange) {
  const multiple = field.widget === "files";
  const entries = []; // {name, size, url, uploading: Promise|null, error, preview}
  const accept = acceptFor(field);
  const picker = h("input.visually-hidden", {
    id: ids.input,
    name: field.name,
    type: "file",
    multiple,
    accept,
    "aria-describedby": describedBy(ids),
    onchange: () => {
      addFiles([...picker.files]);
      picker.value = "";
    },
  });
  const list = h("ul.file-list", { "aria-live": "polite" });
  const urlBox = h("input.url", {
    type: "url",
    inputmode: "url",
    placeholder: "or paste a URL",
    "aria-label": `${field.title}: file URL`,
    oninput: onChange,
  });
  const zone = h(
    "div.dropzone",
    {
      ondragover: (e) => {
        e.preventDefault();
        zone.classList.add("over");
      },
      ondragleave: () => zone.classList.remove("over"),
      ondrop: (e) => {
        e.preventDefault();
        zone.classList.remove("over");
        addFiles([...e.dataTransfer.files]);
      },
    },
    picker,
    h("label.dropzone-label", { for: ids.input }, icon("upload"), h("span", multiple ? "Choose files" : "Choose a file"), h("span.muted", " or drop here")),
  );

  function addFiles(files) {
    if (!files.length) return;
    if (!multiple) entries.splice(0, entries.length);
    for (const file of files.slice(0, multiple ? files.length : 1)) {
      const entry = { name: file.name, size: file.size, url: null, error: null, progress: 0 };
      if (/^(image|audio|video)\//.test(file.type)) entry.preview = { src: URL.createObjectURL(file), type: file.type };
      entry.uploading = uploadFile(file, {
        onProgress: (p) => {
          entry.progress = p;
          render();
        },
      })
        .then((res) => {
          entry.url = res.urls && res.urls.get;
          if (!entry.url) entry.error = "The server did not return a URL for this file.";
        })
        .catch((err) => {
          entry.error = err.message;
        })
        .finally(() => {
          entry.uploading = null;
          render();
          onChange();
        });
      entries.push(entry);
    }
    if (!multiple) urlBox.value = "";
    render();
    onChange();
  }

  function render() {
    list.replaceChildren(
      ...entries.map((entry, i) => {
        const status = entry.error
          ? h("span.file-error", entry.error)
          : entry.uploading
            ? h("span.muted", `Uploading… ${Math.round(entry.progress * 100)}%`)
            : h("span.file-ok", icon("check"), "Uploaded");
        return h(
          "li.file-item",
          entry.preview ? preview(entry.preview) : null,
          h("span.file-name", { title: entry.name }, entry.name),
          entry.size !== undefined ? h("span.muted", bytes(entry.size)) : null,
          status,
          h(
            "button.btn.ghost.small.icon-only",
            {
              type: "button",
              "aria-label": `Remove ${entry.name}`,
              onclick: () => {
                entries.splice(i, 1);
                render();
                onChange();
                picker.focus();
              },
            },
            icon("x"),
          ),
        );
      }),
    );
  }

  return {
    control: h("div.file-control", zone, list, multiple ? null : urlBox),
    focus: () => picker.focus(),
    pending: () => Promise.all(entries.map((e) => e.uploading).filter(Boolean)),
    read() {
      const failed = entries.find((e) => e.error);
      if (failed) return { error: `${failed.name}: ${failed.error}` };
      const urls = entries.map((e) => e.url).filter(Boolean);
      if (multiple) return { value: urls.length ? urls : undefined };
      const typed = urlBox.value.trim();
      if (typed) {
        if (!/^(https?|data):/i.test(typed)) return { error: "Enter an http(s) URL, or choose a file." };
        return { value: typed };
      }
      return { value: urls[0] };
    },
    write(value) {
      entries.splice(0, entries.length);
      urlBox.value = "";
      const values = Array.isArray(value) ? value : value ? [value] : [];
      for (const url of values) {
        // Uploads of this account show as files (name, thumbnail); other URLs go in the URL box.
        if (!multiple && !ownFileId(url)) {
          urlBox.value = String(url);
          continue;
        }
        const entry = { name: fileName(url), url, uploading: null, error: null, preview: previewFor(url) };
        entries.push(entry);
        const id = ownFileId(url);
        if (id) {
          loadOwnFile(id)
            .then((file) => {
              entry.name = file.name || entry.name;
              entry.size = file.size;
              if (/^(image|audio|video)\//.test(file.content_type)) entry.preview = { src: file.objectUrl, type: file.content_type };
              render();
            })
            .catch(() => {
              entry.error = "This file is no longer available; choose it again.";
              render();
            });
        }
      }
      render();
    },
  };
}

function preview({ src, type }) {
  if (type.startsWith("image")) return h("img.file-thumb", { src, alt: "" });
  return h("span.file-thumb.icon-thumb", icon(type.startsWith("audio") ? "audio" : "video"));
}

function previewFor(url) {
  if (ownFileId(url)) return null;
  const kind = mediaKind(url);
  return kind === "image" || kind === "audio" || kind === "video" ? { src: url, type: kind } : null;
}

function fileName(url) {
  try {
    const path = new URL(url, location.href).pathname;
    return decodeURIComponent(path.split("/").filter(Boolean).pop() || url);
  } catch {
    return String(url);
  }
}

function acceptFor(field) {
  const hint = `${field.name} ${field.title} ${field.description}`.toLowerCase();
  if (/image|photo|picture|img|mask/.test(hint)) return "image/*";
  if (/audio|sound|speech|voice|music/.test(hint)) return "audio/*";
  if (/video|clip|movie/.test(hint)) return "video/*";
  return undefined;
}
