//! Invitations to join an organization. The e-mailed link carries a random
//! token; only its SHA-256 is stored (`token_hash`), so the database cannot be
//! turned into working links. Every state change runs in one transaction that
//! starts with a write (so SQLite takes its write lock before reading), re-checks
//! status and expiry, and records an audit event. Accepting inserts the
//! membership in the same transaction: `UNIQUE(memberships.user_id)` makes a
//! second, concurrent accept by the same person fail cleanly.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::auth::policy::Role;
use crate::db::schema::{accounts, invitations, memberships, orgs, users};
use crate::db::{is_unique_violation, DbConn};
use crate::models::audit::{self, AuditActor, AuditTarget, EventKind};
use crate::models::org::Org;
use crate::models::token::hash_secret;
use crate::models::{now, random_id, OrgId, UserId};

mod answer;
mod states;

pub use answer::{accept, decline, Accepted, AnswerError, Via};
pub use states::{DeliveryState, InvitationStatus};

/// Most addresses one invite request may carry.
pub const MAX_BATCH: usize = 50;

/// The stored columns (all but the token hash).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invitations)]
struct Row {
    id: i64,
    public_id: String,
    org_id: i64,
    email: String,
    role: String,
    invited_by: Option<i64>,
    invitee_user_id: Option<i64>,
    status: String,
    created_at: NaiveDateTime,
    sent_at: Option<NaiveDateTime>,
    expires_at: NaiveDateTime,
    delivery_state: String,
    delivery_error: Option<String>,
    accepted_by: Option<i64>,
    responded_at: Option<NaiveDateTime>,
    updated_at: NaiveDateTime,
}

/// An invitation with the names the screens and the API show.
#[derive(Debug, Clone)]
pub struct Invitation {
    /// Internal key.
    pub id: i64,
    /// The id URLs and the API use.
    pub public_id: String,
    pub org_id: OrgId,
    pub org_handle: String,
    pub org_name: String,
    pub email: String,
    pub role: Role,
    /// Where it stands, expiry included.
    pub status: InvitationStatus,
    /// The stored status: `Pending` until answered, rescinded or replaced by a
    /// new invitation to the same address (even when past its expiry).
    pub stored_status: InvitationStatus,
    pub invited_by: Option<UserId>,
    /// Handle of whoever sent it (`None` once their account is gone).
    pub inviter_handle: Option<String>,
    /// The account that had the address when it was sent.
    pub invitee_user_id: Option<UserId>,
    pub created_at: NaiveDateTime,
    /// Last successful delivery.
    pub sent_at: Option<NaiveDateTime>,
    pub expires_at: NaiveDateTime,
    pub delivery: DeliveryState,
    pub delivery_error: Option<String>,
    pub accepted_by: Option<UserId>,
    pub responded_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

impl Invitation {
    fn from_parts(row: Row, org_handle: String, org_name: String, inviter: Option<String>) -> Self {
        let stored = InvitationStatus::parse(&row.status);
        let status = if stored == InvitationStatus::Pending && row.expires_at <= now() {
            InvitationStatus::Expired
        } else {
            stored
        };
        Invitation {
            id: row.id,
            public_id: row.public_id,
            org_id: OrgId(row.org_id),
            org_handle,
            org_name,
            email: row.email,
            role: Role::parse(&row.role).unwrap_or(Role::OrgUser),
            status,
            stored_status: stored,
            invited_by: row.invited_by.map(UserId),
            inviter_handle: inviter,
            invitee_user_id: row.invitee_user_id.map(UserId),
            created_at: row.created_at,
            sent_at: row.sent_at,
            expires_at: row.expires_at,
            delivery: DeliveryState::parse(&row.delivery_state),
            delivery_error: row.delivery_error,
            accepted_by: row.accepted_by.map(UserId),
            responded_at: row.responded_at,
            updated_at: row.updated_at,
        }
    }

    /// True while the link can still be used.
    pub fn is_open(&self) -> bool {
        self.status == InvitationStatus::Pending
    }

