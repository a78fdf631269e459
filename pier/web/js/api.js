// The HTTP API client the playground uses: the same Replicate-compatible
// endpoints the official clients call, with the token kept in localStorage.

const TOKEN_KEY = "pier.token";
const USER_KEY = "pier.username";
const ADMIN_KEY = "pier.admin";

export const session = {
  get token() {
    return localStorage.getItem(TOKEN_KEY);
  },
  get username() {
    return localStorage.getItem(USER_KEY);
  },
  /** Whether the account may see the operator pages (as the server last said). */
  get admin() {
    return localStorage.getItem(ADMIN_KEY) === "1";
  },
  save(token, username, admin = false) {
    localStorage.setItem(TOKEN_KEY, token);
    if (username) localStorage.setItem(USER_KEY, username);
    else localStorage.removeItem(USER_KEY);
    if (admin) localStorage.setItem(ADMIN_KEY, "1");
    else localStorage.removeItem(ADMIN_KEY);
  },
  clear() {
    localStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(USER_KEY);
    localStorage.removeItem(ADMIN_KEY);
  },
};

/** An error from the API, carrying the problem+json body when there is one. */
export class ApiError extends Error {
  constructor(status, body, fallback) {
    const title = body && typeof body === "object" ? body.title : null;
    const detail = body && typeof body === "object" ? body.detail : null;
    super(detail || title || fallback || `Request failed (${status})`);
    this.status = status;
    this.title = title;
    this.body = body;
  }

  /** The server's per-field messages (`invalid_fields`), keyed by input name. */
  get fieldErrors() {
    const out = {};
    const fields = (this.body && this.body.invalid_fields) || [];
    for (const item of fields) {
      const name = String(item.field || "").replace(/^input\./, "").split(/[.[]/)[0];
      const message = item.description || item.message || item.type || "Invalid value";
      if (name) (out[name] ||= []).push(message);
    }
    return out;
  }
}

/** Called when the API says the token is no longer good (set by main.js). */
let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

async function parseBody(response) {
  const type = response.headers.get("content-type") || "";
  if (response.status === 204) return null;
  if (type.includes("json")) {
    try {
      return await response.json();
    } catch {
      return null;
    }
  }
  return response.text();
}

/**
 * Call the API. `path` is relative to the origin (e.g. "/v1/models") or an
 * absolute URL (pagination `next` links).
 */
export async function request(path, { method = "GET", body, headers = {}, signal, auth = true } = {}) {
  const init = { method, headers: { ...headers }, signal };
  if (auth && session.token) init.headers.Authorization = `Bearer ${session.token}`;
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(sameOrigin(path), init);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, null, "Cannot reach the Pier server. Is `pier serve` still running?");
  }
  const data = await parseBody(response);
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && auth) onUnauthorized(error);
    throw error;
  }
  return data;
}

/**
 * Pagination links are absolute; a server behind a proxy may report another
 * host, so keep only the path and query and ask our own origin.
 */
export function sameOrigin(path) {
  if (!/^https?:/i.test(path)) return path;
  const url = new URL(path);
  return url.pathname + url.search;
}

/** Fetch every page of a paginated list (bounded, so a huge list stays usable). */
export async function listAll(path, { signal, maxPages = 20 } = {}) {
  const results = [];
  let next = path;
  for (let page = 0; next && page < maxPages; page += 1) {
    const data = await request(next, { signal });
    results.push(...(data.results || []));
    next = data.next;
  }
  return results;
}

