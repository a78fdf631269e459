// The official JavaScript client (replicate@1.4.0 from npm), unmodified, against a real
// `pier serve`: run (also with files), stream, predictions, paginate, files, webhooks.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import Replicate, { validateWebhook } from "replicate";

import { BUILTIN, eventually, fixtureModel, startPier, startReceiver } from "./pier.mjs";

// A 4x4 blue PNG.
const BLUE_PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAFElEQVR4nGNkYPjPAANMDEgANwcAMdMB" +
    "B1sLEtoAAAAASUVORK5CYII=",
  "base64",
);
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let server;
let replicate;
let receiver;

before(async () => {
  receiver = await startReceiver();
  server = await startPier(
    [
      [join(BUILTIN, "echo"), "pier/echo"],
      [join(BUILTIN, "stream-words"), "pier/stream-words"],
      [join(BUILTIN, "image-filter"), "pier/image-filter"],
      [join(BUILTIN, "slow"), "pier/slow"],
      [(scratch) => fixtureModel(scratch, "exc_in_predict.py"), "test/fails"],
    ],
    { PIER_ALLOW_PRIVATE_WEBHOOKS: "1" },
  );
  replicate = new Replicate({ auth: server.token, baseUrl: `${server.url}/v1` });
});

after(async () => {
  await server?.stop();
  await receiver?.close();
});

async function fetchPng(url) {
  const response = await fetch(url); // output files need no token
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "image/png");
  const bytes = Buffer.from(await response.arrayBuffer());
  assert.deepEqual(bytes.subarray(0, 8), PNG_MAGIC);
  return bytes;
}

describe("run", () => {
  test("blocks until the output is ready", async () => {
    const output = await replicate.run("pier/echo", { input: { text: "hello" } });
    assert.equal(output, "You said: hello");
  });

  test("by version, polling", async () => {
    const model = await replicate.models.get("pier", "echo");
    const version = model.latest_version.id;
    const seen = [];
    const output = await replicate.run(
      `pier/echo:${version}`,
      { input: { text: "v", uppercase: true }, wait: { mode: "poll", interval: 50 } },
      (prediction) => seen.push(prediction.status),
    );
    assert.equal(output, "You said: V");
    assert.equal(seen.at(-1), "succeeded");
  });

  test("falls back to polling when the wait runs out", async () => {
    const output = await replicate.run("pier/slow", {
      input: { steps: 8, delay: 0.2 },
      wait: { mode: "block", timeout: 1 },
    });
    assert.equal(output, "Finished 8 steps");
  });

  test("with a file input uploaded through the Files API, and a file output", async () => {
    const client = new Replicate({
      auth: server.token,
      baseUrl: `${server.url}/v1`,
      fileEncodingStrategy: "upload", // no silent fallback to a data: URI
    });
    const output = await client.run("pier/image-filter", {
      input: { image: BLUE_PNG, filter: "invert" },
    });
    assert.equal(typeof output, "string"); // an http: URL stays a string in this client
    const bytes = await fetchPng(output);
    assert.notDeepEqual(bytes, BLUE_PNG);
  });

  test("with a data: URI file input", async () => {
    // (1.4.0's own "data-uri" strategy passes the client where the inputs go, so the
    // URI is built here the way the client would)
    const image = `data:image/png;base64,${BLUE_PNG.toString("base64")}`;
    const output = await replicate.run("pier/image-filter", { input: { image, filter: "blur" } });
    await fetchPng(output);
  });

  test("a failed prediction throws its error", async () => {
    await assert.rejects(
      replicate.run("test/fails", { input: {} }),
      /Prediction failed: .*bad things happened/,
    );
  });

  test("invalid input is a 422 with the field named", async () => {
    await assert.rejects(replicate.run("pier/echo", { input: { repeat: 50 } }), (error) => {
      assert.equal(error.response.status, 422);
      assert.match(error.message, /text is required/);
      assert.match(error.message, /input\.repeat/);
      return true;
    });
  });

  test("aborting cancels the prediction", async () => {
    const controller = new AbortController();
    let id;
    await replicate.run(
      "pier/slow",
      {
        input: { steps: 500, delay: 0.05 },
        wait: { mode: "poll", interval: 50 },
        signal: controller.signal,
      },
      (prediction) => {
        id = prediction.id;
        if (prediction.status === "processing") controller.abort();
      },
    );
    const canceled = await eventually(async () => {
      const prediction = await replicate.predictions.get(id);
      return prediction.status === "canceled" && prediction;
    });
    assert.equal(canceled.status, "canceled");
  });
});

