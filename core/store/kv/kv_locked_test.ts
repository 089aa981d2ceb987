/**
 * Two processes sharing one KV file: SQLite has no busy timeout there, so a call made while the
 * other process holds the write lock fails with "database is locked" unless it is retried.
 */
import { assertEquals } from "../../../tests/support/assert.ts";
import { createKvStore } from "./mod.ts";

/** Rounds of writes each process makes; each round runs every kind of write at once. */
const ROUNDS = 600;

/** What each process runs: every write path of the store, over and over, all at once. */
const HAMMER = `
const { createKvStore } = await import(${
  JSON.stringify(new URL("./mod.ts", import.meta.url).href)
});
const [path, label, rounds] = Deno.args;
const store = createKvStore(await Deno.openKv(path));
const now = Date.now();
// Commits that check what they read lose most often to the other process: four per round.
const tokens = [0, 1, 2, 3].map((j) => ({ id: "t-" + label + j, name: label, hash: label, masked: label, enabled: true, source: "admin", createdAt: now }));
for (const token of tokens) await store.addToken(token);
// Both processes start writing together: each says it is ready and waits for the word to go.
console.log("ready");
await Deno.stdin.readable.getReader().read();
for (let i = 0; i < Number(rounds); i++) {
  await Promise.all([
    store.addCounter("hammer", 1),
    ...tokens.map((token) => store.updateToken({ ...token, name: label + i })),
    store.putSettings({ round: i, by: label }),
    store.addKeyUsage([{ keyId: "k", model: "m", requests: 1, tokens: 1, at: now }]),
    store.addTokenUsage([{ tokenId: tokens[0].id, requests: 1, tokens: 1, at: now }]),
    store.setCooldown({ scope: "k:" + label, model: "m", until: now + 60_000 + i, reason: "test" }),
    store.putAffinity("files/" + label + i, "k", 60_000),
    store.takeLeases([{ counter: "c", window: "w", settle: 0, want: 1, cap: 1_000_000, expiresAt: now + 60_000 }]),
    store.insertLogs([], [{ granularity: "m", bucket: 0, keyId: "k", model: "m", tokenId: "t", field: "requests", value: 1 }], 60_000),
  ]);
}
await store.close();
`;

Deno.test("two processes writing one KV file at once both finish: every write waits out the other's lock", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/shared.kv`;
  try {
    // Create the file first, so both processes open an existing database.
    (await Deno.openKv(path)).close();
    const children = ["a", "b"].map((label) =>
      new Deno.Command(Deno.execPath(), {
        args: ["eval", "--unstable-kv", "--ext=ts", HAMMER, path, label, String(ROUNDS)],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn()
    );
    const stderrs = children.map((child) => new Response(child.stderr).text());
    // Wait until both have opened the file, then start them at once.
    await Promise.all(children.map(readyOf));
    for (const child of children) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode("go\n"));
      await writer.close();
    }
    for (const [i, child] of children.entries()) {
      const { code } = await child.status;
      assertEquals({ code, stderr: (await stderrs[i]!).split("\n")[0] }, { code: 0, stderr: "" });
    }
    const store = createKvStore(await Deno.openKv(path));
    try {
      assertEquals(await store.readCounter("hammer"), 2 * ROUNDS, "no write was lost");
      const [usage] = await store.readKeyUsage(Date.now());
      assertEquals(usage?.day, 2 * ROUNDS);
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Resolves once a child has printed its line ("ready"); the rest of its output is dropped. */
async function readyOf(child: Deno.ChildProcess): Promise<void> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) return;
    text += value;
  }
  void reader.read().then(function drain(result): Promise<void> | void {
    if (!result.done) return reader.read().then(drain);
  });
}
