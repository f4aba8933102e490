CREATE TYPE mood AS ENUM ('a');
ALTER TYPE mood ADD VALUE 'b';
CREATE TABLE moods (m mood DEFAULT 'b');
