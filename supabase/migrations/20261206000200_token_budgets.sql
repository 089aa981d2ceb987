-- Gemini Proxy: monthly spending per proxy token, and budgets charged against it.
--
-- `gp_token_usage.cost_micros` holds the µUSD (1 USD = 1,000,000) spent in a Pacific-month row
-- (`M<YYYY-MM>`): a budgeted request's cost estimate is added when it is admitted, and the
-- difference to its real cost when it ends (negative when it cost less). Other rows keep 0.

alter table public.gp_token_usage add column cost_micros bigint not null default 0;

-- The charge gains the budget: one overload only, so positional calls stay unambiguous.
drop function public.gp_charge_token(text, text, text, text, bigint, bigint, bigint, bigint);

-- Admits one request for a token if its limits allow it, exactly under any concurrency: the
-- token's counter rows are locked (in one order, so charges never deadlock) before they are
-- read, so a concurrent charge waits and then sees this one's count. Refuses when the month's
-- spending reached `p_budget` or `p_reserve` does not fit in what is left (only when both are
-- given: calls Google does not bill pass), the day's tokens reached `p_tpd`, the day's requests
-- `p_rpd`, or the minute's requests `p_rpm` (null: no such limit). An admitted request counts in
-- every window and adds `p_reserve` to the month's spending. Returns `{ok, minuteRequests,
-- dayRequests, dayTokens, monthCostMicros}` with the counts before this request, from which the
-- adapter tells which limit refused and until when.
create function public.gp_charge_token(
  p_token_id text,
  p_minute text,
  p_day text,
  p_month text,
  p_at bigint,
  p_rpm bigint default null,
  p_rpd bigint default null,
  p_tpd bigint default null,
  p_budget bigint default null,
  p_reserve bigint default null
) returns jsonb
language plpgsql set search_path = '' as $$
declare
  minute_requests bigint := 0;
  day_requests bigint := 0;
  day_tokens bigint := 0;
  month_cost bigint := 0;
  admitted boolean;
  r record;
begin
  insert into public.gp_token_usage (token_id, period)
  select p_token_id, p from unnest(array[p_minute, p_day, p_month]) as p order by p collate "C"
  on conflict (token_id, period) do nothing;

  for r in
    select period, requests, tokens, cost_micros from public.gp_token_usage
     where token_id = p_token_id and period in (p_minute, p_day, p_month)
     order by period
       for update
  loop
    if r.period = p_minute then
      minute_requests := r.requests;
    elsif r.period = p_day then
      day_requests := r.requests;
      day_tokens := r.tokens;
    end if;
    if r.period = p_month then
      month_cost := r.cost_micros;
    end if;
  end loop;

  admitted := not (
    (p_budget is not null and p_reserve is not null
      and (month_cost >= p_budget or month_cost + p_reserve > p_budget))
    or (p_tpd is not null and day_tokens >= p_tpd)
    or (p_rpd is not null and day_requests >= p_rpd)
    or (p_rpm is not null and minute_requests >= p_rpm)
  );
  if admitted then
    update public.gp_token_usage
       set requests = requests + 1,
           cost_micros = cost_micros
             + case when period = p_month then greatest(coalesce(p_reserve, 0), 0) else 0 end
     where token_id = p_token_id and period in (p_minute, p_day, p_month);
    insert into public.gp_token_last_used as l (token_id, at) values (p_token_id, p_at)
    on conflict (token_id) do update set at = greatest(l.at, excluded.at);
  end if;
  return jsonb_build_object(
    'ok', admitted,
    'minuteRequests', minute_requests,
    'dayRequests', day_requests,
    'dayTokens', day_tokens,
    'monthCostMicros', month_cost
  );
end
$$;

-- Adds `[{tokenId, period, requests, tokens, costMicros?}]` to tokens' counters (`costMicros`
-- may be negative: a reservation given back) and advances last use to `[{tokenId, at}]`, locking
-- rows in the same order as `gp_charge_token`.
create or replace function public.gp_add_token_usage(p_rows jsonb, p_seen jsonb) returns void
language sql set search_path = '' as $$
  insert into public.gp_token_usage as u (token_id, period, requests, tokens, cost_micros)
  select r."tokenId", r.period, sum(r.requests), sum(r.tokens), coalesce(sum(r."costMicros"), 0)
    from jsonb_to_recordset(p_rows) as r(
      "tokenId" text, period text, requests bigint, tokens bigint, "costMicros" bigint
    )
   group by 1, 2
  having sum(r.requests) <> 0 or sum(r.tokens) <> 0 or coalesce(sum(r."costMicros"), 0) <> 0
   order by 1, 2
  on conflict (token_id, period) do update
    set requests = u.requests + excluded.requests,
        tokens = u.tokens + excluded.tokens,
        cost_micros = u.cost_micros + excluded.cost_micros;

  insert into public.gp_token_last_used as l (token_id, at)
  select s."tokenId", max(s.at)
    from jsonb_to_recordset(p_seen) as s("tokenId" text, at bigint)
   group by 1
   order by 1
  on conflict (token_id) do update set at = greatest(l.at, excluded.at);
$$;

create or replace function public.gp_read_token_usage(
  p_token_id text,
  p_minute text,
  p_day text,
  p_month text
) returns jsonb
language sql stable set search_path = '' as $$
  select jsonb_build_object(
    'minuteRequests', coalesce(sum(requests) filter (where period = p_minute), 0),
    'dayRequests', coalesce(sum(requests) filter (where period = p_day), 0),
    'dayTokens', coalesce(sum(tokens) filter (where period = p_day), 0),
    'monthRequests', coalesce(sum(requests) filter (where period = p_month), 0),
    'monthTokens', coalesce(sum(tokens) filter (where period = p_month), 0),
    'monthCostMicros', coalesce(sum(cost_micros) filter (where period = p_month), 0)
  )
  from public.gp_token_usage
  where token_id = p_token_id and period in (p_minute, p_day, p_month);
$$;

-- Access, as for every proxy function: the service role alone may call the new charge.
revoke all on function public.gp_charge_token(
  text, text, text, text, bigint, bigint, bigint, bigint, bigint, bigint
) from public, anon, authenticated;
grant execute on function public.gp_charge_token(
  text, text, text, text, bigint, bigint, bigint, bigint, bigint, bigint
) to service_role;

notify pgrst, 'reload schema';
