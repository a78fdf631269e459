// The account page: who is signed in, their API tokens and their playground
// sessions (name, when made, last used, when a session ends), making a token
// (its secret shown once), renaming and revoking.

import { api, session } from "../api.js";
import { announce, copyText, h, icon, mount } from "../dom.js";
import { ago, dateTime } from "../format.js";
import { navigate } from "../router.js";

function when(label, value) {
  return value ? h("span", { title: dateTime(value) }, `${label} ${ago(value)}`) : null;
}

function meta(token) {
  const used = token.last_used_at ? when("last used", token.last_used_at) : h("span", "never used");
  const parts = [when("made", token.created_at), used, token.expires_at ? when("ends", token.expires_at) : null].filter(Boolean);
  return h("p.token-meta.muted", parts.flatMap((part, i) => (i ? [" · ", part] : [part])));
}

export async function render({ view, signal, setTitle }) {
  setTitle("Account");
  const [me, list] = await Promise.all([api.account(), api.tokens({ signal })]);
  let tokens = list.results;

  const secretBox = h("div.token-secret", { hidden: true, role: "status" });
  const apiList = h("ul.token-list", { "aria-label": "API tokens" });
  const sessionList = h("ul.token-list", { "aria-label": "Sessions" });

  function draw() {
    const apiTokens = tokens.filter((t) => t.kind !== "session");
    const sessions = tokens.filter((t) => t.kind === "session");
    mount(apiList, apiTokens.length ? apiTokens.map(row) : h("li.token-empty.muted", "No API tokens yet."));
    mount(sessionList, sessions.length ? sessions.map(row) : h("li.token-empty.muted", "No other sessions."));
  }

  function row(token) {
    const name = h("strong.token-name", token.name);
    const current = token.current ? h("span.source-badge", token.kind === "session" ? "This browser" : "In use here") : null;
    const actions = h("div.token-actions");
    const item = h("li.token-row", h("div.token-main", h("div.token-title", name, current), meta(token)), actions);

    function showButtons() {
      mount(
        actions,
        h("button.btn.small", { type: "button", onclick: rename, "aria-label": `Rename ${token.name}` }, h("span.label", "Rename")),
        h("button.btn.small.danger", { type: "button", onclick: confirmRevoke, "aria-label": `Revoke ${token.name}` }, h("span.label", "Revoke")),
      );
    }

    function rename() {
      const input = h("input", { type: "text", value: token.name, maxlength: 200, "aria-label": "New name" });
      const error = h("p.field-error", { role: "alert", hidden: true });
      const form = h(
        "form.token-rename",
        {
          onsubmit: async (e) => {
            e.preventDefault();
            try {
              const changed = await api.renameToken(token.id, input.value);
              tokens = tokens.map((t) => (t.id === token.id ? changed : t));
              draw();
              announce(`Renamed to ${changed.name}`);
            } catch (err) {
              error.textContent = err.message;
              error.hidden = false;
            }
          },
        },
        input,
        h("button.btn.small.primary", { type: "submit" }, "Save"),
        h("button.btn.small", { type: "button", onclick: showButtons }, "Cancel"),
        error,
      );
      mount(actions, form);
      input.focus();
      input.select();
    }

    function confirmRevoke() {
      const what = token.current && token.kind === "session" ? "Sign this browser out?" : "Revoke it? Whatever uses it stops working.";
      mount(
        actions,
        h("span.token-confirm", what),
        h("button.btn.small.danger", { type: "button", onclick: revoke }, h("span.label", "Yes, revoke")),
        h("button.btn.small", { type: "button", onclick: showButtons }, "Keep"),
      );
      actions.querySelector("button").focus();
    }

    async function revoke() {
      await api.revokeToken(token.id);
      if (token.current) {
        session.clear();
        navigate("/login", { replace: true });
        return;
      }
      tokens = tokens.filter((t) => t.id !== token.id);
      draw();
      announce(`${token.name} revoked`);
    }

    showButtons();
    return item;
  }

  const nameInput = h("input#new-token-name", { type: "text", name: "name", maxlength: 200, placeholder: "e.g. laptop, CI", autocomplete: "off" });
  const createError = h("p.field-error", { role: "alert", hidden: true });
  const createForm = h(
    "form.token-create",
    {
      onsubmit: async (e) => {
        e.preventDefault();
        createError.hidden = true;
        try {
          const made = await api.createToken(nameInput.value.trim() || "API token");
          nameInput.value = "";
          tokens = [made, ...tokens];
          draw();
          const copy = h("button.btn.small", { type: "button", onclick: (ev) => copyText(made.token, ev.currentTarget) }, icon("copy"), h("span.label", "Copy"));
          mount(
            secretBox,
            h("p", h("strong", `New token “${made.name}”. `), "Copy it now: it is not shown again."),
            h("div.token-secret-row", h("code.token-secret-value", made.token), copy),
          );
          secretBox.hidden = false;
          copy.focus();
        } catch (err) {
          createError.textContent = err.message;
          createError.hidden = false;
        }
      },
    },
    h("div.field", h("label.field-label", { for: "new-token-name" }, "New token name"), h("div.token-create-row", nameInput, h("button.btn.primary", { type: "submit" }, h("span.label", "Create token")))),
    createError,
  );

  draw();
  mount(
    view,
    h("div.page-head", h("div", h("h1", "Account"), h("p.muted", "Signed in as ", h("strong", me.username), me.email ? ` (${me.email})` : ""))),
    h(
      "section.account-section",
      { "aria-labelledby": "api-tokens-title" },
      h("h2#api-tokens-title", "API tokens"),
      h("p.muted", "For the HTTP API, the pier CLI and Replicate's clients. A token lasts until you revoke it."),
      createForm,
      secretBox,
      apiList,
    ),
    h(
      "section.account-section",
      { "aria-labelledby": "sessions-title" },
      h("h2#sessions-title", "Sessions"),
      h("p.muted", "Browsers signed in to this playground. A session ends by itself; revoke one to sign that browser out now."),
      sessionList,
    ),
  );
}
