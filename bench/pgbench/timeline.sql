-- One ticket with its timeline, as a ticket page (services::tickets::read_for_page) reads it once
-- the timeline is in the server's memory (services::timelines): the ticket row, whose version
-- says whether the timeline kept is current, with the directory's generation beside it.
-- timeline_cold.sql is the first read.
\set g random(1, :grids)
SELECT ticket_id FROM pgbench_sample WHERE n = :g \gset
SELECT ticket.*, COALESCE((SELECT generation FROM directory_version WHERE id = 1), 0)
  AS directory_generation
  FROM ticket WHERE id = :ticket_id;