describe("stream", () => {
  test("yields each token as the model yields it", async () => {
    const tokens = [];
    const arrivals = [];
    let done;
    for await (const event of replicate.stream("pier/stream-words", {
      input: { text: "one two three four", delay: 0.3 },
    })) {
      if (event.event === "output") {
        tokens.push(String(event));
        arrivals.push(Date.now());
      }
      if (event.event === "done") done = event;
    }
    assert.deepEqual(tokens, ["one ", "two ", "three ", "four"]);
    assert.equal(done.data, "{}");
    assert.ok(done.id);
    // the model waits 0.3 s between words; so must the tokens, or they came all at the end
    for (let i = 1; i < arrivals.length; i++) assert.ok(arrivals[i] - arrivals[i - 1] >= 150);
  });

  test("multi-line tokens keep their line breaks", async () => {
    const tokens = [];
    for await (const event of replicate.stream("pier/echo", { input: { text: "a\nb\n\nc" } })) {
      if (event.event === "output") tokens.push(event.data);
    }
    assert.deepEqual(tokens, ["You said: a\nb\n\nc"]);
  });

  test("file outputs arrive as FileOutput objects", async () => {
    const files = [];
    for await (const event of replicate.stream("pier/image-filter", {
      input: { image: BLUE_PNG, filter: "grayscale" },
    })) {
      if (event.event === "output") files.push(event.data);
    }
    assert.equal(files.length, 1);
    assert.equal(typeof files[0].blob, "function"); // FileOutput, because the URL is /v1/files/
    const blob = await files[0].blob();
    assert.equal(blob.type, "image/png");
    assert.deepEqual(Buffer.from(await blob.arrayBuffer()).subarray(0, 8), PNG_MAGIC);
  });

  test("a failure errors the stream", async () => {
    await assert.rejects(async () => {
      for await (const _event of replicate.stream("test/fails", { input: {} })) {
        // read until the error
      }
    }, /bad things happened/);
  });
});

describe("predictions", () => {
  test("create, get, list, cancel", async () => {
    const model = await replicate.models.get("pier", "slow");
    const created = await replicate.predictions.create({
      version: model.latest_version.id,
      input: { steps: 500, delay: 0.05 },
    });
    // a warm model may already have started it by the time the create is answered
    assert.ok(["starting", "processing"].includes(created.status), created.status);
    assert.match(created.urls.stream, /^http:\/\/.*\/v1\/streams\//);
    const got = await replicate.predictions.get(created.id);
    assert.equal(got.id, created.id);
    const listed = await replicate.predictions.list();
    assert.ok(listed.results.some((p) => p.id === created.id));
    const canceled = await replicate.predictions.cancel(created.id);
    assert.equal(canceled.status, "canceled");
  });

  test("create by model with a blocking wait", async () => {
    const prediction = await replicate.predictions.create({
      model: "pier/echo",
      input: { text: "m" },
      wait: true,
    });
    assert.equal(prediction.status, "succeeded");
    assert.equal(prediction.output, "You said: m");
  });
});

describe("files", () => {
  test("create, get, list, delete", async () => {
    const file = await replicate.files.create(BLUE_PNG, { purpose: "test" });
    assert.equal(file.content_type, "image/png");
    assert.equal(file.size, BLUE_PNG.length);
    assert.deepEqual(file.metadata, { purpose: "test" });
    assert.ok(file.etag && file.checksums.sha256 && file.urls.get.endsWith(`/v1/files/${file.id}`));
    assert.equal((await replicate.files.get(file.id)).id, file.id);
    assert.ok((await replicate.files.list()).results.some((f) => f.id === file.id));
    const blob = new Blob(["hello"], { type: "text/plain" });
    const named = await replicate.files.create(
      new File([blob], "hello.txt", { type: "text/plain" }),
    );
    assert.equal(named.name, "hello.txt");
    assert.equal(named.content_type, "text/plain");
    assert.deepEqual(named.metadata, {});
    const deleted = await replicate.files.delete(file.id);
    assert.equal(deleted, true);
    await assert.rejects(replicate.files.get(file.id), (error) => error.response.status === 404);
  });

  test("paginate follows absolute next URLs", async () => {
    const made = new Set();
    for (let i = 0; i < 105; i++) {
      made.add((await replicate.files.create(Buffer.from(`file ${i}`))).id);
    }
    const pages = [];
    for await (const page of replicate.paginate(() => replicate.files.list())) pages.push(page);
    assert.ok(pages.length >= 2);
    assert.equal(pages[0].length, 100);
    const seen = new Set(pages.flat().map((f) => f.id));
    for (const id of made) assert.ok(seen.has(id));
  });
});

describe("webhooks", () => {
  test("validateWebhook accepts what Pier delivered", async () => {
    const prediction = await replicate.predictions.create({
      model: "pier/echo",
      input: { text: "hook" },
      webhook: receiver.url,
      webhook_events_filter: ["completed"],
    });
    await receiver.waitFor((calls) => calls.some((c) => JSON.parse(c.body).id === prediction.id));
    const call = receiver.calls.find((c) => JSON.parse(c.body).id === prediction.id);
    assert.equal(JSON.parse(call.body).status, "succeeded");
    const { key } = await replicate.webhooks.default.secret.get();
    assert.match(key, /^whsec_[^_]+$/);
    const signed = {
      id: call.headers["webhook-id"],
      timestamp: call.headers["webhook-timestamp"],
      signature: call.headers["webhook-signature"],
      body: call.body,
      secret: key,
    };
    assert.equal(await validateWebhook(signed), true);
    const request = new Request(receiver.url, {
      method: "POST",
      headers: {
        "webhook-id": call.headers["webhook-id"],
        "webhook-timestamp": call.headers["webhook-timestamp"],
        "webhook-signature": call.headers["webhook-signature"],
      },
      body: call.body,
    });
    assert.equal(await validateWebhook(request, key), true);
    const forged = { ...signed, body: call.body.replace("hook", "evil") };
    assert.equal(await validateWebhook(forged), false);
  });

  test("JS refuses a malformed webhook URL before sending anything", async () => {
    await assert.rejects(
      replicate.run("pier/echo", { input: { text: "x" }, webhook: "not a url" }),
      /Invalid webhook URL/,
    );
  });
});
