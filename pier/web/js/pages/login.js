// Sign in: with GitHub or an OpenID Connect provider (when the server has them),
// with the one-time link `pier serve` prints (/login?code=...), or by pasting an
// API token. A provider sends the browser back here with a one-time code too.

import { api, session } from "../api.js";
import { h, mount } from "../dom.js";
import { navigate } from "../router.js";

/**
 * Where to go after signing in: a path on this site, or "/". A crafted link must not send the
 * user elsewhere, and browsers read "/\host" and "/<tab>/host" as "//host" (another site), so
 * the value must be a plain path and must still name this origin once the browser has parsed it.
 */
function nextPath(query) {
  const next = query.get("next");
  if (!next || next[0] !== "/" || next[1] === "/" || /[\\\s\u0000-\u001f\u007f]/.test(next)) return "/";
  let target;
  try {
    target = new URL(next, location.origin);
  } catch {
    return "/";
  }
  if (target.origin !== location.origin || target.pathname.startsWith("/login")) return "/";
  return target.pathname + target.search + target.hash;
}

export async function render({ view, query, setTitle }) {
  setTitle("Sign in");
  const code = query.get("code");
  const card = h("div.card.login-card");
  mount(view, h("div.login-page", card));

  let codeError = null;
  if (code) {
    mount(card, h("h1", "Signing you in…"), h("p.muted", { role: "status" }, "Checking your login link."));
    // Drop the code from the address bar and history at once: it works only once.
    history.replaceState({}, "", `/login${query.get("next") ? `?next=${encodeURIComponent(query.get("next"))}` : ""}`);
    try {
      const result = await api.login(code);
      session.save(result.token, result.username, result.admin);
      navigate(nextPath(query), { replace: true });
      return;
    } catch (err) {
      codeError = err.status && err.status < 500 ? `This login link did not work: ${err.message}` : err.message;
    }
  }

  const input = h("input", {
    id: "token",
    name: "token",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    "aria-describedby": "token-help token-error",
  });
  const error = h("p.field-error#token-error", { role: "alert", hidden: !codeError }, codeError || "");
  const button = h("button.btn.primary.wide", { type: "submit" }, h("span.label", "Sign in"));
  const form = h(
    "form.login-form",
    {
      novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        const token = input.value.trim();
        if (!token) return showError("Paste an API token first.");
        button.disabled = true;
        button.querySelector(".label").textContent = "Checking…";
        try {
          const account = await api.account(token);
          session.save(token, account.username, account.admin);
          navigate(nextPath(query), { replace: true });
        } catch (err) {
          showError(err.status === 401 ? "That token was not accepted. Check that you copied all of it." : err.message);
        } finally {
          button.disabled = false;
          button.querySelector(".label").textContent = "Sign in";
        }
      },
    },
    h("div.field", h("label.field-label", { for: "token" }, "API token"), input, h("p.help#token-help", "Any token made with the pier CLI for your account works here.")),
    error,
    button,
  );

  function showError(message) {
    error.textContent = message;
    error.hidden = false;
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }

  const providers = await api.providers().then((r) => r.providers || [], () => []);
  const next = nextPath(query);
  const buttons = providers.length
    ? h(
        "div.provider-buttons",
        providers.map((p) =>
          h("a.btn.primary.wide", { href: `${p.login_url}${next === "/" ? "" : `?next=${encodeURIComponent(next)}`}` }, h("span.label", `Sign in with ${p.name}`)),
        ),
        h("p.or-divider", h("span", "or")),
      )
    : null;

  mount(
    card,
    h("h1", "Sign in to Pier"),
    query.get("expired") ? h("p.notice", "Your session has ended. Sign in again to continue.") : null,
    buttons,
    h(
      "p",
      "Open the login link that ",
      h("code", "pier serve"),
      " printed in its terminal, or paste an API token below.",
    ),
    session.token && !codeError ? h("p.notice", "You are signed in as ", h("strong", session.username || "this account"), ". ", h("a", { href: nextPath(query) }, "Continue")) : null,
    form,
  );
  if (codeError) input.focus();
}
