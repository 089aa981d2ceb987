import { assertEquals } from "../tests/support/assert.ts";
import { placeOf, sharesOf } from "./profile.ts";
import { ROOT } from "./_process.ts";

Deno.test("profile: a sample counts for the innermost frame of our code, else the package or runtime", () => {
  const ours = `file://${ROOT}/core/proxy/stream_relay.ts:12:3`;
  const npm = "file:///root/.cache/deno/npm/registry.npmjs.org/hono/4.13.23/dist/hono.js:1:1";
  assertEquals(
    placeOf(["Builtin: LoadIC", ` ext:deno_fetch/26_fetch.js:2:6352`, ours]),
    "core/proxy/",
  );
  assertEquals(
    placeOf([npm, ours]),
    "core/proxy/",
    "a package called by our code is charged to it",
  );
  assertEquals(placeOf([npm, " ext:deno_http/00_serve.ts:1:1"]), "npm: hono");
  assertEquals(placeOf([" ext:deno_web/06_streams.js:1:1"]), "runtime JS: deno_web");
  assertEquals(
    placeOf(["/usr/lib/node_modules/deno/deno"]),
    "runtime native code (no JS frame: Rust, V8 C++, libc)",
  );
  assertEquals(placeOf([`file://${ROOT}/main.ts:1:1`]), "main.ts");
});

Deno.test("profile: samples are summed by place, garbage collection and compiling apart", () => {
  const code = [{ name: `file://${ROOT}/core/logs/log_writer.ts:1:1` }, { name: "libc.so.6" }];
  const { shares, total } = sharesOf({
    code,
    ticks: [{ vm: 0, s: [0, 0] }, { vm: 0, s: [0, 0, 1, 0] }, { vm: 1, s: [1, 0] }, {
      vm: 4,
      s: [1, 0],
    }],
  });
  assertEquals(total, 4);
  assertEquals(shares, [
    { place: "core/logs/", ticks: 2 },
    { place: "V8 garbage collector", ticks: 1 },
    { place: "V8 parser and compilers", ticks: 1 },
  ]);
});
