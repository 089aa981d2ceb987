/**
 * Browser side of islands: finds the `<gp-island>` markers of one island and hydrates each with
 * the props the server serialized. Every island bundle calls {@linkcode bootIsland} once.
 * @module
 */
import { type ComponentType, h, hydrate } from "preact";

let allProps: Record<string, unknown>[] | null = null;

/**
 * Hydrates every marker of an island on the page.
 * @param name The island's name (its file name without extension).
 * @param component The island component.
 */
// deno-lint-ignore no-explicit-any -- island components take any props
export function bootIsland(name: string, component: ComponentType<any>): void {
  performance.mark(`gp:boot:${name}`);
  allProps ??= JSON.parse(document.getElementById("__gp_islands")?.textContent ?? "[]");
  for (const el of document.querySelectorAll<HTMLElement>(`gp-island[data-island="${name}"]`)) {
    hydrate(h(component, allProps?.[Number(el.dataset.id)] ?? {}), el);
  }
  performance.mark(`gp:hydrated:${name}`);
}
