-- Gemini Proxy: aggregate counters written in batches, each batch at most once.
--
-- Each proxy instance holds its aggregate counters in memory and writes them about once a second
-- as one batch under a random id (`core/logs/log_writer.ts`). The id is recorded in the same
-- transaction as the sums, so a batch retried after a failure, even one whose answer was lost
-- after Postgres committed it, adds nothing twice. Ids are kept a day.

create table public.gp_aggregate_batches (
  id text collate "C" primary key,
  at bigint not null
);
create index gp_aggregate_batches_at_idx on public.gp_aggregate_batches (at);

-- Adds `[{granularity, bucket, keyId, model, tokenId, field, value}]` to the aggregates unless a
-- batch with `p_id` was added before; drops ids older than a day, a few at a time.
create function public.gp_add_aggregates(p_id text, p_deltas jsonb, p_now bigint) returns void
language plpgsql set search_path = '' as $$
declare
  inserted integer;
begin
  insert into public.gp_aggregate_batches (id, at) values (p_id, p_now) on conflict (id) do nothing;
  get diagnostics inserted = row_count;
  if inserted = 0 then
    return;
  end if;

  insert into public.gp_aggregates as a (granularity, bucket, key_id, model, token_id, field, value)
  select d.granularity, d.bucket, d."keyId", d.model, d."tokenId", d.field, sum(d.value)
    from jsonb_to_recordset(p_deltas) as d(
      granularity text, bucket bigint, "keyId" text, model text, "tokenId" text, field text,
      value double precision
    )
   group by 1, 2, 3, 4, 5, 6
   order by 1, 2, 3, 4, 5, 6
  on conflict (granularity, bucket, key_id, model, token_id, field) do update
    set value = a.value + excluded.value;

  delete from public.gp_aggregate_batches
   where id in (
     select b.id from public.gp_aggregate_batches b
      where b.at < p_now - 86400000 order by b.at limit 100
   );

  perform public.gp_prune(p_now);
end
$$;

-- Access, as for every other proxy table: row-level security with no policy, nothing for `anon`
-- and `authenticated`.
alter table public.gp_aggregate_batches enable row level security;
revoke all on table public.gp_aggregate_batches from public, anon, authenticated;
grant select, insert, update, delete on table public.gp_aggregate_batches to service_role;
revoke all on function public.gp_add_aggregates(text, jsonb, bigint)
  from public, anon, authenticated;
grant execute on function public.gp_add_aggregates(text, jsonb, bigint) to service_role;

-- Let PostgREST see the new function at once.
notify pgrst, 'reload schema';
