// Accessible tabs (WAI-ARIA tab pattern): arrow keys, Home and End move
// between tabs, only the selected tab is in the Tab order.

import { h, uid } from "./dom.js";

/**
 * `items`: [{key, label, panel: Node}]. Returns {element, select(key)}.
 * `onSelect(key)` runs after a change (e.g. to put it in the URL).
 */
export function tabs(items, { selected, label, onSelect = () => {}, className = "" } = {}) {
  const base = uid("tabs");
  const buttons = [];
  const panels = [];
  for (const item of items) {
    const tabId = `${base}-${item.key}-tab`;
    const panelId = `${base}-${item.key}-panel`;
    const button = h(
      "button.tab",
      {
        type: "button",
        role: "tab",
        id: tabId,
        "aria-controls": panelId,
        dataset: { key: item.key },
        onclick: () => select(item.key, true),
      },
      item.label,
    );
    buttons.push(button);
    panels.push(h("div.tab-panel", { role: "tabpanel", id: panelId, "aria-labelledby": tabId, tabindex: "0", dataset: { key: item.key } }, item.panel));
  }
  const list = h(`div.tablist${className ? `.${className}` : ""}`, { role: "tablist", "aria-label": label }, buttons);
  list.addEventListener("keydown", (e) => {
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    let next = null;
    if (e.key === "ArrowRight") next = (i + 1) % buttons.length;
    if (e.key === "ArrowLeft") next = (i - 1 + buttons.length) % buttons.length;
    if (e.key === "Home") next = 0;
    if (e.key === "End") next = buttons.length - 1;
    if (next === null) return;
    e.preventDefault();
    select(buttons[next].dataset.key, true);
    buttons[next].focus();
  });

  function select(key, fromUser = false) {
    const found = items.some((i) => i.key === key) ? key : items[0].key;
    buttons.forEach((b) => {
      const on = b.dataset.key === found;
      b.setAttribute("aria-selected", String(on));
      b.tabIndex = on ? 0 : -1;
    });
    panels.forEach((p) => (p.hidden = p.dataset.key !== found));
    if (fromUser) onSelect(found);
  }
  select(selected || items[0].key);
  return { list, panels, element: h("div.tabs", list, panels), select };
}
