// What the console's views share: element lookup, API calls with chatlog's error shape, and
// showing errors with their code, message and request id.

export const $ = (id) => document.getElementById(id);

export class APIError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.code = error.code || `http_${status}`;
    this.requestId = error.requestId || "";
  }
}

/** Calls the API; answers its JSON, or throws APIError with the server's code and request id. */
export async function request(method, path, body, headers = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : null;
  if (!response.ok) throw new APIError(response.status, parsed);
  return parsed;
}

export function showError(error) {
  const box = $("error");
  box.textContent = error instanceof APIError
    ? `${error.code}: ${error.message}${error.requestId ? ` (request ${error.requestId})` : ""}`
    : String(error.message || error);
  box.hidden = false;
  clearTimeout(showError.timer);
  showError.timer = setTimeout(() => { box.hidden = true; }, 8000);
}

/** The action, with any failure shown rather than thrown. */
export function attempt(action) {
  return (...args) => Promise.resolve(action(...args)).catch(showError);
}

/** A new element with text (set as text, never as HTML) and attributes. */
export function element(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}
