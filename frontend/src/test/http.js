// A fake `fetch` for component tests: a handler decides each answer.
import { vi } from "vitest";

export function jsonResponse(status, body, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

export function envelope(data, message = "", extra = {}) {
  return { success: true, message, data, ...extra };
}

export function failure(message, data = null, extra = {}) {
  return { success: false, message, data, ...extra };
}

/** Install a fetch mock; `handler({method, url, body})` returns a Response (or throws). */
export function mockFetch(handler) {
  const calls = [];
  const fn = vi.fn(async (url, options = {}) => {
    const call = {
      method: options.method || "GET",
      url: String(url),
      body: options.body ? JSON.parse(options.body) : undefined,
      headers: options.headers || {},
    };
    calls.push(call);
    return handler(call);
  });
  vi.stubGlobal("fetch", fn);
  return calls;
}
