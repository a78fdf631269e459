// The training form's pure helpers: which versions can be trained, train()'s fields read from
// TrainingInput, the destinations one may choose, and the checks made before sending.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { canTrain, destinationProblem, destinations, trainingFields, trainingHref } from "../../pier/web/js/trainable.js";
import { inputFields } from "../../pier/web/js/schema.js";

const schema = {
  components: {
    schemas: {
      Input: { type: "object", properties: { text: { type: "string", title: "Text" } }, required: ["text"] },
      TrainingInput: {
        type: "object",
        required: ["prefix"],
        properties: {
          steps: { type: "integer", default: 1, minimum: 1, maximum: 1000, "x-order": 1 },
          prefix: { type: "string", title: "Prefix", "x-order": 0 },
          images: { type: "string", format: "uri", "x-order": 2 },
        },
      },
    },
  },
};

describe("trainable versions", () => {
  test("a version whose schema has TrainingInput can be trained; others cannot", () => {
    assert.equal(canTrain({ openapi_schema: schema }), true);
    const predictOnly = { components: { schemas: { Input: schema.components.schemas.Input } } };
    assert.equal(canTrain({ openapi_schema: predictOnly }), false);
    for (const version of [null, undefined, {}, { openapi_schema: null }, { openapi_schema: {} }]) assert.equal(canTrain(version), false);
  });

  test("train()'s fields come from TrainingInput, in order, with the run form's widgets", () => {
    const fields = trainingFields({ openapi_schema: schema });
    assert.deepEqual(fields.map((f) => f.name), ["prefix", "steps", "images"]);
    assert.equal(fields[0].required, true);
    assert.equal(fields[1].widget, "slider");
    assert.equal(fields[1].default, 1);
    assert.equal(fields[2].widget, "file");
    assert.deepEqual(trainingFields({ openapi_schema: {} }), []);
  });

  test("the run form still reads Input", () => {
    assert.deepEqual(inputFields(schema).map((f) => f.name), ["text"]);
  });
});

describe("destinations", () => {
  const models = [
    { owner: "ada", name: "zeta" },
    { owner: "bob", name: "public-one" },
    { owner: "ada", name: "alpha" },
    { owner: "ada" },
  ];

  test("only the caller's own models, sorted, as owner/name", () => {
    assert.deepEqual(destinations(models, "ada"), ["ada/alpha", "ada/zeta"]);
    assert.deepEqual(destinations(models, "carol"), []);
    assert.deepEqual(destinations(models, null), []);
  });

  test("one must be chosen, as owner/name", () => {
    assert.match(destinationProblem(""), /Choose/);
    assert.match(destinationProblem(null), /Choose/);
    assert.match(destinationProblem("just-a-name"), /owner\/name/);
    assert.match(destinationProblem("a/b/c"), /owner\/name/);
    assert.equal(destinationProblem("ada/alpha"), null);
  });

  test("a new training opens its own page", () => {
    assert.equal(trainingHref({ id: "abc 1" }), "/trainings/abc%201");
  });
});
