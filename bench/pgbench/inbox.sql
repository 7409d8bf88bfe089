-- A grid worker's inbox page, as services::tickets::list_work sends it: the directory's
-- generation (staff scopes, categories and names come from the in-memory directory), then the
-- page of open tickets newest first.
\set g random(1, :grids)
SELECT * FROM directory_version WHERE id = 1;
SELECT * FROM ticket
  WHERE (assignee_id = (SELECT assignee_id FROM pgbench_sample WHERE n = :g)
         OR grid_id IN (SELECT grid_id FROM pgbench_sample WHERE n = :g)
         OR handling_area_id IN (SELECT grid_id FROM pgbench_sample WHERE n = :g))
    AND status IN ('assigned', 'in_progress')
  ORDER BY created_at DESC, id DESC LIMIT 21;
