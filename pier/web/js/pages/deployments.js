// The deployments page: the account's deployments, each with its current release (number,
// model version, hardware, min and max instances), the model processes of it loaded now
// (warm instances, from the workers' heartbeats) and a form to change it, which makes a new
// release; above them, a form to deploy a model version (prefilled from a model's page).

import { api, listAll } from "../api.js";
import { announce, h, mount } from "../dom.js";
import { ago, dateTime, shortId } from "../format.js";

const REFRESH_MS = 3000;

function numberInput(id, name, value, min) {
  return h(`input#${id}`, { type: "number", name, min: String(min), max: "100", step: "1", value: String(value), required: true, inputmode: "numeric" });
}

function field(id, label, control, hint) {
  return h("div.field", h("label.field-label", { for: id }, label), control, hint ? h("p.field-hint.muted", hint) : null);
}

function versionOptions(versions, selected) {
  return versions.map((v, index) =>
    h("option", { value: v.id, selected: v.id === selected }, `${shortId(v.id, 12)} · ${ago(v.created_at)}${index === 0 ? " (latest)" : ""}`),
  );
}

/** "2 warm · 1 running", or that none is loaded (the heartbeats' figures). */
function instancesText(d) {
  const loaded = (d.instances && d.instances.loaded) || 0;
  const running = (d.instances && d.instances.running) || 0;
  const want = d.current_release.configuration.min_instances;
  const warm = loaded ? `${loaded} warm instance${loaded === 1 ? "" : "s"}` : "No instance loaded";
  const parts = [warm];
  if (running) parts.push(`${running} running`);
  if (want && loaded < want) parts.push(`starting ${want - loaded}…`);
  return parts.join(" · ");
}

function releaseSummary(d) {
  const r = d.current_release;
  const c = r.configuration;
  const row = (label, ...value) => h("div.deploy-fact", h("dt", label), h("dd", ...value));
  return h(
    "dl.deploy-facts",
    row("Release", h("strong", { dataset: { release: String(r.number) } }, `#${r.number}`), h("span.muted", { title: dateTime(r.created_at) }, ` ${ago(r.created_at)}`)),
    row("Version", h("a.mono", { href: `/models/${r.model}?version=${encodeURIComponent(r.version)}` }, `${r.model}:${shortId(r.version, 12)}`)),
    row("Hardware", c.hardware),
    row("Instances", `min ${c.min_instances} · max ${c.max_instances}`),
    row("Now", h("span.deploy-instances", { dataset: { loaded: String((d.instances && d.instances.loaded) || 0) } }, instancesText(d))),
  );
}

/** The change form of one deployment: any of version, hardware, min, max → a new release. */
function changeForm(d, hardware, onChanged) {
  const key = `${d.owner}-${d.name}`.replace(/[^a-z0-9-]/gi, "-");
  const c = d.current_release.configuration;
  const version = h(`select#v-${key}`, { name: "version" }, h("option", { value: d.current_release.version }, shortId(d.current_release.version, 12)));
  const hw = h(`select#hw-${key}`, { name: "hardware" }, hardware.map((x) => h("option", { value: x.sku, selected: x.sku === c.hardware }, x.name)));
  const min = numberInput(`min-${key}`, "min_instances", c.min_instances, 0);
  const max = numberInput(`max-${key}`, "max_instances", c.max_instances, 1);
  const error = h("p.field-error", { role: "alert", hidden: true });
  const [owner, name] = d.current_release.model.split("/");
  api.versions(owner, name).then((versions) => mount(version, versionOptions(versions, d.current_release.version)), () => {});
  return h(
    "form.deploy-change",
    {
      "aria-label": `Change ${d.owner}/${d.name}`,
      onsubmit: async (e) => {
        e.preventDefault();
        error.hidden = true;
        const changes = { version: version.value, hardware: hw.value, min_instances: Number(min.value), max_instances: Number(max.value) };
        try {
          const changed = await api.updateDeployment(d.owner, d.name, changes);
          announce(`${d.name}: release ${changed.current_release.number}`);
          onChanged();
        } catch (err) {
          error.textContent = err.message;
          error.hidden = false;
        }
      },
    },
    h(
      "div.deploy-grid",
      field(`v-${key}`, "Version", version),
      field(`hw-${key}`, "Hardware", hw),
      field(`min-${key}`, "Min instances", min),
      field(`max-${key}`, "Max instances", max),
    ),
    error,
    h("div.deploy-actions", h("button.btn.primary.small", { type: "submit" }, h("span.label", "Save as a new release"))),
  );
}

