-- The role the broker and the notifier connect as (deploy/docker-compose.yml). `cdo-broker
-- migrate` runs as the owner and grants it every table but no UPDATE or DELETE of audit rows.
-- Runs once, when the postgres volume is first initialised.
CREATE ROLE cdo_app LOGIN PASSWORD 'cdo_app';
