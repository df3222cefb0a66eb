//! The audit trail: who did what to whom, when, and from which address. Rows
//! are written inside the same transaction as the change they record, so a
//! change and its record commit (or roll back) together.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::audit_events;
use crate::db::DbConn;
use crate::models::{now, OrgId, UserId};

/// The kinds of event recorded so far (the `event_type` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    InvitationCreate,
    InvitationResend,
    InvitationCancel,
    InvitationAccept,
    InvitationDecline,
    MemberRoleChange,
    MemberRemove,
    MemberLeave,
    PasswordPolicyUpdate,
    SignIn,
    SignInFailed,
    TokenCreate,
    TokenRevoke,
    SessionsRevoke,
    TwoFactorEnable,
    TwoFactorDisable,
    RecoveryCodeUse,
    RecoveryCodesReplace,
    TwoFactorPolicyUpdate,
    TeamCreate,
    TeamUpdate,
    TeamDelete,
    TeamMemberAdd,
    TeamMemberRemove,
    TeamAppAdd,
    TeamAppRemove,
    AppLabelsUpdate,
    // SAML single sign-on.
    IdentityProviderCreate,
    IdentityProviderUpdate,
    IdentityProviderDelete,
    SsoRequirementUpdate,
    SsoSignIn,
    SsoSignInFailed,
    MemberJoinSso,
    // Models of an organization's apps.
    ModelCreate,
    ModelUpdate,
    ModelDelete,
    ModelTrain,
    ModelVersionDelete,
}

