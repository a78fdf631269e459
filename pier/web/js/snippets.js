// Code that does exactly what the form would do: the official Python and
// Node.js clients pointed at this server, and the raw HTTP call with cURL.
// The token is read from REPLICATE_API_TOKEN so no secret lands in the code.

const TOKEN_ENV = "REPLICATE_API_TOKEN";

/** A Python literal for a JSON value, indented for use inside a call. */
export function pythonLiteral(value, indent = 0) {
  const pad = " ".repeat(indent);
  const inner = " ".repeat(indent + 4);
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "None";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) {
    if (!value.length) return "[]";
    if (value.every((v) => typeof v !== "object" || v === null) && JSON.stringify(value).length < 60) {
      return `[${value.map((v) => pythonLiteral(v)).join(", ")}]`;
    }
    return `[\n${value.map((v) => `${inner}${pythonLiteral(v, indent + 4)},`).join("\n")}\n${pad}]`;
  }
  const entries = Object.entries(value);
  if (!entries.length) return "{}";
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${pythonLiteral(v, indent + 4)},`).join("\n")}\n${pad}}`;
}

/** A JavaScript literal: JSON with bare keys where they are identifiers. */
export function jsLiteral(value, indent = 0) {
  const pad = " ".repeat(indent);
  const inner = " ".repeat(indent + 2);
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) {
    if (!value.length) return "[]";
    if (value.every((v) => typeof v !== "object" || v === null) && JSON.stringify(value).length < 60) {
      return `[${value.map((v) => jsLiteral(v)).join(", ")}]`;
    }
    return `[\n${value.map((v) => `${inner}${jsLiteral(v, indent + 2)},`).join("\n")}\n${pad}]`;
  }
  if (typeof value === "object") {
    const entries = Object.entries(value);
    if (!entries.length) return "{}";
    const key = (k) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k));
    return `{\n${entries.map(([k, v]) => `${inner}${key(k)}: ${jsLiteral(v, indent + 2)},`).join("\n")}\n${pad}}`;
  }
  return JSON.stringify(value);
}

function extensionFor(kind) {
  return { image: "png", video: "mp4", audio: "wav" }[kind] || "bin";
}

function pythonOutput(shape, kind) {
  const ext = extensionFor(kind);
  switch (shape.kind) {
    case "text-stream":
      return ['# The output streams in as pieces of text; join them.', 'print("".join(output))'];
    case "file":
      return [
        "# A file comes back as a FileOutput: print() shows its URL, read() gives its bytes.",
        "print(output)",
        `with open("output.${ext}", "wb") as f:`,
        "    f.write(output.read())",
      ];
    case "files":
      return [
        "for index, item in enumerate(output):",
        "    print(item)",
        `    with open(f"output_{index}.${ext}", "wb") as f:`,
        "        f.write(item.read())",
      ];
    default:
      return shape.iterator ? ["for item in output:", "    print(item)"] : ["print(output)"];
  }
}

export function pythonSnippet({ origin, ref, input, shape, kind }) {
  return [
    "import replicate",
    "",
    `# Reads your Pier API token from the ${TOKEN_ENV} environment variable.`,
    `client = replicate.Client(base_url=${JSON.stringify(origin)})`,
    "",
    "output = client.run(",
    `    ${JSON.stringify(ref)},`,
    `    input=${pythonLiteral(input, 4)},`,
    ")",
    ...pythonOutput(shape, kind),
    "",
  ].join("\n");
}

function nodeOutput(shape, kind) {
  const ext = extensionFor(kind);
  switch (shape.kind) {
    case "text-stream":
      return ["// The output streams in as pieces of text; join them.", 'console.log(output.join(""));'];
    case "file":
      return [
        "// A file comes back as a FileOutput stream: url() is its address.",
        "console.log(output.url().href);",
        `await writeFile("output.${ext}", output);`,
      ];
    case "files":
      return [
        "for (const [index, item] of output.entries()) {",
        "  console.log(item.url().href);",
        `  await writeFile(\`output_\${index}.${ext}\`, item);`,
        "}",
      ];
    default:
      return ["console.log(output);"];
  }
}

export function nodeSnippet({ origin, ref, input, shape, kind }) {
  const needsFs = shape.kind === "file" || shape.kind === "files";
  return [
    'import Replicate from "replicate";',
    needsFs ? 'import { writeFile } from "node:fs/promises";' : null,
    "",
    "const replicate = new Replicate({",
    `  auth: process.env.${TOKEN_ENV},`,
    `  baseUrl: ${JSON.stringify(`${origin}/v1`)},`,
    "});",
    "",
    `const output = await replicate.run(${JSON.stringify(ref)}, {`,
    `  input: ${jsLiteral(input, 2)},`,
    "});",
    ...nodeOutput(shape, kind),
    "",
  ]
    .filter((line) => line !== null)
    .join("\n");
}

function shellQuote(text) {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export function curlSnippet({ origin, version, input }) {
  const body = JSON.stringify({ version, input }, null, 2);
  return [
    `curl -s -X POST ${origin}/v1/predictions \\`,
    `  -H "Authorization: Bearer $${TOKEN_ENV}" \\`,
    '  -H "Content-Type: application/json" \\',
    '  -H "Prefer: wait" \\',
    `  -d ${shellQuote(body)}`,
    "",
  ].join("\n");
}

export const SETUP = {
  python: `pip install replicate\nexport ${TOKEN_ENV}=<your-pier-api-token>`,
  node: `npm install replicate\nexport ${TOKEN_ENV}=<your-pier-api-token>`,
  curl: `export ${TOKEN_ENV}=<your-pier-api-token>`,
};
