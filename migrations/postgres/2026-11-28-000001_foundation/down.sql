DROP TABLE signin_throttle;
DROP TABLE api_keys;
DROP TABLE app_pins;
DROP TABLE apps;
DROP TABLE memberships;
DROP TABLE orgs;
DROP TABLE users;
DROP TABLE accounts;
