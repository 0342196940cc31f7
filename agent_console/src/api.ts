// REST calls to /api/v1 with the console's cookie session and the CSRF header on writes.

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public fields: Record<string, unknown> | null = null,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;

export function setCsrf(token: string | null | undefined): void {
  csrfToken = token || null;
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let response: Response;
  try {
    response = await fetch("/api/v1" + path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "unavailable", "The server cannot be reached. Check your connection.");
  }
  if (response.status === 204) return undefined as T;
  let data: any = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const err = data && data.error ? data.error : {};
    if (response.status === 401 && !path.startsWith("/auth/")) {
      // The session ended (logged out elsewhere, revoked, expired): back to the sign-in page.
      window.dispatchEvent(new CustomEvent("parley:signed-out"));
    }
    throw new ApiError(
      response.status,
      err.code || "unavailable",
      err.message || `Request failed (${response.status}).`,
      err.fields || null,
    );
  }
  return data as T;
}

/** Like ``api`` but ``null`` when the endpoint does not exist on this server (yet). */
export async function optional<T = any>(method: string, path: string, body?: unknown): Promise<T | null> {
  try {
    return await api<T>(method, path, body);
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 405)) return null;
    throw err;
  }
}

export function qs(params: Record<string, string | number | null | undefined>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === "") continue;
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  }
  return parts.length ? "?" + parts.join("&") : "";
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.fields) {
      const details = Object.entries(err.fields)
        .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(" ") : typeof v === "object" ? JSON.stringify(v) : v}`)
        .join("; ");
      if (details) return `${err.message} (${details})`;
    }
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}
