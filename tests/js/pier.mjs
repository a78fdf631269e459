// Starts a real `pier serve` for the JavaScript client tests: a fresh data dir, models
// registered with `pier models add`, port 0, and the URL read from the server's own banner.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, copyFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import http from "node:http";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const BUILTIN = join(ROOT, "pier", "builtin");
export const FIXTURES = join(ROOT, "tests", "fixtures", "predictors");
const PYTHON = process.env.PYTHON || "python";
const TOKEN = "js-client-admin-token";

function pier(args, options = {}) {
  return execFileSync(PYTHON, ["-m", "pier.cli.main", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    ...options,
  });
}

/** A Cog model directory holding one fixture predictor. */
export function fixtureModel(parent, fixture) {
  const dir = join(parent, fixture.replace(/\.py$/, ""));
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(FIXTURES, fixture), join(dir, "predict.py"));
  const cog = 'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n';
  writeFileSync(join(dir, "cog.yaml"), cog);
  return dir;
}

/**
 * Registers `models` ([directory, "owner/name"] pairs) and starts the server.
 * Resolves once it has printed its sign-in line, i.e. it is serving.
 */
export async function startPier(models, env = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-js-"));
  const scratch = join(dataDir, "models-src");
  mkdirSync(scratch);
  for (const [dir, name] of models) {
    const source = typeof dir === "function" ? dir(scratch) : dir;
    pier(["models", "add", source, "--name", name, "--data-dir", dataDir]);
  }
  const child = spawn(
    PYTHON,
    ["-m", "pier.cli.main", "serve", "--port", "0", "--data-dir", dataDir, "--no-builtin-models"],
    {
      cwd: ROOT,
      env: { ...process.env, PIER_ADMIN_TOKEN: TOKEN, PYTHONUNBUFFERED: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  const url = await new Promise((resolve, reject) => {
    let found = null;
    const fail = () => reject(new Error(`pier serve did not start:\n${output}`));
    const timer = setTimeout(fail, 60_000);
    const onData = (chunk) => {
      output += chunk;
      const match = output.match(/Pier is running at (\S+)/);
      if (match) found = match[1];
      if (found && output.includes("Sign in to the playground")) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout.setEncoding("utf8").on("data", onData);
    child.stderr.setEncoding("utf8").on("data", (chunk) => (output += chunk));
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`pier serve exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    token: TOKEN,
    dataDir,
    log: () => output,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGINT");
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A local HTTP endpoint that records the webhooks it receives. */
export async function startReceiver() {
  const calls = [];
  const waiters = [];
  const server = http.createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      calls.push({ headers: request.headers, body });
      response.end("ok");
      for (const waiter of waiters.splice(0)) waiter();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/hook`,
    calls,
    /** Resolves once `check(calls)` holds, polling on each new call; rejects at the deadline. */
    async waitFor(check, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!check(calls)) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`webhooks received: ${JSON.stringify(calls)}`);
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Polls `check` until it returns something truthy, or fails at the deadline. */
export async function eventually(check, timeoutMs = 30_000, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error("condition not met before the deadline");
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
