-- The application's own database and role, beside Temporal's (docker-compose.yml).
CREATE ROLE priorauth LOGIN PASSWORD 'priorauth';
CREATE DATABASE priorauth OWNER priorauth;
