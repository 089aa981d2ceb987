import { Hono } from "hono";
import { assert, assertEquals, assertNotIncludes } from "../../tests/support/assert.ts";
import { Head } from "./islands.ts";
import { islandName, mountRoutes, routeEntry } from "./router.ts";
import type { HandlerFn, LayoutProps, Manifest, PageProps, SiteAssets } from "./types.ts";

interface State {
  trace: string[];
}

function Counter(props: { start: number }) {
  return <button type="button">{props.start}</button>;
}

const trace = (name: string): HandlerFn<State> => async (ctx) => {
  ctx.state.trace.push(name);
  const response = await ctx.next();
  response.headers.append("x-trace", name);
  return response;
};

const manifest: Manifest = {
  routes: {
    "./routes/_middleware.ts": { handler: trace("root") },
    "./routes/a/_middleware.ts": { handler: [trace("a1"), trace("a2")] },
    "./routes/a/_layout.tsx": {
      default: (p: LayoutProps<unknown, State>) => (
        <section data-layout="a" data-trace={p.state.trace.join(",")}>
          <p.Component />
        </section>
      ),
    },
    "./routes/a/index.tsx": {
      default: () => (
        <>
          <Head>
            <title>Index</title>
          </Head>
          <h1>index</h1>
          <Counter start={3} />
        </>
      ),
    },
    "./routes/a/[id].tsx": {
      handler: { GET: (ctx) => ctx.render({ doubled: `${ctx.params.id}${ctx.params.id}` }) },
      default: (p: PageProps<{ doubled: string }>) => <p>{p.data.doubled}</p>,
    },
    "./routes/a/api.ts": { handler: { POST: () => Response.json({ posted: true }) } },
    "./routes/a/away.ts": { handler: (ctx) => ctx.redirect("//evil.example/") },
    "./routes/a/_404.tsx": { default: () => <p>nothing here</p> },
  },
  islands: { "./islands/counter.tsx": { default: Counter } },
};

const assets: SiteAssets = {
  islands: { counter: "/assets/counter-0123456789.js" },
  styles: ["/assets/site-0123456789.css"],
  get: (file) =>
    Promise.resolve(
      file === "counter-0123456789.js"
        ? { body: new TextEncoder().encode("export {}"), contentType: "text/javascript" }
        : null,
    ),
};

function app(): Hono {
  const hono = new Hono();
  hono.onError((error) => new Response(error.message, { status: 500 }));
  mountRoutes<State>(hono, manifest, {
    state: () => ({ trace: [] }),
    assets,
    assetsPath: "/assets",
  });
  return hono;
}

Deno.test("routeEntry() maps file paths to Hono patterns with Fresh's conventions", () => {
  const pattern = (path: string) => routeEntry(path, {})?.pattern ?? null;
  assertEquals(pattern("./routes/index.tsx"), "/");
  assertEquals(pattern("./routes/admin/index.tsx"), "/admin");
  assertEquals(pattern("./routes/admin/logs/[id].tsx"), "/admin/logs/:id");
  assertEquals(pattern("./routes/files/[...path].ts"), "/files/:path{.+}");
  assertEquals(pattern("./routes/admin/_404.tsx"), "/admin/*");
  assertEquals(pattern("./routes/admin/_components/x.tsx"), null);
  assertEquals(islandName("./islands/key_table.tsx"), "key_table");
});

Deno.test("mountRoutes() runs middlewares outermost first, wraps pages in layouts and marks islands", async () => {
  const response = await app().request("/a");
  assertEquals(response.status, 200);
  assertEquals(response.headers.get("x-trace"), "a2, a1, root");
  const html = await response.text();
  assert(html.startsWith("<!DOCTYPE html>"));
  assert(html.includes('<section data-layout="a" data-trace="root,a1,a2">'), html);
  assert(html.includes("<title>Index</title>"));
  assert(html.includes('<link rel="stylesheet" href="/assets/site-0123456789.css">'));
  assert(html.includes('<script type="module" src="/assets/counter-0123456789.js"></script>'));
  assert(
    html.includes(
      '<gp-island data-island="counter" data-id="0"><button type="button">3</button></gp-island>',
    ),
  );
  assert(html.includes('<script type="application/json" id="__gp_islands">[{"start":3}]</script>'));
});

Deno.test("mountRoutes() passes params and handler data; pages without islands get no script", async () => {
  const html = await (await app().request("/a/xy")).text();
  assert(html.includes("<p>xyxy</p>"), html);
  assertNotIncludes(html, "<script");
});

Deno.test("mountRoutes() answers 405 for missing methods, 404 pages, assets and refuses off-site redirects", async () => {
  const hono = app();
  const get = await hono.request("/a/api");
  assertEquals([get.status, get.headers.get("allow")], [405, "POST"]);
  assertEquals(await (await hono.request("/a/api", { method: "POST" })).json(), { posted: true });
  const missing = await hono.request("/a/b/c");
  assertEquals(missing.status, 404);
  assert((await missing.text()).includes("nothing here"));
  const asset = await hono.request("/assets/counter-0123456789.js");
  assertEquals(asset.headers.get("cache-control"), "public, max-age=31536000, immutable");
  assertEquals((await hono.request("/assets/other.js")).status, 404);
  assertEquals((await hono.request("/a/away")).status, 500);
});
