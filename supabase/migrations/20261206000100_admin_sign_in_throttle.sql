-- Gemini Proxy: the admin sign-in throttle's shared state (`core/admin/auth_throttle.ts`).
--
-- Every process sharing the project counts wrong admin passwords and METRICS_TOKEN guesses in
-- the same rows, per client address and in total, so a lock-out holds whichever process a
-- client reaches. The application decides (its rules live in one place, in TypeScript); the
-- database keeps each scope's state with a version and applies a batch of writes only if every
-- version still matches what was read: a compare-and-set across processes. Versions come from a
-- sequence, so a scope deleted and written again never repeats one.

create table public.gp_auth_throttle (
  scope text collate "C" primary key,
  state jsonb not null,
  version bigint not null,
  expires_at bigint not null
);
create index gp_auth_throttle_expires_at_idx on public.gp_auth_throttle (expires_at);
create sequence public.gp_auth_throttle_version;

-- The scopes asked for, in order: `[{scope, state, version}]`, with null state and version for
-- a scope that has none.
create function public.gp_read_auth_throttle(p_scopes jsonb) returns jsonb
language sql stable set search_path = '' as $$
  select coalesce(jsonb_agg(jsonb_build_object(
    'scope', s.scope, 'state', t.state, 'version', t.version::text
  ) order by s.n), '[]'::jsonb)
  from jsonb_array_elements_text(p_scopes) with ordinality as s(scope, n)
  left join public.gp_auth_throttle t on t.scope = s.scope;
$$;

-- Applies `[{scope, version, state, expiresAt}]` (a null state deletes the scope) if every
-- scope's version still equals `version` (null: the scope must be absent); otherwise changes
-- nothing and returns false. Writers take one transaction-scoped advisory lock, so checks and
-- writes of concurrent calls never interleave; reads take none. Expired scopes are dropped.
create function public.gp_write_auth_throttle(p_writes jsonb, p_now bigint) returns boolean
language plpgsql set search_path = '' as $$
declare
  w record;
begin
  perform pg_advisory_xact_lock(hashtext('public.gp_auth_throttle'));
  for w in
    select x.scope, x.version
      from jsonb_to_recordset(p_writes) as x(scope text, version text)
  loop
    if (select t.version::text from public.gp_auth_throttle t where t.scope = w.scope)
       is distinct from w.version then
      return false;
    end if;
  end loop;

  for w in
    select x.scope, x.state, x."expiresAt" as expires_at
      from jsonb_to_recordset(p_writes) as x(scope text, state jsonb, "expiresAt" bigint)
  loop
    if w.state is null or jsonb_typeof(w.state) = 'null' then
      delete from public.gp_auth_throttle where scope = w.scope;
    else
      insert into public.gp_auth_throttle (scope, state, version, expires_at)
      values (w.scope, w.state, nextval('public.gp_auth_throttle_version'), w.expires_at)
      on conflict (scope) do update
        set state = excluded.state, version = excluded.version, expires_at = excluded.expires_at;
    end if;
  end loop;

  delete from public.gp_auth_throttle where expires_at <= p_now;
  return true;
end
$$;

-- Access, as for every other proxy table: row-level security with no policy, nothing for `anon`
-- and `authenticated` (Supabase's default grants would give them everything in `public`).
alter table public.gp_auth_throttle enable row level security;
revoke all on table public.gp_auth_throttle from public, anon, authenticated;
grant select, insert, update, delete on table public.gp_auth_throttle to service_role;
revoke all on sequence public.gp_auth_throttle_version from public, anon, authenticated;
grant usage on sequence public.gp_auth_throttle_version to service_role;
revoke all on function public.gp_read_auth_throttle(jsonb) from public, anon, authenticated;
revoke all on function public.gp_write_auth_throttle(jsonb, bigint)
  from public, anon, authenticated;
grant execute on function public.gp_read_auth_throttle(jsonb) to service_role;
grant execute on function public.gp_write_auth_throttle(jsonb, bigint) to service_role;

-- Let PostgREST see the new functions at once.
notify pgrst, 'reload schema';
