/**
 * The dashboard page: the server renders the first data, the island keeps it live.
 * @module
 */
import type { ConsoleState } from "../../core/admin/console.ts";
import type { Handlers, PageProps } from "../../core/web/types.ts";
import Dashboard, { type DashboardProps } from "../../islands/dashboard.tsx";
import type { KeyView, Range, StatsView, TokenView } from "../../islands/_shared/types.ts";
import { SPEND_METRICS, type SpendGroup } from "../../islands/_shared/spend_view.tsx";
import { dashboardStats } from "../../core/admin/dashboard_data.ts";
import { PageTitle } from "./_components/page_title.tsx";

const RANGES = new Set(["1h", "24h", "7d", "30d"]);
const GROUPS = new Set(["model", "tokenId", "keyId"]);
const METRICS = new Set(SPEND_METRICS.map((m) => m.id));

/** `GET`: reads the range's stats (one aggregate read for both views) and the keys. */
export const handler: Handlers<ConsoleState> = {
  async GET(ctx) {
    const asked = ctx.url.searchParams.get("range") ?? "24h";
    const range = (RANGES.has(asked) ? asked : "24h") as Range;
    const askedGroup = ctx.url.searchParams.get("group") ?? "model";
    const group = (GROUPS.has(askedGroup) ? askedGroup : "model") as SpendGroup;
    const askedMetric = ctx.url.searchParams.get("metric") ?? "requests";
    const metric = METRICS.has(askedMetric) ? askedMetric : "requests";
    const { api, admin } = ctx.state.deps;
    // One aggregate read for the common views (the island's refreshes use the stats API).
    const [{ stats, byModel }, keys, tokens, grouped] = await Promise.all([
      dashboardStats(admin.store, range, admin.now),
      api<{ keys: KeyView[] }>("/keys"),
      api<{ tokens: TokenView[] }>("/tokens"),
      group === "model" ? null : api<StatsView>(`/stats?range=${range}&group=${group}`),
    ]);
    const names = {
      tokens: Object.fromEntries(tokens.tokens.map((t) => [t.id, t.name])),
      keys: Object.fromEntries(keys.keys.map((k) => [k.id, k.masked])),
    };
    return ctx.render(
      {
        range,
        stats,
        byModel: grouped ?? byModel,
        group,
        metric,
        keys: keys.keys,
        names,
      } satisfies DashboardProps,
    );
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
