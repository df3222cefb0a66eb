//! THE password checker. Every path that sets a password — sign-up (through an
//! invitation or not), the password change, the reset link, the expired-password
//! page and `atrium admin reset-password` — calls [`check`], which applies the
//! organization's [`PasswordPolicy`] (or the defaults) and the reuse rule; the
//! live feedback on the password field and `POST /v2/users/{U}/validate_password`
//! show the same [`Rule`]s. Reuse is checked by verifying the candidate against
//! the stored argon2 hashes, never against plaintext.

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::auth::password;
use crate::db::DbConn;
use crate::models::org::Membership;
use crate::models::password_policy::{self, PasswordPolicy};
use crate::models::user::User;
use crate::models::{OrgId, UserId};

/// The common-passwords list shipped with the build (20 000 entries, lower case;
/// from Django's `django/contrib/auth/common-passwords.txt.gz`, BSD-3-Clause —
/// see the README).
const COMMON_PASSWORDS: &str = include_str!("common-passwords.txt");

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON_PASSWORDS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// True when the password (case-insensitively) is on the common-passwords list.
pub fn is_common(pw: &str) -> bool {
    common_passwords().contains(pw.trim().to_lowercase().as_str())
}

/// One rule a password can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    NotBlank,
    MinimumLength,
    MaximumLength,
    UpperCase,
    LowerCase,
    Numeric,
    NonAlphanumeric,
    ExcludeNames,
    ExcludeEmail,
    NoCommon,
    NoReuse,
}

impl Rule {
    /// Every rule, in the order the screens list them.
    pub const ALL: [Rule; 11] = [
        Rule::MinimumLength,
        Rule::MaximumLength,
        Rule::NotBlank,
        Rule::UpperCase,
        Rule::LowerCase,
        Rule::Numeric,
        Rule::NonAlphanumeric,
        Rule::ExcludeNames,
        Rule::ExcludeEmail,
        Rule::NoCommon,
        Rule::NoReuse,
    ];

    /// The name the API uses (the PasswordPolicy field it comes from).
    pub fn api_name(self) -> &'static str {
        match self {
            Rule::NotBlank => "not_blank",
            Rule::MinimumLength => "minimum_length",
            Rule::MaximumLength => "maximum_length",
            Rule::UpperCase => "upper_case_needed",
            Rule::LowerCase => "lower_case_needed",
            Rule::Numeric => "numeric_needed",
            Rule::NonAlphanumeric => "non_alphanumeric_needed",
            Rule::ExcludeNames => "exclude_names",
            Rule::ExcludeEmail => "exclude_email",
            Rule::NoCommon => "no_common_vocabs",
            Rule::NoReuse => "password_reuse_epoch",
        }
    }

    /// True when the policy asks for this rule.
    pub fn applies(self, p: &PasswordPolicy) -> bool {
        match self {
            Rule::NotBlank | Rule::MinimumLength | Rule::MaximumLength => true,
            Rule::UpperCase => p.upper_case_needed,
            Rule::LowerCase => p.lower_case_needed,
            Rule::Numeric => p.numeric_needed,
            Rule::NonAlphanumeric => p.non_alphanumeric_needed,
            Rule::ExcludeNames => p.exclude_names,
            Rule::ExcludeEmail => p.exclude_email,
            Rule::NoCommon => p.no_common_vocabs,
            Rule::NoReuse => p.password_reuse_epoch > 0,
        }
    }

    /// The rule as the password field lists it.
    pub fn describe(self, p: &PasswordPolicy) -> String {
        match self {
            Rule::NotBlank => "Not only spaces".to_owned(),
            Rule::MinimumLength => format!("At least {} characters", p.minimum_length),
            Rule::MaximumLength => format!("At most {} characters", p.maximum_length),
            Rule::UpperCase => "An upper-case letter".to_owned(),
            Rule::LowerCase => "A lower-case letter".to_owned(),
            Rule::Numeric => "A digit (0–9)".to_owned(),
            Rule::NonAlphanumeric => "A symbol (not a letter or a digit)".to_owned(),
            Rule::ExcludeNames => "Does not contain your user ID or name".to_owned(),
            Rule::ExcludeEmail => "Does not contain your email address".to_owned(),
            Rule::NoCommon => "Not a commonly used password".to_owned(),
            Rule::NoReuse => match p.password_reuse_epoch {
                1 => "Not your current password".to_owned(),
                n => format!("Not one of your last {n} passwords"),
            },
        }
    }
}

