DROP TABLE team_apps;
DROP TABLE team_members;
DROP TABLE teams;
ALTER TABLE apps DROP COLUMN labels;
