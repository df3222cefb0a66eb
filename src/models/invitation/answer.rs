//! The invitee's side: accepting or declining, by the e-mailed link or, for the
//! account an invitation is bound to, from inside the app. Each answer is one
//! transaction whose first statement closes the invitation (so concurrent
//! answers serialize), followed by the addressee check and, on accept, the
//! membership insert that `UNIQUE(memberships.user_id)` guards.

use diesel::prelude::*;

use super::{find_bound, find_by_token, hash_token, InvitationStatus};
use crate::auth::policy::{self, InviteeProof, Role};
use crate::db::schema::{invitations, memberships, users};
use crate::db::{is_unique_violation, DbConn};
use crate::models::audit::{self, AuditActor, AuditTarget, EventKind};
use crate::models::org::{Membership, Org};
use crate::models::{now, OrgId, UserId};

/// Why an invitee's answer did nothing.
#[derive(Debug)]
pub enum AnswerError {
    /// No such link (forged, or replaced by a resend).
    NotFound,
    Expired,
    /// Accepted, declined or rescinded before.
    Answered(InvitationStatus),
    /// The signed-in user is not the addressee.
    WrongUser(&'static str),
    /// The user belongs to another organization (named when known).
    InAnotherOrg(Option<String>),
    /// The user is already in this organization.
    AlreadyMember,
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for AnswerError {
    fn from(e: diesel::result::Error) -> Self {
        AnswerError::Db(e)
    }
}

/// How the invitee names the invitation they answer.
#[derive(Debug, Clone, Copy)]
pub enum Via<'a> {
    /// The secret from the e-mailed link.
    Link(&'a str),
    /// The public id, from inside the app (only for the account it is bound to).
    Bound(&'a str),
}

/// The organization an accepted invitation joined.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub org_id: OrgId,
    pub org_handle: String,
    pub org_name: String,
    pub role: Role,
}

/// The facts an answer needs about the invitation it closed.
struct Claimed {
    public_id: String,
    org_id: i64,
    email: String,
    role: String,
    invitee_user_id: Option<i64>,
}

type ClaimedTuple = (String, i64, String, String, Option<i64>);

/// Marks the invitation answered, as the first statement of the transaction.
/// Returns it when it was open and matched.
fn claim(
    conn: &mut DbConn,
    via: Via<'_>,
    user: UserId,
    status: &'static str,
) -> QueryResult<Option<Claimed>> {
    let returning = (
        invitations::public_id,
        invitations::org_id,
        invitations::email,
        invitations::role,
        invitations::invitee_user_id,
    );
    let t = now();
    let accepted_by = (status == "accepted").then_some(user.0);
    let set = (
        invitations::status.eq(status),
        invitations::accepted_by.eq(accepted_by),
        invitations::responded_at.eq(Some(t)),
        invitations::updated_at.eq(t),
    );
    let open = invitations::status
        .eq("pending")
        .and(invitations::expires_at.gt(t));
    let claimed = match via {
        Via::Link(token) => diesel::update(
            invitations::table
                .filter(invitations::token_hash.eq(hash_token(token)))
                .filter(open),
        )
        .set(set)
        .returning(returning)
        .get_result::<ClaimedTuple>(conn)
        .optional()?,
        Via::Bound(public_id) => diesel::update(
            invitations::table
                .filter(invitations::public_id.eq(public_id))
                .filter(invitations::invitee_user_id.eq(user.0))
                .filter(open),
        )
        .set(set)
        .returning(returning)
        .get_result::<ClaimedTuple>(conn)
        .optional()?,
    };
    Ok(claimed.map(|t| Claimed {
        public_id: t.0,
        org_id: t.1,
        email: t.2,
        role: t.3,
        invitee_user_id: t.4,
    }))
}

/// Says why `via` names no open invitation.
fn why_closed(conn: &mut DbConn, via: Via<'_>, user: UserId) -> Result<AnswerError, AnswerError> {
    let inv = match via {
        Via::Link(token) => find_by_token(conn, token)?,
        Via::Bound(public_id) => find_bound(conn, user, public_id)?,
    };
    Ok(match inv {
        None => AnswerError::NotFound,
        Some(i) if i.status == InvitationStatus::Expired => AnswerError::Expired,
        Some(i) => AnswerError::Answered(i.status),
    })
}

/// Checks, inside the transaction, that `user` is the addressee.
fn check_addressee(
    conn: &mut DbConn,
    via: Via<'_>,
    row: &Claimed,
    user: UserId,
) -> Result<(), AnswerError> {
    let email: String = users::table.find(user.0).select(users::email).first(conn)?;
    let proof = match via {
        Via::Link(_) => InviteeProof::Link {
            user_email: &email,
            invited_email: &row.email,
        },
        Via::Bound(_) => InviteeProof::Bound {
            user,
            invitee: row.invitee_user_id.map(UserId),
        },
    };
    policy::may_answer_invitation(proof).map_err(|d| match d {
        policy::Denied::Forbidden(reason) => AnswerError::WrongUser(reason),
        _ => AnswerError::NotFound,
    })
}

/// Accepts: joins the organization with the invited role, in one transaction.
pub fn accept(
    conn: &mut DbConn,
    via: Via<'_>,
    user: UserId,
    actor: &AuditActor,
) -> Result<Accepted, AnswerError> {
    crate::db::transaction(conn, |conn| {
        let Some(row) = claim(conn, via, user, "accepted")? else {
            return Err(why_closed(conn, via, user)?);
        };
        check_addressee(conn, via, &row, user)?;
        let org = OrgId(row.org_id);
        if let Some(m) = Membership::for_user(conn, user)? {
            return Err(if m.org_id == org {
                AnswerError::AlreadyMember
            } else {
                AnswerError::InAnotherOrg(Some(m.org_name))
            });
        }
        let role = Role::parse(&row.role).unwrap_or(Role::OrgUser);
        diesel::insert_into(memberships::table)
            .values((
                memberships::org_id.eq(org.0),
                memberships::user_id.eq(user.0),
                memberships::role.eq(role.as_str()),
                memberships::created_at.eq(now()),
            ))
            .execute(conn)
            .map_err(|e| {
                // Another accept of this user committed first (another org's invitation).
                if is_unique_violation(&e) {
                    AnswerError::InAnotherOrg(None)
                } else {
                    AnswerError::Db(e)
                }
            })?;
        audit::record(
            conn,
            Some(org),
            actor,
            EventKind::InvitationAccept,
            &AuditTarget::invitation(&row.public_id, &row.email),
            serde_json::json!({ "role": role.as_str(), "user_id": user.0 }),
        )?;
        let o = Org::find(conn, org)?;
        Ok(Accepted {
            org_id: org,
            org_handle: o.handle,
            org_name: o.name,
            role,
        })
    })
}

/// Declines: the invitation closes, nothing else changes. Returns the org's name.
pub fn decline(
    conn: &mut DbConn,
    via: Via<'_>,
    user: UserId,
    actor: &AuditActor,
) -> Result<String, AnswerError> {
    crate::db::transaction(conn, |conn| {
        let Some(row) = claim(conn, via, user, "declined")? else {
            return Err(why_closed(conn, via, user)?);
        };
        check_addressee(conn, via, &row, user)?;
        let org = OrgId(row.org_id);
        audit::record(
            conn,
            Some(org),
            actor,
            EventKind::InvitationDecline,
            &AuditTarget::invitation(&row.public_id, &row.email),
            serde_json::json!({ "role": row.role, "user_id": user.0 }),
        )?;
        Ok(Org::find(conn, org)?.name)
    })
}
