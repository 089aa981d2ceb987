/**
 * Renders a page tree to a complete HTML document: the body with preact-render-to-string, the
 * `<Head>` contributions, the stylesheets, and for each island on the page its bundle and props.
 * A page without islands gets no script at all.
 * @module
 */
import { Fragment, h, type VNode } from "preact";
import { renderToString } from "preact-render-to-string";
import { collectWhile } from "./islands.ts";
import type { SiteAssets } from "./types.ts";

/** Options of {@linkcode renderDocument}. */
export interface DocumentOptions {
  /** Built assets; without them pages render, but without styles or island scripts. */
  assets: SiteAssets | null;
  /** Document language (default `en`). */
  lang?: string;
}

/**
 * Renders a page to an HTML document.
 * @param root The page, already wrapped in its layouts.
 * @param options Assets and language.
 * @returns The document, starting with `<!DOCTYPE html>`.
 * @throws {TypeError} When island props cannot be serialized to JSON.
 */
export function renderDocument(root: VNode, options: DocumentOptions): string {
  const { result: body, collected } = collectWhile(() => renderToString(root));
  const head = collected.head.length > 0 ? renderToString(h(Fragment, null, collected.head)) : "";
  const assets = options.assets;
  const styles = (assets?.styles ?? []).map((href) =>
    `<link rel="stylesheet" href="${escapeAttr(href)}">`
  ).join("");
  let scripts = "";
  let props = "";
  if (collected.islands.length > 0) {
    const names = [...new Set(collected.islands.map((i) => i.name))];
    const preloaded = new Set<string>();
    for (const name of names) {
      const src = assets?.islands[name];
      if (!src) continue;
      // Chunks load in parallel with the island's own bundle instead of after it.
      for (const href of assets?.preload?.[name] ?? []) {
        if (preloaded.has(href)) continue;
        preloaded.add(href);
        scripts += `<link rel="modulepreload" href="${escapeAttr(href)}">`;
      }
      scripts += `<script type="module" src="${escapeAttr(src)}"></script>`;
    }
    props = `<script type="application/json" id="__gp_islands">${
      safeJson(collected.islands.map((i) => i.props))
    }</script>`;
  }
  return `<!DOCTYPE html><html lang="${escapeAttr(options.lang ?? "en")}"><head>` +
    `<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<meta name="color-scheme" content="light dark">${head}${styles}${scripts}</head>` +
    `<body>${body}${props}</body></html>`;
}

/** JSON safe to embed in a `<script>` element. */
function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

function escapeAttr(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}