/// Whose password it is: what the name and e-mail rules compare against, and
/// which organization's policy applies.
#[derive(Debug, Clone, Default)]
pub struct Who {
    /// The existing user (for the reuse rule); `None` at sign-up.
    pub user: Option<UserId>,
    /// The organization whose policy applies (the user's, or the inviting one).
    pub org: Option<OrgId>,
    pub handle: String,
    pub name: String,
    pub email: String,
}

impl Who {
    /// An existing user, under their organization's policy.
    pub fn for_user(conn: &mut DbConn, user: &User) -> diesel::QueryResult<Who> {
        let org = Membership::for_user(conn, user.id())?.map(|m| m.org_id);
        Ok(Who {
            user: Some(user.id()),
            org,
            handle: user.handle.clone(),
            name: user.row.name.clone(),
            email: user.row.email.clone(),
        })
    }
}

/// The words of the user's handle and name that a password may not contain.
fn name_parts(who: &Who) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    for source in [&who.handle, &who.name] {
        let lower = source.to_lowercase();
        if lower.chars().count() >= 3 {
            parts.push(lower.clone());
        }
        parts.extend(
            lower
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.chars().count() >= 3)
                .map(str::to_owned),
        );
    }
    parts
}

/// The rules the password breaks, except reuse (which needs the database). Cheap:
/// the live feedback calls it on every keystroke.
pub fn violations_without_reuse(policy: &PasswordPolicy, who: &Who, pw: &str) -> Vec<Rule> {
    let n = pw.chars().count() as i32;
    let lower = pw.to_lowercase();
    Rule::ALL
        .into_iter()
        .filter(|r| r.applies(policy))
        .filter(|r| match r {
            Rule::NotBlank => pw.trim().is_empty(),
            Rule::MinimumLength => n < policy.minimum_length,
            Rule::MaximumLength => n > policy.maximum_length,
            Rule::UpperCase => !pw.chars().any(char::is_uppercase),
            Rule::LowerCase => !pw.chars().any(char::is_lowercase),
            Rule::Numeric => !pw.chars().any(|c| c.is_ascii_digit()),
            Rule::NonAlphanumeric => !pw.chars().any(|c| !c.is_alphanumeric()),
            Rule::ExcludeNames => name_parts(who).iter().any(|p| lower.contains(p.as_str())),
            Rule::ExcludeEmail => {
                let email = who.email.to_lowercase();
                let local = email.split('@').next().unwrap_or("");
                (!email.is_empty() && lower.contains(&email))
                    || (local.chars().count() >= 3 && lower.contains(local))
            }
            Rule::NoCommon => is_common(pw),
            Rule::NoReuse => false,
        })
        .collect()
}

/// The outcome of [`check`].
#[derive(Debug, Clone)]
pub struct Checked {
    pub policy: PasswordPolicy,
    /// The broken rules, in [`Rule::ALL`] order; empty = the password may be set.
    pub violations: Vec<Rule>,
}

impl Checked {
    /// True when no rule is broken.
    pub fn ok(&self) -> bool {
        self.violations.is_empty()
    }

    /// One sentence for a form field or a CLI: what is missing.
    pub fn message(&self) -> String {
        let missing: Vec<String> = self
            .violations
            .iter()
            .map(|r| r.describe(&self.policy).to_lowercase())
            .collect();
        format!(
            "This password does not meet the password policy. It needs: {}.",
            missing.join("; ")
        )
    }
}

