// The one place the UI talks HTTP: JSON in, the ATARYS envelope out, errors typed.
//
// Every answer is `{success, message, data, errors?, pagination?}`. A failed request
// (HTTP error, or the network itself) becomes an `ApiError` carrying the status,
// the French message, per-field `errors`, the `data` and the Retry-After delay.

const CSRF_HEADER = "X-CSRF-Token";
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

let csrfToken = null;
let onUnauthorized = null;

export class ApiError extends Error {
  constructor(status, message, { errors = null, data = null, retryAfter = null, code = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.errors = errors;
    this.data = data;
    this.retryAfter = retryAfter;
    this.code = code;
  }
}

/** Remember the CSRF token the server gave us (login, /me, or a response header). */
export function setCsrfToken(token) {
  if (token) csrfToken = token;
}

export function clearCsrfToken() {
  csrfToken = null;
}

/** Called when any request answers 401, so the app can show the login page. */
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

function readCookie(name) {
  if (typeof document === "undefined") return null;
  const found = document.cookie.split("; ").find((part) => part.startsWith(`${name}=`));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : null;
}

function currentCsrf() {
  return csrfToken || readCookie("csrf_token") || readCookie("XSRF-TOKEN");
}

function retryAfterSeconds(value) {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds));
  const date = Date.parse(value);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.round((date - Date.now()) / 1000));
}

function errorCode(body) {
  const data = body && body.data;
  if (data && typeof data === "object" && !Array.isArray(data)) {
    return data.code || data.error || data.reason || null;
  }
  return (body && (body.code || body.error_code)) || null;
}

/**
 * Send a request; resolve to the whole envelope (plus `status`), reject with ApiError.
 * `body` is sent as JSON; `query` is an object of search parameters.
 */
export async function request(method, path, { body, query, signal } = {}) {
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
    }
    const text = params.toString();
    if (text) url += `?${text}`;
  }
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (UNSAFE.has(method)) {
    const token = currentCsrf();
    if (token) headers[CSRF_HEADER] = token;
  }
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    throw new ApiError(0, "Impossible de joindre le serveur ATARYS.", { code: "network" });
  }
  const headerToken = response.headers.get(CSRF_HEADER);
  if (headerToken) setCsrfToken(headerToken);
  let payload = null;
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("application/json")) {
    try {
      payload = await response.json();
    } catch {
      payload = null;
    }
  }
  if (payload && payload.data && typeof payload.data === "object" && payload.data.csrf_token) {
    setCsrfToken(payload.data.csrf_token);
  }
  if (!response.ok || (payload && payload.success === false)) {
    const message =
      (payload && payload.message) || `Erreur ${response.status} : réponse inattendue du serveur.`;
    const error = new ApiError(response.status, message, {
      errors: payload ? payload.errors || null : null,
      data: payload ? payload.data ?? null : null,
      retryAfter: retryAfterSeconds(response.headers.get("Retry-After")),
      code: errorCode(payload),
    });
    if (response.status === 401 && onUnauthorized && !path.startsWith("/api/auth/login")) {
      onUnauthorized(error);
    }
    throw error;
  }
  return { ...(payload || { success: true, message: "", data: null }), status: response.status };
}

export const api = {
  get: (path, options) => request("GET", path, options),
  post: (path, body, options) => request("POST", path, { ...options, body: body ?? {} }),
  put: (path, body, options) => request("PUT", path, { ...options, body }),
  patch: (path, body, options) => request("PATCH", path, { ...options, body }),
  del: (path, options) => request("DELETE", path, options),
};

// Endpoint paths, in one place so they follow the API if it moves.
export const GC = "/api/google-contacts";
export const paths = {
  login: "/api/auth/login",
  logout: "/api/auth/logout",
  me: "/api/auth/me",
  clients: "/api/clients/",
  client: (id) => `/api/clients/${id}`,
  restoreClient: (id) => `/api/clients/${id}/restore`,
  status: `${GC}/status`,
  auth: `${GC}/auth`,
  disconnect: `${GC}/disconnect`,
  setup: `${GC}/setup-instructions`,
  syncAll: `${GC}/sync-all`,
  runs: `${GC}/runs`,
  run: (id) => `${GC}/runs/${id}`,
  conflicts: `${GC}/conflicts`,
  resolve: (id) => `${GC}/conflicts/${id}/resolve`,
  duplicates: `${GC}/duplicates`,
  dismiss: (id) => `${GC}/duplicates/${id}/dismiss`,
  merge: (id) => `${GC}/duplicates/${id}/merge`,
  settings: `${GC}/settings`,
  syncToGoogle: (id) => `${GC}/sync-to-google/${id}`,
  links: `${GC}/links`,
  resume: (id) => `${GC}/links/${id}/resume`,
  applyPlan: (id) => `${GC}/plans/${encodeURIComponent(id)}/apply`,
  undo: (id) => `${GC}/runs/${id}/undo`,
  trash: `${GC}/trash`,
  restoreContact: (id) => `${GC}/trash/${id}/restore`,
  accounts: `${GC}/accounts`,
  account: (id) => `${GC}/accounts/${encodeURIComponent(id)}`,
  workspace: `${GC}/workspace`,
  workspaceUsers: `${GC}/workspace/users`,
  workspaceUser: (email) => `${GC}/workspace/users/${encodeURIComponent(email)}`,
};
