/**
 * The house rules a newcomer relies on, checked on every test run (`deno task test`, so CI runs
 * them): small files, small functions with few positional parameters in `core/`, no import
 * cycles, a pure core that imports no route, island or adapter, adapters that never import each
 * other, and subsystems reached only through their `mod.ts`. Each failure names the file and line.
 */
import ts from "typescript";

const ROOT = new URL("../", import.meta.url);
/** Folders that hold no source of ours (dependencies, build output, state). */
const SKIPPED = new Set(["node_modules", "static", "dist", ".git", "data", ".bench", ".vercel"]);
const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 60;
const MAX_POSITIONAL_PARAMS = 3;
/**
 * Test files still over 400 lines or in an import cycle while the test suite is being split
 * up. The list only shrinks: an entry that no longer needs to be here fails the check.
 */
const OVERSIZED_TEST_FILES: string[] = [];
/**
 * Importers that may reach into a core folder past its `mod.ts`: tests and benchmarks measure
 * internals; islands are bundled for browsers one file at a time, so a folder's whole face
 * would grow their bundles; the console's routes follow when their pages are next reworked.
 */
const FACE_EXEMPT = /^(tests|bench|routes|islands)\/|_test\.tsx?$/;

/** One source file of the repository. */
interface Source {
  /** Path from the repository root, e.g. `core/proxy/judge.ts`. */
  path: string;
  text: string;
  lines: number;
  /** Its relative imports (static, type-only and dynamic), resolved from the root. */
  imports: { target: string; line: number }[];
}

const sources = await scan();

Deno.test("structure: no source file is over 400 lines", () => {
  const oversized = sources.filter((s) => s.lines > MAX_FILE_LINES);
  report(
    "files over 400 lines: split them along what they do",
    oversized.filter((s) => !OVERSIZED_TEST_FILES.includes(s.path))
      .map((s) => `${s.path}:${s.lines}: ${s.lines} lines`),
  );
});

Deno.test("structure: the allow-list of oversized test files only shrinks", () => {
  const inCycles = new Set(cycles().flat());
  report(
    "allow-listed test files that no longer need it: remove them from OVERSIZED_TEST_FILES",
    OVERSIZED_TEST_FILES.flatMap((path) => {
      const source = sources.find((s) => s.path === path);
      if (!source) return [`${path}:1: no longer exists`];
      if (source.lines <= MAX_FILE_LINES && !inCycles.has(path)) {
        return [`${path}:1: ${source.lines} lines and in no import cycle`];
      }
      return [];
    }),
  );
});

Deno.test("structure: no function in core/ is over 60 lines", () => {
  report(
    "functions over 60 lines in core/: a pipeline of named steps waiting to happen",
    core().flatMap((s) =>
      functions(s).filter((f) => f.lines > MAX_FUNCTION_LINES)
        .map((f) => `${s.path}:${f.line}: ${f.name} is ${f.lines} lines`)
    ),
  );
});

Deno.test("structure: no function in core/ takes more than 3 positional parameters", () => {
  report(
    "functions with more than 3 positional parameters in core/: take an options object",
    core().flatMap((s) =>
      functions(s).filter((f) => f.params > MAX_POSITIONAL_PARAMS)
        .map((f) => `${s.path}:${f.line}: ${f.name} takes ${f.params}`)
    ),
  );
});

Deno.test("structure: no import cycles", () => {
  const tolerated = (cycle: string[]) =>
    cycle.every((p) => p.startsWith("tests/")) &&
    cycle.some((p) => OVERSIZED_TEST_FILES.includes(p));
  report(
    "import cycles: move what both sides need to a module both import",
    cycles().filter((cycle) => !tolerated(cycle)).map((cycle) => describeCycle(cycle)),
  );
});

