// The operator page (admin only): every API process and worker as its last
// heartbeat described it, and the predictions waiting per model version,
// read from GET /v1/admin/cluster every few seconds; below them, prices and credit.

import { billingAdmin } from "../adminbilling.js";
import { api, session } from "../api.js";
import { h, mount } from "../dom.js";
import { dateTime, duration, parseTime, shortId } from "../format.js";

const REFRESH_MS = 3000;

/** Whether the signed-in account is an admin (as GET /v1/account last said). */
export function isAdmin() {
  return session.admin;
}

function ageText(seconds) {
  return `${duration(seconds)} ago`;
}

/** Seconds from an ISO time to the server's `now` (the snapshot's own clock, not this browser's). */
function since(value, now) {
  const t = parseTime(value);
  return t === null || now === null ? null : Math.max(0, (now - t) / 1000);
}

function capacity(p) {
  if (p.gpus && p.gpus.length) return `GPU ${p.gpus.join(", ")}`;
  if (!p.slots) return "No models";
  return `${p.slots} slot${p.slots === 1 ? "" : "s"}`;
}

function stateBadge(p) {
  return p.alive ? h("span.state-badge.state-alive", "Alive") : h("span.state-badge.state-gone", "Not answering");
}

function versionRef(model, version) {
  return h("span.version-ref", h("span", model || "?"), h("code.muted", shortId(version, 12)));
}

/** "GPU 0,1: 812 MiB" for one model process on a GPU worker (memory where nvidia-smi told it). */
export function gpuProcessText(p) {
  const gpus = (p.gpus || []).join(",");
  const text = gpus ? `GPU ${gpus}` : "no GPU";
  return Number.isInteger(p.memory_mib) ? `${text}: ${p.memory_mib} MiB` : text;
}

function gpuProcesses(item) {
  const placed = (item.gpu_processes || []).filter((p) => typeof p === "object" && p !== null);
  if (!placed.length) return null;
  return h("span.muted.gpu-processes", ` (${placed.map(gpuProcessText).join("; ")})`);
}

function loadedList(items) {
  if (!items.length) return h("span.muted", "None");
  return h(
    "ul.plain-list",
    items.map((item) =>
      typeof item === "object" && item !== null
        ? h(
            "li",
            versionRef(item.model, item.version),
            item.processes > 1 ? h("span.muted", ` ×${item.processes}`) : null,
            gpuProcesses(item),
          )
        : h("li", String(item)),
    ),
  );
}

function runningList(items, now) {
  if (!items.length) return h("span.muted", "Idle");
  return h(
    "ul.plain-list",
    items.map((job) => {
      const elapsed = since(job.since, now);
      return h(
        "li",
        h("span", job.model || "?"),
        " ",
        h("code.muted", shortId(job.id, 10)),
        elapsed === null ? null : h("span.muted", ` for ${duration(elapsed)}`),
      );
    }),
  );
}

/** A table cell labelled for the phone layout, where each row becomes a card. */
function cell(label, ...children) {
  return h("td", { dataset: { label } }, h("div.cell-value", ...children));
}

function rowHead(label, ...children) {
  return h("th", { scope: "row", dataset: { label } }, h("div.cell-value", ...children));
}

function processRow(p, now) {
  return h(
    "tr",
    { dataset: { process: p.id }, class: p.alive ? null : "is-gone" },
    rowHead(
      "Process",
      h("span.process-kind", p.kind === "serve" ? "API process" : "Worker"),
      h("span.process-host", p.host),
      h("code.muted.process-id", `pid ${p.pid}`),
    ),
    cell("Capacity", capacity(p)),
    cell("Models", p.models && p.models.length ? p.models.join(", ") : h("span.muted", "All")),
    cell("Loaded", loadedList(p.loaded || [])),
    cell("Running now", runningList(p.running || [], now)),
    cell("Heartbeat", h("span.heartbeat", stateBadge(p), h("span.muted", { title: dateTime(p.heartbeat_at) }, ageText(p.heartbeat_age)))),
  );
}

