-- Sample rows pgbench scripts draw from: per grid, a recent ticket, its grid and its worker.
DROP TABLE IF EXISTS pgbench_sample;
CREATE TABLE pgbench_sample AS
  SELECT row_number() OVER (ORDER BY grid_id)::int AS n, id AS ticket_id, grid_id, assignee_id
  FROM (SELECT DISTINCT ON (grid_id) id, grid_id, assignee_id FROM ticket
        WHERE grid_id IS NOT NULL AND number NOT LIKE 'PB-%' ORDER BY grid_id, submitted_at DESC) s;
ALTER TABLE pgbench_sample ADD PRIMARY KEY (n);
