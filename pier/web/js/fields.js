// One input widget per kind of schema field. Each widget returns
// {control, read, write, focus, pending?}: `read()` gives {value} (undefined
// means "leave it out and let the model use its default") or {error}.

import { uploadFile } from "./api.js";
import { h, icon } from "./dom.js";
import { bytes } from "./format.js";
import { randomSeed } from "./schema.js";
import { mediaKind } from "./media.js";
import { loadOwnFile, ownFileId } from "./ownfiles.js";

/** Build the widget for `field`; `ids.input` is the id the label points at. */
export function createWidget(field, ids, onChange) {
  const make = WIDGETS[field.widget] || jsonWidget;
  return make(field, ids, onChange);
}

function describedBy(ids) {
  return [ids.help, ids.error].filter(Boolean).join(" ");
}

function emptyString(field) {
  // An emptied field with a non-empty default means "really empty"; otherwise omit it.
  const meaningful = field.hasDefault && field.default !== "" && field.default !== null;
  return meaningful ? "" : undefined;
}

function textWidget(field, ids, onChange) {
  const multiline = field.widget === "textarea";
  const secret = field.widget === "password";
  const input = h(multiline ? "textarea" : "input", {
    id: ids.input,
    name: field.name,
    type: multiline ? undefined : secret ? "password" : "text",
    rows: multiline ? 3 : undefined,
    autocomplete: secret ? "off" : undefined,
    spellcheck: multiline ? "true" : undefined,
    "aria-describedby": describedBy(ids),
    "aria-required": field.required ? "true" : undefined,
    maxlength: undefined, // limits are checked with a message, not silently truncated
    oninput: () => {
      grow();
      updateCounter();
      onChange();
    },
  });
  const counter = field.maxLength ? h("span.counter", { "aria-hidden": "true" }) : null;
  function updateCounter() {
    if (!counter) return;
    const len = [...input.value].length;
    counter.textContent = `${len} / ${field.maxLength}`;
    counter.classList.toggle("over", len > field.maxLength);
  }
  function grow() {
    if (!multiline) return;
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight + 2, 480)}px`;
  }
  const reveal = secret
    ? h(
        "button.btn.ghost.small",
        {
          type: "button",
          "aria-pressed": "false",
          onclick: (e) => {
            const shown = input.type === "text";
            input.type = shown ? "password" : "text";
            e.currentTarget.setAttribute("aria-pressed", String(!shown));
            e.currentTarget.querySelector(".label").textContent = shown ? "Show" : "Hide";
          },
        },
        icon("eye"),
        h("span.label", "Show"),
      )
    : null;
  const control = h("div.text-control", input, reveal, counter);
  return {
    control,
    focus: () => input.focus(),
    read: () => ({ value: input.value === "" ? emptyString(field) : input.value }),
    write(value) {
      input.value = value === undefined || value === null ? "" : String(value);
      updateCounter();
      requestAnimationFrame(grow);
    },
  };
}

function numberAttrs(field) {
  const integer = field.type === "integer";
  return {
    type: "number",
    inputmode: integer ? "numeric" : "decimal",
    step: integer ? "1" : "any",
    min: field.minimum,
    max: field.maximum,
  };
}

function readNumber(input, field) {
  const text = input.value.trim();
  if (text === "") {
    // A half-typed number ("1e", "-") reads as "" in number inputs.
    if (input.validity && input.validity.badInput) return { error: "Enter a number." };
    return { value: undefined };
  }
  const value = Number(text);
  if (Number.isNaN(value)) return { error: "Enter a number." };
  if (field.type === "integer" && !Number.isInteger(value)) return { error: "Enter a whole number." };
  return { value };
}

function niceStep(range) {
  const raw = range / 100;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw);
  return step || raw;
}

function numberWidget(field, ids, onChange) {
  const input = h("input.number", {
    id: ids.input,
    name: field.name,
    ...numberAttrs(field),
    "aria-describedby": describedBy(ids),
    "aria-required": field.required ? "true" : undefined,
    oninput: () => {
      syncSlider();
      onChange();
    },
  });
  let slider = null;
  if (field.widget === "slider") {
    const span = field.maximum - field.minimum;
    slider = h("input.slider", {
      type: "range",
      min: field.minimum,
      max: field.maximum,
      step: field.type === "integer" ? Math.max(1, Math.round(niceStep(span))) : niceStep(span),
      "aria-label": `${field.title} (slider)`,
      tabindex: "-1", // the number box is the keyboard target; arrows work there too
      oninput: () => {
        input.value = slider.value;
        onChange();
      },
    });
  }
  function syncSlider() {
    if (slider && input.value !== "" && !Number.isNaN(Number(input.value))) slider.value = input.value;
  }
  let seedButton = null;
  if (field.widget === "seed") {
    seedButton = h(
      "button.btn.small",
      {
        type: "button",
        title: "Pick a random seed",
        onclick: () => {
          input.value = String(randomSeed(field));
          onChange();
        },
      },
      icon("dice"),
      h("span.label", "Random"),
    );
  }
  const control = h(`div.number-control${slider ? ".with-slider" : ""}`, slider, input, seedButton);
  return {
    control,
    focus: () => input.focus(),
    read: () => readNumber(input, field),
    write(value) {
      input.value = value === undefined || value === null ? "" : String(value);
      if (slider) slider.value = input.value === "" ? String(field.default ?? field.minimum) : input.value;
    },
  };
}

function selectWidget(field, ids, onChange) {
  const choices = field.choices || [];
  const blank = !field.required && !field.hasDefault;
  const select = h(
    "select",
    {
      id: ids.input,
      name: field.name,
      "aria-describedby": describedBy(ids),
      "aria-required": field.required ? "true" : undefined,
      onchange: onChange,
    },
    blank || (field.required && !field.hasDefault) ? h("option", { value: "" }, blank ? "(none)" : "Choose…") : null,
    choices.map((choice, i) => h("option", { value: String(i) }, String(choice))),
  );
  return {
    control: h("div.select-control", select),
    focus: () => select.focus(),
    read: () => ({ value: select.value === "" ? undefined : choices[Number(select.value)] }),
    write(value) {
      const i = choices.findIndex((c) => c === value || String(c) === String(value));
      select.value = i >= 0 ? String(i) : "";
    },
  };
}

function toggleWidget(field, ids, onChange) {
  const box = h("input", {
    id: ids.input,
    name: field.name,
    type: "checkbox",
    role: "switch",
    "aria-describedby": describedBy(ids),
    onchange: () => {
      state.textContent = box.checked ? "On" : "Off";
      onChange();
    },
  });
  const state = h("span.toggle-state", { "aria-hidden": "true" }, "Off");
  let touched = false;
  box.addEventListener("change", () => (touched = true));
  return {
    control: h("div.toggle-control", h("span.switch", box, h("span.knob", { "aria-hidden": "true" })), state),
    focus: () => box.focus(),
    read() {
      const send = field.hasDefault || field.required || touched || box.checked;
      return { value: send ? box.checked : undefined };
    },
    write(value) {
      box.checked = Boolean(value);
      state.textContent = box.checked ? "On" : "Off";
    },
  };
}

function listWidget(field, ids, onChange) {
  const items = field.items || {};
  const numeric = items.type === "integer" || items.type === "number";
  const area = h("textarea", {
    id: ids.input,
    name: field.name,
    rows: 3,
    placeholder: numeric ? "1, 2, 3" : "One item per line",
    "aria-describedby": describedBy(ids),
    oninput: onChange,
  });
  return {
    control: h("div.text-control", area),
    focus: () => area.focus(),
    read() {
      const text = area.value.trim();
      if (!text) return { value: undefined };
      const parts = numeric ? text.split(/[\s,]+/).filter(Boolean) : area.value.split("\n").filter((l) => l !== "");
      if (!numeric) return { value: parts };
      const values = parts.map(Number);
      const bad = parts.find((p, i) => Number.isNaN(values[i]) || (items.type === "integer" && !Number.isInteger(values[i])));
      if (bad !== undefined) return { error: `"${bad}" is not a ${items.type === "integer" ? "whole number" : "number"}.` };
      return { value: values };
    },
    write(value) {
      if (!Array.isArray(value)) area.value = value === undefined || value === null ? "" : String(value);
      else area.value = value.join(numeric ? ", " : "\n");
    },
  };
}

function checkboxesWidget(field, ids, onChange) {
  const choices = field.items.choices;
  const boxes = choices.map((choice, i) =>
    h("input", { type: "checkbox", id: `${ids.input}-${i}`, value: String(i), onchange: onChange }),
  );
  const control = h(
    "div.checkbox-group",
    { role: "group", "aria-labelledby": ids.label, "aria-describedby": describedBy(ids) },
    boxes.map((box, i) => h("label.check", { for: box.id }, box, String(choices[i]))),
  );
  return {
    control,
    focus: () => boxes[0] && boxes[0].focus(),
    read() {
      const picked = boxes.filter((b) => b.checked).map((b) => choices[Number(b.value)]);
      return { value: picked.length || field.required ? picked : undefined };
    },
    write(value) {
      const wanted = Array.isArray(value) ? value.map(String) : [];
      boxes.forEach((b, i) => (b.checked = wanted.includes(String(choices[i]))));
    },
  };
}

function jsonWidget(field, ids, onChange) {
  const area = h("textarea.mono", {
    id: ids.input,
    name: field.name,
    rows: 4,
    spellcheck: "false",
    placeholder: "JSON",
    "aria-describedby": describedBy(ids),
    oninput: onChange,
  });
  return {
    control: h("div.text-control", area),
    focus: () => area.focus(),
    read() {
      if (!area.value.trim()) return { value: undefined };
      try {
        return { value: JSON.parse(area.value) };
      } catch (err) {
        return { error: `Not valid JSON: ${err.message}` };
      }
    },
    write(value) {
      area.value = value === undefined ? "" : JSON.stringify(value, null, 2);
    },
  };
}

/** A drop zone with a file picker that uploads through /v1/files, plus a URL box. */
function fileWidget(field, ids, onChange) {
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

const WIDGETS = {
  text: textWidget,
  textarea: textWidget,
  password: textWidget,
  number: numberWidget,
  slider: numberWidget,
  seed: numberWidget,
  select: selectWidget,
  toggle: toggleWidget,
  file: fileWidget,
  files: fileWidget,
  list: listWidget,
  checkboxes: checkboxesWidget,
  json: jsonWidget,
};
