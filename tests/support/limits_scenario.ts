/**
 * One scenario for the shared-store suite: two proxy instances on one store (two Deno processes
 * on a KV file, or a Deno process and a Cloudflare Worker on one PostgreSQL) take 100 concurrent
 * requests split between them, for each kind of limit, and the limits must hold across both as
 * they would in one process.
 * @module
 */
import { assert, assertEquals } from "./assert.ts";
import type { FakeUpstream } from "./fake_upstream/mod.ts";
import { sha256Hex } from "../../core/secrets/secrets.ts";
import type { Store, TokenLimits } from "../../core/store/mod.ts";
import { fakeKeys } from "./harness.ts";
import { comparable, upstreamWithoutUsage } from "./openai_stream.ts";
import { inOneMinute, pollUntil } from "./wall_clock.ts";

/** Models whose key caps `KEY_LIMITS` sets; the token bursts use other models. */
export const CAPPED = { rpm: "gemini-2.5-pro", rpd: "gemini-2.5-flash-lite" } as const;
/** Per key: 2 keys, so exactly 10 requests per capped burst reach upstream. */
export const KEY_LIMITS = JSON.stringify({
  [CAPPED.rpm]: { rpm: 5 },
  [CAPPED.rpd]: { rpd: 5 },
});
/** The two keys both instances import. */
export const KEYS = fakeKeys(2);
/** The unlimited token both instances know (for the key-cap bursts). */
export const OPEN_TOKEN = "gp-TEST-shared-open-token-000001";

/** A token of the scenario: its secret and limits. */
interface ScenarioToken {
  id: string;
  secret: string;
  limits: TokenLimits;
}

/** Words the fake counts one token each, written so the proxy's estimate is exact. */
function exactText(words: number): string {
  return Array.from({ length: words }, () => "abc").join(" ");
}
/** One-letter words: the proxy estimates half of what the fake counts. */
function underestimatedText(words: number): string {
  return Array.from({ length: words }, () => "a").join(" ");
}

/** The tokens the scenario seeds into the shared store before the instances start. */
export const TOKENS: Record<"rpm" | "rpd" | "tpd" | "tpdUnder" | "stream", ScenarioToken> = {
  rpm: { id: "t_rpm", secret: "gp-TEST-shared-rpm-token-0000001", limits: { rpm: 10 } },
  rpd: { id: "t_rpd", secret: "gp-TEST-shared-rpd-token-0000001", limits: { rpd: 10 } },
  // 20 "abc" words: 20 prompt tokens, and the reply "Echo: abc ..." is 21; with
  // maxOutputTokens 21 the proxy reserves 20 + 21 = 41, exactly what each request uses.
  tpd: { id: "t_tpd", secret: "gp-TEST-shared-tpd-token-0000001", limits: { tpd: 410 } },
  // 40 one-letter words: 40 prompt tokens estimated as 20 (79 bytes / 4), reply 41 words.
  tpdUnder: { id: "t_tpd2", secret: "gp-TEST-shared-tpd-token-0000002", limits: { tpd: 610 } },
  // One streamed chat of "hello there friend" uses 7 tokens: more than the day allows.
  stream: { id: "t_stream", secret: "gp-TEST-shared-stream-token-0001", limits: { tpd: 5 } },
};

/**
 * Stores the scenario's tokens (the store is then closed by the caller).
 * @param store The shared store, before any instance starts.
 */
export async function seedScenario(store: Store): Promise<void> {
  for (const token of Object.values(TOKENS)) {
    await store.addToken({
      id: token.id,
      name: token.id,
      hash: await sha256Hex(token.secret),
      masked: "gp-T...0001",
      enabled: true,
      source: "admin",
      createdAt: Date.now(),
      limits: token.limits,
    });
  }
}

interface Sent {
  status: number;
  usage: number;
}

function isGenerate(path: string): boolean {
  return /:generateContent$/.test(path);
}

/**
 * Sends `n` concurrent generateContent requests, alternating between the two instances.
 * @returns Each answer's status and total token count.
 */
async function burst(
  bases: [string, string],
  options: { secret: string; model: string; text?: string; maxOutputTokens?: number; n?: number },
): Promise<Sent[]> {
  const request: Record<string, unknown> = {
    contents: [{ role: "user", parts: [{ text: options.text ?? "hi" }] }],
  };
  if (options.maxOutputTokens) {
    request.generationConfig = { maxOutputTokens: options.maxOutputTokens };
  }
  const body = JSON.stringify(request);
  return await Promise.all(Array.from({ length: options.n ?? 100 }, async (_, i) => {
    const response = await fetch(
      `${bases[i % 2]}/v1beta/models/${options.model}:generateContent`,
      {
        method: "POST",
        headers: { "x-goog-api-key": options.secret, "content-type": "application/json" },
        body,
      },
    );
    const json = await response.json();
    return { status: response.status, usage: json.usageMetadata?.totalTokenCount ?? 0 };
  }));
}

/** Generate requests the fake received since `from`. */
function upstreamSince(fake: FakeUpstream, from: number): number {
  return fake.requests.slice(from).filter((r) => isGenerate(r.path)).length;
}

/**
 * Token rpm and rpd: of 100 concurrent requests over both instances, exactly 10 are served and
 * reach upstream; the others get 429.
 */
