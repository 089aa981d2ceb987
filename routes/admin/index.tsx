/**
 * The dashboard page: the server renders the first data, the island keeps it live.
 * @module
 */
import type { ConsoleState } from "../../core/admin/console.ts";
import type { Handlers, PageProps } from "../../core/web/types.ts";
import Dashboard, { type DashboardProps } from "../../islands/dashboard.tsx";
import type { KeyView, Range } from "../../islands/_shared/types.ts";
import { dashboardStats } from "../../core/admin/dashboard_data.ts";
import { PageTitle } from "./_components/page_title.tsx";

const RANGES = new Set(["1h", "24h", "7d", "30d"]);

/** `GET`: reads the range's stats (one aggregate read for both views) and the keys. */
export const handler: Handlers<ConsoleState> = {
  async GET(ctx) {
    const asked = ctx.url.searchParams.get("range") ?? "24h";
    const range = (RANGES.has(asked) ? asked : "24h") as Range;
    const { api, admin } = ctx.state.deps;
    // One aggregate read for both views (the island's refreshes use the stats API).
    const [{ stats, byModel }, keys] = await Promise.all([
      dashboardStats(admin.store, range, admin.now),
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
