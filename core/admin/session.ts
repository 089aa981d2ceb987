/**
 * Admin console sessions: a signed, expiring cookie and a CSRF token bound to it.
 *
 * The cookie holds `<session id>.<expiry>.<HMAC-SHA256 signature>`; the key is derived from
 * `SECRET_KEY` and the admin password, so changing either ends every session. Nothing is stored:
 * any process sharing `SECRET_KEY` accepts the cookie. Logging out revokes the session id in this
 * process and clears the cookie (a stolen cookie stays valid elsewhere until it expires, at most
 * {@linkcode SESSION_TTL_MS}). The CSRF token is a second HMAC of the session id (a synchronizer
 * token that needs no storage): cookie-authenticated POST, PUT, PATCH and DELETE requests must send
 * it in `x-csrf-token` or a `_csrf` form field.
 * @module
 */

import { timingSafeEqual } from "../secrets/mod.ts";

const encoder = new TextEncoder();

/** Name of the session cookie. */
export const SESSION_COOKIE = "gp_admin";
/** Session lifetime: 12 hours from login. */
export const SESSION_TTL_MS = 12 * 3_600_000;
/** Path the cookie is sent for. */
export const COOKIE_PATH = "/admin";

/** A verified session. */
export interface Session {
  /** Random id, new at every login. */
  id: string;
  /** Expiry (epoch ms). */
  expiresAt: number;
  /** The CSRF token state changes must carry. */
  csrf: string;
}

/** Options of {@linkcode createSessions}. */
export interface SessionOptions {
  /** `SECRET_KEY`. */
  secret: string;
  /** `ADMIN_PASSWORD`: part of the key, so changing it logs everyone out. */
  password: string;
  /** Clock (epoch ms). */
  now: () => number;
  /** Lifetime (default {@linkcode SESSION_TTL_MS}). */
  ttlMs?: number;
}

/** Issues and checks session cookies. */
export interface Sessions {
  /** Starts a new session with a fresh random id (never reusing one the client sent). */
  issue(): Promise<{ session: Session; cookie: string }>;
  /** Verifies a cookie value; null when missing, forged, expired or revoked. */
  read(cookie: string | undefined): Promise<Session | null>;
  /** Ends a session in this process. */
  revoke(session: Session): void;
  /** Whether a CSRF token belongs to the session (constant time). */
  checkCsrf(session: Session, token: string | null | undefined): boolean;
  /** Lifetime, ms. */
  readonly ttlMs: number;
}

/**
 * Creates the session signer.
 * @param options Secret, password, clock and lifetime.
 * @returns The signer.
 * @example
 * ```ts
 * const sessions = await createSessions({ secret, password, now: Date.now });
 * const { cookie } = await sessions.issue();
 * ```
 */
export async function createSessions(options: SessionOptions): Promise<Sessions> {
  const ttlMs = options.ttlMs ?? SESSION_TTL_MS;
  const key = await sessionKey(options);
  const revoked = new Map<string, number>();

  async function sign(text: string): Promise<string> {
    return toBase64Url(new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(text))));
  }
  async function csrfOf(id: string): Promise<string> {
    return (await sign(`csrf.${id}`)).slice(0, 32);
  }
  async function sessionOf(id: string, expiresAt: number): Promise<Session> {
    return { id, expiresAt, csrf: await csrfOf(id) };
  }

  return {
    ttlMs,
    async issue() {
      const id = toBase64Url(crypto.getRandomValues(new Uint8Array(18)));
      const expiresAt = options.now() + ttlMs;
      const body = `${id}.${expiresAt.toString(36)}`;
      return { session: await sessionOf(id, expiresAt), cookie: `${body}.${await sign(body)}` };
    },
    async read(cookie) {
      const match = cookie?.match(/^([\w-]{24})\.([0-9a-z]{1,12})\.([\w-]{43})$/);
      if (!match) return null;
      const [, id, expiry, signature] = match as unknown as [string, string, string, string];
      // Compared as text: a lenient base64 decoder would also accept the same signature with
      // its unused trailing bits changed, so one cookie would have several valid spellings.
      if (!timingSafeEqual(signature, await sign(`${id}.${expiry}`))) return null;
      const expiresAt = parseInt(expiry, 36);
      const now = options.now();
      if (expiresAt <= now || revoked.has(id)) return null;
      return await sessionOf(id, expiresAt);
    },
    revoke(session) {
      const now = options.now();
      for (const [id, until] of revoked) if (until <= now) revoked.delete(id);
      revoked.set(session.id, session.expiresAt);
    },
    checkCsrf(session, token) {
      if (!token) return false;
      let diff = token.length ^ session.csrf.length;
      for (let i = 0; i < session.csrf.length; i++) {
        diff |= session.csrf.charCodeAt(i) ^ (token.charCodeAt(i) || 0);
      }
      return diff === 0;
    },
  };
}

