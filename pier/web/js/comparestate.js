// The state of a comparison and its address (see pages/compare.js for the format), and the
// versions its cells run.

import { api } from "./api.js";
import { uid } from "./dom.js";

export const MAX_CELLS = 12;

export function parseRef(ref) {
  const [path, version = ""] = String(ref).split(":");
  const [owner = "", name = ""] = path.split("/");
  return { owner, name, model: `${owner}/${name}`, version };
}

function parseOverrides(text) {
  if (!text) return {};
  try {
    const value = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

/** The comparison the address describes. */
export function readState(query) {
  const refs = query.getAll("model").filter((r) => /^[^/:\s]+\/[^/:\s]+(:[0-9a-f]+)?$/.test(r)).slice(0, MAX_CELLS);
  const ids = (query.get("predictions") || "").split(",").map((s) => s.trim());
  const cells = refs.map((ref, i) => newCell(ref, parseOverrides(query.get(`input${i + 1}`)), ids[i] || null));
  return { prompt: query.get("prompt") || "", cells, fromPredictions: refs.length ? [] : ids.filter(Boolean).slice(0, MAX_CELLS) };
}

/** The address of a comparison (the inverse of readState). */
export function compareUrl(state) {
  const q = new URLSearchParams();
  if (state.prompt) q.set("prompt", state.prompt);
  state.cells.forEach((cell, i) => {
    q.append("model", cell.ref);
    if (Object.keys(cell.overrides).length) q.set(`input${i + 1}`, JSON.stringify(cell.overrides));
  });
  const ids = state.cells.map((c) => c.predictionId || "");
  if (ids.some(Boolean)) q.set("predictions", ids.join(","));
  const text = q.toString();
  return text ? `/compare?${text}` : "/compare";
}

export function newCell(ref, overrides = {}, predictionId = null) {
  return { key: uid("cell"), ref, overrides, predictionId, prediction: null, error: null };
}

/** A prediction's input minus the prompt and the values equal to their defaults. */
export function withoutDefaults(input, fields, main) {
  const out = {};
  const byName = new Map(fields.map((f) => [f.name, f]));
  for (const [name, value] of Object.entries(input || {})) {
    if (main && name === main.name) continue;
    const field = byName.get(name);
    if (field && field.hasDefault && JSON.stringify(field.default) === JSON.stringify(value)) continue;
    if (field && field.format === "password") continue;
    out[name] = value;
  }
  return out;
}

/**
 * Looks up the version each cell runs (the one its ref names, else the model's latest), with
 * the model and its versions, asking the API once per model.
 */
export function versionResolver(signal) {
  const cache = new Map(); // "owner/name" -> Promise<{model, versions}>
  function modelInfo(name) {
    if (!cache.has(name)) {
      const { owner, name: n } = parseRef(name);
      const info = Promise.all([api.model(owner, n, { signal }), api.versions(owner, n, { signal }).catch(() => [])]).then(([model, versions]) => {
        const latest = model.latest_version;
        if (latest && !versions.some((v) => v.id === latest.id)) versions.unshift(latest);
        return { model, versions };
      });
      cache.set(name, info);
    }
    return cache.get(name);
  }

  return async function versionOf(cell) {
    const ref = parseRef(cell.ref);
    const { model, versions } = await modelInfo(ref.model);
    const wanted = ref.version || (model.latest_version && model.latest_version.id);
    let version = versions.find((v) => v.id === wanted || (ref.version && v.id.startsWith(ref.version)));
    if (!version && ref.version) version = await api.version(ref.owner, ref.name, ref.version, { signal });
    if (!version) throw new Error(`${ref.model} has no versions yet.`);
    return { model, versions, version };
  };
}
