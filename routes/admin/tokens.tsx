/**
 * The tokens page.
 * @module
 */
import type { ConsoleState } from "../../core/admin/console.ts";
import type { Handlers, PageProps } from "../../core/web/types.ts";
import TokensManager, { type TokensManagerProps } from "../../islands/tokens_manager.tsx";
import type { TokenView } from "../../islands/_shared/types.ts";
import { PageTitle } from "./_components/page_title.tsx";

/** `GET`: reads the tokens (masked, with usage) through the admin API. */
export const handler: Handlers<ConsoleState> = {
  async GET(ctx) {
    const { tokens } = await ctx.state.deps.api<{ tokens: TokenView[] }>("/tokens");
    return ctx.render({ tokens } satisfies TokensManagerProps);
  },
};

/**
 * Proxy tokens, masked, with usage.
 * @param props The tokens.
 */
export default function TokensPage(props: PageProps<TokensManagerProps, ConsoleState>) {
  return (
    <>
      <PageTitle title="Tokens" />
      <TokensManager {...props.data} />
    </>
  );
}