impl EventKind {
    /// Every kind, for screens and filters.
    pub const ALL: [EventKind; 39] = [
        EventKind::InvitationCreate,
        EventKind::InvitationResend,
        EventKind::InvitationCancel,
        EventKind::InvitationAccept,
        EventKind::InvitationDecline,
        EventKind::MemberRoleChange,
        EventKind::MemberRemove,
        EventKind::MemberLeave,
        EventKind::PasswordPolicyUpdate,
        EventKind::SignIn,
        EventKind::SignInFailed,
        EventKind::TokenCreate,
        EventKind::TokenRevoke,
        EventKind::SessionsRevoke,
        EventKind::TwoFactorEnable,
        EventKind::TwoFactorDisable,
        EventKind::RecoveryCodeUse,
        EventKind::RecoveryCodesReplace,
        EventKind::TwoFactorPolicyUpdate,
        EventKind::TeamCreate,
        EventKind::TeamUpdate,
        EventKind::TeamDelete,
        EventKind::TeamMemberAdd,
        EventKind::TeamMemberRemove,
        EventKind::TeamAppAdd,
        EventKind::TeamAppRemove,
        EventKind::AppLabelsUpdate,
        EventKind::IdentityProviderCreate,
        EventKind::IdentityProviderUpdate,
        EventKind::IdentityProviderDelete,
        EventKind::SsoRequirementUpdate,
        EventKind::SsoSignIn,
        EventKind::SsoSignInFailed,
        EventKind::MemberJoinSso,
        EventKind::ModelCreate,
        EventKind::ModelUpdate,
        EventKind::ModelDelete,
        EventKind::ModelTrain,
        EventKind::ModelVersionDelete,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::InvitationCreate => "invitation.create",
            EventKind::InvitationResend => "invitation.resend",
            EventKind::InvitationCancel => "invitation.cancel",
            EventKind::InvitationAccept => "invitation.accept",
            EventKind::InvitationDecline => "invitation.decline",
            EventKind::MemberRoleChange => "member.role_change",
            EventKind::MemberRemove => "member.remove",
            EventKind::MemberLeave => "member.leave",
            EventKind::PasswordPolicyUpdate => "password_policy.update",
            EventKind::SignIn => "session.sign_in",
            EventKind::SignInFailed => "session.sign_in_failed",
            EventKind::TokenCreate => "token.create",
            EventKind::TokenRevoke => "token.revoke",
            EventKind::SessionsRevoke => "session.revoke",
            EventKind::TwoFactorEnable => "two_factor.enable",
            EventKind::TwoFactorDisable => "two_factor.disable",
            EventKind::RecoveryCodeUse => "two_factor.recovery_code_use",
            EventKind::RecoveryCodesReplace => "two_factor.recovery_codes_replace",
            EventKind::TwoFactorPolicyUpdate => "two_factor_policy.update",
            EventKind::TeamCreate => "team.create",
            EventKind::TeamUpdate => "team.update",
            EventKind::TeamDelete => "team.delete",
            EventKind::TeamMemberAdd => "team.member_add",
            EventKind::TeamMemberRemove => "team.member_remove",
            EventKind::TeamAppAdd => "team.app_add",
            EventKind::TeamAppRemove => "team.app_remove",
            EventKind::AppLabelsUpdate => "app.labels_update",
            EventKind::IdentityProviderCreate => "identity_provider.create",
            EventKind::IdentityProviderUpdate => "identity_provider.update",
            EventKind::IdentityProviderDelete => "identity_provider.delete",
            EventKind::SsoRequirementUpdate => "sso.require_update",
            EventKind::SsoSignIn => "sso.sign_in",
            EventKind::SsoSignInFailed => "sso.sign_in_failed",
            EventKind::MemberJoinSso => "member.join_sso",
            EventKind::ModelCreate => "model.create",
            EventKind::ModelUpdate => "model.update",
            EventKind::ModelDelete => "model.delete",
            EventKind::ModelTrain => "model.train",
            EventKind::ModelVersionDelete => "model.version_delete",
        }
    }

    /// What the audit log screen calls it.
    pub fn label(self) -> &'static str {
        match self {
            EventKind::InvitationCreate => "Invitation sent",
            EventKind::InvitationResend => "Invitation resent",
            EventKind::InvitationCancel => "Invitation cancelled",
            EventKind::InvitationAccept => "Invitation accepted",
            EventKind::InvitationDecline => "Invitation declined",
            EventKind::MemberRoleChange => "Member role changed",
            EventKind::MemberRemove => "Member removed",
            EventKind::MemberLeave => "Member left",
            EventKind::PasswordPolicyUpdate => "Password policy changed",
            EventKind::SignIn => "Signed in",
            EventKind::SignInFailed => "Failed sign-in",
            EventKind::TokenCreate => "Access token created",
            EventKind::TokenRevoke => "Access token revoked",
            EventKind::SessionsRevoke => "Sessions signed out",
            EventKind::TwoFactorEnable => "Two-factor turned on",
            EventKind::TwoFactorDisable => "Two-factor turned off",
            EventKind::RecoveryCodeUse => "Recovery code used",
            EventKind::RecoveryCodesReplace => "New recovery codes made",
            EventKind::TwoFactorPolicyUpdate => "Two-factor requirement changed",
            EventKind::TeamCreate => "Team created",
            EventKind::TeamUpdate => "Team changed",
            EventKind::TeamDelete => "Team deleted",
            EventKind::TeamMemberAdd => "Team member added",
            EventKind::TeamMemberRemove => "Team member removed",
            EventKind::TeamAppAdd => "App granted to team",
            EventKind::TeamAppRemove => "App grant revoked",
            EventKind::AppLabelsUpdate => "App labels changed",
            EventKind::IdentityProviderCreate => "Identity provider added",
            EventKind::IdentityProviderUpdate => "Identity provider changed",
            EventKind::IdentityProviderDelete => "Identity provider deleted",
            EventKind::SsoRequirementUpdate => "Require SSO changed",
            EventKind::SsoSignIn => "Signed in with SSO",
            EventKind::SsoSignInFailed => "Failed SSO sign-in",
            EventKind::MemberJoinSso => "Joined through SSO",
            EventKind::ModelCreate => "Model created",
            EventKind::ModelUpdate => "Model changed",
            EventKind::ModelDelete => "Model deleted",
            EventKind::ModelTrain => "Model training started",
            EventKind::ModelVersionDelete => "Model version deleted",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Who acted, and from where.
#[derive(Debug, Clone)]
pub struct AuditActor {
    /// `None` for the system or an operator command.
    pub user_id: Option<UserId>,
    /// The actor's handle at the time (kept when the user is deleted).
    pub label: String,
    /// Source address of the request.
    pub ip: String,
}

/// What the event was done to.
#[derive(Debug, Clone)]
pub struct AuditTarget {
    /// `invitation`, `user`, ...
    pub kind: &'static str,
    /// The target's stable id (an invitation's public id, a user's numeric id).
    pub id: String,
    /// A readable name at the time (an e-mail address, a handle).
    pub label: String,
}

impl AuditTarget {
    /// An invitation, named by its public id and address.
    pub fn invitation(public_id: &str, email: &str) -> AuditTarget {
        AuditTarget {
            kind: "invitation",
            id: public_id.to_owned(),
            label: email.to_owned(),
        }
    }

    /// An organization's settings (its password policy, ...), named by handle.
    pub fn org(id: OrgId, handle: &str) -> AuditTarget {
        AuditTarget {
            kind: "org",
            id: id.0.to_string(),
            label: handle.to_owned(),
        }
    }

    /// A personal access token, named by its public key id and description.
    pub fn token(key_id: &str, description: &str) -> AuditTarget {
        AuditTarget {
            kind: "token",
            id: key_id.to_owned(),
            label: description.to_owned(),
        }
    }

    /// An identity provider, named by public id and name.
    pub fn identity_provider(public_id: &str, name: &str) -> AuditTarget {
        AuditTarget {
            kind: "identity_provider",
            id: public_id.to_owned(),
            label: name.to_owned(),
        }
    }

    /// A user, named by id and handle.
    pub fn user(id: UserId, handle: &str) -> AuditTarget {
        AuditTarget {
            kind: "user",
            id: id.0.to_string(),
            label: handle.to_owned(),
        }
    }
}

/// A recorded event.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: i64,
    pub org_id: Option<i64>,
    pub actor_user_id: Option<i64>,
    pub actor_label: String,
    pub event_type: String,
    pub target_kind: String,
    pub target_id: String,
    pub target_label: String,
    /// JSON object with event-specific facts (roles, expiry, ...).
    pub details: String,
    pub source_ip: String,
    pub created_at: NaiveDateTime,
    /// False for a refused attempt (a failed sign-in).
    pub success: bool,
}

