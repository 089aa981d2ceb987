/**
 * The keys page.
 * @module
 */
import type { ConsoleState } from "../../core/admin/console.ts";
import type { Handlers, PageProps } from "../../core/web/types.ts";
import KeysManager, { type KeysManagerProps } from "../../islands/keys_manager.tsx";
import type { KeyView, StatsView } from "../../islands/_shared/types.ts";
import { keyHealthOf } from "../../islands/_shared/key_health.ts";
import { PageTitle } from "./_components/page_title.tsx";

/** `GET`: reads the keys (masked, with state and usage) and their last 24 hours. */
export const handler: Handlers<ConsoleState> = {
  async GET(ctx) {
    const { api, admin } = ctx.state.deps;
    const [{ keys }, stats] = await Promise.all([
      api<{ keys: KeyView[] }>("/keys"),
      api<StatsView>("/stats?range=24h&group=keyId"),
    ]);
    return ctx.render(
      {
        keys,
        health: keyHealthOf(stats.series),
        serverNow: admin.now(),
      } satisfies KeysManagerProps,
    );
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
