// History API routing: same-origin links change the view without a reload,
// Back and Forward work, and each view gets an AbortSignal that fires when
// the user leaves it (so its polling stops).

const routes = [];
let current = null; // {controller}
let renderView = null;

/** Register `pattern` (a RegExp with named groups) for `handler(ctx)`. */
export function route(pattern, handler) {
  routes.push({ pattern, handler });
}

export function startRouter(render) {
  renderView = render;
  document.addEventListener("click", onClick);
  window.addEventListener("popstate", () => dispatch({ restoreScroll: true }));
  dispatch({});
}

/** Go to `url` (path + query). `replace` swaps the history entry instead. */
export function navigate(url, { replace = false } = {}) {
  const target = new URL(url, location.origin);
  if (target.origin !== location.origin) {
    location.href = target.href;
    return;
  }
  if (replace) history.replaceState({}, "", target.pathname + target.search + target.hash);
  else history.pushState({}, "", target.pathname + target.search + target.hash);
  dispatch({});
}

/** Change the query string without re-rendering (filters, tabs). */
export function setQuery(params) {
  const url = new URL(location.href);
  for (const [key, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === "") url.searchParams.delete(key);
    else url.searchParams.set(key, value);
  }
  history.replaceState(history.state, "", url.pathname + url.search + url.hash);
}

function onClick(event) {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target.closest && event.target.closest("a[href]");
  if (!link || link.target === "_blank" || link.hasAttribute("download")) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin) return;
  if (/^\/(static|v1|files|auth)\//.test(url.pathname)) return; // served by the server, not this app
  if (url.pathname === location.pathname && url.search === location.search && url.hash) return;
  event.preventDefault();
  navigate(url.pathname + url.search + url.hash);
}

function dispatch({ restoreScroll = false }) {
  if (current) current.controller.abort();
  const controller = new AbortController();
  current = { controller };
  const path = location.pathname.replace(/\/+$/, "") || "/";
  const query = new URLSearchParams(location.search);
  for (const { pattern, handler } of routes) {
    const match = path.match(pattern);
    if (match) {
      renderView(handler, { params: match.groups || {}, query, signal: controller.signal, path });
      if (!restoreScroll) window.scrollTo(0, 0);
      return;
    }
  }
  renderView(null, { params: {}, query, signal: controller.signal, path });
}
