//! Outgoing e-mail through lettre. Two transports: an SMTP server
//! (`ATRIUM_SMTP_URL`, e.g. `smtp://user:pass@host:587?tls=required`) or, by
//! default, `.eml` files in the outbox folder. Messages are rendered from one
//! template folder each under `templates/email/` (see [`messages`]).
//!
//! Sending always happens after the database commit that made the message
//! necessary, and never on the async workers: the transport lives on a small
//! runtime of its own (so that pooled SMTP connections stay on one reactor), and
//! every send is bounded by the configured timeout. A failure is returned to the
//! caller, which records it; nothing here retries on its own.

pub mod messages;

use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Config;

/// A rendered message: subject, plain text and HTML.
#[derive(Debug, Clone)]
pub struct Email {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Why a message was not delivered (recorded on whatever asked for it).
#[derive(Debug, Clone, thiserror::Error)]
pub enum MailError {
    /// The recipient address cannot be used.
    #[error("invalid recipient address: {0}")]
    Address(String),
    /// The message could not be assembled.
    #[error("the message could not be built: {0}")]
    Build(String),
    /// The transport refused or failed (SMTP down, refused recipient, disk full).
    #[error("{0}")]
    Transport(String),
    /// The SMTP server did not finish in time.
    #[error("the mail server did not answer within {0} seconds")]
    Timeout(u64),
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(AsyncFileTransport<Tokio1Executor>),
}

/// The transport and the runtime it runs on. The SMTP pool needs its runtime
/// even to be dropped, so both go together, without blocking (the last mailer
/// may go away inside another runtime).
struct Inner {
    transport: Option<Transport>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            {
                let _context = rt.enter();
                self.transport.take();
            }
            rt.shutdown_background();
        }
    }
}

/// Sends mail; cheap to clone, kept in the app state.
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
    from: Mailbox,
    timeout: Duration,
    description: String,
}

impl Mailer {
    /// Builds the transport the configuration names (SMTP when `smtp_url` is set,
    /// the outbox folder otherwise). Fails on a malformed URL or sender address.
    pub fn from_config(config: &Config) -> Result<Mailer, String> {
        let from: Mailbox = config.mail_from.parse().map_err(|e| {
            format!(
                "ATRIUM_MAIL_FROM {:?} is not an address: {e}",
                config.mail_from
            )
        })?;
        let timeout = Duration::from_secs(config.smtp_timeout_secs);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("atrium-mail")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the mail runtime: {e}"))?;
        // The SMTP pool spawns its housekeeping task where it is built.
        let guard = runtime.enter();
        let (transport, description) = match &config.smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| {
                        format!(
                            "ATRIUM_SMTP_URL {} is not usable: {e}",
                            crate::db::redact_url(url)
                        )
                    })?
                    .timeout(Some(timeout))
                    .build();
                (
                    Transport::Smtp(transport),
                    format!("SMTP {}", crate::db::redact_url(url)),
                )
            }
            None => {
                let dir = config.outbox_dir();
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("cannot create the mail outbox {}: {e}", dir.display()))?;
                (
                    Transport::Outbox(AsyncFileTransport::new(&dir)),
                    format!("outbox folder {}", dir.display()),
                )
            }
        };
        drop(guard);
        Ok(Mailer {
            inner: Arc::new(Inner {
                transport: Some(transport),
                runtime: Some(runtime),
            }),
            from,
            timeout,
            description,
        })
    }

    /// Where mail goes, for the start-up log (credentials hidden).
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// Sends `email` to `to`. Resolves within the configured timeout (plus a
    /// little), whatever the SMTP server does.
    pub async fn send(&self, to: &str, email: &Email) -> Result<(), MailError> {
        self.dispatch(to, email).outcome().await
    }

    /// Starts sending at once (so that several messages travel in parallel);
    /// await [`Sending::outcome`] for the result.
    pub fn dispatch(&self, to: &str, email: &Email) -> Sending {
        match self.start(to, email) {
            Ok(task) => Sending(Ok(task)),
            Err(e) => Sending(Err(e)),
        }
    }

    fn start(
        &self,
        to: &str,
        email: &Email,
    ) -> Result<tokio::task::JoinHandle<Result<(), MailError>>, MailError> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| MailError::Address(format!("{to}: {e}")))?;
        let subject: String = email
            .subject
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject.trim())
            .multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                email.html.clone(),
            ))
            .map_err(|e| MailError::Build(e.to_string()))?;
        let (Some(transport), Some(runtime)) = (&self.inner.transport, &self.inner.runtime) else {
            return Err(MailError::Transport("the mailer is shut down".to_owned()));
        };
        let transport = transport.clone();
        let timeout = self.timeout;
        Ok(runtime.spawn(async move {
            let send = async {
                match &transport {
                    Transport::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| {
                        MailError::Transport(format!("SMTP: {}", one_line(&e.to_string())))
                    }),
                    Transport::Outbox(t) => t.send(message).await.map(|_| ()).map_err(|e| {
                        MailError::Transport(format!("outbox: {}", one_line(&e.to_string())))
                    }),
                }
            };
            // lettre bounds each SMTP step by `timeout`; this bounds the whole exchange.
            match tokio::time::timeout(timeout + Duration::from_secs(1), send).await {
                Ok(r) => r,
                Err(_) => Err(MailError::Timeout(timeout.as_secs())),
            }
        }))
    }
}

/// A message on its way (see [`Mailer::dispatch`]).
pub struct Sending(Result<tokio::task::JoinHandle<Result<(), MailError>>, MailError>);

impl Sending {
    /// Waits for the transport's answer.
    pub async fn outcome(self) -> Result<(), MailError> {
        match self.0 {
            Ok(task) => task
                .await
                .map_err(|e| MailError::Transport(format!("the mail task failed: {e}")))?,
            Err(e) => Err(e),
        }
    }
}

/// Collapses whitespace and caps the length, so that errors fit one table cell.
fn one_line(s: &str) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 300 {
        s.chars().take(300).chain("…".chars()).collect()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn errors_fit_one_line() {
        assert_eq!(one_line("a\r\n  b\tc"), "a b c");
        assert_eq!(one_line(&"x".repeat(400)).chars().count(), 301);
    }
}
