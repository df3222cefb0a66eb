//! Typed configuration, read once at start from the environment (`ATRIUM_*`,
//! `DATABASE_URL`) over an optional TOML file, and kept in the app state.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Everything the server needs to know about its surroundings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address the server listens on.
    pub bind: String,
    /// Folder for the SQLite file, the mail outbox and the session key.
    pub data_dir: PathBuf,
    /// `sqlite:<path>` or `postgres://...`.
    pub database_url: String,
    /// When set, sessions live in Redis instead of the encrypted cookie.
    pub redis_url: Option<String>,
    /// When set, mail goes through this SMTP server (`smtp://host:port`), otherwise to the outbox.
    pub smtp_url: Option<String>,
    /// Sender address of outgoing mail.
    pub mail_from: String,
    /// Absolute URL users reach the portal at (used in e-mailed links and SAML metadata).
    pub public_url: String,
    /// Mark cookies `Secure` (on when `public_url` is https).
    pub secure_cookies: bool,
    /// Size of the database pool.
    pub db_pool_size: u32,
    /// 64-byte key that signs and encrypts session cookies.
    pub session_key: Vec<u8>,
    /// Days an invitation link stays valid (`ATRIUM_INVITATION_TTL_DAYS`, default 7).
    pub invitation_ttl_days: i64,
    /// Invitation e-mails (new and resent) one organization may send per hour
    /// (`ATRIUM_INVITE_RATE_LIMIT`, default 50).
    pub invite_rate_limit: i64,
    /// Longest wait for the SMTP server, in seconds (`ATRIUM_SMTP_TIMEOUT_SECS`, default 10).
    pub smtp_timeout_secs: u64,
    /// Atrium runs behind a reverse proxy that appends the client's address to
    /// `X-Forwarded-For` (`ATRIUM_TRUST_PROXY`, default false). Off, the client
    /// address is the TCP peer's and client-sent forwarding headers are ignored.
    pub trust_proxy: bool,
    /// Background job workers (training) this instance runs; 0 for a web-only instance.
    pub job_workers: usize,
}

/// The optional TOML file; every key mirrors an environment variable.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    bind: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    redis_url: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    public_url: Option<String>,
    db_pool_size: Option<u32>,
    invitation_ttl_days: Option<i64>,
    invite_rate_limit: Option<i64>,
    smtp_timeout_secs: Option<u64>,
    trust_proxy: Option<bool>,
    job_workers: Option<usize>,
}

/// Overrides given on the command line (they beat the environment and the file).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub bind: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    /// Builds the configuration: command line, then environment, then the TOML file
    /// (`ATRIUM_CONFIG`, or `<data dir>/atrium.toml` when it exists), then defaults.
    pub fn load(overrides: Overrides) -> Result<Config, String> {
        let file = match env("ATRIUM_CONFIG") {
            Some(path) => read_file(Path::new(&path))?,
            None => {
                let dir = overrides
                    .data_dir
                    .clone()
                    .or_else(|| env("ATRIUM_DATA_DIR").map(PathBuf::from))
                    .unwrap_or_else(|| PathBuf::from("data"));
                let candidate = dir.join("atrium.toml");
                if candidate.exists() {
                    read_file(&candidate)?
                } else {
                    FileConfig::default()
                }
            }
        };
        let data_dir = overrides
            .data_dir
            .or_else(|| env("ATRIUM_DATA_DIR").map(PathBuf::from))
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("data"));
        let bind = overrides
            .bind
            .or_else(|| env("ATRIUM_BIND"))
            .or(file.bind)
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let database_url = overrides
            .database_url
            .or_else(|| env("ATRIUM_DATABASE_URL"))
            .or_else(|| env("DATABASE_URL"))
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite:{}", data_dir.join("atrium.db").display()));
        let public_url = env("ATRIUM_PUBLIC_URL")
            .or(file.public_url)
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_owned();
        let db_pool_size = match env("ATRIUM_DB_POOL_SIZE") {
            Some(v) => v
                .parse()
                .map_err(|_| format!("ATRIUM_DB_POOL_SIZE must be a number, not {v:?}"))?,
            None => file
                .db_pool_size
                .unwrap_or_else(|| default_pool_size(&database_url)),
        };
        let invitation_ttl_days = number(
            "ATRIUM_INVITATION_TTL_DAYS",
            file.invitation_ttl_days,
            7,
            1..=365,
        )?;
        let invite_rate_limit = number(
            "ATRIUM_INVITE_RATE_LIMIT",
            file.invite_rate_limit,
            50,
            1..=100_000,
        )?;
        let smtp_timeout_secs = number(
            "ATRIUM_SMTP_TIMEOUT_SECS",
            file.smtp_timeout_secs,
            10,
            1..=300,
        )?;
        let trust_proxy = match env("ATRIUM_TRUST_PROXY") {
            Some(v) => parse_flag(&v)
                .ok_or_else(|| format!("ATRIUM_TRUST_PROXY must be true or false, not {v:?}"))?,
            None => file.trust_proxy.unwrap_or(false),
        };
        let job_workers = match env("ATRIUM_JOB_WORKERS") {
            Some(v) => v
                .parse()
                .map_err(|_| format!("ATRIUM_JOB_WORKERS must be a number, not {v:?}"))?,
            None => file.job_workers.unwrap_or(1),
        };
        std::fs::create_dir_all(&data_dir)
            .map_err(|e| format!("cannot create data folder {}: {e}", data_dir.display()))?;
        let session_key = load_or_create_key(&data_dir.join("session.key"))?;
        Ok(Config {
            secure_cookies: public_url.starts_with("https://"),
            bind,
            redis_url: env("ATRIUM_REDIS_URL").or(file.redis_url),
            smtp_url: env("ATRIUM_SMTP_URL").or(file.smtp_url),
            mail_from: env("ATRIUM_MAIL_FROM")
                .or(file.mail_from)
                .unwrap_or_else(|| "Atrium <atrium@localhost>".to_owned()),
            public_url,
            db_pool_size,
            job_workers,
            database_url,
            data_dir,
            session_key,
            invitation_ttl_days,
            invite_rate_limit,
            smtp_timeout_secs,
            trust_proxy,
        })
    }

    /// Folder where mail is written when no SMTP server is configured.
    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }
}

