/**
 * A fake of Google's Gemini API (generativelanguage.googleapis.com) for tests.
 *
 * It speaks the same wire format as the real service closely enough that the official SDKs
 * (`@google/genai`, the OpenAI SDK on `/v1beta/openai/`) work against it unchanged, records every
 * request it sees, and can be told to fail in the ways Google fails. Replies are deterministic
 * (an echo of the last user text) so tests can predict bodies and token counts.
 *
 * Every endpoint answers on v1, v1beta and v1alpha: @google/genai 3.x talks v1 by default, files,
 * caches and the Live socket included.
 *
 * This module is the fake's public face; the parts beside it are its internals:
 * `server.ts` (routing), `wire.ts` (headers, gzip, paced streams), `generate.ts`, `native.ts`,
 * `resources.ts` (caches, batches, interactions), `files.ts` and `multipart.ts` (uploads),
 * `live.ts` (the Live WebSocket), `openai.ts`, `errors.ts`, `control.ts` (failures, holds, the
 * record of requests) and `state.ts`.
 *
 * @example
 * ```ts
 * const fake = await startFakeUpstream();
 * fake.failFor("AIzaFAKE-TEST-key-1", { kind: "quota", scope: "minute" }, { times: 1 });
 * // ... point the proxy at fake.url, run requests, inspect fake.requests ...
 * await fake.close();
 * ```
 *
 * @module
 */

export { countFakeTokens, FAKE_MODEL_IDS, fakeEmbedding } from "./models.ts";
export { startFakeUpstream } from "./server.ts";
export type { Failure, FakeUpstream, FakeUpstreamOptions, RecordedRequest } from "./types.ts";
