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

// File outputs: the official clients only wrap https URLs in FileOutput
// objects, and a Pier server on a laptop speaks plain http. So the code asks
// for plain URLs (the same on http and https) and downloads them itself; Pier
// serves output files without auth.
const FILE_SHAPES = new Set(["file", "files"]);

function pythonOutput(shape) {
  switch (shape.kind) {
    case "text-stream":
      return ["# The output streams in as pieces of text; join them.", 'print("".join(output))'];
    case "file":
      return [
        "print(output)",
        "# Save the file under the name it has on the server.",
        'with open(output.split("?")[0].rsplit("/", 1)[-1], "wb") as f:',
        "    f.write(httpx.get(output).content)",
      ];
    case "files":
      return [
        "for url in output:",
        "    print(url)",
        '    with open(url.split("?")[0].rsplit("/", 1)[-1], "wb") as f:',
        "        f.write(httpx.get(url).content)",
      ];
    default:
      return shape.iterator ? ["for item in output:", "    print(item)"] : ["print(output)"];
  }
}

export function pythonSnippet({ origin, ref, input, shape }) {
  const files = FILE_SHAPES.has(shape.kind);
  return [
    files ? "import httpx" : null,
    "import replicate",
    "",
    `# Reads your Pier API token from the ${TOKEN_ENV} environment variable.`,
    `client = replicate.Client(base_url=${JSON.stringify(origin)})`,
    "",
    "output = client.run(",
    `    ${JSON.stringify(ref)},`,
    `    input=${pythonLiteral(input, 4)},`,
    files ? "    use_file_output=False,  # file outputs come back as URLs" : null,
    ")",
    ...pythonOutput(shape),
    "",
  ]
    .filter((line) => line !== null)
    .join("\n");
}

function nodeOutput(shape) {
  const save = (v, pad) => [
    `${pad}const name = new URL(${v}).pathname.split("/").pop();`,
    `${pad}await writeFile(name, Buffer.from(await (await fetch(${v})).arrayBuffer()));`,
  ];
  switch (shape.kind) {
    case "text-stream":
      return ["// The output streams in as pieces of text; join them.", 'console.log(output.join(""));'];
    case "file":
      return ["console.log(output);", "// Save the file under the name it has on the server.", ...save("output", "")];
    case "files":
      return ["for (const url of output) {", "  console.log(url);", ...save("url", "  "), "}"];
    default:
      return ["console.log(output);"];
  }
}

export function nodeSnippet({ origin, ref, input, shape }) {
  const files = FILE_SHAPES.has(shape.kind);
  return [
    "// Save as run.mjs and run with: node run.mjs",
    'import Replicate from "replicate";',
    files ? 'import { writeFile } from "node:fs/promises";' : null,
    "",
    "const replicate = new Replicate({",
    `  auth: process.env.${TOKEN_ENV},`,
    `  baseUrl: ${JSON.stringify(`${origin}/v1`)},`,
    files ? "  useFileOutput: false, // file outputs come back as URLs" : null,
    "});",
    "",
    `const output = await replicate.run(${JSON.stringify(ref)}, {`,
    `  input: ${jsLiteral(input, 2)},`,
    "});",
    ...nodeOutput(shape),
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
