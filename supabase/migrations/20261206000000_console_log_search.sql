-- Log search for the admin console: the model filter matches any part of the model id, and a
-- free-text search looks in the request path and the user agent (both case-insensitive).
-- `create or replace` keeps the function's owner and grants (service_role only).
create or replace function public.gp_list_logs(
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
  -- strpos rather than LIKE: the client's text is never a pattern (no % or _ wildcards).
  if coalesce(p_filter ->> 'model', '') <> '' then
    query := query || ' and strpos(lower(model), lower($3 ->> ''model'')) > 0';
  end if;
  if coalesce(p_filter ->> 'search', '') <> '' then
    query := query || ' and (strpos(lower(record ->> ''path''), lower($3 ->> ''search'')) > 0'
      || ' or strpos(lower(coalesce(record ->> ''userAgent'', '''')), lower($3 ->> ''search'')) > 0)';
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
