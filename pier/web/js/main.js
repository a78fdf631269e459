// Entry point: the header, the routes, sign-in guarding and page rendering.

import { api, session, setUnauthorizedHandler } from "./api.js";
import { h, mount } from "./dom.js";
import { navigate, route, startRouter } from "./router.js";
import * as account from "./pages/account.js";
import * as admin from "./pages/admin.js";
import * as billing from "./pages/billing.js";
import * as compare from "./pages/compare.js";
import * as deployments from "./pages/deployments.js";
import * as gallery from "./pages/gallery.js";
import * as history from "./pages/history.js";
import * as login from "./pages/login.js";
import * as model from "./pages/model.js";
import * as newModel from "./pages/newmodel.js";
import * as prediction from "./pages/prediction.js";
import * as training from "./pages/training.js";

const main = document.getElementById("main");
let firstRender = true;

route(/^\/$/, gallery.render);
route(/^\/login$/, login.render);
route(/^\/models\/new$/, newModel.render);
route(/^\/models\/(?<owner>[^/]+)\/(?<name>[^/]+)$/, model.render);
route(/^\/predictions$/, history.render);
route(/^\/predictions\/(?<id>[^/]+)$/, prediction.render);
route(/^\/p\/(?<id>[^/]+)$/, prediction.render); // Replicate's short prediction links
route(/^\/trainings\/(?<id>[^/]+)$/, training.render);
route(/^\/compare$/, compare.render);
route(/^\/deployments$/, deployments.render);
route(/^\/admin$/, admin.render);
route(/^\/account$/, account.render);
route(/^\/billing$/, billing.render);

setUnauthorizedHandler(() => {
  if (!session.token) return;
  session.clear();
  renderHeader();
  const here = location.pathname + location.search;
  navigate(`/login?expired=1&next=${encodeURIComponent(here)}`, { replace: true });
});

function navLink(href, label, active) {
  return h("a.nav-link", { href, "aria-current": active ? "page" : undefined }, label);
}

export function renderHeader() {
  const nav = document.querySelector(".topbar-inner");
  const path = location.pathname;
  const brand = nav.querySelector(".brand");
  const signedIn = Boolean(session.token);
  const links = signedIn
    ? h(
        "div.nav-links",
        navLink("/", "Models", path === "/" || path.startsWith("/models/")),
        navLink("/compare", "Compare", path === "/compare"),
        navLink("/predictions", "Predictions", path.startsWith("/predictions") || path.startsWith("/p/")),
        navLink("/deployments", "Deployments", path === "/deployments"),
      )
    : null;
  const account = signedIn ? accountMenu() : null;
  mount(nav, brand, links, h("span.spacer"), account);
}

function accountMenu() {
  const name = session.username || "Account";
  const panel = h(
    "div.menu-panel",
    { hidden: true, role: "group", "aria-label": "Account" },
    h("p.menu-title", "Signed in as ", h("strong", name)),
    h("a.btn.small.wide", { href: "/account" }, h("span.label", "Account and tokens")),
    h("a.btn.small.wide", { href: "/models/new" }, h("span.label", "New model")),
    h("a.btn.small.wide", { href: "/billing" }, h("span.label", "Billing")),
    admin.isAdmin() ? h("a.btn.small.wide", { href: "/admin" }, h("span.label", "Cluster")) : null,
    h(
      "button.btn.small.wide",
      {
        type: "button",
        onclick: async () => {
          await api.logout().catch(() => {}); // ends this session on the server too
          session.clear();
          navigate("/login");
        },
      },
      h("span.label", "Sign out"),
    ),
  );
  const button = h(
    "button.account-button",
    {
      type: "button",
      "aria-expanded": "false",
      "aria-haspopup": "true",
      onclick: () => toggle(panel.hidden),
    },
    h("span.avatar", { "aria-hidden": "true" }, name.slice(0, 1).toUpperCase()),
    h("span.account-name", name),
  );
  function toggle(open) {
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open) panel.querySelector("a, button").focus();
  }
  const wrap = h("div.account", button, panel);
  wrap.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !panel.hidden) {
      toggle(false);
      button.focus();
    }
  });
  wrap.closeMenu = () => toggle(false);
  return wrap;
}

// Clicking anywhere outside the account menu closes it.
document.addEventListener("click", (e) => {
  const wrap = document.querySelector(".account");
  const panel = wrap && wrap.querySelector(".menu-panel");
  if (panel && !panel.hidden && !wrap.contains(e.target)) wrap.closeMenu();
});

/** Render a view: guard sign-in, show errors as a page, move focus for screen readers. */
async function renderView(handler, ctx) {
  renderHeader();
  if (!handler) {
    mount(main, notFound("There is no page at this address."));
    document.title = "Not found · Pier";
    return;
  }
  if (handler !== login.render && !session.token) {
    navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
    return;
  }
  const view = h("div.view");
  mount(main, view);
  const moveFocus = !firstRender;
  firstRender = false;
  try {
    await handler({ ...ctx, view, setTitle: (t) => (document.title = t ? `${t} · Pier` : "Pier") });
  } catch (err) {
    if (err && err.name === "AbortError") return;
    if (ctx.signal.aborted) return;
    if (err && err.status === 401) return; // handled by the unauthorized handler
    mount(view, err && err.status === 404 ? notFound(err.message) : failure(err));
  }
  if (moveFocus && !ctx.signal.aborted) {
    const heading = view.querySelector("h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
    }
  }
}

function notFound(message) {
  return h("div.empty-state", h("h1", "Not found"), h("p", message), h("a.btn", { href: "/" }, "See all models"));
}

function failure(err) {
  return h(
    "div.empty-state",
    h("h1", "Something went wrong"),
    h("p", (err && err.message) || String(err)),
    h("button.btn", { type: "button", onclick: () => location.reload() }, "Try again"),
  );
}

async function checkSession() {
  if (!session.token) return;
  try {
    const account = await api.account();
    if (account && account.username && (account.username !== session.username || Boolean(account.admin) !== session.admin)) {
      session.save(session.token, account.username, account.admin);
      renderHeader();
    }
  } catch {
    // A 401 signs out through the handler; other errors show up on the page itself.
  }
}

startRouter(renderView);
checkSession();