/// Checks a new password against every rule that applies to `who`, the reuse
/// rule included (argon2 work: run it on the database threads, as `db::run` does).
pub fn check(conn: &mut DbConn, who: &Who, pw: &str) -> diesel::QueryResult<Checked> {
    let policy = PasswordPolicy::for_optional_org(conn, who.org)?;
    let mut violations = violations_without_reuse(&policy, who, pw);
    if let (Some(user), true) = (who.user, Rule::NoReuse.applies(&policy)) {
        let current = User::find(conn, user)?.row.password_hash;
        let mut hashes = password_policy::recent_hashes(conn, user, policy.password_reuse_epoch)?;
        if !hashes.contains(&current) {
            hashes.insert(0, current);
            hashes.truncate(policy.password_reuse_epoch as usize);
        }
        if hashes.iter().any(|h| password::verify(pw, h)) {
            violations.push(Rule::NoReuse);
        }
    }
    Ok(Checked { policy, violations })
}

/// A rule with whether the typed password meets it, for the password field.
#[derive(Debug, Clone)]
pub struct RuleState {
    pub id: &'static str,
    pub text: String,
    /// `None` before anything is typed, and for reuse (checked on submit).
    pub met: Option<bool>,
}

/// The rules the field lists for `policy`, marked against `pw` (if typed).
pub fn rule_states(policy: &PasswordPolicy, who: &Who, pw: Option<&str>) -> Vec<RuleState> {
    let broken = pw.map(|pw| violations_without_reuse(policy, who, pw));
    Rule::ALL
        .into_iter()
        .filter(|r| r.applies(policy) && *r != Rule::NotBlank)
        .map(|r| RuleState {
            id: r.api_name(),
            text: r.describe(policy),
            met: match (&broken, r) {
                (_, Rule::NoReuse) | (None, _) => None,
                (Some(b), r) => Some(!b.contains(&r)),
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> PasswordPolicy {
        PasswordPolicy {
            minimum_length: 12,
            upper_case_needed: true,
            lower_case_needed: true,
            numeric_needed: true,
            non_alphanumeric_needed: true,
            exclude_names: true,
            exclude_email: true,
            no_common_vocabs: true,
            ..PasswordPolicy::default()
        }
    }

    fn who() -> Who {
        Who {
            handle: "jdoe".into(),
            name: "Jane Doe".into(),
            email: "jane.d@example.com".into(),
            ..Who::default()
        }
    }

    #[test]
    fn the_list_is_real() {
        assert!(common_passwords().len() > 19_000);
        assert!(is_common("password"));
        assert!(is_common("Qwerty"));
        assert!(!is_common("vT9#qL2!mZ7@"));
    }

    #[test]
    fn each_rule_is_checked() {
        let p = strict();
        let w = who();
        assert_eq!(
            violations_without_reuse(&p, &w, "short"),
            vec![
                Rule::MinimumLength,
                Rule::UpperCase,
                Rule::Numeric,
                Rule::NonAlphanumeric
            ]
        );
        assert!(violations_without_reuse(&p, &w, "Correct-Horse-7").is_empty());
        assert!(violations_without_reuse(&p, &w, "Jane-Battery-7x").contains(&Rule::ExcludeNames));
        assert!(violations_without_reuse(&p, &w, "xJDOE-Battery-7").contains(&Rule::ExcludeNames));
        assert!(violations_without_reuse(&p, &w, "Jane.d-Battery-7").contains(&Rule::ExcludeEmail));
        assert!(
            violations_without_reuse(&PasswordPolicy::default(), &w, "        ")
                .contains(&Rule::NotBlank)
        );
        let common = PasswordPolicy {
            no_common_vocabs: true,
            ..PasswordPolicy::default()
        };
        assert_eq!(
            violations_without_reuse(&common, &w, "iloveyou"),
            vec![Rule::NoCommon]
        );
        let max = PasswordPolicy {
            maximum_length: 10,
            ..PasswordPolicy::default()
        };
        assert_eq!(
            violations_without_reuse(&max, &w, "elevenchars"),
            vec![Rule::MaximumLength]
        );
    }

    #[test]
    fn states_mark_met_rules() {
        let s = rule_states(&strict(), &who(), Some("abc"));
        let lower = s
            .iter()
            .find(|r| r.id == "lower_case_needed")
            .expect("rule");
        assert_eq!(lower.met, Some(true));
        let min = s.iter().find(|r| r.id == "minimum_length").expect("rule");
        assert_eq!(min.met, Some(false));
        assert!(rule_states(&strict(), &who(), None)
            .iter()
            .all(|r| r.met.is_none()));
    }
}
