// A model's page: header, version picker, and tabs for the playground (form
// plus live output), the API code, and the model card.

import { api, session } from "../api.js";
import { codeTab } from "../codetab.js";
import { h, icon, mount } from "../dom.js";
import { count, dateTime, shortId } from "../format.js";
import { renderMarkdown } from "../markdown.js";
import { nounNote } from "../nouns.js";
import { playground, runTimeNote, tweakInput } from "../playground.js";
import { pushSteps } from "../pushhelp.js";
import { setQuery } from "../router.js";
import { inputFields, outputShape } from "../schema.js";
import { tabs } from "../tabs.js";
import { canTrain } from "../trainable.js";
import { trainPanel } from "../trainform.js";
import { versionList } from "../versionlist.js";
import { coverFor, kindBadge } from "./gallery.js";

function versionLabel(v, latestId) {
  const when = v.created_at ? dateTime(v.created_at) : "";
  return `${shortId(v.id, 12)}${v.id === latestId ? " (latest)" : ""}${when ? ` · ${when}` : ""}`;
}

async function loadReadme(owner, name, signal) {
  try {
    return await api.readme(owner, name, { signal });
  } catch (err) {
    if (err.status === 404) return null;
    throw err;
  }
}

export async function render({ view, params, query, signal, setTitle }) {
  const { owner, name } = params;
  setTitle(`${owner}/${name}`);
  mount(view, h("h1", `${owner}/${name}`), h("p.muted", { role: "status" }, "Loading model…"));

  const tweakId = query.get("tweak");
  const [model, versions, tweak] = await Promise.all([
    api.model(owner, name, { signal }),
    api.versions(owner, name, { signal }).catch(() => []),
    tweakId ? api.prediction(tweakId, { signal }) : null,
  ]);
  const latestId = model.latest_version && model.latest_version.id;
  if (model.latest_version && !versions.some((v) => v.id === latestId)) versions.unshift(model.latest_version);
  // A token pasted in another tab may not have saved its username here yet: ask once.
  const username = session.username || (await api.account().catch(() => ({}))).username;
  const canPush = model.owner === username || Boolean(session.admin);
  const created = query.get("created") ? h("p.notice.created-notice", { role: "status" }, `Created ${owner}/${name}. It has no versions yet: push one to run it.`) : null;
  if (!versions.length) {
    const empty = canPush ? pushSteps(model) : h("div.empty-state", h("p", "This model has no versions yet, so there is nothing to run."));
    mount(view, header(model), created, empty);
    return;
  }

  const wanted = (tweak && tweak.version) || query.get("version") || latestId;
  let version = versions.find((v) => v.id === wanted) || versions[0];

  const readmePromise = loadReadme(owner, name, signal);
  const readmePanel = h("div.model-card-panel", h("p.muted", "Loading the model card…"));
  readmePromise
    .then((text) => {
      mount(readmePanel, runTimeNote(model), text ? h("article.markdown", renderMarkdown(text)) : h("p.muted", "This model has no model card."));
    })
    .catch((err) => mount(readmePanel, h("p.error-box", `Could not load the model card: ${err.message}`)));

  const playPanel = h("div");
  let pg = null;
  let runCount = null; // the header's "N runs", kept current as runs are made
  const code = codeTab(() => ({
    origin: location.origin,
    ref: `${model.owner}/${model.name}:${version.id}`,
    version: version.id,
    input: pg ? pg.currentInput() : {},
    shape: outputShape(version.openapi_schema),
    kind: model.kind,
  }), {
    selected: query.get("lang") || "python",
    onSelect: (lang) => setQuery({ lang: lang === "python" ? "" : lang }),
  });

  function buildPlayground(initialInput) {
    pg = playground({
      model,
      version,
      signal,
      tweak: tweak && tweak.version === version.id ? tweak : null,
      initialInput,
      predictionId: query.get("prediction"),
      onChange: () => code.refresh(),
      // A new run counts at once; a finished one may change the measured times too.
      onCreated: (p, settled) => refreshModel(settled ? null : 1),
    });
    mount(playPanel, pg.element);
    code.refresh();
  }
  buildPlayground(tweak ? tweakInput(tweak, inputFields(version.openapi_schema || {})) : null);

  // The Train tab, for a version whose cog.yaml has `train:`; rebuilt when the version changes.
  const trainHolder = h("div");
  function buildTrain() {
    if (canTrain(version)) mount(trainHolder, trainPanel({ model, version, username, signal }));
    else trainHolder.replaceChildren();
  }
  buildTrain();

  async function refreshModel(added) {
    if (added) model.run_count = (model.run_count || 0) + added;
    if (runCount) runCount.textContent = count(model.run_count, "run");
    try {
      const fresh = await api.model(owner, name, { signal });
      model.run_count = Math.max(model.run_count || 0, fresh.run_count || 0);
      if (runCount) runCount.textContent = count(model.run_count, "run");
      model.run_time = fresh.run_time;
    } catch {
      // the count shown stays; the next visit reads it again
    }
  }

  const picker = h(
    "select#version-picker",
    {
      onchange: () => {
        const keep = pg.currentInput();
        version = versions.find((v) => v.id === picker.value) || version;
        setQuery({ version: version.id === latestId ? "" : version.id, prediction: "" });
        buildPlayground(keep);
        const trainable = canTrain(version);
        buildTrain();
        if (trainable !== t.trainable) {
          if (currentTab === "train") {
            currentTab = "playground";
            setQuery({ tab: "" });
          }
          const fresh = buildTabs(currentTab);
          t.element.replaceWith(fresh.element);
          t = fresh;
        }
      },
    },
    versions.map((v) => h("option", { value: v.id }, versionLabel(v, latestId))),
  );
  picker.value = version.id;

  const versionsPanel = versionList({ model, versions, signal, extra: canPush ? h("details.push-more", h("summary", "Push a new version"), pushSteps(model)) : null });
  let currentTab = query.get("tab") || "playground";
  if (currentTab === "train" && !canTrain(version)) currentTab = "playground";
  /** The tabs for the current version: Train only where it can be trained. */
  function buildTabs(selected) {
    const trainable = canTrain(version);
    const built = tabs(
      [
        { key: "playground", label: "Playground", panel: playPanel },
        trainable ? { key: "train", label: "Train", panel: trainHolder } : null,
        { key: "api", label: "API", panel: code.element },
        { key: "versions", label: `Versions (${versions.length})`, panel: versionsPanel },
        { key: "readme", label: "Model card", panel: readmePanel },
      ].filter(Boolean),
      {
        selected: selected === "train" && !trainable ? "playground" : selected,
        label: "Model sections",
        onSelect: (key) => {
          currentTab = key;
          setQuery({ tab: key === "playground" ? "" : key });
          if (key === "api") code.refresh();
        },
      },
    );
    return Object.assign(built, { trainable });
  }
  let t = buildTabs(currentTab);

  const head = header(model, h("div.version-picker", h("label", { for: "version-picker" }, "Version"), picker, nounNote("version")));
  runCount = head.querySelector(".run-count-text");
  mount(view, head, t.element);
}

function header(model, extra) {
  return h(
    "div.model-head",
    coverFor(model, { large: true }),
    h(
      "div.model-title",
      h("h1", h("a.owner", { href: "/" }, `${model.owner}/`), model.name),
      model.description ? h("p.model-desc", model.description) : null,
      h(
        "div.model-meta",
        kindBadge(model.kind),
        h("span.meta-item", icon("play"), h("span.run-count-text", count(model.run_count, "run"))),
        model.visibility === "private" ? h("span.meta-item", "Private") : null,
        h("a.meta-item", { href: `/predictions?model=${encodeURIComponent(`${model.owner}/${model.name}`)}` }, icon("clock"), "Your predictions"),
        h("a.meta-item", { href: `/compare?model=${encodeURIComponent(`${model.owner}/${model.name}`)}` }, icon("plus"), "Compare with other models"),
        h("a.meta-item", { href: `/deployments?model=${encodeURIComponent(`${model.owner}/${model.name}`)}` }, icon("plus"), "Deploy"),
      ),
    ),
    extra,
  );
}