    /// True when the admin may resend or rescind it: pending, or pending past
    /// its expiry (not once answered, rescinded or replaced).
    pub fn can_resend(&self) -> bool {
        self.stored_status == InvitationStatus::Pending
    }
}

diesel::alias!(accounts as inviter_accounts: InviterAccounts);

type DetailsTuple = (Row, String, String, Option<String>);

/// The one query every read uses: the invitation, its org's handle and name,
/// and the inviter's handle.
macro_rules! details_query {
    () => {
        invitations::table
            .inner_join(orgs::table.inner_join(accounts::table))
            .left_join(
                inviter_accounts.on(inviter_accounts
                    .field(accounts::id)
                    .nullable()
                    .eq(invitations::invited_by)),
            )
            .select((
                Row::as_select(),
                accounts::handle,
                orgs::name,
                inviter_accounts.field(accounts::handle).nullable(),
            ))
    };
}

fn details(t: DetailsTuple) -> Invitation {
    Invitation::from_parts(t.0, t.1, t.2, t.3)
}

/// A freshly made (or resent) invitation and its link token, to e-mail once.
#[derive(Debug, Clone)]
pub struct Created {
    pub invitation: Invitation,
    /// The secret that goes into the link; never stored.
    pub token: String,
}

/// The token's stored form.
pub fn hash_token(token: &str) -> String {
    hash_secret(token)
}

fn new_token() -> String {
    random_id(40)
}

/// Why invitations could not be created (nothing was written).
#[derive(Debug)]
pub enum InviteError {
    /// The organization used its hourly allowance; this many remain.
    RateLimited {
        remaining: i64,
    },
    /// Addresses that cannot be invited, each with the reason to show.
    Refused(Vec<(String, String)>),
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for InviteError {
    fn from(e: diesel::result::Error) -> Self {
        InviteError::Db(e)
    }
}

/// Why a resend or a rescind did nothing.
#[derive(Debug)]
pub enum AdminChangeError {
    NotFound,
    /// Already accepted, declined or rescinded.
    NotPending(InvitationStatus),
    RateLimited,
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for AdminChangeError {
    fn from(e: diesel::result::Error) -> Self {
        AdminChangeError::Db(e)
    }
}

/// Invitations the allowance counts: every e-mail sent, new or resent.
const RATE_KINDS: [EventKind; 2] = [EventKind::InvitationCreate, EventKind::InvitationResend];

fn remaining_allowance(conn: &mut DbConn, org: OrgId, limit: i64) -> QueryResult<i64> {
    let used = audit::count_since(conn, org, &RATE_KINDS, now() - Duration::hours(1))?;
    Ok((limit - used).max(0))
}

/// What [`create_many`] needs.
pub struct NewInvitations<'a> {
    pub org: OrgId,
    /// Validated, normalized, de-duplicated addresses.
    pub emails: &'a [String],
    pub role: Role,
    pub invited_by: UserId,
    pub ttl_days: i64,
    /// E-mails the org may send per hour.
    pub hourly_limit: i64,
}

/// Creates one invitation per address, all or none, with an audit event each.
/// Addresses that already belong to a member, or have a pending invitation from
/// this organization, are refused (an admin may know both). Whether an address
/// has an account, or belongs to another organization, is never revealed here.
pub fn create_many(
    conn: &mut DbConn,
    new: &NewInvitations<'_>,
    actor: &AuditActor,
) -> Result<Vec<Created>, InviteError> {
    crate::db::transaction(conn, |conn| {
        Org::lock(conn, new.org)?;
        let remaining = remaining_allowance(conn, new.org, new.hourly_limit)?;
        if (new.emails.len() as i64) > remaining {
            return Err(InviteError::RateLimited { remaining });
        }
        let t = now();
        let members: Vec<String> = memberships::table
            .inner_join(users::table)
            .filter(memberships::org_id.eq(new.org.0))
            .filter(users::email.eq_any(new.emails))
            .select(users::email)
            .load(conn)?;
        // Invitations past their expiry make way for new ones to the same address.
        diesel::update(
            invitations::table
                .filter(invitations::org_id.eq(new.org.0))
                .filter(invitations::email.eq_any(new.emails))
                .filter(invitations::status.eq("pending"))
                .filter(invitations::expires_at.le(t)),
        )
        .set((
            invitations::status.eq("expired"),
            invitations::updated_at.eq(t),
        ))
        .execute(conn)?;
        let pending: Vec<String> = invitations::table
            .filter(invitations::org_id.eq(new.org.0))
            .filter(invitations::email.eq_any(new.emails))
            .filter(invitations::status.eq("pending"))
            .select(invitations::email)
            .load(conn)?;
        let mut refused = Vec::new();
        for e in new.emails {
            if members.contains(e) {
                refused.push((
                    e.clone(),
                    "is already a member of this organization.".to_owned(),
                ));
            } else if pending.contains(e) {
                refused.push((
                    e.clone(),
                    "already has a pending invitation: resend it from Pending Invitations."
                        .to_owned(),
                ));
            }
        }
        if !refused.is_empty() {
            return Err(InviteError::Refused(refused));
        }
        let accounts_by_email: Vec<(i64, String)> = users::table
            .filter(users::email.eq_any(new.emails))
            .select((users::id, users::email))
            .load(conn)?;
        let expires = t + Duration::days(new.ttl_days);
        let mut created = Vec::with_capacity(new.emails.len());
        for email in new.emails {
            let token = new_token();
            let public_id = random_id(20);
            let invitee = accounts_by_email
                .iter()
                .find(|(_, e)| e == email)
                .map(|(id, _)| *id);
            diesel::insert_into(invitations::table)
                .values((
                    invitations::public_id.eq(&public_id),
                    invitations::org_id.eq(new.org.0),
                    invitations::email.eq(email),
                    invitations::role.eq(new.role.as_str()),
                    invitations::token_hash.eq(hash_token(&token)),
                    invitations::invited_by.eq(Some(new.invited_by.0)),
                    invitations::invitee_user_id.eq(invitee),
                    invitations::status.eq("pending"),
                    invitations::created_at.eq(t),
                    invitations::expires_at.eq(expires),
                    invitations::delivery_state.eq("sending"),
                    invitations::updated_at.eq(t),
                ))
                .execute(conn)
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        InviteError::Refused(vec![(
                            email.clone(),
                            "already has a pending invitation: resend it from Pending Invitations."
                                .to_owned(),
                        )])
                    } else {
                        InviteError::Db(e)
                    }
                })?;
            audit::record(
                conn,
                Some(new.org),
                actor,
                EventKind::InvitationCreate,
                &AuditTarget::invitation(&public_id, email),
                serde_json::json!({ "role": new.role.as_str(), "expires_at": expires.to_string() }),
            )?;
            let invitation =
                find_in_org(conn, new.org, &public_id)?.ok_or(diesel::result::Error::NotFound)?;
            created.push(Created { invitation, token });
        }
        Ok(created)
    })
}

