/**
 * Sections of BENCH.md that a tool of its own writes between `<!-- name:start -->` and
 * `<!-- name:end -->` markers, and that `deno task bench` carries over when it renders the rest.
 * @module
 */

/**
 * Replaces a marked section in a report file, or appends it when the file has none.
 * @param path The report (created, with its folder, when missing).
 * @param name The markers' name, e.g. `token-limits`.
 * @param section The new section, markers included.
 */
export async function writeMarkedSection(
  path: string,
  name: string,
  section: string,
): Promise<void> {
  const startMarker = `<!-- ${name}:start -->`;
  const endMarker = `<!-- ${name}:end -->`;
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
  if (dir) await Deno.mkdir(dir, { recursive: true });
  const current = await Deno.readTextFile(path).catch(() => "# Benchmarks\n");
  const start = current.indexOf(startMarker);
  const end = current.indexOf(endMarker);
  const next = start >= 0 && end > start
    ? current.slice(0, start) + section + current.slice(end + endMarker.length)
    : `${current.trimEnd()}\n\n${section}\n`;
  await Deno.writeTextFile(path, next);
}
