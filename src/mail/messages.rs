//! One struct per message. Each message has a folder under `templates/email/`
//! with `subject.txt`, `body.txt` and `body.html`; the bodies extend the shared
//! `email/base.txt` and `email/base.html`.

use askama::Template;

use crate::mail::Email;

/// "You are invited to join an organization", with the one-time link.
#[derive(Debug, Clone)]
pub struct InvitationEmail {
    /// The organization's display name and handle.
    pub org_name: String,
    pub org_handle: String,
    /// Who sent it (their name and handle), for the greeting.
    pub inviter: String,
    /// The role's label, as the screens show it.
    pub role_label: String,
    /// Absolute link to the invitation page (carries the secret token).
    pub link: String,
    /// When the link stops working, formatted for people.
    pub expires: String,
    /// The portal's address, for the footer.
    pub public_url: String,
}

#[derive(Template)]
#[template(path = "email/invitation/subject.txt")]
struct InvitationSubject<'a> {
    m: &'a InvitationEmail,
}

#[derive(Template)]
#[template(path = "email/invitation/body.txt")]
struct InvitationText<'a> {
    m: &'a InvitationEmail,
    public_url: &'a str,
}

#[derive(Template)]
#[template(path = "email/invitation/body.html")]
struct InvitationHtml<'a> {
    m: &'a InvitationEmail,
    public_url: &'a str,
}

impl InvitationEmail {
    /// Renders the three parts.
    pub fn render(&self) -> Result<Email, askama::Error> {
        Ok(Email {
            subject: InvitationSubject { m: self }.render()?.trim().to_owned(),
            text: InvitationText {
                m: self,
                public_url: &self.public_url,
            }
            .render()?,
            html: InvitationHtml {
                m: self,
                public_url: &self.public_url,
            }
            .render()?,
        })
    }
}

/// "Reset your password", with the one-time link.
#[derive(Debug, Clone)]
pub struct PasswordResetEmail {
    /// The account's user ID, for the greeting.
    pub handle: String,
    /// Absolute link to the reset page (carries the secret token).
    pub link: String,
    /// When the link stops working, formatted for people.
    pub expires: String,
    /// The portal's address, for the footer.
    pub public_url: String,
}

#[derive(Template)]
#[template(path = "email/password_reset/subject.txt")]
struct ResetSubject;

#[derive(Template)]
#[template(path = "email/password_reset/body.txt")]
struct ResetText<'a> {
    m: &'a PasswordResetEmail,
    public_url: &'a str,
}

#[derive(Template)]
#[template(path = "email/password_reset/body.html")]
struct ResetHtml<'a> {
    m: &'a PasswordResetEmail,
    public_url: &'a str,
}

impl PasswordResetEmail {
    /// Renders the three parts.
    pub fn render(&self) -> Result<Email, askama::Error> {
        Ok(Email {
            subject: ResetSubject.render()?.trim().to_owned(),
            text: ResetText {
                m: self,
                public_url: &self.public_url,
            }
            .render()?,
            html: ResetHtml {
                m: self,
                public_url: &self.public_url,
            }
            .render()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitation_renders_escaped_html_and_plain_text() {
        let m = InvitationEmail {
            org_name: "Acme <R&D>".to_owned(),
            org_handle: "acme".to_owned(),
            inviter: "alice".to_owned(),
            role_label: "Admin".to_owned(),
            link: "http://x/invitations/abc".to_owned(),
            expires: "2026-12-05 10:00 UTC".to_owned(),
            public_url: "http://x".to_owned(),
        };
        let e = m.render().expect("render");
        assert_eq!(e.subject, "alice invited you to join Acme <R&D> on Atrium");
        assert!(e.text.contains("Acme <R&D>"));
        assert!(e.text.contains("http://x/invitations/abc"));
        assert!(
            e.html.contains("Acme &#60;R&#38;D&#62;") || e.html.contains("Acme &lt;R&amp;D&gt;")
        );
        assert!(e.html.contains("href=\"http://x/invitations/abc\""));
        // ASCII text travels as 7bit: the link stays intact for people and tests.
        assert!(e.text.is_ascii());
    }
}
