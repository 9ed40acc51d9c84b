-- Rollcall schema, version 2: admin settings (the admin PIN's hash, …).

CREATE TABLE admin_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