export async function assertTokenRequestLimits(
  bases: [string, string],
  fake: FakeUpstream,
): Promise<void> {
  for (const name of ["rpm", "rpd"] as const) {
    const before = fake.requests.length;
    const secret = TOKENS[name].secret;
    const sent = await inOneMinute(() => burst(bases, { secret, model: "gemini-2.5-flash" }));
    const served = sent.filter((s) => s.status === 200).length;
    assertEquals(served, 10, `${name}: served`);
    assertEquals(sent.filter((s) => s.status === 429).length, 90, `${name}: refused`);
    assertEquals(upstreamSince(fake, before), 10, `${name}: reached upstream`);
  }
}

/**
 * Token tpd with reservations: with exact estimates the day's total never passes tpd; with
 * estimates below the real usage it passes by at most the admitted requests' estimation error.
 */
export async function assertTokenTpd(bases: [string, string], fake: FakeUpstream): Promise<void> {
  const before = fake.requests.length;
  // Each burst falls in one Pacific day (which turns with a minute): the day's total is one sum.
  const exact = await inOneMinute(() =>
    burst(bases, {
      secret: TOKENS.tpd.secret,
      model: "gemini-2.0-flash",
      text: exactText(20),
      maxOutputTokens: 21,
    })
  );
  const exactServed = exact.filter((s) => s.status === 200);
  assert(exactServed.length >= 1, "some requests are served");
  for (const s of exactServed) assertEquals(s.usage, 41, "each uses what was reserved");
  const exactTotal = exactServed.reduce((sum, s) => sum + s.usage, 0);
  console.log(`tpd 410, exact estimates: ${exactServed.length} served, ${exactTotal} tokens used`);
  assert(exactTotal <= 410, `tpd 410 with exact estimates: used ${exactTotal}`);
  assertEquals(exact.filter((s) => s.status === 429).length, 100 - exactServed.length);
  assertEquals(upstreamSince(fake, before), exactServed.length);

  const under = await inOneMinute(() =>
    burst(bases, {
      secret: TOKENS.tpdUnder.secret,
      model: "gemini-2.0-flash",
      text: underestimatedText(40),
      maxOutputTokens: 41,
    })
  );
  const underServed = under.filter((s) => s.status === 200);
  assert(underServed.length >= 1, "some requests are served");
  // Each was reserved 20 + 41 = 61 and used 40 + 41 = 81: an estimation error of 20.
  for (const s of underServed) assertEquals(s.usage, 81);
  const underTotal = underServed.reduce((sum, s) => sum + s.usage, 0);
  const bound = 610 + underServed.length * (81 - 61);
  console.log(`tpd 610, estimates 20 short: ${underServed.length} served, ${underTotal} used`);
  assert(underTotal <= bound, `tpd 610: used ${underTotal}, bound ${bound}`);
}

/**
 * Key caps (`KEY_LIMITS`, 5 per key and model on 2 keys): of 100 concurrent requests over both
 * instances, exactly 10 reach upstream, 5 with each key.
 */
export async function assertKeyCaps(bases: [string, string], fake: FakeUpstream): Promise<void> {
  for (const name of ["rpm", "rpd"] as const) {
    const before = fake.requests.length;
    const sent = await inOneMinute(() => burst(bases, { secret: OPEN_TOKEN, model: CAPPED[name] }));
    assertEquals(sent.filter((s) => s.status === 200).length, 10, `key ${name}: served`);
    assertEquals(sent.filter((s) => s.status === 429).length, 90, `key ${name}: refused`);
    const upstream = fake.requests.slice(before).filter((r) => isGenerate(r.path));
    assertEquals(upstream.length, 10, `key ${name}: reached upstream`);
    for (const key of KEYS) {
      assertEquals(upstream.filter((r) => r.key === key).length, 5, `key ${name}: per key`);
    }
  }
}

/**
 * A streamed OpenAI chat whose client did not ask for usage, on the first instance: its client
 * gets exactly the stream upstream sends such a client (no usage chunk), upstream was asked for
 * usage all the same, and the 7 tokens it used reach the shared store, so that both instances
 * then refuse the token (tpd 5) before any upstream call.
 * @param bases The two instances' base URLs.
 * @param fake The fake upstream both call.
 * @param store A handle on the shared store, to read the token's day total.
 */
export async function assertOpenAiStreamCharged(
  bases: [string, string],
  fake: FakeUpstream,
  store: Store,
): Promise<void> {
  const { id, secret } = TOKENS.stream;
  const body = JSON.stringify({
    model: "gemini-2.5-flash",
    messages: [{ role: "user", content: "hello there friend" }],
    stream: true,
  });
  const response = await fetch(`${bases[0]}/v1beta/openai/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
    body,
  });
  assertEquals(response.status, 200, "the stream is served");
  const received = await response.text();
  const upstream = fake.requests.at(-1)!;
  assertEquals(upstream.body, `{"stream_options":{"include_usage":true},${body.slice(1)}`);
  await upstream.done;
  assert(upstream.responseBody.includes('"usage":{'), "upstream sent the usage chunk");
  assertEquals(comparable(received), await upstreamWithoutUsage(fake.url, upstream.body!));

  const usage = await pollUntil(() => store.readTokenUsage(id, Date.now()), {
    until: (u) => u.dayTokens >= 7,
    what: "the stream's 7 tokens in the shared store",
  });
  assertEquals(usage.dayTokens, 7, "charged what upstream reported");
  const before = fake.requests.length;
  for (const base of bases) {
    const refused = await fetch(`${base}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": secret, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ parts: [{ text: "hi" }] }] }),
    });
    assertEquals(refused.status, 429, `${base}: the day's tokens are spent`);
    await refused.body?.cancel();
  }
  assertEquals(fake.requests.length, before, "refused before any upstream call");
}
