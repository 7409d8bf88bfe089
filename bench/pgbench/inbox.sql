-- A grid worker's inbox page as the server answers it once the page is in its memory
-- (services::work_lists): the directory's generation and the sum of the change stamps of the
-- worker and their grid, which say whether the page kept is current. inbox_cold.sql is the
-- first read.
\set g random(1, :grids)
SELECT grid_id, assignee_id FROM pgbench_sample WHERE n = :g \gset
SELECT COALESCE((SELECT generation FROM directory_version WHERE id = 1), 0) AS generation,
  (SELECT CAST(COALESCE(SUM(stamp), 0) AS BIGINT) FROM scope_stamp
    WHERE holder_id IN (:assignee_id, :grid_id)) AS changes;
