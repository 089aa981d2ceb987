/**
 * One proxy token: its settings, usage against each limit (its monthly budget included), and its
 * own traffic and cost charts.
 * @module
 */
import type { ConsoleState } from "../../../core/admin/console.ts";
import { HttpError } from "../../../core/errors.ts";
import type { Handlers, PageProps } from "../../../core/web/types.ts";
import EntityStats from "../../../islands/entity_stats.tsx";
import { formatCountOf, formatTime } from "../../../islands/_shared/format.ts";
import { formatUsd } from "../../../islands/_shared/usd.ts";
import type { StatsView, TokenView } from "../../../islands/_shared/types.ts";
import { LimitBars, tokenLimitBars } from "../_components/limit_bars.tsx";
import { PageTitle } from "../_components/page_title.tsx";

interface TokenPageData {
  token: TokenView;
  stats: StatsView;
}

/** `GET`: the token (masked, with usage) and its last 24 hours; 404 page when unknown. */
export const handler: Handlers<ConsoleState> = {
  async GET(ctx) {
    const id = ctx.params.id ?? "";
    if (!/^[\w-]{1,64}$/.test(id)) return ctx.render(null, { status: 404 });
    const { api } = ctx.state.deps;
    try {
      const [token, stats] = await Promise.all([
        api<TokenView>(`/tokens/${id}`),
        api<StatsView>(`/stats?range=24h&tokenId=${id}`),
      ]);
      return ctx.render({ token, stats } satisfies TokenPageData);
    } catch (error) {
      if (error instanceof HttpError && error.code === 404) {
        return ctx.render(null, { status: 404 });
      }
      throw error;
    }
  },
};

/**
 * The token page.
 * @param props The token and its stats, or null.
 */
export default function TokenPage(props: PageProps<TokenPageData | null, ConsoleState>) {
  if (!props.data) {
    return (
      <>
        <PageTitle title="Token not found" />
        <p>
          <a href="/admin/tokens">← Tokens</a>
        </p>
        <div class="card">
          <h1>Token not found</h1>
          <p>No proxy token has this id.</p>
        </div>
      </>
    );
  }
  const { token: t, stats } = props.data;
  const facts: [string, string][] = [
    ["Secret", t.masked],
    ["Status", t.status],
    ["Models allowed", t.models?.join(", ") || "all"],
    ["Expires", t.expiresAt ? formatTime(t.expiresAt) : "never"],
    ["Last used", t.lastUsedAt ? formatTime(t.lastUsedAt) : "never"],
    [
      "This month (Pacific)",
      `${formatCountOf(t.usage?.month.requests ?? 0, "request")}, ${
        formatCountOf(t.usage?.month.tokens ?? 0, "token")
      }, ${formatUsd(t.usage?.month.costMicros ?? 0)}`,
    ],
    [
      "Monthly budget",
      t.limits?.budgetMicros === undefined ? "none" : `${formatUsd(t.limits.budgetMicros)} a month`,
    ],
    ["Created", formatTime(t.createdAt)],
    ["Id", t.id],
  ];
  return (
    <>
      <PageTitle title={`Token ${t.name}`} />
      <p>
        <a href="/admin/tokens">← Tokens</a>
      </p>
      <div class="page-head">
        <h1>{t.name}</h1>
        <div class="row">
          <span class={`pill ${t.status === "enabled" ? "ok" : "bad"}`}>{t.status}</span>
          <a class="btn" href={`/admin/logs?tokenId=${t.id}`}>Its logs</a>
        </div>
      </div>
      <div class="grid-2">
        <section class="card" aria-labelledby="limits">
          <h2 id="limits">Usage against limits</h2>
          <LimitBars bars={tokenLimitBars(t)} />
        </section>
        <section class="card" aria-labelledby="facts">
          <h2 id="facts">Token</h2>
          <dl class="facts">
            {facts.map((
              [name, value],
            ) => [<dt key={`${name}-t`}>{name}</dt>, <dd key={`${name}-d`}>{value}</dd>])}
          </dl>
        </section>
      </div>
      <EntityStats by="tokenId" id={t.id} range="24h" stats={stats} />
    </>
  );
}
