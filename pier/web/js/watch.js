// Follow a prediction until it ends, by polling GET /v1/predictions/{id}.
// Polling alone is enough; it is quick while processing so streamed text
// appears token by token, and slower while the prediction waits in a queue.

import { api } from "./api.js";
import { parseTime } from "./format.js";
import { isTerminal } from "./status.js";

/**
 * Calls `onUpdate(prediction)` for each new state and `onError(error)` when a
 * poll fails (it keeps retrying with a growing delay). Stops at a terminal
 * status or when `signal` aborts. Returns a function that forces a poll now.
 */
export function watchPrediction(initial, { onUpdate, onError = () => {}, signal }) {
  let current = initial;
  let timer = null;
  let failures = 0;
  let lastJson = "";

  function delay() {
    if (failures) return Math.min(5000, 500 * 2 ** failures);
    if (current.status === "processing") return 300;
    return 600;
  }

  async function poll() {
    timer = null;
    if (signal && signal.aborted) return;
    try {
      const next = await api.prediction(current.id, { signal });
      failures = 0;
      current = next;
      const json = JSON.stringify(next);
      if (json !== lastJson) {
        lastJson = json;
        onUpdate(next);
      }
    } catch (err) {
      if (err.name === "AbortError") return;
      failures += 1;
      onError(err);
      if (err.status === 404 || err.status === 401) return;
    }
    schedule();
  }

  function schedule() {
    if (isTerminal(current) || (signal && signal.aborted) || timer) return;
    timer = setTimeout(poll, delay());
  }

  if (signal) signal.addEventListener("abort", () => timer && clearTimeout(timer));
  lastJson = JSON.stringify(initial);
  schedule();
  return {
    /** Take a prediction we got another way (a cancel response) and keep going. */
    push(p) {
      current = p;
      lastJson = JSON.stringify(p);
      onUpdate(p);
      schedule();
    },
  };
}

/** Progress from the prediction's `progress` field, or from a tqdm line in the logs. */
export function progressOf(p) {
  const pr = p.progress;
  if (pr && (pr.percent !== undefined || pr.total)) {
    const total = pr.total ?? null;
    const current = pr.current ?? null;
    let percent = pr.percent;
    if ((percent === undefined || percent === null) && total) percent = (100 * current) / total;
    return { percent: clampPct(percent), current, total };
  }
  // tqdm prints e.g. " 45%|████▌     | 9/20 [00:04<00:05,  2.2it/s]"; use the last one.
  const lines = String(p.logs || "").split(/[\r\n]/);
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    const m = lines[i].match(/(\d{1,3})%\|[^|]*\|\s*(\d+)\/(\d+)/);
    if (m) return { percent: clampPct(Number(m[1])), current: Number(m[2]), total: Number(m[3]) };
  }
  return null;
}

function clampPct(v) {
  const n = Number(v);
  return Number.isFinite(n) ? Math.max(0, Math.min(100, n)) : null;
}

/**
 * The phase to show. `status` is one of the five API values; the queue and
 * progress fields refine "starting" and "processing".
 */
export function phaseOf(p) {
  if (p.status === "succeeded") return { key: "succeeded", label: "Succeeded" };
  if (p.status === "failed") return { key: "failed", label: "Failed" };
  if (p.status === "canceled") return { key: "canceled", label: "Canceled" };
  if (p.status === "processing") {
    const progress = progressOf(p);
    if (progress && progress.percent >= 100) return { key: "finishing", label: "Finishing" };
    return { key: "running", label: "Running" };
  }
  const q = p.queue;
  if (q && q.phase === "booting") return { key: "booting", label: "Booting" };
  if (q && q.phase === "queued") return { key: "queued", label: "Queued" };
  return { key: "starting", label: "Starting" };
}

/** Seconds between two timestamps, or until now. */
export function secondsBetween(from, to) {
  const a = parseTime(from);
  if (a === null) return null;
  const b = to ? parseTime(to) : Date.now();
  return b === null ? null : Math.max(0, (b - a) / 1000);
}