function processTable(processes, now) {
  if (!processes.length) return h("p.empty-note", "No process has reported a heartbeat yet.");
  return h(
    "div.table-scroll",
    h(
      "table.cluster-table.process-table",
      h("caption.visually-hidden", "API processes and workers"),
      h(
        "thead",
        h("tr", ["Process", "Capacity", "Models", "Loaded", "Running now", "Heartbeat"].map((t) => h("th", { scope: "col" }, t))),
      ),
      h(
        "tbody",
        processes.map((p) => processRow(p, now)),
      ),
    ),
  );
}

function queueTable(queues) {
  if (!queues.length) return h("p.empty-note", "No prediction is waiting.");
  return h(
    "div.table-scroll",
    h(
      "table.cluster-table.queue-table",
      h("caption.visually-hidden", "Predictions waiting per model version"),
      h(
        "thead",
        h("tr", ["Model version", "Waiting", "In queue", "Oldest wait"].map((t) => h("th", { scope: "col" }, t))),
      ),
      h(
        "tbody",
        queues.map((q) =>
          h(
            "tr",
            rowHead("Model version", versionRef(q.model, q.version)),
            cell("Waiting", String(q.depth)),
            cell("In queue", q.queued === null || q.queued === undefined ? "—" : String(q.queued)),
            cell("Oldest wait", duration(q.oldest_wait_seconds)),
          ),
        ),
      ),
    ),
  );
}

function summary(cluster) {
  const alive = cluster.processes.filter((p) => p.alive);
  const gone = cluster.processes.length - alive.length;
  const slots = alive.reduce((n, p) => n + (p.slots || 0), 0);
  const busy = alive.reduce((n, p) => n + (p.running || []).length, 0);
  const waiting = cluster.queues.reduce((n, q) => n + q.depth, 0);
  const longest = cluster.queues.reduce((n, q) => Math.max(n, q.oldest_wait_seconds), 0);
  const tile = (label, value, note) => h("div.tile", h("dt", label), h("dd", h("span.tile-value", value), note ? h("span.tile-note", note) : null));
  return h(
    "dl.cluster-summary",
    tile("Processes", String(alive.length), gone ? `${gone} not answering` : "all answering"),
    tile("Busy slots", `${busy} / ${slots}`),
    tile("Waiting", String(waiting), waiting ? `on ${cluster.queues.length} version${cluster.queues.length === 1 ? "" : "s"}` : null),
    tile("Longest wait", waiting ? duration(longest) : "—"),
  );
}

export async function render({ view, signal, setTitle }) {
  setTitle("Cluster");
  mount(view, h("div.page-head", h("h1", "Cluster")), h("p.muted", "Loading…"));
  let cluster = await api.cluster({ signal });

  const updated = h("p.muted.subtitle.updated");
  const problem = h("p.poll-error", { hidden: true, role: "status" });
  const body = h("div.cluster");

  function draw() {
    const now = parseTime(cluster.time);
    mount(
      body,
      summary(cluster),
      h("section.cluster-section", { "aria-labelledby": "processes-title" }, h("h2#processes-title", "Processes"), processTable(cluster.processes, now)),
      h("section.cluster-section", { "aria-labelledby": "queues-title" }, h("h2#queues-title", "Waiting predictions"), queueTable(cluster.queues)),
    );
    updated.textContent = `API processes, workers and the predictions waiting for them. Updated ${new Date(now ?? Date.now()).toLocaleTimeString()}, every ${REFRESH_MS / 1000} s.`;
  }

  async function refresh() {
    if (signal.aborted) return;
    try {
      cluster = await api.cluster({ signal });
      problem.hidden = true;
      draw();
    } catch (err) {
      if (signal.aborted || (err && err.name === "AbortError")) return;
      problem.textContent = `Could not refresh: ${err.message}. Trying again.`;
      problem.hidden = false;
    }
    if (!signal.aborted) setTimeout(refresh, REFRESH_MS);
  }

  mount(view, h("div.page-head", h("div", h("h1", "Cluster"), updated)), problem, body, billingAdmin({ signal }));
  draw();
  setTimeout(refresh, REFRESH_MS);
}
