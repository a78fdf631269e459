// How to push a version to a model: the `pier push` command for this server and model, filled
// in, and a button that makes an API token for it (shown once, in the command).

import { api } from "./api.js";
import { codeBlock } from "./codetab.js";
import { h, icon } from "./dom.js";

const TOKEN_PLACEHOLDER = "<your API token>";

/** The shell lines that push the current folder as a new version of `ref` ("owner/name"). */
export function pushCommand(origin, ref, token = TOKEN_PLACEHOLDER) {
  return [
    "# in the folder that holds cog.yaml and predict.py",
    `export PIER_URL=${origin}`,
    `export PIER_TOKEN=${token}`,
    `pier push . ${ref}`,
  ].join("\n");
}

export function pushSteps(model) {
  const ref = `${model.owner}/${model.name}`;
  const block = codeBlock(pushCommand(location.origin, ref), { label: "Push a version (shell)" });
  const status = h("p.help", { role: "status" });
  const makeToken = h(
    "button.btn.small",
    {
      type: "button",
      onclick: async () => {
        makeToken.disabled = true;
        status.textContent = "Making a token…";
        try {
          const made = await api.createToken(`pier push to ${ref}`);
          block.code.textContent = pushCommand(location.origin, ref, made.token);
          makeToken.hidden = true;
          status.textContent = "The command now holds a new API token. It is shown only this once: copy it now.";
        } catch (err) {
          makeToken.disabled = false;
          status.textContent = `Could not make a token: ${err.message}`;
        }
      },
    },
    icon("plus"),
    h("span.label", "Make an API token for this"),
  );
  return h(
    "section.push-steps",
    { "aria-labelledby": "push-steps-title" },
    h("h2#push-steps-title", "Push a version"),
    h(
      "p",
      "Put the model's ",
      h("code", "cog.yaml"),
      " and ",
      h("code", "predict.py"),
      " in a folder, then run this there with the ",
      h("code", "pier"),
      " command. Each push of changed code or weights makes a new version; pushing the same files again changes nothing.",
    ),
    block.element,
    h("div.push-token", makeToken, status),
  );
}
