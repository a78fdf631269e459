// The live view of one prediction: which phase it is in (queued with its
// position, booting, running with a progress bar), elapsed time, Cancel,
// live logs, the output as it arrives, and the metrics at the end.

import { api, sameOrigin } from "./api.js";
import { announce, h, icon } from "./dom.js";
import { TIMING, cost, duration, timings, totalTime } from "./format.js";
import { renderOutput } from "./output.js";
import { isTerminal } from "./status.js";
import { phaseOf, progressOf, secondsBetween, watchPrediction } from "./watch.js";

const STEPS = [
  { key: "queued", label: "Queued" },
  { key: "booting", label: "Booting" },
  { key: "running", label: "Running" },
  { key: "done", label: "Done" },
];

function stepIndex(phase) {
  return { starting: 0, queued: 0, booting: 1, running: 2, finishing: 2, succeeded: 3, failed: 3, canceled: 3 }[phase] ?? 0;
}

/**
 * Build the view for `prediction` and keep it current until the prediction
 * ends or `signal` aborts. `shape` is the version's output shape.
 */
export function runView(prediction, { shape, signal, showLink = true, showMetrics = true, onUpdate = () => {}, onSettled = () => {} }) {
  const pill = h("span.status-pill");
  const clockEl = h("span.run-clock", { title: "Total time: from created to completed (queue, setup and run)" });
  const cancelBtn = h("button.btn.danger.small.cancel", { type: "button", onclick: cancel }, icon("stop"), h("span.label", "Cancel"));
  const stepper = h(
    "ol.phase-steps",
    { "aria-label": "Phases" },
    STEPS.map((s) => h("li", { dataset: { step: s.key } }, h("span.step-dot", { "aria-hidden": "true" }), h("span.step-label", s.label))),
  );
  // Not a live region: it ticks with the clock. Phase changes are announced on their own.
  const detail = h("p.phase-detail");
  const bar = h("div.progress-fill");
  const progressText = h("span.progress-text");
  const progress = h("div.progress", { hidden: true }, h("div.progress-track", { role: "progressbar", "aria-label": "Progress", "aria-valuemin": "0", "aria-valuemax": "100" }, bar), progressText);
  const errorBox = h("div.error-box", { role: "alert", hidden: true });
  const outputBox = h("div.output-area", { "aria-live": "off" });
  const logsPre = h("pre.logs", { tabindex: "0", "aria-label": "Logs" });
  const logs = h("details.logs-panel", { open: true }, h("summary", "Logs"), logsPre);
  const metrics = h("dl.metrics", { hidden: true });
  // Prompt words the model does not know (metrics.ignored_words), said beside the output.
  const ignoredNote = h("p.note.ignored-words", { hidden: true });
  const link = showLink ? h("a.run-link.muted", { href: `/predictions/${prediction.id}` }) : null;

  const root = h(
    "section.run-view",
    { "aria-label": "Prediction", dataset: { predictionId: prediction.id } },
    h("div.run-head", pill, clockEl, h("span.spacer"), cancelBtn),
    link,
    stepper,
    detail,
    progress,
    errorBox,
    ignoredNote,
    outputBox,
    logs,
    metrics,
  );

  let current = prediction;
  let lastOutputJson = null;
  let lastStatus = null;
  let canceling = false;
  let settled = false;
  const ticker = setInterval(tick, 250);
  if (signal) signal.addEventListener("abort", () => clearInterval(ticker));

  function tick() {
    const p = current;
    const phase = phaseOf(p).key;
    // The one elapsed time shown: the total, the same figure the timing card and history show.
    const seconds = totalTime(p);
    setText(clockEl, seconds === null ? "" : duration(seconds));
    if (phase === "running" || phase === "finishing") updateDetail(p);
    if (phase === "booting" || phase === "queued" || phase === "starting") updateDetail(p);
  }

  function updateDetail(p) {
    const phase = phaseOf(p).key;
    const q = p.queue || {};
    if (phase === "queued") {
      const bits = [];
      if (q.position !== undefined && q.position !== null) bits.push(`Position ${q.position} in the queue`);
      if (q.ahead !== undefined && q.ahead !== null) bits.push(q.ahead === 0 ? "next to run" : `${q.ahead} job${q.ahead === 1 ? "" : "s"} ahead`);
      bits.push(waitText(q.estimated_wait));
      setText(detail, bits.join(" · "));
    } else if (phase === "booting") {
      const wait = typeof q.estimated_wait === "number" ? ` · ${waitText(q.estimated_wait).replace("to wait", "left")}` : "";
      const step = q.step || "loading it and running its setup";
      setText(detail, `Booting the model: ${step}${wait}`);
    } else if (phase === "starting") {
      setText(detail, "Handing the prediction to a worker…");
    } else if (phase === "running" || phase === "finishing") {
      const running = secondsBetween(p.started_at);
      const prog = progressOf(p);
      if (phase === "finishing") setText(detail, "Finishing: saving outputs");
      else setText(detail, `Running${remaining(prog, running)}`);
    } else if (p.status === "succeeded") {
      const t = timings(p);
      setText(detail, `Finished in ${duration(t.total)}${t.run === null ? "" : ` (run ${duration(t.run)})`}`);
    } else if (p.status === "canceled") {
      setText(detail, ranModel(p) ? "Canceled while running." : "Canceled before it started.");
    } else if (p.status === "failed") {
      setText(detail, "The prediction failed.");
    }
  }

  function waitText(seconds) {
    if (typeof seconds !== "number") return "wait time not yet known";
    if (seconds < 1) return "under a second to wait";
    return `about ${duration(seconds)} to wait`;
  }

  // A rough time left from the pace so far, once there is a pace to go by.
  function remaining(prog, running) {
    if (!prog || !running || prog.percent === null || prog.percent < 3 || running < 1) return "";
    const left = (running * (100 - prog.percent)) / prog.percent;
    return ` · about ${duration(left)} left`;
  }

  // Whether the model ran for this prediction (a cancel in the queue never reached it).
  function ranModel(p) {
    const m = p.metrics || {};
    return p.status === "succeeded" || p.status === "processing" || (typeof m.predict_time === "number" && m.predict_time > 0);
  }

  // Steps a finished prediction went through; the others are shown as skipped, not done.
  function reached(p, key) {
    if (!isTerminal(p) || key === "queued") return true;
    if (key === "booting") return typeof (p.metrics || {}).setup_time === "number";
    if (key === "running") return ranModel(p);
    return true;
  }

  function setText(el, text) {
    if (el.textContent !== text) el.textContent = text;
  }

  function update(p) {
    current = p;
    const phase = phaseOf(p);
    pill.className = `status-pill phase-${phase.key}`;
    setText(pill, phase.label);
    if (lastStatus && lastStatus !== phase.key) announce(`Prediction ${phase.label.toLowerCase()}`);
    lastStatus = phase.key;

    const at = stepIndex(phase.key);
    stepper.querySelectorAll("li").forEach((li, i) => {
      const skipped = i < at && !reached(p, STEPS[i].key);
      li.className = skipped ? "skipped" : i < at ? "done" : i === at ? `current ${phase.key}` : "";
      li.title = skipped ? (STEPS[i].key === "booting" ? "Not needed: the model was already up" : "Did not happen") : "";
      if (i === at) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
    });
    if (link) setText(link, `Prediction ${p.id}`);
    updateDetail(p);

    const prog = progressOf(p);
    const showProgress = Boolean(prog) && (p.status === "processing" || p.status === "succeeded");
    progress.hidden = !showProgress;
    if (showProgress) {
      const pct = p.status === "succeeded" ? 100 : prog.percent ?? 0;
      bar.style.width = `${pct}%`;
      progress.firstChild.setAttribute("aria-valuenow", String(Math.round(pct)));
      const steps = prog.total ? ` · step ${prog.current ?? 0} of ${prog.total}` : "";
      setText(progressText, `${Math.round(pct)}%${steps}`);
    }

    const done = isTerminal(p);
    cancelBtn.hidden = done;
    if (!done && !canceling) cancelBtn.disabled = false;

    const ignored = ignoredWords(p);
    ignoredNote.hidden = !ignored.length;
    setText(ignoredNote, ignored.length ? ignoredText(ignored) : "");

    errorBox.hidden = p.status !== "failed";
    if (p.status === "failed") setText(errorBox, p.error || "The prediction failed without a message. See the logs.");

    const outJson = JSON.stringify(p.output ?? null);
    const live = !done;
    const key = `${outJson}|${live}`;
    if (key !== lastOutputJson) {
      lastOutputJson = key;
      const streaming = live && shape && shape.kind === "text-stream";
      if (!(streaming && Array.isArray(p.output) && growText(p.output.join("")))) {
        outputBox.replaceChildren(renderOutput(p.output, { shape, live }) || placeholder(p));
      }
    }

    const atBottom = logsPre.scrollHeight - logsPre.scrollTop - logsPre.clientHeight < 24;
    const logText = p.logs || "";
    if (logsPre.textContent !== logText) {
      logsPre.textContent = logText;
      if (atBottom) logsPre.scrollTop = logsPre.scrollHeight;
    }
    logs.hidden = !logText && done;

    metrics.hidden = !done || !showMetrics;
    if (done && showMetrics) renderMetrics(p);
    tick();
    onUpdate(p);
    if (done && !settled) {
      settled = true;
      clearInterval(ticker);
      onSettled(p);
    }
  }

  /**
   * Grow the streaming text in place (selection and scroll survive each token). The event
   * stream may be ahead of the last poll, so the longer of the two wins. False when there is
   * no text box yet.
   */
  function growText(polled) {
    const box = outputBox.querySelector(".text-output");
    if (!box || box.firstChild.nodeType !== Node.TEXT_NODE) return false;
    const text = streamed.length > polled.length && streamed.startsWith(polled) ? streamed : polled;
    if (box.firstChild.textContent !== text) box.firstChild.textContent = text;
    return true;
  }

  // Text models also stream over server-sent events (`urls.stream`, no token needed), so
  // words show up as the model yields them; polling still carries status, logs and progress
  // and is enough on its own if the stream fails.
  let streamed = "";
  function follow(p) {
    if (!shape || shape.kind !== "text-stream" || !p.urls || !p.urls.stream || isTerminal(p)) return;
    if (typeof EventSource === "undefined") return;
    const source = new EventSource(sameOrigin(p.urls.stream));
    const stop = () => source.close();
    source.addEventListener("output", (e) => {
      streamed += e.data;
      if (!isTerminal(current) && !growText(Array.isArray(current.output) ? current.output.join("") : "")) {
        outputBox.replaceChildren(renderOutput([streamed], { shape, live: true }));
      }
    });
    source.addEventListener("done", stop);
    source.addEventListener("error", stop); // a model error or a dropped connection: polling goes on
    if (signal) signal.addEventListener("abort", stop);
  }

  function placeholder(p) {
    if (isTerminal(p)) return h("p.muted.output-empty", p.status === "succeeded" ? "The model returned no output." : "No output.");
    return h("div.output-empty.skeleton", { "aria-hidden": "true" }, h("span", "Output will appear here"));
  }

  function renderMetrics(p) {
    const t = timings(p);
    const rows = TIMING.filter(({ key }) => typeof t[key] === "number");
    const items = rows.flatMap(({ key, label, help }) => [h("dt", { title: help }, label), h("dd", { dataset: { timing: key } }, duration(t[key]))]);
    const price = cost(p);
    if (price) items.push(h("dt", { title: "what this prediction was charged" }, "Cost"), h("dd", { dataset: { cost: "" } }, price));
    metrics.replaceChildren(...items);
    metrics.hidden = !items.length;
  }

  async function cancel() {
    canceling = true;
    cancelBtn.disabled = true;
    cancelBtn.querySelector(".label").textContent = "Canceling…";
    try {
      const p = await api.cancel(current.id);
      watcher.push(p);
    } catch (err) {
      setText(errorBox, `Could not cancel: ${err.message}`);
      errorBox.hidden = false;
      cancelBtn.disabled = false;
    } finally {
      canceling = false;
      cancelBtn.querySelector(".label").textContent = "Cancel";
    }
  }

  const pollError = h("p.poll-error", { role: "status", hidden: true });
  root.insertBefore(pollError, errorBox);
  const watcher = watchPrediction(prediction, {
    signal,
    onUpdate: (p) => {
      pollError.hidden = true;
      update(p);
    },
    onError: (err) => {
      pollError.hidden = false;
      pollError.textContent = `Lost contact with the server (${err.message}); retrying…`;
    },
  });
  update(prediction);
  follow(prediction);
  return { element: root, get prediction() { return current; } };
}

/** The prompt words a model reported it ignored (`metrics.ignored_words`). */
export function ignoredWords(p) {
  const words = p && p.metrics && p.metrics.ignored_words;
  return Array.isArray(words) ? words.map(String) : [];
}

export function ignoredText(words) {
  return `Ignored words this model does not know: ${words.join(", ")}`;
}
