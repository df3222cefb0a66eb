//! A small SMTP server on a loopback port, run in-process on threads: it speaks
//! enough SMTP (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for a real client
//! conversation, and keeps what it receives. It can also refuse recipients, or
//! accept connections and never answer (a hung server). Plus a reader for the
//! outbox folder the file transport writes.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How the sink behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Accepts every message.
    Accept,
    /// Answers `550` to every `RCPT TO`.
    RefuseRecipients,
    /// Accepts the TCP connection and then says nothing at all.
    Silent,
}

/// One received message.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent after `DATA` (headers and body), dot-unstuffed.
    pub data: String,
}

impl Mail {
    /// The body with quoted-printable soft line breaks removed.
    pub fn text(&self) -> String {
        self.data.replace("=\r\n", "")
    }

    /// The `/invitations/<token>` path the message links to.
    pub fn invitation_path(&self) -> String {
        invitation_path(&self.text())
            .unwrap_or_else(|| panic!("no invitation link in:\n{}", self.data))
    }

    /// The value of a header (first occurrence).
    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_lowercase());
        self.data
            .lines()
            .take_while(|l| !l.is_empty())
            .find(|l| l.to_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_owned())
    }
}

/// Finds `/invitations/<token>` in a text.
pub fn invitation_path(text: &str) -> Option<String> {
    let at = text.find("/invitations/")?;
    let token: String = text[at + "/invitations/".len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    (!token.is_empty()).then(|| format!("/invitations/{token}"))
}

/// The running sink; stops when dropped.
pub struct SmtpSink {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
    stop: Arc<AtomicBool>,
}

/// A loopback port nothing listens on (for "the SMTP server is down").
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

impl SmtpSink {
    /// An accepting sink on a free port.
    pub fn start() -> SmtpSink {
        SmtpSink::start_with(Mode::Accept, 0)
    }

    /// A sink with `mode` on `port` (0: any free port).
    pub fn start_with(mode: Mode, port: u16) -> SmtpSink {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the SMTP sink");
        let port = listener.local_addr().expect("addr").port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (m, s) = (Arc::clone(&mails), Arc::clone(&stop));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (m, s) = (Arc::clone(&m), Arc::clone(&s));
                std::thread::spawn(move || {
                    if mode == Mode::Silent {
                        while !s.load(Ordering::SeqCst) {
                            std::thread::sleep(Duration::from_millis(50));
                        }
                        drop(stream);
                    } else {
                        let _ = serve(stream, mode, &m);
                    }
                });
            }
        });
        SmtpSink { port, mails, stop }
    }

    /// The URL to configure Atrium with.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Everything received so far.
    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().expect("mails").clone()
    }

    /// Waits (up to 10 s) until at least `n` messages arrived, and returns them all.
    pub fn wait_for(&self, n: usize) -> Vec<Mail> {
        let started = Instant::now();
        loop {
            let mails = self.mails();
            if mails.len() >= n || started.elapsed() > Duration::from_secs(10) {
                return mails;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(stream: TcpStream, mode: Mode, mails: &Mutex<Vec<Mail>>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut out = stream.try_clone()?;
    let mut input = BufReader::new(stream);
    out.write_all(b"220 sink.test ESMTP ready\r\n")?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_uppercase();
        let arg = |c: &str| {
            c.split_once(':')
                .map(|(_, a)| {
                    a.trim()
                        .trim_start_matches('<')
                        .split('>')
                        .next()
                        .unwrap_or("")
                        .to_owned()
                })
                .unwrap_or_default()
        };
        match verb.as_str() {
            "EHLO" => out.write_all(b"250-sink.test\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n")?,
            "HELO" => out.write_all(b"250 sink.test\r\n")?,
            "MAIL" => {
                from = arg(&command);
                to.clear();
                out.write_all(b"250 2.1.0 OK\r\n")?;
            }
            "RCPT" => {
                if mode == Mode::RefuseRecipients {
                    out.write_all(b"550 5.1.1 Mailbox unavailable\r\n")?;
                } else {
                    to.push(arg(&command));
                    out.write_all(b"250 2.1.5 OK\r\n")?;
                }
            }
            "DATA" => {
                out.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if input.read_line(&mut line)? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                mails.lock().expect("mails").push(Mail {
                    from: from.clone(),
                    to: std::mem::take(&mut to),
                    data,
                });
                out.write_all(b"250 2.0.0 OK queued\r\n")?;
            }
            "RSET" => {
                to.clear();
                out.write_all(b"250 2.0.0 OK\r\n")?;
            }
            "NOOP" => out.write_all(b"250 2.0.0 OK\r\n")?,
            "QUIT" => {
                out.write_all(b"221 2.0.0 Bye\r\n")?;
                return Ok(());
            }
            _ => out.write_all(b"502 5.5.2 Command not implemented\r\n")?,
        }
    }
}

/// The messages the file transport wrote to `dir` (oldest first).
pub fn read_outbox(dir: &Path) -> Vec<Mail> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .map(|e| {
            let modified = e.metadata().and_then(|m| m.modified()).ok();
            (modified, e.path())
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|(_, p)| {
            let data = std::fs::read_to_string(&p).expect("read eml");
            let m = Mail {
                from: String::new(),
                to: Vec::new(),
                data,
            };
            Mail {
                from: m.header("From").unwrap_or_default(),
                to: m.header("To").into_iter().collect(),
                data: m.data,
            }
        })
        .collect()
}
