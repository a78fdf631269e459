// Deployments through the official JavaScript client (replicate@1.4.0), unmodified, against a
// real `pier serve`: create, get, list, update (new releases), predictions, delete, bad input.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import Replicate from "replicate";

import { BUILTIN, startPier } from "./pier.mjs";

let server;
let replicate;

before(async () => {
  server = await startPier([[join(BUILTIN, "echo"), "pier/echo"]]);
  replicate = new Replicate({ auth: server.token, baseUrl: `${server.url}/v1` });
});

after(async () => {
  await server?.stop();
});

test("deployments: create, get, list, update, predictions, delete", async () => {
  const model = await replicate.models.get("pier", "echo");
  const version = model.latest_version.id;
  const made = await replicate.deployments.create({
    name: "js-echo",
    model: "pier/echo",
    version,
    hardware: "cpu",
    min_instances: 0,
    max_instances: 1,
  });
  assert.equal(made.owner, "admin");
  assert.equal(made.current_release.number, 1);
  assert.deepEqual(made.current_release.configuration, { hardware: "cpu", min_instances: 0, max_instances: 1 });

  const got = await replicate.deployments.get("admin", "js-echo");
  assert.equal(got.current_release.version, version);
  const listed = await replicate.deployments.list();
  assert.deepEqual(listed.results.map((d) => d.name), ["js-echo"]);

  const prediction = await replicate.deployments.predictions.create("admin", "js-echo", {
    input: { text: "js" },
    wait: true,
  });
  assert.equal(prediction.status, "succeeded");
  assert.equal(prediction.output, "You said: js");
  assert.equal(prediction.deployment, "admin/js-echo");

  const updated = await replicate.deployments.update("admin", "js-echo", { max_instances: 2 });
  assert.equal(updated.current_release.number, 2);
  assert.equal(updated.current_release.configuration.max_instances, 2);

  await assert.rejects(
    replicate.deployments.update("admin", "js-echo", { min_instances: 3 }),
    (error) => error.response.status === 422 && /min_instances/.test(error.message),
  );
  await assert.rejects(
    replicate.deployments.create({ name: "x", model: "pier/echo", version: "0".repeat(64), hardware: "cpu", min_instances: 0, max_instances: 1 }),
    (error) => error.response.status === 422 && /not a version of pier\/echo/.test(error.message),
  );

  assert.equal(await replicate.deployments.delete("admin", "js-echo"), true);
  await assert.rejects(replicate.deployments.get("admin", "js-echo"), (error) => error.response.status === 404);
});
