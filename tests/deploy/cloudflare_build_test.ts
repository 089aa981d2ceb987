/**
 * Cloudflare Workers from a fresh clone: `wrangler deploy` must build the bundle it uploads
 * (`dist/` is git-ignored), through the `[build]` command of `wrangler.toml`. `--dry-run` stops
 * before anything reaches Cloudflare and needs no account or network; wrangler itself comes from
 * npm, pinned (4.86.0 is the newest release that runs on Node.js 20).
 * @module
 */
import { assert, assertEquals, assertStringIncludes } from "../support/assert.ts";
import { freshClone, HAS_GIT_HEAD, machineEnv, run } from "../support/fresh_clone.ts";

/** The wrangler release the check runs. */
export const WRANGLER = "wrangler@4.86.0";

Deno.test({
  name: "wrangler deploy --dry-run builds and bundles the Worker from a fresh clone",
  ignore: !HAS_GIT_HEAD,
  async fn() {
    const clone = await freshClone();
    try {
      const out = `${clone.dir}../wrangler-out`;
      await assertMissing(`${clone.dir}dist/worker.mjs`);
      const text = await run("npx", ["-y", WRANGLER, "deploy", "--dry-run", "--outdir", out], {
        cwd: clone.dir,
        env: {
          ...machineEnv(),
          CI: "true",
          WRANGLER_SEND_METRICS: "false",
          WRANGLER_LOG_PATH: `${clone.dir}../wrangler-logs`,
        },
      });
      assertStringIncludes(text, "[custom build] Running: npx -y deno@2.9.6 task build:worker");
      assertStringIncludes(text, "--dry-run: exiting now.");
      const built = await Deno.readFile(`${clone.dir}dist/worker.mjs`);
      const uploaded = await Deno.readFile(`${out}/worker.mjs`);
      assert(built.byteLength > 50_000, "a whole Worker bundle");
      assertEquals(uploaded, built, "wrangler uploads the bundle as built");
    } finally {
      await clone.remove();
    }
  },
});

async function assertMissing(path: string): Promise<void> {
  try {
    await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  throw new Error(`${path} exists in a fresh clone`);
}
