-- Gemini Proxy: lease counters for limits (proxy tokens' rpm, rpd and tpd; keys' caps).
--
-- Each proxy instance leases blocks of a limit's capacity with `gp_take_leases`, spends them in
-- memory and hands back what it did not use, so no request waits on the database while its
-- instance holds a block (see docs/limits.md). A counter's `used` is the capacity leased in one
-- window and not handed back; a grant never takes it past the cap the caller names.
-- `gp_charge_token`, which charged every request with a round trip, is dropped.

create table public.gp_leases (
  counter text collate "C" not null,
  window_name text collate "C" not null,
  used bigint not null default 0,
  expires_at bigint not null,
  primary key (counter, window_name)
);
create index gp_leases_expires_at_idx on public.gp_leases (expires_at);

-- Settles and leases capacity, in one transaction. `p_requests` is
-- `[{counter, window, settle, want, cap, expiresAt}]`; for each, in order: `used` becomes
-- `greatest(0, used + settle)`, then `least(want, cap - used)` units (none once `used` reaches
-- `cap`) are granted and added. Rows are created and locked in one order first, so concurrent
-- calls never deadlock and a concurrent call waits, then sees this one's total. Returns
-- `[{granted, used}]` in the order of the requests. Expired counters are dropped a few at a time.
create function public.gp_take_leases(p_requests jsonb, p_now bigint) returns jsonb
language plpgsql set search_path = '' as $$
declare
  item jsonb;
  current_used bigint;
  granted bigint;
  results jsonb := '[]'::jsonb;
begin
  delete from public.gp_leases
   where ctid = any(array(
     select ctid from public.gp_leases where expires_at < p_now
      order by expires_at limit 100 for update skip locked
   ));

  insert into public.gp_leases (counter, window_name, expires_at)
  select r.counter, r."window", max(r."expiresAt")
    from jsonb_to_recordset(p_requests) as r(counter text, "window" text, "expiresAt" bigint)
   group by 1, 2
   order by 1, 2
  on conflict (counter, window_name) do nothing;

  perform 1 from public.gp_leases l
    join (select distinct r.counter, r."window"
            from jsonb_to_recordset(p_requests) as r(counter text, "window" text)) w
      on l.counter = w.counter and l.window_name = w."window"
   order by l.counter, l.window_name
     for update of l;

  for item in select value from jsonb_array_elements(p_requests) loop
    update public.gp_leases
       set used = greatest(0, used + coalesce((item ->> 'settle')::bigint, 0)),
           expires_at = greatest(expires_at, (item ->> 'expiresAt')::bigint)
     where counter = item ->> 'counter' and window_name = item ->> 'window'
    returning used into current_used;
    granted := greatest(0, least(
      greatest(0, coalesce((item ->> 'want')::bigint, 0)),
      greatest(0, (item ->> 'cap')::bigint) - current_used
    ));
    if granted > 0 then
      update public.gp_leases set used = used + granted
       where counter = item ->> 'counter' and window_name = item ->> 'window';
    end if;
    results := results || jsonb_build_object('granted', granted, 'used', current_used + granted);
  end loop;
  return results;
end
$$;

drop function if exists public.gp_charge_token(
  text, text, text, text, bigint, bigint, bigint, bigint, bigint, bigint
);

-- Access, as for every gp_ table and function: row-level security with no policy, nothing for
-- `anon` and `authenticated`, everything for `service_role`.
alter table public.gp_leases enable row level security;
revoke all on table public.gp_leases from public, anon, authenticated;
grant select, insert, update, delete on table public.gp_leases to service_role;
revoke all on function public.gp_take_leases(jsonb, bigint) from public, anon, authenticated;
grant execute on function public.gp_take_leases(jsonb, bigint) to service_role;

notify pgrst, 'reload schema';
