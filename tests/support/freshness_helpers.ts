/**
 * Helpers for the freshness tests: tokens created and revoked through one instance's admin API,
 * and what another instance answers a real SDK client presenting them.
 * @module
 */
import { ApiError, GoogleGenAI } from "@google/genai";
import { assertEquals } from "./assert.ts";

/** The admin password of the instances the freshness tests write through. */
export const ADMIN = "freshness-admin-password";

/** A token as the admin API issued it. */
export interface IssuedToken {
  /** Stored id. */
  id: string;
  /** The secret clients present. */
  secret: string;
}

/**
 * Creates a token through an instance's admin API.
 * @param adminUrl Base URL of the instance.
 * @param name Token name.
 */
export async function createToken(adminUrl: string, name: string): Promise<IssuedToken> {
  const response = await fetch(`${adminUrl}/admin/api/tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  assertEquals(response.status, 201, "token created");
  const { secret, token } = await response.json();
  return { id: token.id, secret };
}

/**
 * Deletes (revokes) a token through an instance's admin API.
 * @param adminUrl Base URL of the instance.
 * @param id Token id.
 */
export async function revokeToken(adminUrl: string, id: string): Promise<void> {
  const response = await fetch(`${adminUrl}/admin/api/tokens/${id}`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  await response.body?.cancel();
  assertEquals(response.status, 200, "token deleted");
}

/**
 * The HTTP status an instance answers `@google/genai` generateContent with a token (no retries).
 * @param baseUrl The instance's base URL as clients configure it.
 * @param secret The token.
 */
export async function statusFor(baseUrl: string, secret: string): Promise<number> {
  const client = new GoogleGenAI({ apiKey: secret, httpOptions: { baseUrl } });
  try {
    await client.models.generateContent({ model: "gemini-2.5-flash", contents: "hi" });
    return 200;
  } catch (error) {
    if (error instanceof ApiError) return error.status;
    throw error;
  }
}
