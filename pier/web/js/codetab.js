// The API tab: Python, Node.js and cURL code for the form's current values.

import { copyText, h, icon } from "./dom.js";
import { SETUP, curlSnippet, nodeSnippet, pythonSnippet } from "./snippets.js";
import { tabs } from "./tabs.js";

const LANGS = [
  { key: "python", label: "Python", make: pythonSnippet, file: "run.py" },
  { key: "node", label: "Node.js", make: nodeSnippet, file: "run.mjs" },
  { key: "curl", label: "cURL", make: curlSnippet, file: "shell" },
];

/** A code box with a label and a Copy button; `code` is its <code>, to change the text. */
export function codeBlock(text, { label, className = "" }) {
  const code = h("code", text);
  const copy = h("button.btn.small.copy", { type: "button", onclick: (e) => copyText(code.textContent, e.currentTarget) }, icon("copy"), h("span.label", "Copy"), h("span.visually-hidden", ` ${label}`));
  return { element: h(`div.code-block${className ? `.${className}` : ""}`, h("div.code-bar", h("span.code-label", label), copy), h("pre", { tabindex: "0", "aria-label": label }, code)), code };
}

/**
 * `context()` returns {origin, ref, version, input, shape, kind} for the
 * current form; call `refresh()` after the form changes.
 */
export function codeTab(context, { selected = "python", onSelect, intro = "This code does what the form does with its current values, on this server. It reads your API token from " } = {}) {
  const blocks = {};
  const items = LANGS.map((lang) => {
    const setup = codeBlock(SETUP[lang.key], { label: `${lang.label} setup`, className: "setup" });
    const main = codeBlock("", { label: `${lang.label} code (${lang.file})` });
    blocks[lang.key] = { lang, main };
    return { key: lang.key, label: lang.label, panel: h("div.code-panel", setup.element, main.element) };
  });
  const t = tabs(items, { selected, label: "Language", onSelect, className: "small" });

  function refresh() {
    const ctx = context();
    for (const { lang, main } of Object.values(blocks)) {
      const text = lang.make(ctx);
      if (main.code.textContent !== text) main.code.textContent = text;
    }
  }
  refresh();
  const element = h(
    "div.code-tab",
    h(
      "p.muted",
      intro,
      h("code", "REPLICATE_API_TOKEN"),
      " (copy it from the account menu).",
    ),
    t.element,
  );
  return { element, refresh };
}
