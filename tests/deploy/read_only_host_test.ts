/**
 * A host whose working directory the proxy cannot write (a container image, a serverless
 * platform other than Deno Deploy): the Deno entry runs as an unprivileged user, in a folder
 * that user cannot write. Without `SECRET_KEY` and `KV_PATH` start-up must stop with a message
 * naming both; with them it serves.
 *
 * The entry is bundled into one file first (`deno bundle`, what `main.ts` imports included), so
 * the unprivileged user needs no npm cache, only an empty `DENO_DIR` of its own.
 * @module
 */
import {
  assert,
  assertEquals,
  assertNotIncludes,
  assertStringIncludes,
} from "../support/assert.ts";
import { machineEnv, REPO, run, waitUntilReady } from "../support/fresh_clone.ts";

/** The user and group the proxy runs as: `nobody`. */
const NOBODY = 65534;
const CAN_DROP_PRIVILEGES = Deno.uid() === 0 && (() => {
  try {
    return new Deno.Command("setpriv", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

interface Host {
  /** The bundled entry. */
  entry: string;
  /** The working directory, which `nobody` can read but not write. */
  app: string;
  /** A folder `nobody` owns: its DENO_DIR and a place for KV_PATH. */
  own: string;
}

async function withReadOnlyHost(fn: (host: Host) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "gemini-proxy-readonly-" });
  try {
    await Deno.chmod(root, 0o755);
    const entry = `${root}/main.js`;
    await run(Deno.execPath(), ["bundle", "--platform", "deno", "-o", entry, `${REPO}main.ts`], {
      cwd: REPO,
    });
    await Deno.chmod(entry, 0o644);
    const app = `${root}/app`;
    await Deno.mkdir(app, { mode: 0o755 });
    await Deno.chmod(app, 0o755);
    const own = `${root}/own`;
    await Deno.mkdir(own);
    await Deno.chown(own, NOBODY, NOBODY);
    await fn({ entry, app, own });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** `deno run` of the bundled entry as `nobody`, in the read-only folder. */
function asNobody(host: Host, env: Record<string, string>): Deno.Command {
  return new Deno.Command("setpriv", {
    args: [
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      "--clear-groups",
      "--pdeathsig=KILL",
      "--",
      Deno.execPath(),
      "run",
      "--allow-all",
      "--unstable-kv",
      "--no-config",
      host.entry,
    ],
    cwd: host.app,
    clearEnv: true,
    env: {
      PATH: machineEnv().PATH ?? "/usr/bin:/bin",
      NO_COLOR: "1",
      DENO_NO_UPDATE_CHECK: "1",
      DENO_DIR: `${host.own}/deno`,
      HOME: host.own,
      PORT: "0",
      GEMINI_API_KEYS: "AIzaFAKE-TEST-readonly-key-000000000001",
      ...env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

Deno.test({
  name: "on a read-only host, start-up without SECRET_KEY or KV_PATH stops naming both",
  ignore: !CAN_DROP_PRIVILEGES,
  fn: () =>
    withReadOnlyHost(async (host) => {
      const settings: Record<string, string>[] = [{}, {
        SECRET_KEY: "readonly-test-secret-0123456789",
      }];
      for (const env of settings) {
        const { code, stdout, stderr } = await asNobody(host, env).output();
        const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
        assertEquals(code, 1, text);
        assertStringIncludes(text, "cannot write");
        assertStringIncludes(text, "set both");
        assertStringIncludes(text, "SECRET_KEY: ");
        assertStringIncludes(text, "KV_PATH: not set");
        assertStringIncludes(text, host.app, "names the working directory");
        assertNotIncludes(text, "readonly-test-secret", "never shows the secret");
      }
      assertEquals([...Deno.readDirSync(host.app)], [], "nothing was written");
    }),
});

Deno.test({
  name: "on a read-only host, SECRET_KEY and a writable KV_PATH are enough to serve",
  ignore: !CAN_DROP_PRIVILEGES,
  fn: () =>
    withReadOnlyHost(async (host) => {
      const proxy = await waitUntilReady(
        asNobody(host, {
          SECRET_KEY: "readonly-test-secret-0123456789",
          KV_PATH: `${host.own}/state/gemini-proxy.kv`,
        }),
        /listening on http:\/\/\S+:\d+/,
      );
      try {
        const url = proxy.output().match(/listening on (http:\/\/\S+:\d+)/)![1]!;
        const health = await (await fetch(`${url}/healthz`)).json();
        assertEquals([health.status, health.store.kind, health.keys.enabled], ["ok", "kv", 1]);
      } finally {
        await proxy.stop();
      }
      assert((await Deno.stat(`${host.own}/state/gemini-proxy.kv`)).isFile, "the KV file");
      assertEquals([...Deno.readDirSync(host.app)], [], "nothing was written");
    }),
});
