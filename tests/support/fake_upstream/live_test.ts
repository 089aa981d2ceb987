/** The fake's Live API over a WebSocket, through @google/genai and by hand. */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Modality } from "@google/genai";
import { type FakeUpstream } from "./mod.ts";
import { genai, KEY_1, KEY_2, withFake } from "./_testing.ts";

Deno.test("fake upstream serves @google/genai live.connect on its //ws/ URL and echoes turns", () =>
  withFake(async (fake) => {
    const texts: string[] = [];
    const turnDone = Promise.withResolvers<void>();
    const closed = Promise.withResolvers<{ code: number; reason: string }>();
    const session = await genai(fake).live.connect({
      model: "gemini-2.0-flash-live-001",
      config: { responseModalities: [Modality.TEXT] },
      callbacks: {
        onmessage: (m) => {
          const text = m.serverContent?.modelTurn?.parts?.[0]?.text;
          if (text) texts.push(text);
          if (m.serverContent?.turnComplete) turnDone.resolve();
        },
        onclose: (e) => closed.resolve({ code: e.code, reason: e.reason }),
      },
    });
    session.sendClientContent({
      turns: [{ role: "user", parts: [{ text: "hello live" }] }],
      turnComplete: true,
    });
    await turnDone.promise;
    assertEquals(texts, ["Echo: hello live"]);
    session.conn.send(JSON.stringify({ close: { code: 4001, reason: "bye" } }));
    assertEquals(await closed.promise, { code: 4001, reason: "bye" });
    const record = fake.requests[0]!;
    // js-genai joins "ws://host:port/" and "/ws/...", hence the double slash.
    assertEquals(
      record.path,
      "//ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent",
    );
    assertEquals(record.key, KEY_1);
    assertEquals(record.responseStatus, 101);
    await record.done;
    const frames = record.responseBody.split("\n").map((f) => JSON.parse(f));
    assertEquals(frames[0], { setupComplete: {} });
    assertEquals(frames[2].usageMetadata.totalTokenCount, 2 + 3);
  }));

function liveUrl(fake: FakeUpstream, query: string): string {
  return `${
    fake.url.replace("http:", "ws:")
  }/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent${query}`;
}

async function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  const event = await new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
  return { code: event.code, reason: event.reason };
}

Deno.test("fake upstream closes a Live socket with 1008 when the key is missing or invalid", () =>
  withFake(async (fake) => {
    const noKey = new WebSocket(liveUrl(fake, ""));
    const first = await closeOf(noKey);
    assertEquals(first.code, 1008);
    assert(first.reason.startsWith("Method doesn't allow unregistered callers"));
    fake.validKeys.add(KEY_1);
    const badKey = new WebSocket(liveUrl(fake, `?key=${KEY_2}`));
    assertEquals(await closeOf(badKey), {
      code: 1008,
      reason: "API key not valid. Please pass a valid API key.",
    });
    fake.failFor(KEY_1, { kind: "quota", scope: "minute" });
    const limited = new WebSocket(liveUrl(fake, `?key=${KEY_1}`));
    limited.onopen = () =>
      limited.send(JSON.stringify({ setup: { model: "models/gemini-2.0-flash-live-001" } }));
    const third = await closeOf(limited);
    assertEquals(third.code, 1011);
    assert(third.reason.startsWith("You exceeded your current quota"));
    assertEquals(fake.requests.map((r) => r.key), [null, KEY_2, KEY_1]);
  }));