export const api = {
  login: (code) => request("/auth/login", { method: "POST", body: { code }, auth: false }),
  logout: () => request("/auth/logout", { method: "POST", auth: false, headers: { Authorization: `Bearer ${session.token}` } }),
  providers: (opts) => request("/auth/providers", { ...opts, auth: false }),
  createToken: (name) => request("/v1/account/tokens", { method: "POST", body: { name } }),
  renameToken: (id, name) => request(`/v1/account/tokens/${enc(id)}`, { method: "PATCH", body: { name } }),
  revokeToken: (id) => request(`/v1/account/tokens/${enc(id)}`, { method: "DELETE" }),
  account: (token) =>
    request("/v1/account", token ? { headers: { Authorization: `Bearer ${token}` }, auth: false } : {}),
  models: (opts) => listAll("/v1/models", opts),
  model: (owner, name, opts) => request(`/v1/models/${enc(owner)}/${enc(name)}`, opts),
  createModel: (fields) => request("/v1/models", { method: "POST", body: fields }),
  training: (id, opts) => request(`/v1/trainings/${enc(id)}`, opts),
  createTraining: (owner, name, version, destination, input) =>
    // Made in the playground, as its predictions are (`source: "web"`).
    request(`/v1/models/${enc(owner)}/${enc(name)}/versions/${enc(version)}/trainings`, {
      method: "POST",
      body: { destination, input },
      headers: { "X-Pier-Source": "web" },
    }),
  readme: (owner, name, opts) => request(`/v1/models/${enc(owner)}/${enc(name)}/readme`, opts),
  version: (owner, name, id, opts) => request(`/v1/models/${enc(owner)}/${enc(name)}/versions/${enc(id)}`, opts),
  versions: (owner, name, opts) => listAll(`/v1/models/${enc(owner)}/${enc(name)}/versions`, opts),
  file: (id, opts) => request(`/v1/files/${enc(id)}`, opts),
  prediction: (id, opts) => request(`/v1/predictions/${enc(id)}`, opts),
  predictions: (url, opts) => request(url || "/v1/predictions", opts),
  createPrediction: (version, input, { tweakedFrom } = {}) =>
    // The header marks the prediction as made in the playground (`source: "web"`);
    // `tweaked_from` names the prediction a tweak started from.
    request("/v1/predictions", {
      method: "POST",
      body: tweakedFrom ? { version, input, tweaked_from: tweakedFrom } : { version, input },
      headers: { "X-Pier-Source": "web" },
    }),
  cancel: (id) => request(`/v1/predictions/${enc(id)}/cancel`, { method: "POST" }),
  deletePrediction: (id) => request(`/v1/predictions/${enc(id)}`, { method: "DELETE" }),
  cluster: (opts) => request("/v1/admin/cluster", opts),
  createDeployment: (fields) => request("/v1/deployments", { method: "POST", body: fields }),
  updateDeployment: (owner, name, changes) =>
    request(`/v1/deployments/${enc(owner)}/${enc(name)}`, { method: "PATCH", body: changes }),
  hardware: (opts) => request("/v1/hardware", opts),
  billing: (opts) => request("/v1/billing", opts),
  updateBilling: (changes) => request("/v1/billing", { method: "PATCH", body: changes }),
  ledger: (url, opts) => request(url || "/v1/billing/ledger", opts),
  usage: (days, opts) => request(`/v1/billing/usage?days=${days}`, opts),
  estimate: (ref, opts) => request(`/v1/billing/estimate?version=${enc(ref)}`, opts),
  tokens: (opts) => request("/v1/account/tokens", opts),
  tokenLimit: (id, opts) => request(`/v1/billing/tokens/${enc(id)}`, opts),
  setTokenLimit: (id, limit) => request(`/v1/billing/tokens/${enc(id)}`, { method: "PATCH", body: { monthly_limit_usd: limit } }),
  prices: (opts) => request("/v1/admin/prices", opts),
  setPrice: (price) => request("/v1/admin/prices", { method: "PUT", body: price }),
  removePrice: (key) => request("/v1/admin/prices", { method: "DELETE", body: key }),
  accountsBilling: (opts) => request("/v1/admin/billing", opts),
  addCredit: (username, amount, memo) =>
    request(`/v1/admin/accounts/${enc(username)}/credit`, { method: "POST", body: { amount_usd: amount, memo } }),
};

/** The bytes of one of the account's files (`/v1/files/{id}/download` needs the token). */
export async function fileBlob(id, { signal } = {}) {
  const response = await fetch(`/v1/files/${enc(id)}/download`, {
    headers: session.token ? { Authorization: `Bearer ${session.token}` } : {},
    signal,
  });
  if (!response.ok) throw new ApiError(response.status, null, "Could not load the file");
  return response.blob();
}

/** The account's ledger as a CSV file, fetched with the token (the playground has no cookie). */
export async function ledgerCsv({ signal } = {}) {
  const response = await fetch("/v1/billing/ledger.csv", {
    headers: session.token ? { Authorization: `Bearer ${session.token}` } : {},
    signal,
  });
  if (!response.ok) throw new ApiError(response.status, await parseBody(response), "Could not download the ledger");
  return response.blob();
}

function enc(part) {
  return encodeURIComponent(part);
}

/**
 * Upload a file through POST /v1/files with progress reporting. XHR rather
 * than fetch because fetch cannot report upload progress.
 */
export function uploadFile(file, { onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/files");
    if (session.token) xhr.setRequestHeader("Authorization", `Bearer ${session.token}`);
    xhr.responseType = "json";
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.response);
      else {
        if (xhr.status === 401) onUnauthorized();
        reject(new ApiError(xhr.status, xhr.response, "Upload failed"));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, null, "Upload failed: the server did not answer"));
    xhr.onabort = () => reject(new DOMException("Upload canceled", "AbortError"));
    if (signal) signal.addEventListener("abort", () => xhr.abort());
    const form = new FormData();
    form.append("content", file, file.name);
    form.append("metadata", JSON.stringify({ source: "playground" }));
    xhr.send(form);
  });
}
