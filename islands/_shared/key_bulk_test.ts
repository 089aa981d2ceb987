import { assertEquals } from "../../tests/support/assert.ts";
import { bulkRequest, selectKeys } from "./key_bulk.ts";
import type { KeyView } from "./types.ts";

function key(id: string, extra: Partial<KeyView> = {}): KeyView {
  return {
    id,
    masked: `AIza...${id}`,
    enabled: true,
    status: "enabled",
    source: "admin",
    createdAt: 0,
    cooldowns: [],
    ...extra,
  };
}

const keys = [
  key("aaaa", { project: "alpha", createdAt: 1, usageToday: { requests: 5, tokens: 0 } }),
  key("bbbb", { status: "disabled", enabled: false, createdAt: 2 }),
  key("cccc", { project: "beta", createdAt: 3, usageToday: { requests: 9, tokens: 0 } }),
];
const health = {
  aaaa: { requests: 10, successRate: 0.5, p50: 100 },
  cccc: { requests: 10, successRate: 1, p50: 900 },
};

Deno.test("selectKeys() searches masked keys, projects and statuses", () => {
  const ids = (search: string, status: "all" | KeyView["status"] = "all") =>
    selectKeys(keys, { search, status, sort: "added", health }).map((k) => k.id);
  assertEquals(ids(""), ["cccc", "bbbb", "aaaa"]);
  assertEquals(ids("ALPHA"), ["aaaa"]);
  assertEquals(ids("disabled"), ["bbbb"]);
  assertEquals(ids("", "disabled"), ["bbbb"]);
  assertEquals(ids("...cc"), ["cccc"]);
});

Deno.test("selectKeys() sorts by usage, success and latency, worst first", () => {
  const ids = (sort: "today" | "success" | "latency" | "status") =>
    selectKeys(keys, { search: "", status: "all", sort, health }).map((k) => k.id);
  assertEquals(ids("today"), ["cccc", "aaaa", "bbbb"]);
  assertEquals(ids("success"), ["aaaa", "cccc", "bbbb"]);
  assertEquals(ids("latency"), ["cccc", "aaaa", "bbbb"]);
  assertEquals(ids("status")[0], "bbbb");
});

Deno.test("bulkRequest() maps each action to its admin API call", () => {
  assertEquals(bulkRequest("disable", "k1"), {
    path: "/keys/k1",
    method: "PATCH",
    body: { enabled: false },
  });
  assertEquals(bulkRequest("validate", "k1"), { path: "/keys/k1/validate", method: "POST" });
  assertEquals(bulkRequest("delete", "k1"), { path: "/keys/k1", method: "DELETE" });
});
