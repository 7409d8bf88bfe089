-- One ticket with its timeline, as services::tickets::get sends it: the caller's staff row and
-- assignments, the ticket, its category, the assignee's name, events, ratings and photos.
\set g random(1, :grids)
SELECT * FROM staff WHERE id = (SELECT assignee_id FROM pgbench_sample WHERE n = :g);
SELECT * FROM staff_assignment WHERE staff_id = (SELECT assignee_id FROM pgbench_sample WHERE n = :g);
SELECT * FROM ticket WHERE id = (SELECT ticket_id FROM pgbench_sample WHERE n = :g);
SELECT * FROM category WHERE id = (SELECT category_id FROM ticket WHERE id = (SELECT ticket_id FROM pgbench_sample WHERE n = :g));
SELECT id, name FROM staff WHERE id = (SELECT assignee_id FROM pgbench_sample WHERE n = :g);
SELECT * FROM ticket_event WHERE ticket_id = (SELECT ticket_id FROM pgbench_sample WHERE n = :g) ORDER BY seq;
SELECT * FROM rating WHERE ticket_id = (SELECT ticket_id FROM pgbench_sample WHERE n = :g) ORDER BY round;
SELECT * FROM attachment WHERE ticket_id = (SELECT ticket_id FROM pgbench_sample WHERE n = :g);