impl AuditEvent {
    /// The details as JSON (an empty object when unreadable).
    pub fn details_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.details).unwrap_or_else(|_| serde_json::json!({}))
    }

    /// The screen's name for the event type (the stored name when unknown).
    pub fn type_label(&self) -> &str {
        EventKind::parse(&self.event_type)
            .map(EventKind::label)
            .unwrap_or(&self.event_type)
    }
}

/// Records one event. Call it inside the transaction that makes the change.
pub fn record(
    conn: &mut DbConn,
    org: Option<OrgId>,
    actor: &AuditActor,
    kind: EventKind,
    target: &AuditTarget,
    details: serde_json::Value,
) -> QueryResult<()> {
    record_outcome(conn, org, actor, kind, target, details, true)
}

/// Records one event with whether it succeeded (a refused sign-in is `false`).
pub fn record_outcome(
    conn: &mut DbConn,
    org: Option<OrgId>,
    actor: &AuditActor,
    kind: EventKind,
    target: &AuditTarget,
    details: serde_json::Value,
    success: bool,
) -> QueryResult<()> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::org_id.eq(org.map(|o| o.0)),
            audit_events::actor_user_id.eq(actor.user_id.map(|u| u.0)),
            audit_events::actor_label.eq(&actor.label),
            audit_events::event_type.eq(kind.as_str()),
            audit_events::target_kind.eq(target.kind),
            audit_events::target_id.eq(&target.id),
            audit_events::target_label.eq(&target.label),
            audit_events::details.eq(details.to_string()),
            audit_events::source_ip.eq(&actor.ip),
            audit_events::created_at.eq(now()),
            audit_events::success.eq(success),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The organization's events, newest first.
pub fn for_org(conn: &mut DbConn, org: OrgId, limit: i64) -> QueryResult<Vec<AuditEvent>> {
    audit_events::table
        .filter(audit_events::org_id.eq(org.0))
        .order((audit_events::created_at.desc(), audit_events::id.desc()))
        .limit(limit)
        .select(AuditEvent::as_select())
        .load(conn)
}

/// How many events of these kinds the organization had since `since` (rate limits).
pub fn count_since(
    conn: &mut DbConn,
    org: OrgId,
    kinds: &[EventKind],
    since: NaiveDateTime,
) -> QueryResult<i64> {
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    audit_events::table
        .filter(audit_events::org_id.eq(org.0))
        .filter(audit_events::created_at.gt(since))
        .filter(audit_events::event_type.eq_any(names))
        .count()
        .get_result(conn)
}

#[cfg(test)]
mod tests {
    use super::EventKind;

    #[test]
    fn kinds_round_trip() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
        }
    }
}
