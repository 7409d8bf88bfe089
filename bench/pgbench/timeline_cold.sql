-- One ticket with its timeline read from the database, as services::tickets::get sends it when
-- the timeline is not in the server's memory (a ticket not read since it last changed): the
-- directory's generation (staff scope, category and assignee name come from the in-memory
-- directory), the ticket, its events, ratings and photos.
\set g random(1, :grids)
SELECT ticket_id FROM pgbench_sample WHERE n = :g \gset
SELECT * FROM directory_version WHERE id = 1;
SELECT * FROM ticket WHERE id = :ticket_id;
SELECT * FROM ticket_event WHERE ticket_id = :ticket_id ORDER BY seq;
SELECT * FROM rating WHERE ticket_id = :ticket_id ORDER BY round;
SELECT * FROM attachment WHERE ticket_id = :ticket_id;
