/**
 * The logs page: the server reads the first page with the URL's filters.
 * @module
 */
import type { ConsoleState } from "../../../core/admin/console.ts";
import type { Handlers, PageProps } from "../../../core/web/types.ts";
import LogsView, { type LogFilters, type LogsViewProps } from "../../../islands/logs_view.tsx";
import type { LogPageView } from "../../../islands/_shared/types.ts";
import { PageTitle } from "../_components/page_title.tsx";
import type { LogFacets } from "../../../core/admin/log_facets.ts";

const FILTERS = [
  "status",
  "model",
  "errorClass",
  "tokenId",
  "keyId",
  "stream",
  "search",
  "q",
] as const;

/** `GET`: reads the first page of logs with the URL's filters. */
export const handler: Handlers<ConsoleState> = {
  async GET(ctx) {
    const filters: LogFilters = {};
    const query = new URLSearchParams({ limit: "50" });
    for (const name of FILTERS) {
      const value = ctx.url.searchParams.get(name)?.trim();
      if (value) {
        filters[name] = value;
        query.set(name, value);
      }
    }
    const [page, facets] = await Promise.all([
      ctx.state.deps.api<LogPageView>(`/logs?${query}`),
      ctx.state.deps.api<LogFacets>("/logs/facets"),
    ]);
    // Bodies stay on the detail page: the list would carry up to 16 KB per row.
    const logs = page.logs.map(({ requestBody: _q, responseBody: _r, ...rest }) => rest);
    return ctx.render({ filters, page: { ...page, logs }, facets } satisfies LogsViewProps);
  },
};

/**
 * Request logs.
 * @param props First page and filters.
 */
export default function LogsPage(props: PageProps<LogsViewProps, ConsoleState>) {
  return (
    <>
      <PageTitle title="Logs" />
      <LogsView {...props.data} />
    </>
  );
}