/// A number from the environment (beats the file), within `range`, or the default.
fn number<T>(
    var: &str,
    from_file: Option<T>,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let value = match env(var) {
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("{var} must be a number, not {v:?}"))?,
        None => from_file.unwrap_or(default),
    };
    if !range.contains(&value) {
        return Err(format!(
            "{var} must be between {} and {}, not {value}",
            range.start(),
            range.end()
        ));
    }
    Ok(value)
}

/// `true`/`1`/`yes`/`on` or `false`/`0`/`no`/`off`, any case.
fn parse_flag(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn read_file(path: &Path) -> Result<FileConfig, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("config file {}: {e}", path.display()))
}

/// Reads the session key, or generates one on first start (kept with mode 0600).
fn load_or_create_key(path: &Path) -> Result<Vec<u8>, String> {
    if let Ok(text) = std::fs::read_to_string(path) {
        let key = hex::decode(text.trim()).map_err(|_| {
            format!(
                "{} is not a hex key; delete it to make a new one",
                path.display()
            )
        })?;
        if key.len() < 64 {
            return Err(format!(
                "{} holds a key shorter than 64 bytes",
                path.display()
            ));
        }
        return Ok(key);
    }
    let key: Vec<u8> = (0..64).map(|_| rand::random::<u8>()).collect();
    std::fs::write(path, hex::encode(&key))
        .map_err(|e| format!("cannot write session key {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(key)
}

/// The default number of database connections (and of threads that run database
/// calls): on PostgreSQL 16, so that queries waiting on the network overlap; on
/// SQLite two per CPU core (at least 4), since its queries are CPU work in this
/// process and more threads than cores only add context switches: on 2 cores, 4
/// instead of 16 served My Apps 15-25 % faster (docs/PERFORMANCE.md, 2026-11-29).
fn default_pool_size(database_url: &str) -> u32 {
    match crate::db::Backend::from_url(database_url) {
        crate::db::Backend::Postgres => 16,
        crate::db::Backend::Sqlite => std::thread::available_parallelism()
            .map_or(2, |n| n.get() as u32)
            .saturating_mul(2)
            .max(4),
    }
}

#[cfg(test)]
mod tests {
    use super::{default_pool_size, parse_flag};

    #[test]
    fn the_pool_fits_the_backend() {
        assert_eq!(default_pool_size("postgres://root@127.0.0.1/test"), 16);
        let sqlite = default_pool_size("sqlite:data/atrium.db");
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
        assert_eq!(sqlite, (2 * cores).max(4));
    }

    #[test]
    fn flags_read_as_people_write_them() {
        for t in ["true", "TRUE", "1", "yes", " on "] {
            assert_eq!(parse_flag(t), Some(true), "{t}");
        }
        for f in ["false", "0", "No", "off"] {
            assert_eq!(parse_flag(f), Some(false), "{f}");
        }
        assert_eq!(parse_flag("maybe"), None);
    }
}
