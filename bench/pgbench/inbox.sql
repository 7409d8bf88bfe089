-- A grid worker's inbox page, as services::tickets::list_work sends it: the caller's staff row
-- and assignments (authentication and scope), the page of open tickets newest first, the
-- categories and assignee names on it.
\set g random(1, :grids)
SELECT * FROM staff WHERE id = (SELECT assignee_id FROM pgbench_sample WHERE n = :g);
SELECT * FROM staff_assignment WHERE staff_id = (SELECT assignee_id FROM pgbench_sample WHERE n = :g);
SELECT * FROM ticket
  WHERE (assignee_id = (SELECT assignee_id FROM pgbench_sample WHERE n = :g)
         OR grid_id IN (SELECT grid_id FROM pgbench_sample WHERE n = :g)
         OR handling_area_id IN (SELECT grid_id FROM pgbench_sample WHERE n = :g))
    AND status IN ('assigned', 'in_progress')
  ORDER BY created_at DESC, id DESC LIMIT 21;
SELECT * FROM category;
SELECT id, name FROM staff WHERE id = (SELECT assignee_id FROM pgbench_sample WHERE n = :g);
