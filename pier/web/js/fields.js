// One input widget per kind of schema field. Each widget returns
// {control, read, write, focus, pending?}: `read()` gives {value} (undefined
// means "leave it out and let the model use its default") or {error}.

import { h, icon } from "./dom.js";
import { fileWidget } from "./filefield.js";
import { randomSeed } from "./schema.js";

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
    placeholder: field.widget === "seed" && !field.required ? "Random when empty" : undefined,
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
