// One training, watched like a prediction: its phase, progress, logs and Cancel while it runs;
// then the new version it made (a link to run it) or why it failed.

import { api, request } from "../api.js";
import { h, icon, mount } from "../dom.js";
import { ago, duration, shortId } from "../format.js";
import { nounNote } from "../nouns.js";
import { isTerminal } from "../status.js";
import { phaseOf, progressOf, secondsBetween } from "../watch.js";

const POLL_MS = 700;

function modelLink(ref, version) {
  if (!ref) return "?";
  const href = `/models/${ref}${version ? `?version=${encodeURIComponent(version)}` : ""}`;
  return h("a", { href }, version ? [`${ref}:`, h("span.mono", shortId(version, 12))] : ref);
}

/** "owner/name:<id>" of a succeeded training's new version, as [ref, id]. */
function madeVersion(training) {
  const made = training.output && training.output.version;
  const match = typeof made === "string" && made.match(/^([^/:]+\/[^/:]+):(\w+)$/);
  return match ? [match[1], match[2]] : null;
}

function outcome(training) {
  if (training.status === "succeeded") {
    const made = madeVersion(training);
    return h(
      "div.training-outcome",
      h("p", icon("check"), " Made a new version: ", made ? modelLink(made[0], made[1]) : "(none reported)"),
      made ? h("a.btn.primary", { href: `/models/${made[0]}?version=${encodeURIComponent(made[1])}` }, icon("play"), h("span.label", "Run the new version")) : null,
    );
  }
  if (training.status === "failed") return h("p.error-box", training.error || "The training failed.");
  if (training.status === "canceled") return h("p.muted", "Canceled: no version was made.");
  return null;
}

export async function render({ view, params, signal, setTitle }) {
  setTitle(`Training ${params.id}`);
  let training = await api.training(params.id, { signal });

  const pill = h("span.status-pill");
  const clock = h("span.run-clock");
  const bar = h("div.progress", h("div.progress-track", h("div.progress-fill")), h("span.progress-text"));
  const logs = h("pre.logs", { tabindex: "0", "aria-label": "Training logs" });
  const result = h("div");
  const cancel = h(
    "button.btn.danger",
    {
      type: "button",
      onclick: async () => {
        cancel.disabled = true;
        try {
          update(await request(`/v1/trainings/${encodeURIComponent(training.id)}/cancel`, { method: "POST" }));
        } catch (err) {
          cancel.disabled = false;
          mount(result, h("p.error-box", `Could not cancel: ${err.message}`));
        }
      },
    },
    icon("stop"),
    h("span.label", "Cancel"),
  );

  function update(next) {
    training = next;
    const phase = phaseOf(training);
    pill.className = `status-pill phase-${phase.key}`;
    pill.textContent = phase.label;
    const seconds = secondsBetween(training.created_at, training.completed_at);
    clock.textContent = seconds === null ? "" : duration(seconds);
    const progress = progressOf(training);
    bar.hidden = !progress || progress.percent === null || isTerminal(training);
    if (progress && progress.percent !== null) {
      bar.querySelector(".progress-fill").style.width = `${progress.percent}%`;
      bar.querySelector(".progress-text").textContent = `${Math.round(progress.percent)}%`;
    }
    if (logs.textContent !== (training.logs || "")) logs.textContent = training.logs || "";
    cancel.hidden = isTerminal(training);
    mount(result, outcome(training));
  }

  async function poll() {
    while (!isTerminal(training) && !signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      if (signal.aborted) return;
      try {
        update(await api.training(training.id, { signal }));
      } catch (err) {
        if (err.name === "AbortError") return;
      }
    }
  }

  mount(
    view,
    h(
      "div.page-head",
      h(
        "div",
        h("h1", "Training", h("span.pred-id", training.id)),
        h(
          "p.muted.subtitle",
          "Of ",
          modelLink(training.model, training.version),
          training.destination ? [" into ", modelLink(training.destination)] : null,
          ` · created ${ago(training.created_at)}`,
        ),
        nounNote("training"),
      ),
      h("div.head-actions", cancel),
    ),
    h(
      "section.pane.training-pane",
      { "aria-labelledby": "training-status" },
      h("h2#training-status.visually-hidden", "Status"),
      h("div.run-head", pill, clock),
      bar,
      result,
      h("details.logs-panel", { open: true }, h("summary", "Logs"), logs),
      h("details.json-details", h("summary", "Input"), h("pre.json", JSON.stringify(training.input, null, 2))),
    ),
  );
  update(training);
  poll();
}
