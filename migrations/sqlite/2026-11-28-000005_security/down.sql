DROP TABLE password_resets;
DROP TABLE password_history;
DROP TABLE password_policies;