/**
 * The key sessions are signed with: derived from `SECRET_KEY` and salted with the password's
 * hash, so changing the password ends every session.
 */
async function sessionKey(
  options: Pick<SessionOptions, "secret" | "password">,
): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey("raw", encoder.encode(options.secret), "HKDF", false, [
    "deriveKey",
  ]);
  const passwordHash = await crypto.subtle.digest("SHA-256", encoder.encode(options.password));
  return await crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new Uint8Array(passwordHash),
      info: encoder.encode("gemini-proxy/admin-session/v1"),
    },
    base,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}

/** `COOKIE_SECURE`: when the session cookie carries `Secure`. */
export type CookieSecure = "auto" | "always" | "never";

/** Options of {@linkcode sessionCookie}. */
export interface SessionCookieOptions {
  /** Lifetime in seconds (0 clears the cookie). */
  maxAgeSeconds: number;
  /** `COOKIE_SECURE`. */
  secure: CookieSecure;
}

/**
 * The `Set-Cookie` value for a session cookie (or for clearing it, with `maxAgeSeconds` 0).
 * `Secure` is set as `COOKIE_SECURE` says; with `auto`, unless the request went to this machine
 * (localhost), so plain-HTTP local use still works.
 * @param value The cookie value (empty to clear).
 * @param request The request being answered (its URL decides `Secure` under `auto`).
 * @param options Lifetime and `COOKIE_SECURE`.
 */
export function sessionCookie(
  value: string,
  request: Request,
  options: SessionCookieOptions,
): string {
  const parts = [
    `${SESSION_COOKIE}=${value}`,
    `Path=${COOKIE_PATH}`,
    `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`,
    "HttpOnly",
    "SameSite=Strict",
  ];
  if (secureCookie(request, options.secure)) parts.push("Secure");
  return parts.join("; ");
}

/**
 * Whether the session cookie is marked `Secure` for a request.
 * @param request The request.
 * @param mode `COOKIE_SECURE`.
 */
export function secureCookie(request: Request, mode: CookieSecure): boolean {
  return mode === "always" || (mode === "auto" && !isLocalRequest(request));
}

/**
 * Whether a browser will drop the session cookie: it is `Secure`, but the console was opened
 * over plain HTTP on another machine's name or address (browsers keep `Secure` cookies from plain
 * HTTP only for localhost). A TLS-terminating proxy in front is recognised by its
 * `X-Forwarded-Proto: https` or `Forwarded: proto=https` (this only decides whether the login
 * page shows a warning, never whether the cookie is `Secure`).
 * @param request The request.
 * @param mode `COOKIE_SECURE`.
 */
export function cookieDropped(request: Request, mode: CookieSecure): boolean {
  if (!secureCookie(request, mode) || isLocalRequest(request)) return false;
  if (new URL(request.url).protocol !== "http:") return false;
  const forwardedProto = request.headers.get("x-forwarded-proto")?.split(",")[0]?.trim();
  const forwarded = request.headers.get("forwarded") ?? "";
  return forwardedProto?.toLowerCase() !== "https" && !/(^|[;,\s])proto="?https"?/i.test(forwarded);
}

/**
 * Whether a request was addressed to this machine (`localhost`, `127.0.0.1`, `::1`).
 * @param request The request.
 */
export function isLocalRequest(request: Request): boolean {
  const host = new URL(request.url).hostname;
  return host === "localhost" || host === "127.0.0.1" || host === "[::1]" ||
    host.endsWith(".localhost");
}

/**
 * Reads one cookie from a request.
 * @param request The request.
 * @param name Cookie name.
 * @returns The value, or undefined.
 */
export function readCookie(request: Request, name: string): string | undefined {
  const header = request.headers.get("cookie");
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
