-- What one submission asks of PostgreSQL (services::tickets::submit and rollups): the day's
-- number in its own transaction; then the directory's generation, the resident, the routed
-- worker's open load, the ticket row, its submit and route events and the two rollup increments
-- in one transaction; then the nearby open tickets of the same category that the duplicate check reads.
\set g random(1, :grids)
INSERT INTO ticket_number_seq (day, last) VALUES ('29991231', 1)
  ON CONFLICT (day) DO UPDATE SET last = ticket_number_seq.last + 1 RETURNING last;
BEGIN;
SELECT * FROM directory_version WHERE id = 1;
SELECT * FROM resident WHERE id = (SELECT resident_id FROM ticket WHERE id = (SELECT ticket_id FROM pgbench_sample WHERE n = :g));
SELECT count(*) FROM ticket WHERE assignee_id = (SELECT assignee_id FROM pgbench_sample WHERE n = :g) AND status IN ('assigned', 'in_progress');
WITH src AS (SELECT * FROM ticket WHERE id = (SELECT ticket_id FROM pgbench_sample WHERE n = :g)),
  t AS (
    INSERT INTO ticket (id, number, kind, category_id, description, lat, lng, coord_system, grid_id,
      handling_area_id, assignee_id, status, priority, anonymous, channel, resident_id,
      response_due_at, resolution_due_at, next_response_check_at, submitted_at, reopen_count,
      return_visit_required, event_count, version, resolution_overdue, public, support_count,
      created_at, updated_at)
    SELECT gen_random_uuid(), 'PB-' || substr(md5(random()::text), 1, 24), 'complaint', category_id,
      '楼下夜里施工，噪音很大，影响休息', lat, lng, 'wgs84', grid_id, handling_area_id, assignee_id,
      'assigned', 'normal', false, 'miniprogram', resident_id, now() + interval '2 hours',
      now() + interval '3 days', now() + interval '2 hours', now(), 0, false, 2, 1, false, false, 0,
      now(), now()
    FROM src RETURNING id)
INSERT INTO ticket_event (id, ticket_id, seq, actor_kind, action, from_status, to_status, visibility, created_at)
  SELECT gen_random_uuid(), t.id, v.seq, v.actor, v.action, v.from_status, v.to_status, 'public', now()
  FROM t, (VALUES (1, 'resident', 'submit', NULL, 'submitted'),
                  (2, 'system', 'route', 'submitted', 'assigned')) v(seq, actor, action, from_status, to_status);
INSERT INTO stat_day (day, place_id, received, response_due, response_secs, resolution_secs)
  SELECT current_date + 3650, grid_id, 1, 1, '', '' FROM pgbench_sample WHERE n = :g
  ON CONFLICT (day, place_id) DO UPDATE SET received = stat_day.received + excluded.received,
    response_due = stat_day.response_due + excluded.response_due;
COMMIT;
SELECT * FROM ticket WHERE category_id = (SELECT category_id FROM ticket WHERE id = (SELECT ticket_id FROM pgbench_sample WHERE n = :g))
  AND status IN ('submitted', 'pending_dispatch', 'assigned', 'in_progress')
  AND submitted_at >= now() - interval '14 days'
  AND lat BETWEEN 39.90 AND 39.95 AND lng BETWEEN 116.38 AND 116.45
  ORDER BY submitted_at DESC LIMIT 100;
