-- One ticket with its timeline, as services::tickets::get sends it once the timeline is in the
-- server's memory (services::timelines): the directory's generation and the ticket row, whose
-- version says whether the timeline kept is current. timeline_cold.sql is the first read.
\set g random(1, :grids)
SELECT ticket_id FROM pgbench_sample WHERE n = :g \gset
SELECT * FROM directory_version WHERE id = 1;
SELECT * FROM ticket WHERE id = :ticket_id;
