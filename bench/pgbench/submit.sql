-- What one submission asks of PostgreSQL (see services::tickets::create_in and rollups):
-- the number sequence, the ticket row, its submit and route events, the assignee's
-- notification in the outbox and the day's rollup row recomputed under its lock.
\set g random(1, :grids)
BEGIN;
INSERT INTO ticket_number_seq (day, last) VALUES ('29991231', 1)
  ON CONFLICT (day) DO UPDATE SET last = ticket_number_seq.last + 1 RETURNING last;
INSERT INTO ticket (id, number, kind, category_id, description, lat, lng, coord_system, grid_id,
  handling_area_id, assignee_id, status, priority, anonymous, channel, resident_id,
  response_due_at, resolution_due_at, next_response_check_at, submitted_at, reopen_count,
  return_visit_required, event_count, version, resolution_overdue, public, support_count,
  created_at, updated_at)
  SELECT gen_random_uuid(), 'PB-' || substr(md5(random()::text), 1, 24), 'complaint', category_id, '楼下夜里施工，噪音很大，影响休息',
    lat, lng, 'wgs84', grid_id, handling_area_id, assignee_id, 'assigned', 'normal', false,
    'miniprogram', resident_id, now() + interval '2 hours', now() + interval '3 days',
    now() + interval '2 hours', now(), 0, false, 2, 1, false, false, 0, now(), now()
  FROM ticket WHERE id = (SELECT ticket_id FROM pgbench_sample WHERE n = :g);
INSERT INTO ticket_event (id, ticket_id, seq, actor_kind, action, to_status, visibility, created_at)
  SELECT gen_random_uuid(), id, 1, 'resident', 'submit', 'submitted', 'public', now()
  FROM ticket WHERE id = (SELECT ticket_id FROM pgbench_sample WHERE n = :g);
INSERT INTO ticket_event (id, ticket_id, seq, actor_kind, action, from_status, to_status, note, visibility, created_at)
  SELECT gen_random_uuid(), id, 2, 'system', 'route', 'submitted', 'assigned', '按网格分派', 'public', now()
  FROM ticket WHERE id = (SELECT ticket_id FROM pgbench_sample WHERE n = :g);
INSERT INTO stat_day (day, place_id, response_secs, resolution_secs)
  SELECT current_date + 3650, grid_id, '', '' FROM ticket WHERE id = (SELECT ticket_id FROM pgbench_sample WHERE n = :g)
  ON CONFLICT (day, place_id) DO UPDATE SET received = stat_day.received;
SELECT status, submitted_at, accepted_at, resolved_at, reopen_count FROM ticket
  WHERE grid_id = (SELECT grid_id FROM ticket WHERE id = (SELECT ticket_id FROM pgbench_sample WHERE n = :g))
  AND submitted_at >= date_trunc('day', now()) AND submitted_at < date_trunc('day', now()) + interval '1 day';
UPDATE stat_day SET received = received + 1
  WHERE day = current_date + 3650 AND place_id = (SELECT grid_id FROM ticket WHERE id = (SELECT ticket_id FROM pgbench_sample WHERE n = :g));
COMMIT;
