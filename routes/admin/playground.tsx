/**
 * The playground page.
 * @module
 */
import type { ConsoleState } from "../../core/admin/console.ts";
import type { Handlers, PageProps } from "../../core/web/types.ts";
import Playground, { type PlaygroundProps } from "../../islands/playground.tsx";
import type { StatsView } from "../../islands/_shared/types.ts";
import { PageTitle } from "./_components/page_title.tsx";

const DEFAULT_MODELS = [
  "gemini-2.5-flash",
  "gemini-2.5-pro",
  "gemini-2.5-flash-lite",
  "gemini-2.0-flash",
];

/** `GET`: offers the models seen this week, then the usual ones. */
export const handler: Handlers<ConsoleState> = {
  async GET(ctx) {
    // Models seen this week first, then the usual ones.
    const stats = await ctx.state.deps.api<StatsView>("/stats?range=7d&group=model");
    const seen = stats.series
      .sort((a, b) => sum(b.requests) - sum(a.requests))
      .map((s) => s.group)
      .filter((m) => m !== "-");
    return ctx.render(
      { models: [...new Set([...seen, ...DEFAULT_MODELS])] } satisfies PlaygroundProps,
    );
  },
};

/**
 * Try a prompt through the proxy.
 * @param props Model suggestions.
 */
export default function PlaygroundPage(props: PageProps<PlaygroundProps, ConsoleState>) {
  return (
    <>
      <PageTitle title="Playground" />
      <div class="page-head">
        <h1>Playground</h1>
      </div>
      <Playground {...props.data} />
    </>
  );
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
