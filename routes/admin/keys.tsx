/**
 * The keys page.
 * @module
 */
import type { ConsoleState } from "../../core/admin/console.ts";
import type { Handlers, PageProps } from "../../core/web/types.ts";
import KeysManager, { type KeysManagerProps } from "../../islands/keys_manager.tsx";
import type { KeyView } from "../../islands/_shared/types.ts";
import { PageTitle } from "./_components/page_title.tsx";

/** `GET`: reads the keys (masked, with state and usage) through the admin API. */
export const handler: Handlers<ConsoleState> = {
  async GET(ctx) {
    const { keys } = await ctx.state.deps.api<{ keys: KeyView[] }>("/keys");
    return ctx.render({ keys, serverNow: ctx.state.deps.admin.now() } satisfies KeysManagerProps);
  },
};

/**
 * Keys, masked, with their state.
 * @param props The keys.
 */
export default function KeysPage(props: PageProps<KeysManagerProps, ConsoleState>) {
  return (
    <>
      <PageTitle title="Keys" />
      <KeysManager {...props.data} />
    </>
  );
}
