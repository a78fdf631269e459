// Tiny DOM helpers. Every piece of user or model data goes in through
// textContent or attributes, never innerHTML, so nothing a model returns can
// inject markup into the page.

/**
 * Build an element: h("a.link", {href: "/x", onclick: fn}, "text", child).
 * The tag may carry classes after dots and an id after '#'.
 */
export function h(tag, props, ...children) {
  const [name, ...rest] = tag.split(".");
  let tagName = name || "div";
  let id = null;
  if (tagName.includes("#")) [tagName, id] = tagName.split("#");
  const el = document.createElement(tagName);
  if (id) el.id = id;
  if (rest.length) el.className = rest.join(" ");
  if (props && (typeof props !== "object" || props instanceof Node || Array.isArray(props))) {
    children.unshift(props);
    props = null;
  }
  let pendingValue;
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "value") {
      pendingValue = value; // set after children so <select> options exist
    } else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      el.className = [el.className, value].filter(Boolean).join(" ");
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key === "style" && typeof value === "object") {
      Object.assign(el.style, value);
    } else if (key in el && typeof value !== "string") {
      el[key] = value;
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  if (pendingValue !== undefined) el.value = String(pendingValue);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace all children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let idCounter = 0;
/** A unique id for label/aria wiring. */
export function uid(prefix = "id") {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** An inline SVG icon from the small set the app uses. */
export function icon(name, label) {
  const paths = ICONS[name] || ICONS.dot;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "icon");
  if (label) {
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
  } else {
    svg.setAttribute("aria-hidden", "true");
  }
  for (const d of paths) {
    const p = document.createElementNS("http://www.w3.org/2000/svg", "path");
    p.setAttribute("d", d);
    svg.append(p);
  }
  return svg;
}

const ICONS = {
  dot: ["M12 10a2 2 0 1 0 0 4 2 2 0 0 0 0-4z"],
  image: ["M4 5h16v14H4z", "M4 16l5-5 4 4 3-3 4 4", "M15 9.5a1.5 1.5 0 1 0 0-.01"],
  video: ["M4 6h11v12H4z", "M15 10l5-3v10l-5-3"],
  text: ["M5 6h14", "M5 10h14", "M5 14h10", "M5 18h7"],
  audio: ["M9 18V6l10-2v12", "M9 18a3 3 0 1 1-3-3 3 3 0 0 1 3 3z", "M19 16a3 3 0 1 1-3-3 3 3 0 0 1 3 3z"],
  embedding: ["M5 5h3v3H5z", "M16 5h3v3h-3z", "M10.5 10.5h3v3h-3z", "M5 16h3v3H5z", "M16 16h3v3h-3z"],
  other: ["M12 3l8 4.5v9L12 21l-8-4.5v-9z", "M12 12l8-4.5", "M12 12v9", "M12 12L4 7.5"],
  play: ["M7 5l12 7-12 7z"],
  stop: ["M6 6h12v12H6z"],
  download: ["M12 4v11", "M7 10l5 5 5-5", "M5 20h14"],
  expand: ["M4 9V4h5", "M20 9V4h-5", "M4 15v5h5", "M20 15v5h-5"],
  copy: ["M8 8h11v12H8z", "M5 16V4h11"],
  dice: ["M5 5h14v14H5z", "M9 9h.01", "M15 15h.01", "M15 9h.01", "M9 15h.01", "M12 12h.01"],
  search: ["M10.5 4a6.5 6.5 0 1 0 0 13 6.5 6.5 0 0 0 0-13z", "M15.5 15.5L20 20"],
  upload: ["M12 16V5", "M7 10l5-5 5 5", "M5 20h14"],
  x: ["M6 6l12 12", "M18 6L6 18"],
  edit: ["M4 20h4L19 9l-4-4L4 16z", "M13.5 6.5l4 4"],
  check: ["M5 12l5 5 9-10"],
  eye: ["M2 12s4-7 10-7 10 7 10 7-4 7-10 7S2 12 2 12z", "M12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6z"],
  clock: ["M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z", "M12 7v5l3 2"],
  back: ["M15 5l-7 7 7 7"],
  plus: ["M12 5v14", "M5 12h14"],
  branch: ["M6 4v10", "M6 14a3 3 0 1 0 0 6 3 3 0 0 0 0-6z", "M18 4a3 3 0 1 0 0 6 3 3 0 0 0 0-6z", "M18 10c0 4-12 2-12 6"],
  trash: ["M4 7h16", "M9 7V4h6v3", "M6 7l1 13h10l1-13", "M10 11v6", "M14 11v6"],
};

/** Copy text to the clipboard and flash the button label. */
export async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Clipboard API needs a secure context; fall back to a hidden textarea.
    const area = h("textarea", { style: { position: "fixed", opacity: "0" } }, text);
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  if (button) {
    const label = button.querySelector(".label") || button;
    const old = label.textContent;
    label.textContent = "Copied";
    setTimeout(() => (label.textContent = old), 1200);
  }
}

/** A status region that screen readers announce politely. */
export function announce(message) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  // A fresh text node makes screen readers read repeated messages too.
  setTimeout(() => (region.textContent = message), 30);
}
