// Trainings with the official JavaScript client (replicate@1.4.0 from npm), unmodified, against
// a real `pier serve`: create, get, list, cancel, a missing destination, and the new version.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Replicate from "replicate";

import { FIXTURES, eventually, startPier } from "./pier.mjs";

/** A model with predict() and train() (tests/fixtures/predictors/train_prefix.py). */
function trainable(scratch, name) {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(FIXTURES, "train_prefix.py"), join(dir, "predict.py"));
  writeFileSync(
    join(dir, "cog.yaml"),
    'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n' +
      'train: "predict.py:train"\n',
  );
  return dir;
}

let server;
let replicate;
let base;

before(async () => {
  server = await startPier([
    [(scratch) => trainable(scratch, "greeter"), "test/greeter"],
    [(scratch) => trainable(scratch, "tuned"), "test/greeter-tuned"],
  ]);
  replicate = new Replicate({ auth: server.token, baseUrl: `${server.url}/v1` });
  base = (await replicate.models.get("test", "greeter")).latest_version.id;
});

after(async () => {
  await server?.stop();
});

const finished = (id) =>
  eventually(async () => {
    const training = await replicate.trainings.get(id);
    return ["succeeded", "failed", "canceled"].includes(training.status) && training;
  }, 90_000);

test("a training makes a new version of its destination", async () => {
  const training = await replicate.trainings.create("test", "greeter", base, {
    destination: "test/greeter-tuned",
    input: { prefix: "ahoy " },
  });
  assert.ok(["starting", "processing"].includes(training.status));
  assert.equal(training.model, "test/greeter");
  const done = await finished(training.id);
  assert.equal(done.status, "succeeded", done.error);
  assert.equal(done.destination, "test/greeter-tuned");
  assert.match(done.output.version, /^test\/greeter-tuned:[0-9a-f]{64}$/);
  const page = await replicate.trainings.list();
  assert.ok(page.results.some((t) => t.id === training.id));
  const output = await replicate.run(done.output.version, { input: { text: "world" } });
  assert.equal(output, "ahoy world");
  const before = await replicate.run(`test/greeter:${base}`, { input: { text: "world" } });
  assert.equal(before, "hello world");
});

test("a training canceled mid-way makes no version", async () => {
  const training = await replicate.trainings.create("test", "greeter", base, {
    destination: "test/greeter",
    input: { prefix: "never ", steps: 400, delay: 0.05 },
  });
  const logs = async () => (await replicate.trainings.get(training.id)).logs || "";
  await eventually(async () => (await logs()).includes("step 2 of"), 60_000);
  const canceled = await replicate.trainings.cancel(training.id);
  assert.equal(canceled.status, "canceled");
  const versions = await replicate.models.versions.list("test", "greeter");
  assert.deepEqual(
    versions.results.map((v) => v.id),
    [base],
  );
});

test("a destination that does not exist is a 404", async () => {
  await assert.rejects(
    replicate.trainings.create("test", "greeter", base, {
      destination: "test/nowhere",
      input: { prefix: "x" },
    }),
    (error) => {
      assert.equal(error.response.status, 404);
      assert.match(error.message, /The specified training destination does not exist/);
      return true;
    },
  );
});
