-- Gemini Proxy: the Postgres store behind `adapters/supabase/supabase_store.ts`.
--
-- Everything lives in `public` with a `gp_` prefix (so it sits beside a project's own tables),
-- row-level security is enabled on every table with no policy, and `anon` and `authenticated` get
-- no privilege at all: only `service_role` (which bypasses RLS) reaches the data, through the
-- `gp_*` functions below. Times are epoch milliseconds (`bigint`) chosen by the application's
-- clock, so every process and the tests agree on windows and expiry.
--
-- Records (keys, tokens, request logs) are kept whole as `jsonb`, with the fields that are
-- filtered or sorted on extracted into generated columns: a field the application adds later is
-- stored without a migration. Keys are only ever stored sealed (AES-GCM, `v1.<iv>.<data>`),
-- tokens only as SHA-256 hashes; check constraints refuse anything else.
--
-- Retention: `gp_prune()` deletes expired request logs, old aggregate buckets, old counter
-- windows, ended cooldowns and expired affinities. `gp_insert_logs` calls it at most once a
-- minute; with pg_cron you may also schedule it:
--   select cron.schedule('gemini-proxy-prune', '*/10 * * * *', 'select public.gp_prune(p_force => true)');

-- Counters that change whenever keys, tokens or settings change (`version`), whenever a cooldown
-- is set (`cooldown_version`), and the time of the last prune (`pruned_at`).
create table public.gp_meta (
  name text primary key,
  value bigint not null default 0
);
insert into public.gp_meta (name, value)
values ('version', 0), ('cooldown_version', 0), ('pruned_at', 0);

-- Gemini API keys, sealed by the application; `id` is derived from the key's hash.
create table public.gp_keys (
  id text primary key,
  record jsonb not null,
  enabled boolean generated always as ((record ->> 'enabled')::boolean) stored,
  created_at numeric generated always as ((record ->> 'createdAt')::numeric) stored,
  constraint gp_keys_record_id check (record ->> 'id' = id),
  constraint gp_keys_sealed_only check (
    record ->> 'sealed' ~ '^v[0-9]+\.' and not record ?| array['key', 'value', 'plain']
  )
);

-- Proxy tokens: the SHA-256 hash of the secret, never the secret.
create table public.gp_tokens (
  id text primary key,
  record jsonb not null,
  hash text generated always as (record ->> 'hash') stored,
  enabled boolean generated always as ((record ->> 'enabled')::boolean) stored,
  created_at numeric generated always as ((record ->> 'createdAt')::numeric) stored,
  constraint gp_tokens_record_id check (record ->> 'id' = id),
  constraint gp_tokens_hash_only check (not record ?| array['secret', 'token', 'value'])
);

-- Settings saved from the admin console: one flat JSON object.
create table public.gp_settings (
  id boolean primary key default true check (id),
  settings jsonb not null default '{}'::jsonb
);

-- A key (`k:<id>`) or project (`p:<name>`) resting for a model until `until_at`.
create table public.gp_cooldowns (
  scope text not null,
  model text not null,
  until_at bigint not null,
  reason text not null,
  primary key (scope, model)
);

-- Requests and tokens per key and model, per clock minute (`m<minute>`) and Pacific day
-- (`d<YYYY-MM-DD>`).
create table public.gp_key_usage (
  period text collate "C" not null,
  key_id text collate "C" not null,
  model text collate "C" not null,
  requests bigint not null default 0,
  tokens bigint not null default 0,
  primary key (period, key_id, model)
);

-- Last use and last error of each key, written in the background.
create table public.gp_key_states (
  key_id text primary key,
  last_used_at bigint,
  last_error jsonb
);

-- Requests and tokens per proxy token, per clock minute (`m...`), Pacific day (`d...`) and
-- Pacific month (`M<YYYY-MM>`); quotas are charged against these rows.
create table public.gp_token_usage (
  token_id text collate "C" not null,
  period text collate "C" not null,
  requests bigint not null default 0,
  tokens bigint not null default 0,
  primary key (token_id, period)
);
create index gp_token_usage_period_idx on public.gp_token_usage (period);

-- When each proxy token was last admitted (kept apart from `gp_tokens`: counting must not
-- change `version`).
create table public.gp_token_last_used (
  token_id text primary key,
  at bigint not null
);

-- Request logs. Ids sort by time; the filters of the admin console each have an index.
create table public.gp_logs (
  id text collate "C" primary key,
  record jsonb not null,
  expires_at bigint not null,
  started_at bigint generated always as (((record ->> 'time')::numeric)::bigint) stored,
  status integer generated always as ((record ->> 'status')::integer) stored,
  error_class text generated always as (record ->> 'errorClass') stored,
  model text generated always as (record ->> 'model') stored,
  key_id text generated always as (record ->> 'keyId') stored,
  token_id text generated always as (record ->> 'tokenId') stored,
  stream boolean generated always as ((record ->> 'stream')::boolean) stored
);
create index gp_logs_started_at_idx on public.gp_logs (started_at);
create index gp_logs_status_idx on public.gp_logs (status, id);
create index gp_logs_error_class_idx on public.gp_logs (error_class, id)
  where error_class is not null;
create index gp_logs_model_idx on public.gp_logs (model, id);
create index gp_logs_key_idx on public.gp_logs (key_id, id);
create index gp_logs_token_idx on public.gp_logs (token_id, id);
create index gp_logs_expires_at_idx on public.gp_logs (expires_at);

-- Counters per bucket (`m` minute, `h` hour, `d` day, UTC) and key x model x token.
create table public.gp_aggregates (
  granularity text collate "C" not null check (granularity in ('m', 'h', 'd')),
  bucket bigint not null,
  key_id text collate "C" not null,
  model text collate "C" not null,
  token_id text collate "C" not null,
  field text collate "C" not null,
  value double precision not null default 0,
  primary key (granularity, bucket, key_id, model, token_id, field)
);

-- Named process-independent counters (e.g. dropped logs).
create table public.gp_counters (
  name text primary key,
  value bigint not null default 0
);

-- Which key owns a resource (file, upload session, cache, batch) until `expires_at`.
create table public.gp_affinity (
  resource text primary key,
  key_id text not null,
  expires_at bigint not null
);
create index gp_affinity_expires_at_idx on public.gp_affinity (expires_at);

-- Version counter: any change to keys, tokens or settings, from the app or the dashboard,
-- makes every process reload its snapshot.
create function public.gp_bump_version() returns trigger
language plpgsql set search_path = '' as $$
begin
  update public.gp_meta set value = value + 1 where name = 'version';
  return null;
end
$$;

create trigger gp_keys_version after insert or update or delete on public.gp_keys
  for each row execute function public.gp_bump_version();
create trigger gp_keys_version_truncate after truncate on public.gp_keys
  for each statement execute function public.gp_bump_version();
create trigger gp_tokens_version after insert or update or delete on public.gp_tokens
  for each row execute function public.gp_bump_version();
create trigger gp_tokens_version_truncate after truncate on public.gp_tokens
  for each statement execute function public.gp_bump_version();
create trigger gp_settings_version after insert or update or delete on public.gp_settings
  for each row execute function public.gp_bump_version();

-- Keys

create function public.gp_list_keys() returns jsonb
language sql stable set search_path = '' as $$
  select coalesce(jsonb_agg(record order by created_at, id), '[]'::jsonb) from public.gp_keys;
$$;

create function public.gp_add_key(p_record jsonb) returns boolean
language plpgsql set search_path = '' as $$
begin
  insert into public.gp_keys (id, record) values (p_record ->> 'id', p_record)
  on conflict (id) do nothing;
  return found;
end
$$;

create function public.gp_update_key(p_record jsonb) returns boolean
language plpgsql set search_path = '' as $$
begin
  update public.gp_keys set record = p_record where id = p_record ->> 'id';
  return found;
end
$$;

-- Enables or disables a key in one statement, leaving its other fields as they are.
create function public.gp_set_key_enabled(
  p_id text,
  p_enabled boolean,
  p_reason text default null,
  p_at bigint default null
) returns jsonb
language sql set search_path = '' as $$
  update public.gp_keys
     set record = (record - 'disabledReason' - 'disabledAt') || case
       when p_enabled then '{"enabled": true}'::jsonb
       else jsonb_build_object(
         'enabled', false,
         'disabledReason', coalesce(p_reason, 'disabled'),
         'disabledAt', coalesce(p_at, (extract(epoch from clock_timestamp()) * 1000)::bigint)
       )
     end
   where id = p_id
  returning record;
$$;

create function public.gp_delete_key(p_id text) returns boolean
language plpgsql set search_path = '' as $$
begin
  delete from public.gp_keys where id = p_id;
  return found;
end
$$;

-- Tokens

-- Tokens with `lastUsedAt` merged in from the counters (the later time wins).
create function public.gp_list_tokens() returns jsonb
language sql stable set search_path = '' as $$
  select coalesce(jsonb_agg(
    case
      when greatest(coalesce((t.record ->> 'lastUsedAt')::numeric, 0), coalesce(l.at, 0)) > 0
      then t.record || jsonb_build_object(
        'lastUsedAt',
        greatest(coalesce((t.record ->> 'lastUsedAt')::numeric, 0), coalesce(l.at, 0))
      )
      else t.record
    end
    order by t.created_at, t.id
  ), '[]'::jsonb)
  from public.gp_tokens t
  left join public.gp_token_last_used l on l.token_id = t.id;
$$;

create function public.gp_add_token(p_record jsonb) returns boolean
language plpgsql set search_path = '' as $$
begin
  insert into public.gp_tokens (id, record) values (p_record ->> 'id', p_record)
  on conflict (id) do nothing;
  return found;
end
$$;

create function public.gp_update_token(p_record jsonb) returns boolean
language plpgsql set search_path = '' as $$
begin
  update public.gp_tokens set record = p_record where id = p_record ->> 'id';
  return found;
end
$$;

create function public.gp_delete_token(p_id text) returns boolean
language plpgsql set search_path = '' as $$
begin
  delete from public.gp_tokens where id = p_id;
  return found;
end
$$;

-- Versions

create function public.gp_version() returns text
language sql stable set search_path = '' as $$
  select value::text from public.gp_meta where name = 'version';
$$;

create function public.gp_cooldown_version() returns text
language sql stable set search_path = '' as $$
  select value::text from public.gp_meta where name = 'cooldown_version';
$$;

-- Cooldowns

-- Stores a cooldown unless a later one is already running; bumps `cooldown_version` when it
-- changed anything. Returns whether it did.
create function public.gp_set_cooldown(
  p_scope text,
  p_model text,
  p_until bigint,
  p_reason text,
  p_now bigint
) returns boolean
language plpgsql set search_path = '' as $$
begin
  insert into public.gp_cooldowns as c (scope, model, until_at, reason)
  values (p_scope, p_model, p_until, p_reason)
  on conflict (scope, model) do update
    set until_at = excluded.until_at, reason = excluded.reason
    where c.until_at < excluded.until_at or c.until_at <= p_now;
  if not found then
    return false;
  end if;
  update public.gp_meta set value = value + 1 where name = 'cooldown_version';
  return true;
end
$$;

create function public.gp_list_cooldowns(p_now bigint) returns jsonb
language sql stable set search_path = '' as $$
  select coalesce(jsonb_agg(jsonb_build_object(
    'scope', scope, 'model', model, 'until', until_at, 'reason', reason
  ) order by scope, model), '[]'::jsonb)
  from public.gp_cooldowns
  where until_at > p_now;
$$;

-- Key usage counters

-- Adds `[{period, keyId, model, requests, tokens}]`, summed per row first; rows are locked in
-- key order so concurrent batches never deadlock.
create function public.gp_add_key_usage(p_rows jsonb) returns void
language sql set search_path = '' as $$
  insert into public.gp_key_usage as u (period, key_id, model, requests, tokens)
  select r.period, r."keyId", r.model, sum(r.requests), sum(r.tokens)
    from jsonb_to_recordset(p_rows) as r(
      period text, "keyId" text, model text, requests bigint, tokens bigint
    )
   group by 1, 2, 3
  having sum(r.requests) <> 0 or sum(r.tokens) <> 0
   order by 1, 2, 3
  on conflict (period, key_id, model) do update
    set requests = u.requests + excluded.requests, tokens = u.tokens + excluded.tokens;
$$;

create function public.gp_read_key_usage(p_minute text, p_day text) returns jsonb
language sql stable set search_path = '' as $$
  select coalesce(jsonb_agg(jsonb_build_object(
    'keyId', key_id,
    'model', model,
    'minute', minute,
    'day', day,
    'minuteTokens', minute_tokens,
    'dayTokens', day_tokens
  ) order by key_id, model), '[]'::jsonb)
  from (
    select key_id, model,
           coalesce(sum(requests) filter (where period = p_minute), 0) as minute,
           coalesce(sum(requests) filter (where period = p_day), 0) as day,
           coalesce(sum(tokens) filter (where period = p_minute), 0) as minute_tokens,
           coalesce(sum(tokens) filter (where period = p_day), 0) as day_tokens
      from public.gp_key_usage
     where period in (p_minute, p_day)
     group by key_id, model
  ) t;
$$;

-- Key states

-- Merges `[{keyId, lastUsedAt?, lastError?}]`: a field given replaces the stored one, a field
-- left out keeps it. One entry per key (the adapter merges duplicates first).
create function public.gp_put_key_states(p_states jsonb) returns void
language sql set search_path = '' as $$
  insert into public.gp_key_states as s (key_id, last_used_at, last_error)
  select r."keyId", r."lastUsedAt", r."lastError"
    from jsonb_to_recordset(p_states) as r("keyId" text, "lastUsedAt" bigint, "lastError" jsonb)
   order by 1
  on conflict (key_id) do update
    set last_used_at = coalesce(excluded.last_used_at, s.last_used_at),
        last_error = coalesce(excluded.last_error, s.last_error);
$$;

create function public.gp_list_key_states() returns jsonb
language sql stable set search_path = '' as $$
  select coalesce(jsonb_agg(
    jsonb_build_object('keyId', key_id)
      || case when last_used_at is null then '{}'::jsonb
         else jsonb_build_object('lastUsedAt', last_used_at) end
      || case when last_error is null then '{}'::jsonb
         else jsonb_build_object('lastError', last_error) end
    order by key_id
  ), '[]'::jsonb)
  from public.gp_key_states;
$$;

-- Retention

-- Deletes what has passed its retention: expired logs (in slices of 10 000), aggregate buckets
-- (minutes after 2 days, hours after 40, days after 400), counter windows (minutes after 10
-- minutes, days after 40 days, months after 400 days), cooldowns ended a day ago and expired
-- affinities. Unless forced, runs at most once a minute and never waits for another prune.
create function public.gp_prune(
  p_now bigint default (extract(epoch from clock_timestamp()) * 1000)::bigint,
  p_force boolean default false
) returns jsonb
language plpgsql set search_path = '' as $$
declare
  last_prune bigint;
  logs integer;
  aggregates integer;
  counters integer;
  pacific_day_bound text := 'd' || to_char(
    to_timestamp((p_now - 40::bigint * 86400000) / 1000.0) at time zone 'America/Los_Angeles',
    'YYYY-MM-DD'
  );
  pacific_month_bound text := 'M' || to_char(
    to_timestamp((p_now - 400::bigint * 86400000) / 1000.0) at time zone 'America/Los_Angeles',
    'YYYY-MM'
  );
  minute_bound text := 'm' || ((p_now - 600000) / 60000)::text;
begin
  if not p_force then
    if not pg_try_advisory_xact_lock(hashtext('gemini-proxy:prune')) then
      return null;
    end if;
    select value into last_prune from public.gp_meta where name = 'pruned_at';
    if last_prune > p_now - 60000 then
      return null;
    end if;
    update public.gp_meta set value = p_now where name = 'pruned_at';
  end if;

  delete from public.gp_logs
   where id in (
     select id from public.gp_logs where expires_at <= p_now order by expires_at limit 10000
   );
  get diagnostics logs = row_count;

  delete from public.gp_aggregates
   where (granularity = 'm' and bucket < p_now - 2::bigint * 86400000)
      or (granularity = 'h' and bucket < p_now - 40::bigint * 86400000)
      or (granularity = 'd' and bucket < p_now - 400::bigint * 86400000);
  get diagnostics aggregates = row_count;

  delete from public.gp_token_usage
   where (period like 'm%' and period < minute_bound)
      or (period like 'd%' and period < pacific_day_bound)
      or (period like 'M%' and period < pacific_month_bound);
  get diagnostics counters = row_count;
  delete from public.gp_key_usage
   where (period like 'm%' and period < minute_bound)
      or (period like 'd%' and period < pacific_day_bound);

  delete from public.gp_cooldowns where until_at < p_now - 86400000;
  delete from public.gp_affinity where expires_at <= p_now;

  return jsonb_build_object('logs', logs, 'aggregates', aggregates, 'tokenCounters', counters);
end
$$;

-- Request logs and aggregates

-- Stores a batch of log records (ids already stored are skipped, so a retried batch does not
-- duplicate them) and adds `[{granularity, bucket, keyId, model, tokenId, field, value}]` to the
-- aggregates, all in one transaction; then prunes when a minute has passed since the last prune.
create function public.gp_insert_logs(
  p_logs jsonb,
  p_deltas jsonb,
  p_expires_at bigint,
  p_now bigint
) returns void
language plpgsql set search_path = '' as $$
begin
  insert into public.gp_logs (id, record, expires_at)
  select r ->> 'id', r, p_expires_at from jsonb_array_elements(p_logs) as r
  on conflict (id) do nothing;

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

  perform public.gp_prune(p_now);
end
$$;

-- Logs matching a filter (`from`, `to`, `status` such as `429` or `4xx`, `errorClass`, `model`,
-- `keyId`, `tokenId`, `stream`, `idPrefix`), newest first, older than `p_cursor` when given.
-- Returns up to `p_limit` records; the adapter asks for one more to know whether a page follows.
create function public.gp_list_logs(
  p_filter jsonb,
  p_limit integer,
  p_cursor text,
  p_now bigint
) returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  query text := 'select id, record from public.gp_logs where expires_at > $1';
  status text := p_filter ->> 'status';
  result jsonb;
begin
  if p_cursor is not null then
    query := query || ' and id < $2';
  end if;
  if jsonb_typeof(p_filter -> 'from') = 'number' then
    query := query || ' and started_at >= ceil(($3 ->> ''from'')::numeric)::bigint';
  end if;
  if jsonb_typeof(p_filter -> 'to') = 'number' then
    query := query || ' and started_at < ceil(($3 ->> ''to'')::numeric)::bigint';
  end if;
  if coalesce(status, '') <> '' then
    if status ~* '^[0-9]xx$' then
      query := query || format(
        ' and status >= %s and status < %s',
        left(status, 1)::integer * 100,
        left(status, 1)::integer * 100 + 100
      );
    elsif status ~ '^[0-9]{1,9}$' then
      query := query || ' and status = ($3 ->> ''status'')::integer';
    else
      return '[]'::jsonb;
    end if;
  end if;
  if coalesce(p_filter ->> 'errorClass', '') <> '' then
    query := query || ' and error_class = $3 ->> ''errorClass''';
  end if;
  if coalesce(p_filter ->> 'model', '') <> '' then
    query := query || ' and model = $3 ->> ''model''';
  end if;
  if coalesce(p_filter ->> 'keyId', '') <> '' then
    query := query || ' and key_id = $3 ->> ''keyId''';
  end if;
  if coalesce(p_filter ->> 'tokenId', '') <> '' then
    query := query || ' and token_id = $3 ->> ''tokenId''';
  end if;
  if jsonb_typeof(p_filter -> 'stream') = 'boolean' then
    query := query || ' and stream = ($3 ->> ''stream'')::boolean';
  end if;
  if coalesce(p_filter ->> 'idPrefix', '') <> '' then
    query := query || ' and id >= ($3 ->> ''idPrefix'') and id < ($3 ->> ''idPrefix'') || chr(1114111)';
  end if;
  query := query || ' order by id desc limit $4';
  execute format(
    'select coalesce(jsonb_agg(t.record order by t.id desc), ''[]''::jsonb) from (%s) t',
    query
  ) into result using p_now, p_cursor, p_filter, p_limit;
  return result;
end
$$;

create function public.gp_get_log(p_id text, p_now bigint) returns jsonb
language sql stable set search_path = '' as $$
  select record from public.gp_logs where id = p_id and expires_at > p_now;
$$;

-- Stats series: the aggregate rows of one granularity with `p_from <= bucket < p_to`, with their
-- counters gathered into `fields`.
create function public.gp_read_aggregates(p_granularity text, p_from bigint, p_to bigint)
returns jsonb
language sql stable set search_path = '' as $$
  select coalesce(jsonb_agg(jsonb_build_object(
    'bucket', bucket, 'keyId', key_id, 'model', model, 'tokenId', token_id, 'fields', fields
  ) order by bucket, key_id, model, token_id), '[]'::jsonb)
  from (
    select bucket, key_id, model, token_id, jsonb_object_agg(field, value) as fields
      from public.gp_aggregates
     where granularity = p_granularity and bucket >= p_from and bucket < p_to
     group by bucket, key_id, model, token_id
  ) t;
$$;

create function public.gp_add_counter(p_name text, p_value bigint) returns void
language sql set search_path = '' as $$
  insert into public.gp_counters as c (name, value) values (p_name, p_value)
  on conflict (name) do update set value = c.value + excluded.value;
$$;

create function public.gp_read_counter(p_name text) returns bigint
language sql stable set search_path = '' as $$
  select coalesce((select value from public.gp_counters where name = p_name), 0);
$$;

-- Token quotas

-- Admits one request for a token if its limits allow it, exactly under any concurrency: the
-- token's counter rows are locked (in one order, so charges never deadlock) before they are
-- read, so a concurrent charge waits and then sees this one's count. Refuses when the day's
-- tokens reached `p_tpd`, the day's requests `p_rpd`, or the minute's requests `p_rpm` (null:
-- no such limit). Returns `{ok, minuteRequests, dayRequests, dayTokens}` with the counts before
-- this request, from which the adapter tells which limit refused and until when.
create function public.gp_charge_token(
  p_token_id text,
  p_minute text,
  p_day text,
  p_month text,
  p_at bigint,
  p_rpm bigint default null,
  p_rpd bigint default null,
  p_tpd bigint default null
) returns jsonb
language plpgsql set search_path = '' as $$
declare
  minute_requests bigint := 0;
  day_requests bigint := 0;
  day_tokens bigint := 0;
  admitted boolean;
  r record;
begin
  insert into public.gp_token_usage (token_id, period)
  select p_token_id, p from unnest(array[p_minute, p_day, p_month]) as p order by p collate "C"
  on conflict (token_id, period) do nothing;

  for r in
    select period, requests, tokens from public.gp_token_usage
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
  end loop;

  admitted := not (
    (p_tpd is not null and day_tokens >= p_tpd)
    or (p_rpd is not null and day_requests >= p_rpd)
    or (p_rpm is not null and minute_requests >= p_rpm)
  );
  if admitted then
    update public.gp_token_usage set requests = requests + 1
     where token_id = p_token_id and period in (p_minute, p_day, p_month);
    insert into public.gp_token_last_used as l (token_id, at) values (p_token_id, p_at)
    on conflict (token_id) do update set at = greatest(l.at, excluded.at);
  end if;
  return jsonb_build_object(
    'ok', admitted,
    'minuteRequests', minute_requests,
    'dayRequests', day_requests,
    'dayTokens', day_tokens
  );
end
$$;

-- Adds `[{tokenId, period, requests, tokens}]` to tokens' counters and advances last use to
-- `[{tokenId, at}]`, locking rows in the same order as `gp_charge_token`.
create function public.gp_add_token_usage(p_rows jsonb, p_seen jsonb) returns void
language sql set search_path = '' as $$
  insert into public.gp_token_usage as u (token_id, period, requests, tokens)
  select r."tokenId", r.period, sum(r.requests), sum(r.tokens)
    from jsonb_to_recordset(p_rows) as r("tokenId" text, period text, requests bigint, tokens bigint)
   group by 1, 2
  having sum(r.requests) <> 0 or sum(r.tokens) <> 0
   order by 1, 2
  on conflict (token_id, period) do update
    set requests = u.requests + excluded.requests, tokens = u.tokens + excluded.tokens;

  insert into public.gp_token_last_used as l (token_id, at)
  select s."tokenId", max(s.at)
    from jsonb_to_recordset(p_seen) as s("tokenId" text, at bigint)
   group by 1
   order by 1
  on conflict (token_id) do update set at = greatest(l.at, excluded.at);
$$;

create function public.gp_read_token_usage(
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
    'monthTokens', coalesce(sum(tokens) filter (where period = p_month), 0)
  )
  from public.gp_token_usage
  where token_id = p_token_id and period in (p_minute, p_day, p_month);
$$;

-- Settings

create function public.gp_get_settings() returns jsonb
language sql stable set search_path = '' as $$
  select coalesce((select settings from public.gp_settings where id), '{}'::jsonb);
$$;

create function public.gp_put_settings(p_settings jsonb) returns void
language sql set search_path = '' as $$
  insert into public.gp_settings (id, settings) values (true, p_settings)
  on conflict (id) do update set settings = excluded.settings;
$$;

-- Resource affinity

create function public.gp_put_affinity(p_resource text, p_key_id text, p_expires_at bigint)
returns void
language sql set search_path = '' as $$
  insert into public.gp_affinity (resource, key_id, expires_at)
  values (p_resource, p_key_id, p_expires_at)
  on conflict (resource) do update
    set key_id = excluded.key_id, expires_at = excluded.expires_at;
$$;

create function public.gp_get_affinity(p_resource text, p_now bigint) returns text
language sql stable set search_path = '' as $$
  select key_id from public.gp_affinity where resource = p_resource and expires_at > p_now;
$$;

-- Access: row-level security on every table with no policy, and no privilege for `anon` or
-- `authenticated` (Supabase grants them everything in `public` by default); `service_role`
-- alone may use the tables and call the functions.
do $$
declare
  item record;
begin
  for item in
    select c.oid::regclass as name
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind = 'r' and c.relname like 'gp\_%'
  loop
    execute format('alter table %s enable row level security', item.name);
    execute format('revoke all on table %s from public, anon, authenticated', item.name);
    execute format('grant select, insert, update, delete on table %s to service_role', item.name);
  end loop;
  for item in
    select p.oid::regprocedure as name
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname = 'public' and p.proname like 'gp\_%'
  loop
    execute format('revoke all on function %s from public, anon, authenticated', item.name);
    execute format('grant execute on function %s to service_role', item.name);
  end loop;
end
$$;

-- Let PostgREST see the new functions at once.
notify pgrst, 'reload schema';
