// Read a Cog OpenAPI input schema into an ordered list of field descriptions,
// and check values against them the way the server will, so mistakes show up
// next to the field before anything is sent.

const PROMPT_NAMES = /(prompt|text|message|instruction|system|context|query|question|caption|content|transcript|lyrics|story|description)/i;

/** Follow "#/components/schemas/X" references inside the document. */
function deref(node, doc) {
  let current = node || {};
  for (let i = 0; i < 10 && current.$ref; i += 1) {
    const path = current.$ref.replace(/^#\//, "").split("/");
    current = path.reduce((acc, key) => (acc ? acc[key] : undefined), doc) || {};
  }
  return current;
}

/** Merge `allOf`/`anyOf` wrappers and references into one flat property. */
function flatten(prop, doc) {
  let out = { ...deref(prop, doc) };
  for (const part of out.allOf || []) out = { ...flatten(part, doc), ...out, allOf: undefined };
  if (Array.isArray(out.anyOf) || Array.isArray(out.oneOf)) {
    const options = out.anyOf || out.oneOf;
    const real = options.filter((o) => o.type !== "null");
    if (real.length < options.length) out.nullable = true;
    if (real.length === 1) out = { ...flatten(real[0], doc), ...out, anyOf: undefined, oneOf: undefined };
  }
  // Titles and descriptions belong to the property, not to a referenced enum
  // (Cog titles an enum schema with the bare parameter name).
  const own = deref(prop, doc) === prop ? prop : {};
  return { ...out, title: own.title, description: own.description || out.description };
}

function widgetFor(field) {
  const { type, format, name } = field;
  if (field.choices) return "select";
  if (type === "boolean") return "toggle";
  if (type === "integer" && /(^|_)seed$/i.test(name)) return "seed";
  if (type === "integer" || type === "number") {
    return field.minimum !== undefined && field.maximum !== undefined ? "slider" : "number";
  }
  if (type === "string") {
    if (format === "uri") return "file";
    if (format === "password") return "password";
    const long = typeof field.default === "string" && field.default.length > 60;
    if (PROMPT_NAMES.test(name) || long || (field.maxLength || 0) > 200) return "textarea";
    return "text";
  }
  if (type === "array") {
    const items = field.items || {};
    if (items.choices) return "checkboxes";
    if (items.format === "uri") return "files";
    if (["string", "integer", "number"].includes(items.type)) return "list";
  }
  return "json";
}

function describe(name, raw, required, doc) {
  const prop = flatten(raw, doc);
  const field = {
    name,
    title: prop.title || humanize(name),
    description: prop.description || "",
    type: prop.type || (prop.enum ? typeof prop.enum[0] : "any"),
    format: prop.format,
    required: required.has(name),
    hasDefault: Object.prototype.hasOwnProperty.call(prop, "default"),
    default: prop.default,
    // OpenAPI 3.0 marks exclusive limits with a boolean, 3.1 with a number.
    minimum: typeof prop.exclusiveMinimum === "number" ? prop.exclusiveMinimum : prop.minimum,
    maximum: typeof prop.exclusiveMaximum === "number" ? prop.exclusiveMaximum : prop.maximum,
    exclusiveMinimum: prop.exclusiveMinimum === true || typeof prop.exclusiveMinimum === "number",
    exclusiveMaximum: prop.exclusiveMaximum === true || typeof prop.exclusiveMaximum === "number",
    minLength: prop.minLength,
    maxLength: prop.maxLength,
    minItems: prop.minItems,
    maxItems: prop.maxItems,
    pattern: prop.pattern,
    nullable: Boolean(prop.nullable),
    choices: Array.isArray(prop.enum) ? prop.enum : null,
    order: prop["x-order"] ?? Number.MAX_SAFE_INTEGER,
  };
  if (field.type === "integer" && field.default === null) field.hasDefault = false;
  if (prop.type === "array") {
    const items = flatten(prop.items || {}, doc);
    field.items = { ...items, choices: Array.isArray(items.enum) ? items.enum : null };
  }
  field.widget = widgetFor(field);
  return field;
}

/**
 * Ordered field descriptions for a version's `openapi_schema`: predict()'s inputs, or train()'s
 * with `component` "TrainingInput".
 */
export function inputFields(openapi, component = "Input") {
  const schemas = (openapi && openapi.components && openapi.components.schemas) || {};
  const input = deref(schemas[component] || {}, openapi);
  const required = new Set(input.required || []);
  const fields = Object.entries(input.properties || {}).map(([name, raw]) =>
    describe(name, raw, required, openapi),
  );
  fields.sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
  return fields;
}

/** What the output looks like: "text-stream", "file", "files", "text", "json", ... */
export function outputShape(openapi) {
  const schemas = (openapi && openapi.components && openapi.components.schemas) || {};
  const out = flatten(schemas.Output || {}, openapi);
  if (out.type === "array") {
    const items = flatten(out.items || {}, openapi);
    const iterator = out["x-cog-array-type"] === "iterator";
    if (iterator && out["x-cog-array-display"] === "concatenate") return { kind: "text-stream", iterator };
    if (items.format === "uri") return { kind: "files", iterator };
    return { kind: "list", iterator, items };
  }
  if (out.type === "string" && out.format === "uri") return { kind: "file" };
  if (out.type === "string") return { kind: "text" };
  if (out.type === "number" || out.type === "integer" || out.type === "boolean") return { kind: "scalar" };
  return { kind: "json" };
}

export function humanize(name) {
  const words = String(name).replace(/[_-]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function fmtNum(n) {
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(6)));
}

/** Check one already-converted value; returns a message or null. */
export function checkValue(field, value) {
  if (value === undefined || value === null) {
    if (field.required && !field.hasDefault) return "This field is required.";
    return null;
  }
  if (field.choices && !field.choices.includes(value)) {
    return `Choose one of: ${field.choices.join(", ")}.`;
  }
  if (field.type === "integer" || field.type === "number") {
    if (typeof value !== "number" || Number.isNaN(value)) return "Enter a number.";
    if (field.type === "integer" && !Number.isInteger(value)) return "Enter a whole number.";
    return checkRange(field, value);
  }
  if (field.type === "string" && typeof value === "string") {
    const len = [...value].length;
    if (field.minLength !== undefined && len < field.minLength) {
      return `Enter at least ${field.minLength} character${field.minLength === 1 ? "" : "s"} (now ${len}).`;
    }
    if (field.maxLength !== undefined && len > field.maxLength) {
      return `Enter at most ${field.maxLength} characters (now ${len}).`;
    }
    if (field.pattern) {
      let re = null;
      try {
        re = new RegExp(field.pattern, "u");
      } catch {
        re = null; // a pattern JavaScript cannot read is left to the server
      }
      if (re && !re.test(value)) return `Must match the pattern ${field.pattern}`;
    }
  }
  if (field.type === "array" && Array.isArray(value)) {
    if (field.minItems !== undefined && value.length < field.minItems) return `Give at least ${field.minItems} items.`;
    if (field.maxItems !== undefined && value.length > field.maxItems) return `Give at most ${field.maxItems} items.`;
    const items = field.items || {};
    for (const [i, item] of value.entries()) {
      if ((items.type === "integer" || items.type === "number") && typeof item === "number") {
        const problem = checkRange(items, item);
        if (problem) return `Item ${i + 1}: ${problem}`;
      }
    }
  }
  return null;
}

function checkRange(field, value) {
  const { minimum: min, maximum: max } = field;
  const exMin = field.exclusiveMinimum === true || typeof field.exclusiveMinimum === "number";
  const exMax = field.exclusiveMaximum === true || typeof field.exclusiveMaximum === "number";
  if (min !== undefined && (exMin ? value <= min : value < min)) {
    return max !== undefined ? `Must be between ${fmtNum(min)} and ${fmtNum(max)}.` : `Must be ${exMin ? "greater than" : "at least"} ${fmtNum(min)}.`;
  }
  if (max !== undefined && (exMax ? value >= max : value > max)) {
    return min !== undefined ? `Must be between ${fmtNum(min)} and ${fmtNum(max)}.` : `Must be ${exMax ? "less than" : "at most"} ${fmtNum(max)}.`;
  }
  return null;
}

/** A random seed inside the field's limits (Cog seeds are usually 0..2^32-1). */
export function randomSeed(field) {
  const lo = Math.ceil(field.minimum ?? 0);
  const hi = Math.floor(Math.min(field.maximum ?? 2 ** 32 - 1, Number.MAX_SAFE_INTEGER));
  return lo + Math.floor(Math.random() * (hi - lo + 1));
}

const NOT_MAIN = /(negative|system|^output_|format$|^lang)/i;

function mainScore(name) {
  if (/^prompt$/i.test(name)) return 0;
  if (/^(text|texts|message|query|question|instruction)$/i.test(name)) return 1;
  if (PROMPT_NAMES.test(name) && !NOT_MAIN.test(name)) return 2;
  return 3;
}

/**
 * The field one prompt goes into when a model is run from a single text box (the compare page):
 * `prompt`, else a field named like one, else the first free-text field. Null when the model
 * takes no free text.
 */
export function mainTextField(fields) {
  const text = fields.filter(
    (f) => f.type === "string" && !f.choices && f.format !== "uri" && f.format !== "password" && !NOT_MAIN.test(f.name),
  );
  if (!text.length) return null;
  return text.reduce((best, f) => (mainScore(f.name) < mainScore(best.name) ? f : best));
}

/** The prompt (or main text) of a prediction's input, without its schema; "" when none. */
export function promptOf(input) {
  if (!input || typeof input !== "object") return "";
  const texts = Object.entries(input).filter(
    ([name, v]) => typeof v === "string" && v.trim() && !/^(https?:|data:)/i.test(v) && mainScore(name) < 3 && !/^\*+$/.test(v),
  );
  if (!texts.length) return "";
  return texts.reduce((best, cur) => (mainScore(cur[0]) < mainScore(best[0]) ? cur : best))[1];
}
