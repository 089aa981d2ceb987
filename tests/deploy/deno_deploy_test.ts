/**
 * Deno Deploy as far as it can be reached from here: the `deploy` section of `deno.json` is run
 * the way the platform's builder and runtime run it, on a fresh clone, with only the environment
 * the platform documents. Deno Deploy itself is not reachable from the test machine.
 *
 * Platform facts used (docs.deno.com, deploy/reference/builds and env_vars_and_contexts): the
 * builder runs `deploy.install`, then `deploy.build`, with `CI=true` and the `DENO_DEPLOY*`
 * variables; the runtime starts `deploy.runtime.entrypoint` with `--allow-all` and no other flag,
 * with the predefined variables (`DENO_DEPLOY`, `DENO_DEPLOY_ORG_*`, `DENO_DEPLOY_APP_*`,
 * `DENO_DEPLOY_BUILD_ID`, `DENO_DEPLOYMENT_ID`, `DENO_TIMELINE`) and the app's own variables.
 * Where the server listens is the platform's choice: Deno's `DENO_SERVE_ADDRESS` overrides the
 * address `Deno.serve` is given, and the test gives it a Unix socket, an address that is not
 * `HOST:PORT`.
 * @module
 */
import { assert, assertEquals, assertNotIncludes } from "../support/assert.ts";
import {
  freshClone,
  HAS_GIT_HEAD,
  machineEnv,
  run,
  waitUntilReady,
} from "../support/fresh_clone.ts";

/** The `deploy` keys the platform's configuration reference lists (docs: deploy/reference/builds). */
const DEPLOY_KEYS = new Set(["framework", "install", "build", "predeploy", "runtime"]);
const RUNTIME_KEYS = new Set(["type", "entrypoint", "args", "cwd", "memory_limit"]);

/** What the platform sets in builds and at run time. */
const PLATFORM = {
  DENO_DEPLOY: "true",
  DENO_DEPLOY_ORG_ID: "6a7e7b0e-3c2e-4c55-9a39-6f8d2f1e0c11",
  DENO_DEPLOY_ORG_SLUG: "acme",
  DENO_DEPLOY_APP_ID: "0b5f3a52-8d8e-4d0c-b3c5-2f62a8e4b7d9",
  DENO_DEPLOY_APP_SLUG: "gemini-proxy",
  DENO_DEPLOY_BUILD_ID: "build-0001",
};
/** The variables the README's "Deploy on Deno Deploy" section says to set. */
const SETTINGS = {
  SECRET_KEY: "deploy-test-secret-key-0123456789",
  ADMIN_PASSWORD: "deploy-test-admin-password",
  GEMINI_API_KEYS: "AIzaFAKE-TEST-deploy-key-00000000000001",
  PROXY_TOKENS: "gp-TEST-deploy-token-0001",
};

interface DeployConfig {
  install?: string;
  build?: string;
  runtime?: { type?: string; entrypoint?: string; cwd?: string; args?: string[] };
  [key: string]: unknown;
}

