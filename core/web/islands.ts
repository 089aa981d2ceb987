/**
 * Server side of islands: while a page renders, components registered as islands are wrapped in a
 * `<gp-island>` marker and their props are collected, so the browser can hydrate exactly those
 * components and nothing else. `<Head>` contributions are collected the same way.
 * @module
 */
import { type ComponentChildren, type ComponentType, h, options, type VNode } from "preact";

/** An island rendered on the page: its name and the (serializable) props it got. */
export interface RenderedIsland {
  /** Island name, e.g. `dashboard`. */
  name: string;
  /** Its props, serialized to JSON for hydration. */
  props: Record<string, unknown>;
}

/** What one page render collects. */
export interface RenderCollector {
  /** Islands in document order; a marker's `data-id` is its index. */
  islands: RenderedIsland[];
  /** Children of every `<Head>`, in order. */
  head: ComponentChildren[];
}

// deno-lint-ignore no-explicit-any -- island components take any props
type AnyComponent = ComponentType<any>;

const islandNames = new Map<AnyComponent, string>();
const wrappers = new Map<AnyComponent, AnyComponent>();
let current: RenderCollector | null = null;
let hooked = false;

/**
 * Registers island components by name; renders of pages that use them get markers from now on.
 * @param islands Name to component.
 */
export function registerIslands(islands: Record<string, AnyComponent>): void {
  for (const [name, component] of Object.entries(islands)) islandNames.set(component, name);
  if (hooked) return;
  hooked = true;
  const previous = options.vnode;
  options.vnode = function markIslands(vnode: VNode) {
    if (current && typeof vnode.type === "function") {
      const type = vnode.type as AnyComponent;
      const name = islandNames.get(type);
      if (name) vnode.type = wrapperOf(name, type);
    }
    previous?.(vnode);
  };
}

/**
 * Runs a synchronous render with a fresh collector (renders never interleave: they are sync).
 * @param render The render, e.g. a `renderToString` call.
 * @returns Its result and what it collected.
 */
export function collectWhile<T>(render: () => T): { result: T; collected: RenderCollector } {
  const collected: RenderCollector = { islands: [], head: [] };
  const outer = current;
  current = collected;
  try {
    return { result: render(), collected };
  } finally {
    current = outer;
  }
}

/**
 * Adds its children to the document's `<head>` (title, meta), like Fresh's `<Head>`.
 * @param props The elements to add.
 */
export function Head(props: { children?: ComponentChildren }): null {
  current?.head.push(props.children);
  return null;
}

function wrapperOf(name: string, island: AnyComponent): AnyComponent {
  let wrapper = wrappers.get(island);
  if (wrapper) return wrapper;
  wrapper = function IslandMarker(props: Record<string, unknown>) {
    const { children: _children, ...serializable } = props;
    const id = current ? current.islands.push({ name, props: serializable }) - 1 : -1;
    const inner = h(island, props);
    // The vnode hook wrapped the island again while creating `inner`: undo that.
    inner.type = island;
    return h("gp-island", { "data-island": name, "data-id": String(id) }, inner);
  };
  wrappers.set(island, wrapper);
  return wrapper;
}
