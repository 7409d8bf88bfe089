-- A grid worker's inbox page, as services::tickets::list_work sends it: the directory's
-- generation (staff scopes, categories and names come from the in-memory directory), then the
-- page of open tickets newest first. The worker and grid are bound as parameters (-M prepared),
-- as the server binds them.
\set g random(1, :grids)
SELECT grid_id, assignee_id FROM pgbench_sample WHERE n = :g \gset
SELECT * FROM directory_version WHERE id = 1;
SELECT * FROM ticket
  WHERE (assignee_id = :assignee_id OR grid_id IN (:grid_id) OR handling_area_id IN (:grid_id))
    AND status IN ('assigned', 'in_progress')
  ORDER BY created_at DESC, id DESC LIMIT 21;