Deno.test({
  name:
    "deno.json's deploy section builds a fresh clone and starts the console as Deno Deploy does",
  ignore: !HAS_GIT_HEAD,
  async fn() {
    const clone = await freshClone();
    let kvFolder: string | null = null;
    try {
      const deploy = JSON.parse(await Deno.readTextFile(`${clone.dir}deno.json`)).deploy as
        | DeployConfig
        | undefined;
      assert(deploy, "deno.json has a deploy section");
      for (const key of Object.keys(deploy)) assert(DEPLOY_KEYS.has(key), `documented key ${key}`);
      for (const key of Object.keys(deploy.runtime ?? {})) {
        assert(RUNTIME_KEYS.has(key), `documented runtime key ${key}`);
      }
      assertEquals(deploy.runtime?.type ?? "dynamic", "dynamic");
      assertEquals(deploy.runtime?.entrypoint, "main.ts");
      assert(deploy.build, "a build command");
      assert(!await exists(`${clone.dir}static/build`), "a clone has no built console");

      const builder = { ...machineEnv(), CI: "true", ...PLATFORM };
      for (const step of [deploy.install, deploy.build]) {
        if (step) await run("sh", ["-c", step], { cwd: clone.dir, env: builder });
      }
      assert(await exists(`${clone.dir}static/build/manifest.json`), "the build wrote the console");
      assert(await exists(`${clone.dir}routes/_manifest.gen.ts`), "and the route manifest");

      const cwd = deploy.runtime?.cwd ? `${clone.dir}${deploy.runtime.cwd}` : clone.dir;
      const entry = new URL(deploy.runtime!.entrypoint!, `file://${cwd}/`).href;
      kvFolder = await originStorageOf(entry);
      const socket = `${clone.dir}../serve.sock`;
      const app = await waitUntilReady(
        new Deno.Command(Deno.execPath(), {
          args: ["run", "--allow-all", entry, ...(deploy.runtime?.args ?? [])],
          cwd,
          clearEnv: true,
          env: {
            ...machineEnv(),
            ...PLATFORM,
            DENO_DEPLOYMENT_ID: "deployment-0001",
            DENO_TIMELINE: "production",
            DENO_SERVE_ADDRESS: `unix:${socket}`,
            ...SETTINGS,
          },
          stdout: "piped",
          stderr: "piped",
        }),
        /listening on unix:/,
      );
      const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socket } });
      try {
        await checkServing((path, init) =>
          fetch(`http://localhost${path}`, { ...init, client, redirect: "manual" })
        );
      } finally {
        client.close();
        await app.stop();
      }
      assertNotIncludes(app.output(), "not built", "entry log");
      assertNotIncludes(app.output(), SETTINGS.SECRET_KEY, "entry log");
    } finally {
      await clone.remove();
      if (kvFolder) await Deno.remove(kvFolder, { recursive: true }).catch(() => {});
    }
  },
});

/** `/healthz` answers from the platform's KV store with no region; the console ships its files. */
async function checkServing(get: (path: string, init?: RequestInit) => Promise<Response>) {
  const health = await (await get("/healthz")).json();
  assertEquals(health.status, "ok");
  assertEquals(health.store.kind, "kv");
  assertEquals(health.keys.enabled, 1);
  assertEquals(health.region, null, "Deno Deploy exposes no region, and REGION is not set");

  const login = await get("/admin/login");
  assertEquals(login.status, 200);
  const css = (await login.text()).match(/href="(\/admin\/assets\/[^"]+\.css)"/)?.[1];
  assert(css, "the login page links the built stylesheet");
  assertEquals((await drained(get(css))).status, 200);

  const session = await get("/admin/login", {
    method: "POST",
    body: new URLSearchParams({ password: SETTINGS.ADMIN_PASSWORD, next: "/admin/keys" }),
  });
  assertEquals(session.status, 303);
  const cookie = (session.headers.get("set-cookie") ?? "").split(";")[0]!;
  const keys = await (await get("/admin/keys", { headers: { cookie } })).text();
  const script = keys.match(/<script type="module" src="([^"]+)"/)?.[1];
  assert(script, "the keys page loads its island");
  const bundle = await drained(get(script));
  assertEquals(bundle.status, 200);
  assert(bundle.headers.get("content-type")?.startsWith("text/javascript"));
}

async function drained(response: Promise<Response>): Promise<Response> {
  const r = await response;
  await r.body?.cancel();
  return r;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where `Deno.openKv()` without a path keeps the database of a main module outside Deno Deploy
 * (Deno's origin storage, one folder per module URL): removed after the test.
 */
async function originStorageOf(mainModule: string): Promise<string> {
  const info = JSON.parse(await run(Deno.execPath(), ["info", "--json"], { cwd: "/" }));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(mainModule));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${info.originStorage}/${hex}`;
}
