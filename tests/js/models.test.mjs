// The official JavaScript client (replicate@1.4.0), unmodified, against a real `pier serve`:
// models.create/get/list, collections.list/get and hardware.list.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import Replicate from "replicate";

import { fixtureModel, startPier } from "./pier.mjs";

let server;
let replicate;

before(async () => {
  server = await startPier([[(scratch) => fixtureModel(scratch, "hello_world.py"), "admin/hello"]]);
  replicate = new Replicate({ auth: server.token, baseUrl: `${server.url}/v1` });
});

after(async () => {
  await server?.stop();
});

describe("models", () => {
  test("create answers 201 with the model, which get and list then find", async () => {
    const model = await replicate.models.create("admin", "js-made", {
      visibility: "private",
      hardware: "cpu",
      description: "Made from JavaScript.",
      paper_url: "https://example.org/paper",
    });
    assert.equal(model.owner, "admin");
    assert.equal(model.name, "js-made");
    assert.equal(model.visibility, "private");
    assert.equal(model.hardware, "cpu");
    assert.equal(model.paper_url, "https://example.org/paper");
    assert.equal(model.latest_version, null);
    assert.equal(model.run_count, 0);

    const got = await replicate.models.get("admin", "js-made");
    assert.deepEqual(got, model);
    const listed = await replicate.models.list();
    assert.deepEqual(
      listed.results.map((m) => `${m.owner}/${m.name}`),
      ["admin/hello", "admin/js-made"],
    );
  });

  test("a name that is taken, or not a name, is the server's error", async () => {
    await replicate.models.create("admin", "twice", { visibility: "public", hardware: "cpu" });
    await assert.rejects(
      replicate.models.create("admin", "twice", { visibility: "public", hardware: "cpu" }),
      (error) => error.response.status === 409 && /already exists/.test(error.message),
    );
    await assert.rejects(
      replicate.models.create("admin", "No Spaces", { visibility: "public", hardware: "cpu" }),
      (error) => error.response.status === 422 && /invalid_fields/.test(error.message),
    );
  });
});

describe("collections and hardware", () => {
  test("collections group the models by kind of output", async () => {
    const page = await replicate.collections.list();
    assert.equal(page.next, null);
    const slugs = page.results.map((c) => c.slug);
    assert.ok(slugs.includes("text"), slugs.join());
    for (const summary of page.results) {
      assert.equal(typeof summary.name, "string");
      assert.equal(typeof summary.description, "string");
    }
    const text = await replicate.collections.get("text");
    assert.equal(text.slug, "text");
    assert.deepEqual(
      text.models.map((m) => `${m.owner}/${m.name}`),
      ["admin/hello"],
    );
    assert.equal(text.models[0].latest_version.cog_version.length > 0, true);
    await assert.rejects(replicate.collections.get("nothing-here"), (error) => error.response.status === 404);
  });

  test("hardware is a bare list of sku and name", async () => {
    const hardware = await replicate.hardware.list();
    assert.ok(Array.isArray(hardware));
    assert.deepEqual(hardware.slice(0, 2), [
      { sku: "cpu", name: "CPU" },
      { sku: "gpu", name: "GPU" },
    ]);
  });
});
