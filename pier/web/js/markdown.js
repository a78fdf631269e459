// A small Markdown renderer for model cards. It builds DOM nodes directly
// (text always via text nodes) so a card can never inject HTML or scripts.
// Raw HTML in the source is shown as text. Links and images only keep
// http(s), mailto and same-site relative URLs.

import { h } from "./dom.js";

function safeUrl(url, { image = false } = {}) {
  const value = String(url || "").trim();
  if (/^(https?:)?\/\//i.test(value) || /^\/(?!\/)/.test(value) || /^#/.test(value)) return value;
  if (!image && /^mailto:/i.test(value)) return value;
  if (/^[\w./-]+$/.test(value) && !/^[a-z][\w+.-]*:/i.test(value)) return value; // relative path
  return null;
}

/** Inline spans: code, images, links, bold, italic, strikethrough, autolinks. */
function inline(text) {
  const out = [];
  const pattern =
    /(`+)([\s\S]*?[^`])\1(?!`)|!\[([^\]]*)\]\(([^)\s]+)(?:\s+"[^"]*")?\)|\[([^\]]+)\]\(([^)\s]+)(?:\s+"[^"]*")?\)|\*\*([\s\S]+?)\*\*|__([\s\S]+?)__|\*([^*\s][^*]*?)\*|(?<![\w])_([^_\s][^_]*?)_(?![\w])|~~([\s\S]+?)~~|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])/;
  let rest = text;
  while (rest) {
    const m = rest.match(pattern);
    if (!m) {
      out.push(rest);
      break;
    }
    if (m.index) out.push(rest.slice(0, m.index));
    const [whole, , code, alt, src, label, href, bold1, bold2, em1, em2, strike, auto] = m;
    if (code !== undefined) out.push(h("code", code.trim() ? code.replace(/^ (.*) $/, "$1") : code));
    else if (src !== undefined) {
      const url = safeUrl(src, { image: true });
      out.push(url ? h("img", { src: url, alt: alt || "", loading: "lazy" }) : alt);
    } else if (href !== undefined) {
      const url = safeUrl(href);
      out.push(url ? h("a", { href: url, rel: "noopener noreferrer", target: url.startsWith("#") ? undefined : "_blank" }, inline(label)) : inline(label));
    } else if (bold1 !== undefined || bold2 !== undefined) out.push(h("strong", inline(bold1 ?? bold2)));
    else if (em1 !== undefined || em2 !== undefined) out.push(h("em", inline(em1 ?? em2)));
    else if (strike !== undefined) out.push(h("del", inline(strike)));
    else if (auto !== undefined) out.push(h("a", { href: auto, rel: "noopener noreferrer", target: "_blank" }, auto));
    rest = rest.slice(m.index + whole.length);
  }
  return out;
}

function isTableDivider(line) {
  return /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/.test(line);
}

function splitRow(line) {
  return line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());
}

/** Render Markdown source to a DocumentFragment. */
export function renderMarkdown(source) {
  const lines = String(source || "").replace(/\r\n?/g, "\n").split("\n");
  const frag = document.createDocumentFragment();
  let i = 0;
  const blank = (l) => /^\s*$/.test(l);
  const listItem = /^(\s*)([-*+]|\d+[.)])\s+(.*)$/;

  while (i < lines.length) {
    const line = lines[i];
    if (blank(line)) {
      i += 1;
      continue;
    }
    const fence = line.match(/^\s*(```+|~~~+)\s*([\w+-]*)/);
    if (fence) {
      const body = [];
      i += 1;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[(i += 1) - 1]);
      i += 1;
      frag.append(h("pre", h("code", { class: fence[2] ? `language-${fence[2]}` : undefined }, body.join("\n"))));
      continue;
    }
    const heading = line.match(/^\s*(#{1,6})\s+(.*?)\s*#*\s*$/);
    if (heading) {
      // Shift levels down one: the page already has its own <h1>.
      const level = Math.min(6, heading[1].length + 1);
      frag.append(h(`h${level}`, inline(heading[2])));
      i += 1;
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      frag.append(h("hr"));
      i += 1;
      continue;
    }
    if (/^\s*>/.test(line)) {
      const body = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) body.push(lines[(i += 1) - 1].replace(/^\s*>\s?/, ""));
      frag.append(h("blockquote", renderMarkdown(body.join("\n"))));
      continue;
    }
    if (line.includes("|") && i + 1 < lines.length && isTableDivider(lines[i + 1])) {
      const head = splitRow(line);
      i += 2;
      const rows = [];
      while (i < lines.length && lines[i].includes("|") && !blank(lines[i])) rows.push(splitRow(lines[(i += 1) - 1]));
      frag.append(
        h(
          "div.table-wrap",
          h("table", h("thead", h("tr", head.map((c) => h("th", inline(c))))), h("tbody", rows.map((r) => h("tr", r.map((c) => h("td", inline(c))))))),
        ),
      );
      continue;
    }
    const item = line.match(listItem);
    if (item) {
      const ordered = /\d/.test(item[2]);
      const list = h(ordered ? "ol" : "ul");
      if (ordered && parseInt(item[2], 10) !== 1) list.setAttribute("start", String(parseInt(item[2], 10)));
      const baseIndent = item[1].length;
      while (i < lines.length) {
        const m = lines[i].match(listItem);
        if (!m || m[1].length !== baseIndent) break;
        const body = [m[3]];
        i += 1;
        // Continuation and nested lines are indented past the marker.
        while (i < lines.length && !blank(lines[i]) && !(lines[i].match(listItem) && lines[i].match(listItem)[1].length <= baseIndent) && /^\s+/.test(lines[i])) {
          body.push(lines[i].slice(Math.min(lines[i].search(/\S/), baseIndent + 2)));
          i += 1;
        }
        const nested = body.slice(1).some((l) => listItem.test(l));
        const task = body[0].match(/^\[([ xX])\]\s+(.*)$/);
        const li = h("li");
        if (task) {
          li.append(h("input", { type: "checkbox", disabled: true, checked: task[1] !== " ", "aria-label": task[1] !== " " ? "done" : "not done" }), " ");
          body[0] = task[2];
        }
        if (nested) {
          li.append(...inline(body[0]).map((n) => (n instanceof Node ? n : document.createTextNode(n))));
          li.append(renderMarkdown(body.slice(1).join("\n")));
        } else {
          li.append(...inline(body.join(" ")).map((n) => (n instanceof Node ? n : document.createTextNode(n))));
        }
        list.append(li);
      }
      frag.append(list);
      continue;
    }
    // A paragraph runs until a blank line or the start of another block.
    const para = [];
    while (
      i < lines.length &&
      !blank(lines[i]) &&
      !/^\s*(#{1,6}\s|```|~~~|>)/.test(lines[i]) &&
      !(para.length && listItem.test(lines[i]))
    ) {
      para.push(lines[i]);
      i += 1;
    }
    if (!para.length) {
      para.push(lines[i]);
      i += 1;
    }
    const p = h("p");
    para.forEach((raw, n) => {
      // Two trailing spaces make a hard line break, as in CommonMark.
      if (n) p.append(/ {2,}$/.test(para[n - 1]) ? h("br") : " ");
      p.append(...inline(raw.trim()).map((node) => (node instanceof Node ? node : document.createTextNode(node))));
    });
    frag.append(p);
  }
  return frag;
}
