// What the training form needs to know, without the page: whether a version can be trained,
// train()'s fields, the caller's own models a training may write into, and the checks made
// before anything is sent.

import { inputFields } from "./schema.js";

/** Whether a version's schema describes train()'s inputs (its cog.yaml has `train:`). */
export function canTrain(version) {
  const schemas = version && version.openapi_schema && version.openapi_schema.components && version.openapi_schema.components.schemas;
  return Boolean(schemas && schemas.TrainingInput);
}

/** train()'s fields, read from `TrainingInput` the way the run form reads `Input`. */
export function trainingFields(version) {
  return canTrain(version) ? inputFields(version.openapi_schema, "TrainingInput") : [];
}

/** The models a training may write into: the caller's own, as sorted "owner/name" refs. */
export function destinations(models, username) {
  if (!username) return [];
  return models
    .filter((m) => m && m.owner === username && m.name)
    .map((m) => `${m.owner}/${m.name}`)
    .sort((a, b) => a.localeCompare(b));
}

/** The destination's problem before sending, or null: one must be chosen, as owner/name. */
export function destinationProblem(value) {
  const ref = String(value || "").trim();
  if (!ref) return "Choose the model the new version goes into.";
  if (!/^[^/\s]+\/[^/\s]+$/.test(ref)) return "A destination is owner/name.";
  return null;
}

/** The training page of a newly made training. */
export function trainingHref(training) {
  return `/trainings/${encodeURIComponent(training.id)}`;
}
