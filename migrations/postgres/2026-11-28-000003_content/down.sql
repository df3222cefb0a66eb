DROP TABLE model_stars;
DROP TABLE model_versions;
DROP TABLE jobs;
DROP TABLE model_concepts;
DROP TABLE ml_models;
DROP TABLE input_concepts;
DROP TABLE inputs;
DROP TABLE concepts;
