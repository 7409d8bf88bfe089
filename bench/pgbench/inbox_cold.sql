-- A grid worker's inbox page read from the database, as services::listing::list_work_of sends
-- it the first time (or after a change in the worker's scope): the directory's generation
-- with the change stamps of the worker and their grid (inbox.sql), then the page merged from
-- the scope's index ranges (own tickets, the grid's, the grid as handling area; each status), a
-- page from each. The worker and grid are bound as parameters (-M prepared), as the server
-- binds them.
\set g random(1, :grids)
SELECT grid_id, assignee_id FROM pgbench_sample WHERE n = :g \gset
SELECT COALESCE((SELECT generation FROM directory_version WHERE id = 1), 0) AS generation,
  (SELECT CAST(COALESCE(SUM(stamp), 0) AS BIGINT) FROM scope_stamp
    WHERE holder_id IN (:assignee_id, :grid_id)) AS changes;
SELECT * FROM ticket WHERE id IN (
    SELECT id FROM (SELECT id FROM ticket WHERE assignee_id = :assignee_id AND status = 'assigned'
                    ORDER BY created_at DESC, id DESC LIMIT 21) r0
    UNION
    SELECT id FROM (SELECT id FROM ticket WHERE assignee_id = :assignee_id AND status = 'in_progress'
                    ORDER BY created_at DESC, id DESC LIMIT 21) r1
    UNION
    SELECT id FROM (SELECT id FROM ticket WHERE grid_id = :grid_id AND status = 'assigned'
                    ORDER BY created_at DESC, id DESC LIMIT 21) r2
    UNION
    SELECT id FROM (SELECT id FROM ticket WHERE grid_id = :grid_id AND status = 'in_progress'
                    ORDER BY created_at DESC, id DESC LIMIT 21) r3
    UNION
    SELECT id FROM (SELECT id FROM ticket WHERE handling_area_id = :grid_id AND status = 'assigned'
                    ORDER BY created_at DESC, id DESC LIMIT 21) r4
    UNION
    SELECT id FROM (SELECT id FROM ticket WHERE handling_area_id = :grid_id AND status = 'in_progress'
                    ORDER BY created_at DESC, id DESC LIMIT 21) r5)
  ORDER BY created_at DESC, id DESC LIMIT 21;
