// A model's version history: each version with when it was made and where it came from (a push,
// or a training of another version with its input), newest first, linked to what it came from.

import { api } from "./api.js";
import { h, icon } from "./dom.js";
import { dateTime, shortId } from "./format.js";
import { nounList } from "./nouns.js";
import { canTrain } from "./trainable.js";

/** Where a version came from; versions made before this was recorded were pushed. */
export function sourceOf(version) {
  return version.source && version.source.kind ? version.source : { kind: "push" };
}

function versionHref(ref, id) {
  return `/models/${ref}?version=${encodeURIComponent(id)}`;
}

/** "Trained by training T from version B", with links once the base model is known. */
function trainedFrom(source, ref, versions, signal) {
  const base = source.base_version || "";
  const baseText = h("span.mono", shortId(base, 12));
  const baseSlot = h("span.base-version", baseText);
  const trainingLink = source.training_id
    ? h("a.training-link", { href: `/trainings/${encodeURIComponent(source.training_id)}` }, `training ${shortId(source.training_id, 10)}`)
    : "a training";
  if (versions.some((v) => v.id === base)) {
    baseSlot.replaceChildren(h("a.base-link", { href: versionHref(ref, base) }, baseText));
  } else if (source.training_id && base) {
    // The base is a version of another model: the training says which (to its owner).
    api
      .training(source.training_id, { signal })
      .then((training) => {
        if (training && training.model) baseSlot.replaceChildren(h("a.base-link", { href: versionHref(training.model, base) }, `${training.model}:`, baseText));
      })
      .catch(() => {}); // not one's own training: the id alone
  }
  return [icon("branch"), "Trained by ", trainingLink, " from version ", baseSlot];
}

function inputDetails(input) {
  if (!input || typeof input !== "object" || !Object.keys(input).length) return null;
  return h("details.json-details.training-input", h("summary", "Training input"), h("pre.json", JSON.stringify(input, null, 2)));
}

function entry(version, { ref, latestId, versions, signal }) {
  const source = sourceOf(version);
  const trained = source.kind === "training";
  return h(
    "li.version-item",
    { dataset: { version: version.id } },
    h(
      "div.version-line",
      h("a.version-id.mono", { href: versionHref(ref, version.id), title: version.id }, shortId(version.id, 12)),
      version.id === latestId ? h("span.kind-badge.latest-badge", "Latest") : null,
      h("span.version-kind", { class: trained ? "trained" : "pushed" }, trained ? "Trained" : "Pushed"),
      h("time.muted", { datetime: version.created_at }, dateTime(version.created_at)),
      h("a.btn.small.run-version", { href: versionHref(ref, version.id) }, icon("play"), h("span.label", "Run"), h("span.visually-hidden", ` version ${shortId(version.id, 12)}`)),
      canTrain(version)
        ? h("a.btn.small.train-version", { href: `${versionHref(ref, version.id)}&tab=train` }, icon("branch"), h("span.label", "Train"), h("span.visually-hidden", ` version ${shortId(version.id, 12)}`))
        : null,
    ),
    h("p.version-source", trained ? trainedFrom(source, ref, versions, signal) : [icon("upload"), "Pushed from a model folder (", h("code", "pier push"), " or ", h("code", "pier models add"), ")"]),
    trained ? inputDetails(source.input) : null,
  );
}

/** The Versions panel: the three nouns, then every version, newest first, then `extra`. */
export function versionList({ model, versions, signal, extra = null }) {
  const ref = `${model.owner}/${model.name}`;
  const latestId = model.latest_version && model.latest_version.id;
  const ordered = [...versions].sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
  return h(
    "div.versions-panel",
    nounList(),
    h("h2.visually-hidden", "Versions"),
    h(
      "ol.version-list",
      { "aria-label": `Versions of ${ref}` },
      ordered.map((v) => entry(v, { ref, latestId, versions, signal })),
    ),
    extra,
  );
}