function deploymentCard(d, hardware, onChanged) {
  const code = `replicate.deployments.predictions.create("${d.owner}", "${d.name}", { input })`;
  return h(
    "section.card.deploy-card",
    { dataset: { deployment: `${d.owner}/${d.name}` }, "aria-labelledby": `dep-${d.owner}-${d.name}` },
    h("h2.deploy-title", { id: `dep-${d.owner}-${d.name}` }, h("span.owner", `${d.owner}/`), d.name),
    releaseSummary(d),
    h("p.muted.deploy-code", "Run it: ", h("code", code)),
    changeForm(d, hardware, onChanged),
  );
}

/** The deploy form: a name, a model and one of its versions, hardware, min and max. */
function createForm(models, hardware, query, onMade) {
  const name = h("input#dep-name", { type: "text", name: "name", required: true, maxlength: 128, placeholder: "e.g. my-echo", autocomplete: "off", pattern: "[a-z0-9][a-z0-9._\\-]*" });
  const model = h("select#dep-model", { name: "model" }, models.map((m) => h("option", { value: `${m.owner}/${m.name}` }, `${m.owner}/${m.name}`)));
  const version = h("select#dep-version", { name: "version" });
  const hw = h("select#dep-hardware", { name: "hardware" }, hardware.map((x) => h("option", { value: x.sku }, x.name)));
  const min = numberInput("dep-min", "min_instances", 0, 0);
  const max = numberInput("dep-max", "max_instances", 1, 1);
  const error = h("p.field-error", { role: "alert", hidden: true });
  async function loadVersions(selected) {
    const [owner, modelName] = model.value.split("/");
    if (!owner) return;
    const versions = await api.versions(owner, modelName);
    mount(version, versionOptions(versions, selected || (versions[0] && versions[0].id)));
  }
  model.addEventListener("change", () => loadVersions());
  if (query.get("model")) model.value = query.get("model");
  if (!name.value && model.value) name.value = model.value.split("/")[1].toLowerCase().replace(/[^a-z0-9._-]/g, "-");
  loadVersions(query.get("version"));
  return h(
    "form.card.deploy-create",
    {
      "aria-label": "New deployment",
      onsubmit: async (e) => {
        e.preventDefault();
        error.hidden = true;
        const body = { name: name.value.trim(), model: model.value, version: version.value, hardware: hw.value, min_instances: Number(min.value), max_instances: Number(max.value) };
        try {
          const made = await api.createDeployment(body);
          announce(`Deployed ${made.owner}/${made.name}`);
          onMade();
        } catch (err) {
          error.textContent = err.message;
          error.hidden = false;
        }
      },
    },
    h("h2", "New deployment"),
    h("p.muted", "A deployment is a name that runs one version of a model; changing it makes a new numbered release, so your code keeps calling the same name."),
    h(
      "div.deploy-grid",
      field("dep-name", "Name", name),
      field("dep-model", "Model", model),
      field("dep-version", "Version", version),
      field("dep-hardware", "Hardware", hw),
      field("dep-min", "Min instances", min, "Kept loaded, even with nothing to run"),
      field("dep-max", "Max instances", max, "The most running at once"),
    ),
    error,
    h("div.deploy-actions", h("button.btn.primary", { type: "submit" }, h("span.label", "Deploy"))),
  );
}

export async function render({ view, query, signal, setTitle }) {
  setTitle("Deployments");
  const [models, hardware] = await Promise.all([api.models({ signal }), api.hardware({ signal })]);
  const list = h("div.stack.deploy-list", { "aria-live": "polite" });
  let shown = "";

  async function refresh(force = false) {
    const deployments = await listAll("/v1/deployments", { signal });
    const key = JSON.stringify(deployments.map((d) => [d.owner, d.name, d.current_release.number]));
    if (force || key !== shown) {
      shown = key;
      mount(list, deployments.length ? deployments.map((d) => deploymentCard(d, hardware, () => refresh(true))) : h("p.empty-note", "No deployments yet."));
      return;
    }
    for (const d of deployments) {  // only the live figures change: keep the forms as they are
      const card = list.querySelector(`[data-deployment="${d.owner}/${d.name}"] .deploy-instances`);
      if (card) {
        card.textContent = instancesText(d);
        card.dataset.loaded = String((d.instances && d.instances.loaded) || 0);
      }
    }
  }

  mount(
    view,
    h("div.page-head", h("div", h("h1", "Deployments"), h("p.muted", "Named versions with model processes kept warm; each change is a new release."))),
    createForm(models, hardware, query, () => refresh(true)),
    h("h2.section-title", "Your deployments"),
    list,
  );
  await refresh(true);
  const timer = setInterval(() => refresh().catch(() => {}), REFRESH_MS);
  signal.addEventListener("abort", () => clearInterval(timer));
}
