/**
 * The playground page.
 * @module
 */
import type { ConsoleState } from "../../core/admin/console.ts";
import type { Handlers, PageProps } from "../../core/web/types.ts";
import Playground, { type PlaygroundProps } from "../../islands/playground.tsx";
import type { ModelsAnswer } from "../../core/admin/models_api.ts";
import { PageTitle } from "./_components/page_title.tsx";

/** `GET`: offers the models Google lists for generating content (or that answered this week). */
export const handler: Handlers<ConsoleState> = {
  async GET(ctx) {
    const { models } = await ctx.state.deps.api<ModelsAnswer>("/models");
    return ctx.render({ models } satisfies PlaygroundProps);
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
