/**
 * The islands' client for the admin JSON API: same-origin, session cookie, and the page's CSRF
 * token on every request (the API requires it on state changes).
 * @module
 */

/** An error answer of the admin API. */
export class ApiError extends Error {
  /** HTTP status. */
  readonly status: number;
  /**
   * @param status HTTP status.
   * @param message The API's message.
   */
  constructor(status: number, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

/** Options of {@linkcode api}. */
export interface ApiOptions {
  /** HTTP method (default GET). */
  method?: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  /** JSON body. */
  body?: unknown;
}

/**
 * Calls `/admin/api<path>` and returns its JSON. A 401 (the session ended) goes to the login page.
 * @param path Path under `/admin/api`, e.g. `/keys`.
 * @param options Method and body.
 * @returns The parsed answer.
 * @throws {ApiError} With the API's message when it refuses.
 */
export async function api<T>(path: string, options: ApiOptions = {}): Promise<T> {
  const headers: Record<string, string> = { "x-csrf-token": csrfToken() };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`/admin/api${path}`, {
    method: options.method ?? "GET",
    headers,
    credentials: "same-origin",
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const data = await response.json().catch(() => null);
  if (response.status === 401) {
    location.assign(`/admin/login?next=${encodeURIComponent(location.pathname)}`);
  }
  if (!response.ok) {
    throw new ApiError(response.status, data?.error?.message ?? `HTTP ${response.status}`);
  }
  return data as T;
}

/** The session's CSRF token, from the page's `<meta name="csrf-token">`. */
export function csrfToken(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? "";
}

/**
 * A message for any thrown value.
 * @param error What was thrown.
 */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
