/**
 * The dashboard page: the server renders the first data, the island keeps it live.
 * @module
 */
import type { ConsoleState } from "../../core/admin/console.ts";
import type { Handlers, PageProps } from "../../core/web/types.ts";
import Dashboard, { type DashboardProps } from "../../islands/dashboard.tsx";
import type { KeyView, Range, StatsView } from "../../islands/_shared/types.ts";
import { PageTitle } from "./_components/page_title.tsx";

const RANGES = new Set(["1h", "24h", "7d", "30d"]);

export const handler: Handlers<ConsoleState> = {
  async GET(ctx) {
    const asked = ctx.url.searchParams.get("range") ?? "24h";
    const range = (RANGES.has(asked) ? asked : "24h") as Range;
    const { api } = ctx.state.deps;
    const [stats, byModel, keys] = await Promise.all([
      api<StatsView>(`/stats?range=${range}`),
      api<StatsView>(`/stats?range=${range}&group=model`),
      api<{ keys: KeyView[] }>("/keys"),
    ]);
    return ctx.render({ range, stats, byModel, keys: keys.keys } satisfies DashboardProps);
  },
};

/**
 * The dashboard.
 * @param props Stats and keys.
 */
export default function DashboardPage(props: PageProps<DashboardProps, ConsoleState>) {
  return (
    <>
      <PageTitle title="Dashboard" />
      <Dashboard {...props.data} />
    </>
  );
}