/// Records how the e-mail for `token` went (ignored when a resend replaced the token meanwhile).
pub fn record_delivery(
    conn: &mut DbConn,
    id: i64,
    token: &str,
    outcome: Result<(), String>,
) -> QueryResult<()> {
    let t = now();
    let target = invitations::table
        .filter(invitations::id.eq(id))
        .filter(invitations::token_hash.eq(hash_token(token)));
    match outcome {
        Ok(()) => diesel::update(target)
            .set((
                invitations::delivery_state.eq("sent"),
                invitations::delivery_error.eq(None::<String>),
                invitations::sent_at.eq(Some(t)),
                invitations::updated_at.eq(t),
            ))
            .execute(conn),
        Err(e) => diesel::update(target)
            .set((
                invitations::delivery_state.eq("failed"),
                invitations::delivery_error.eq(Some(e)),
                invitations::updated_at.eq(t),
            ))
            .execute(conn),
    }
    .map(|_| ())
}

/// Gives a pending (or expired) invitation a new link and expiry; the old link
/// stops working. Counts against the hourly allowance.
pub fn resend(
    conn: &mut DbConn,
    org: OrgId,
    public_id: &str,
    ttl_days: i64,
    hourly_limit: i64,
    actor: &AuditActor,
) -> Result<Created, AdminChangeError> {
    crate::db::transaction(conn, |conn| {
        Org::lock(conn, org)?;
        let inv = find_in_org(conn, org, public_id)?.ok_or(AdminChangeError::NotFound)?;
        if !inv.can_resend() {
            return Err(AdminChangeError::NotPending(inv.status));
        }
        if remaining_allowance(conn, org, hourly_limit)? < 1 {
            return Err(AdminChangeError::RateLimited);
        }
        let token = new_token();
        let t = now();
        let expires = t + Duration::days(ttl_days);
        diesel::update(invitations::table.find(inv.id))
            .set((
                invitations::token_hash.eq(hash_token(&token)),
                invitations::status.eq("pending"),
                invitations::expires_at.eq(expires),
                invitations::delivery_state.eq("sending"),
                invitations::delivery_error.eq(None::<String>),
                invitations::updated_at.eq(t),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            Some(org),
            actor,
            EventKind::InvitationResend,
            &AuditTarget::invitation(&inv.public_id, &inv.email),
            serde_json::json!({ "role": inv.role.as_str(), "expires_at": expires.to_string() }),
        )?;
        let invitation = find_in_org(conn, org, public_id)?.ok_or(AdminChangeError::NotFound)?;
        Ok(Created { invitation, token })
    })
}

/// Rescinds a pending (or expired) invitation: its link stops working.
pub fn cancel(
    conn: &mut DbConn,
    org: OrgId,
    public_id: &str,
    actor: &AuditActor,
) -> Result<Invitation, AdminChangeError> {
    crate::db::transaction(conn, |conn| {
        Org::lock(conn, org)?;
        let inv = find_in_org(conn, org, public_id)?.ok_or(AdminChangeError::NotFound)?;
        if !inv.can_resend() {
            return Err(AdminChangeError::NotPending(inv.status));
        }
        let t = now();
        diesel::update(invitations::table.find(inv.id))
            .set((
                invitations::status.eq("cancelled"),
                invitations::responded_at.eq(Some(t)),
                invitations::updated_at.eq(t),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            Some(org),
            actor,
            EventKind::InvitationCancel,
            &AuditTarget::invitation(&inv.public_id, &inv.email),
            serde_json::json!({ "role": inv.role.as_str() }),
        )?;
        Ok(Invitation {
            status: InvitationStatus::Cancelled,
            stored_status: InvitationStatus::Cancelled,
            ..inv
        })
    })
}

/// One invitation of the organization, by public id.
pub fn find_in_org(
    conn: &mut DbConn,
    org: OrgId,
    public_id: &str,
) -> QueryResult<Option<Invitation>> {
    details_query!()
        .filter(invitations::org_id.eq(org.0))
        .filter(invitations::public_id.eq(public_id))
        .first::<DetailsTuple>(conn)
        .optional()
        .map(|o| o.map(details))
}

/// The invitation a link token opens, if any.
pub fn find_by_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<Invitation>> {
    if token.is_empty() || token.len() > 100 {
        return Ok(None);
    }
    details_query!()
        .filter(invitations::token_hash.eq(hash_token(token)))
        .first::<DetailsTuple>(conn)
        .optional()
        .map(|o| o.map(details))
}

/// A bound invitation of `user`, by public id.
pub fn find_bound(
    conn: &mut DbConn,
    user: UserId,
    public_id: &str,
) -> QueryResult<Option<Invitation>> {
    details_query!()
        .filter(invitations::invitee_user_id.eq(user.0))
        .filter(invitations::public_id.eq(public_id))
        .first::<DetailsTuple>(conn)
        .optional()
        .map(|o| o.map(details))
}

/// The organization's open invitations (pending, and pending past expiry),
/// newest first, one page of `per_page` (plus one to tell whether more follow).
pub fn pending_for_org(
    conn: &mut DbConn,
    org: OrgId,
    offset: i64,
    per_page: i64,
) -> QueryResult<Vec<Invitation>> {
    details_query!()
        .filter(invitations::org_id.eq(org.0))
        .filter(invitations::status.eq("pending"))
        .order((invitations::created_at.desc(), invitations::id.desc()))
        .offset(offset)
        .limit(per_page)
        .load::<DetailsTuple>(conn)
        .map(|v| v.into_iter().map(details).collect())
}

/// Every invitation of the organization (any status), newest first (for the API).
pub fn all_for_org(
    conn: &mut DbConn,
    org: OrgId,
    offset: i64,
    per_page: i64,
) -> QueryResult<Vec<Invitation>> {
    details_query!()
        .filter(invitations::org_id.eq(org.0))
        .order((invitations::created_at.desc(), invitations::id.desc()))
        .offset(offset)
        .limit(per_page)
        .load::<DetailsTuple>(conn)
        .map(|v| v.into_iter().map(details).collect())
}

/// Open invitations bound to `user` (the banner and the in-app list).
pub fn open_for_user(conn: &mut DbConn, user: UserId) -> QueryResult<Vec<Invitation>> {
    details_query!()
        .filter(invitations::invitee_user_id.eq(user.0))
        .filter(invitations::status.eq("pending"))
        .filter(invitations::expires_at.gt(now()))
        .order((invitations::created_at.desc(), invitations::id.desc()))
        .limit(20)
        .load::<DetailsTuple>(conn)
        .map(|v| v.into_iter().map(details).collect())
}
