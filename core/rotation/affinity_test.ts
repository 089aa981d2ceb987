import { assertEquals } from "../../tests/support/assert.ts";
import { createAffinity, createdResources, resourcesInBody } from "./affinity.ts";
import { createMemoryStore } from "../store/memory_store.ts";

Deno.test("resourcesInBody() finds file URIs and cached contents anywhere in a request", () => {
  const body = JSON.stringify({
    cachedContent: "cachedContents/abc-1",
    contents: [{
      parts: [
        {
          fileData: {
            fileUri: "https://generativelanguage.googleapis.com/v1beta/files/f1",
            mimeType: "x",
          },
        },
        { fileData: { fileUri: "files/f2" } },
      ],
    }],
  });
  assertEquals(resourcesInBody(body).sort(), ["cachedContents/abc-1", "files/f1", "files/f2"]);
  assertEquals(resourcesInBody('{"contents":[]}'), []);
});

Deno.test("createdResources() reads the names of created files, caches, batches and tunings", () => {
  assertEquals(createdResources({ file: { name: "files/x" } }), ["files/x"]);
  assertEquals(createdResources({ name: "cachedContents/c" }), ["cachedContents/c"]);
  assertEquals(createdResources({ name: "batches/b" }), ["batches/b"]);
  assertEquals(createdResources({ name: "tunedModels/t/operations/o" }), [
    "tunedModels/t/operations/o",
    "tunedModels/t",
  ]);
  assertEquals(createdResources({ name: "models/veo/operations/op" }), [
    "models/veo/operations/op",
  ]);
  assertEquals(createdResources({ candidates: [] }), []);
});

Deno.test("createAffinity() answers from memory and from the store another process wrote", async () => {
  const clock = { now: 1_000 };
  const store = createMemoryStore({ now: () => clock.now });
  const here = createAffinity(store, () => clock.now);
  const there = createAffinity(store, () => clock.now);
  await here.remember("files/a", "k1", 10_000);
  assertEquals(await here.lookup("files/a"), "k1");
  assertEquals(await there.lookup("files/a"), "k1");
  clock.now += 20_000;
  assertEquals(await here.lookup("files/a"), null);
});
