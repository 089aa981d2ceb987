import { assertEquals, assertThrows } from "../../tests/support/assert.ts";
import { readQuery } from "./request_url.ts";
import { classifyRoute } from "./route.ts";

const q = (s = "") => readQuery(s);

Deno.test("classifyRoute() reads model and method from native paths", () => {
  const route = classifyRoute(
    "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
    q("alt=sse"),
  );
  assertEquals(route?.kind, "native");
  assertEquals(route?.model, "gemini-2.5-flash");
  assertEquals(route?.method, "streamGenerateContent");
  assertEquals(route?.stream, true);
  assertEquals(classifyRoute("/v1/models/gemini-2.5-pro:countTokens", q())?.method, "countTokens");
  assertEquals(classifyRoute("/v1alpha/models", q())?.model, null);
});

Deno.test("classifyRoute() lists resources named in the path", () => {
  assertEquals(classifyRoute("/v1beta/files/abc", q())?.resources, ["files/abc"]);
  assertEquals(classifyRoute("/v1beta/cachedContents/x1", q())?.resources, ["cachedContents/x1"]);
  assertEquals(classifyRoute("/v1beta/batches/b1:cancel", q())?.resources, ["batches/b1"]);
  assertEquals(
    classifyRoute("/v1beta/models/veo-3/operations/op1", q())?.resources,
    ["models/veo-3/operations/op1"],
  );
  assertEquals(classifyRoute("/v1beta/tunedModels/t1:generateContent", q())?.model, "t1");
});

Deno.test("classifyRoute() tells OpenAI, upload, upload chunk and Live routes apart", () => {
  assertEquals(classifyRoute("/v1beta/openai/chat/completions", q())?.kind, "openai");
  assertEquals(classifyRoute("/v1beta/openai/chat/completions", q())?.method, "chat/completions");
  assertEquals(classifyRoute("/upload/v1beta/files", q())?.kind, "upload");
  const chunk = classifyRoute("/upload/v1beta/files", q("upload_id=U1&upload_protocol=resumable"));
  assertEquals([chunk?.kind, chunk?.uploadId], ["upload_chunk", "U1"]);
  const live = classifyRoute(
    "//ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent",
    q("key=x"),
  );
  assertEquals([live?.kind, live?.path.startsWith("/ws/"), live?.version], [
    "live",
    true,
    "v1beta",
  ]);
});

Deno.test("classifyRoute() rejects paths outside the Gemini API", () => {
  for (const path of ["/", "/admin", "/v2/models", "/upload/x", "/ws/other", "/healthz"]) {
    assertEquals(classifyRoute(path, q()), null, path);
  }
});

Deno.test("classifyRoute() refuses path models outside the model-id grammar with a 400", () => {
  for (
    const path of [
      "/v1beta/models/gemini%ZZ:generateContent",
      "/v1beta/models/Gemini-2.5-flash:generateContent",
      "/v1beta/models/gemini%0A:generateContent",
      `/v1beta/models/${"g".repeat(200)}:generateContent`,
      "/v1beta/tunedModels/T%C3%BC:generateContent",
    ]
  ) {
    const error = assertThrows(() => classifyRoute(path, q()), "Model id");
    assertEquals((error as { code?: number }).code, 400, path);
  }
  assertEquals(
    classifyRoute("/v1beta/models/gemini-2.5-flash%2D001", q())?.model,
    "gemini-2.5-flash-001",
  );
});
