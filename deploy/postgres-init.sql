-- Run once by the postgres image when its data volume is new: one database for Hindsight's
-- memory banks and one for the bots' local index, digest runs and scheduler jobs
-- (SALESMEMORY_DB_URL), each with its own owner. Passwords come from the container's
-- environment (compose.yaml).
\set hindsight_password `echo "$HINDSIGHT_DB_PASSWORD"`
\set salesmemory_password `echo "$SALESMEMORY_DB_PASSWORD"`
CREATE ROLE hindsight LOGIN PASSWORD :'hindsight_password';
CREATE DATABASE hindsight OWNER hindsight;
CREATE ROLE salesmemory LOGIN PASSWORD :'salesmemory_password';
CREATE DATABASE salesmemory OWNER salesmemory;
-- The extensions Hindsight's migrations ask for, made here by the superuser (pgvector is not
-- a trusted extension); its migrations skip what exists.
\connect hindsight
CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;