Deno.test("structure: core/ imports nothing from routes/, islands/ or adapters/ and calls no runtime", () => {
  const violations = core().flatMap((s) => [
    ...s.imports.filter((i) => /^(routes|islands|adapters)\//.test(i.target))
      .map((i) => `${s.path}:${i.line}: imports ${i.target}; hosts hand the core what it needs`),
    ...(isTest(s.path) ? [] : runtimeCalls(s)),
  ]);
  report("core/ must stay runtime-agnostic", violations);
});

Deno.test("structure: adapters never import each other", () => {
  const violations = sources.filter((s) => s.path.startsWith("adapters/") && !isHarness(s.path))
    .flatMap((s) =>
      s.imports.filter((i) => {
        const from = s.path.split("/")[1]!;
        const to = i.target.split("/")[1] ?? "";
        return i.target.startsWith("adapters/") && to !== from && !to.startsWith("_");
      }).map((i) =>
        `${s.path}:${i.line}: imports ${i.target}; share it from core/ or adapters/_shared/`
      )
    );
  report("adapters importing another adapter", violations);
});

Deno.test("structure: other folders reach a core folder only through its mod.ts", () => {
  const violations = sources.filter((s) => !FACE_EXEMPT.test(s.path)).flatMap((s) =>
    s.imports.filter((i) => {
      const folder = dirOf(i.target);
      return i.target.startsWith("core/") && folder !== "core" && folder !== dirOf(s.path) &&
        !i.target.endsWith("/mod.ts");
    }).map((i) => `${s.path}:${i.line}: imports ${i.target}; import ${dirOf(i.target)}/mod.ts`)
  );
  report("imports past a folder's public face", violations);
});

Deno.test("structure: every core folder has a mod.ts with a module doc and named re-exports", () => {
  const folders = new Set(core().filter((s) => !isTest(s.path)).map((s) => dirOf(s.path)));
  folders.delete("core");
  const violations = [...folders].flatMap((folder) => {
    const face = sources.find((s) => s.path === `${folder}/mod.ts`);
    if (!face) return [`${folder}/:1: has no mod.ts`];
    const out: string[] = [];
    if (!face.text.includes("@module")) out.push(`${face.path}:1: has no module doc`);
    const star = face.text.split("\n").findIndex((l) => /export\s*\*/.test(l));
    if (star >= 0) out.push(`${face.path}:${star + 1}: re-exports with *; name each export`);
    return out;
  });
  report("core folders without a proper public face", violations);
});

/** Throws with every violation, one per line, under a headline. */
function report(headline: string, violations: string[]): void {
  if (violations.length > 0) throw new Error(`${headline}:\n  ${violations.join("\n  ")}`);
}

function core(): Source[] {
  return sources.filter((s) => s.path.startsWith("core/"));
}

function isTest(path: string): boolean {
  return /_test\.tsx?$/.test(path);
}

/** Adapters' tests and their `_`-prefixed harnesses may start another host to test against. */
function isHarness(path: string): boolean {
  const name = path.slice(path.lastIndexOf("/") + 1);
  return isTest(path) || (name.startsWith("_") && !path.startsWith("adapters/_shared/"));
}

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/"));
}

/** Every function-like node with a body or a signature, with its length and parameters. */
function functions(
  source: Source,
): { name: string; line: number; lines: number; params: number }[] {
  const file = ts.createSourceFile(
    source.path,
    source.text,
    ts.ScriptTarget.Latest,
    true,
    source.path.endsWith("x") ? ts.ScriptKind.TSX : ts.ScriptKind.TS,
  );
  const out: { name: string; line: number; lines: number; params: number }[] = [];
  const lineOf = (pos: number) => file.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node)) {
      const line = lineOf(node.getStart(file));
      const name = (node as ts.FunctionLikeDeclaration).name?.getText(file) ?? "<anonymous>";
      const body = (node as ts.FunctionLikeDeclaration).body !== undefined;
      const lines = body ? lineOf(node.getEnd()) - line + 1 : 0;
      out.push({ name, line, lines, params: node.parameters.length });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return out;
}

/** Uses of `Deno.*` and `process.*` (values and types) in a core module. */
function runtimeCalls(source: Source): string[] {
  const file = ts.createSourceFile(source.path, source.text, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    const left = ts.isPropertyAccessExpression(node)
      ? node.expression
      : ts.isQualifiedName(node)
      ? node.left
      : null;
    if (left && ts.isIdentifier(left) && (left.text === "Deno" || left.text === "process")) {
      const line = file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
      out.push(`${source.path}:${line}: uses ${node.getText(file)}; inject it from the host`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return out;
}

/** The import graph's cycles: its strongly connected components of more than one file. */
function cycles(): string[][] {
  const graph = new Map(sources.map((s) => [s.path, s.imports.map((i) => i.target)]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const connect = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)!.includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) connect(v);
  return found;
}

/** One loop through a cycle's files, each step with the line of its import. */
function describeCycle(component: string[]): string {
  const members = new Set(component);
  const files = [component[0]!];
  const steps: string[] = [];
  for (;;) {
    const here = sources.find((s) => s.path === files.at(-1))!;
    const next = here.imports.find((i) =>
      members.has(i.target) && (!files.includes(i.target) || i.target === files[0])
    );
    if (!next) break;
    steps.push(`${here.path}:${next.line}`);
    if (next.target === files[0]) return [...steps, files[0]].join(" -> ");
    files.push(next.target);
  }
  return [...steps, files.at(-1)].join(" -> ");
}

/** Every .ts and .tsx file of ours, with its relative imports (generated files left out). */
async function scan(): Promise<Source[]> {
  const out: Source[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(new URL(dir || ".", ROOT))) {
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory && !SKIPPED.has(entry.name)) await walk(path);
      else if (entry.isFile && /\.tsx?$/.test(entry.name) && !entry.name.endsWith(".gen.ts")) {
        out.push(read(path, await Deno.readTextFile(new URL(path, ROOT))));
      }
    }
  };
  await walk("");
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

function read(path: string, text: string): Source {
  const lineStarts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lineStarts.push(i + 1);
  const lineOf = (pos: number) => lineStarts.findLastIndex((start) => start <= pos) + 1;
  const imports = ts.preProcessFile(text, true, true).importedFiles
    .filter((i) => i.fileName.startsWith("."))
    .map((i) => ({ target: resolve(dirOf(path), i.fileName), line: lineOf(i.pos) }));
  return { path, text, lines: text.split("\n").length - (text.endsWith("\n") ? 1 : 0), imports };
}

function resolve(from: string, specifier: string): string {
  const out: string[] = [];
  for (const part of `${from}/${specifier}`.split("/")) {
    if (part === "..") out.pop();
    else if (part !== "." && part !== "") out.push(part);
  }
  return out.join("/");
}
