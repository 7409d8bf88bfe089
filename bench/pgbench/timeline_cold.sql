-- One ticket with its timeline read from the database, as a ticket page sends it when the
-- timeline is not in the server's memory (a ticket not read since it last changed): the ticket
-- with the directory's generation beside it (staff scope, category and assignee name come from
-- the in-memory directory), its events, ratings and photos.
\set g random(1, :grids)
SELECT ticket_id FROM pgbench_sample WHERE n = :g \gset
SELECT ticket.*, COALESCE((SELECT generation FROM directory_version WHERE id = 1), 0)
  AS directory_generation
  FROM ticket WHERE id = :ticket_id;
SELECT * FROM ticket_event WHERE ticket_id = :ticket_id ORDER BY seq;
SELECT * FROM rating WHERE ticket_id = :ticket_id ORDER BY round;
SELECT * FROM attachment WHERE ticket_id = :ticket_id;
