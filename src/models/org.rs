//! Organizations and memberships. A user belongs to at most one organization
//! (`UNIQUE(memberships.user_id)`), and an organization always keeps an admin.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::policy::Role;
use crate::db::schema::{accounts, invitations, memberships, orgs, users};
use crate::db::{is_unique_violation, DbConn};
use crate::models::account::{self, AccountKind};
use crate::models::audit::{self, AuditActor, AuditTarget, EventKind};
use crate::models::{now, OrgId, UserId};

diesel::define_sql_function! {
    /// SQL `lower()`, the same on both backends.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// An organization with its handle.
#[derive(Debug, Clone)]
pub struct Org {
    pub id: OrgId,
    pub handle: String,
    pub name: String,
    pub billing_email: String,
    pub app_count: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

type OrgTuple = (
    i64,
    String,
    String,
    String,
    i64,
    NaiveDateTime,
    NaiveDateTime,
);

fn org_from(t: OrgTuple) -> Org {
    Org {
        id: OrgId(t.0),
        handle: t.1,
        name: t.2,
        billing_email: t.3,
        app_count: t.4,
        created_at: t.5,
        updated_at: t.6,
    }
}

/// A user's membership, with the org's handle and name (what every request needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub org_id: OrgId,
    pub org_handle: String,
    pub org_name: String,
    pub role: Role,
}

impl Membership {
    /// A membership read through outer joins: all four columns, or no membership.
    pub fn from_columns(
        org_id: Option<i64>,
        org_handle: Option<String>,
        org_name: Option<String>,
        role: Option<String>,
    ) -> Option<Membership> {
        match (org_id, org_handle, org_name, role) {
            (Some(org_id), Some(org_handle), Some(org_name), Some(role)) => Some(Membership {
                org_id: OrgId(org_id),
                org_handle,
                org_name,
                role: Role::parse(&role).unwrap_or(Role::OrgUser),
            }),
            _ => None,
        }
    }

    /// First letter of the org's handle, for the avatar.
    pub fn initial(&self) -> char {
        crate::auth::session::initial(&self.org_handle)
    }
}

pub use crate::models::member_list::Member;

/// Why an organization could not be created.
#[derive(Debug)]
pub enum CreateOrgError {
    /// A user or organization already has this handle.
    HandleTaken,
    /// The creator already belongs to an organization.
    AlreadyMember,
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for CreateOrgError {
    fn from(e: diesel::result::Error) -> Self {
        CreateOrgError::Db(e)
    }
}

/// Why a member could not leave.
#[derive(Debug)]
pub enum LeaveError {
    /// The member is the organization's only admin and named nobody to hand over to.
    LastAdmin,
    /// The successor named is not a member of the organization.
    BadSuccessor,
    NotMember,
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for LeaveError {
    fn from(e: diesel::result::Error) -> Self {
        LeaveError::Db(e)
    }
}

impl Org {
    /// Creates the org and makes `creator` its admin, in one transaction. The
    /// membership insert fails on `UNIQUE(user_id)` if the creator joined an org
    /// meanwhile, so two concurrent requests cannot both succeed.
    pub fn create(
        conn: &mut DbConn,
        creator: UserId,
        handle: &str,
        name: &str,
        billing_email: &str,
    ) -> Result<Org, CreateOrgError> {
        crate::db::transaction(conn, |conn| {
            if Membership::for_user(conn, creator)?.is_some() {
                return Err(CreateOrgError::AlreadyMember);
            }
            if account::handle_taken(conn, handle)? {
                return Err(CreateOrgError::HandleTaken);
            }
            let id = account::insert(conn, handle, AccountKind::Org).map_err(|e| {
                if is_unique_violation(&e) {
                    CreateOrgError::HandleTaken
                } else {
                    CreateOrgError::Db(e)
                }
            })?;
            let t = now();
            diesel::insert_into(orgs::table)
                .values((
                    orgs::id.eq(id),
                    orgs::name.eq(name),
                    orgs::billing_email.eq(billing_email),
                    orgs::created_at.eq(t),
                    orgs::updated_at.eq(t),
                ))
                .execute(conn)?;
            diesel::insert_into(memberships::table)
                .values((
                    memberships::org_id.eq(id),
                    memberships::user_id.eq(creator.0),
                    memberships::role.eq(Role::Admin.as_str()),
                    memberships::created_at.eq(t),
                ))
                .execute(conn)
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        CreateOrgError::AlreadyMember
                    } else {
                        CreateOrgError::Db(e)
                    }
                })?;
            Ok(Org::find(conn, OrgId(id))?)
        })
    }

    fn select() -> (
        orgs::id,
        accounts::handle,
        orgs::name,
        orgs::billing_email,
        accounts::app_count,
        orgs::created_at,
        orgs::updated_at,
    ) {
        (
            orgs::id,
            accounts::handle,
            orgs::name,
            orgs::billing_email,
            accounts::app_count,
            orgs::created_at,
            orgs::updated_at,
        )
    }

    /// Serializes membership changes of one org for the rest of the transaction:
    /// the no-op write takes the row lock on PostgreSQL and the write lock on SQLite,
    /// so "keep at least one admin" checks cannot interleave.
    pub fn lock(conn: &mut DbConn, id: OrgId) -> QueryResult<()> {
        diesel::update(orgs::table.find(id.0))
            .set(orgs::updated_at.eq(orgs::updated_at))
            .execute(conn)
            .map(|_| ())
    }

    /// Loads an organization by id.
    pub fn find(conn: &mut DbConn, id: OrgId) -> QueryResult<Org> {
        orgs::table
            .inner_join(accounts::table)
            .filter(orgs::id.eq(id.0))
            .select(Org::select())
            .first::<OrgTuple>(conn)
            .map(org_from)
    }

    /// Loads an organization by handle.
    pub fn find_by_handle(conn: &mut DbConn, handle: &str) -> QueryResult<Option<Org>> {
        orgs::table
            .inner_join(accounts::table)
            .filter(accounts::handle.eq(handle))
            .select(Org::select())
            .first::<OrgTuple>(conn)
            .optional()
            .map(|o| o.map(org_from))
    }

    /// Changes the display name and billing e-mail.
    pub fn update(
        conn: &mut DbConn,
        id: OrgId,
        name: &str,
        billing_email: &str,
    ) -> QueryResult<()> {
        diesel::update(orgs::table.find(id.0))
            .set((
                orgs::name.eq(name),
                orgs::billing_email.eq(billing_email),
                orgs::updated_at.eq(now()),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// Deletes the organization with its apps and memberships, in one transaction.
    pub fn delete(conn: &mut DbConn, id: OrgId) -> QueryResult<()> {
        crate::db::transaction(conn, |conn| {
            // Foreign keys cascade from the account row, but delete explicitly so the
            // outcome does not depend on the backend's cascade settings.
            crate::models::team::delete_all(conn, id)?;
            diesel::delete(
                crate::db::schema::apps::table.filter(crate::db::schema::apps::owner_id.eq(id.0)),
            )
            .execute(conn)?;
            diesel::delete(invitations::table.filter(invitations::org_id.eq(id.0)))
                .execute(conn)?;
            diesel::delete(memberships::table.filter(memberships::org_id.eq(id.0)))
                .execute(conn)?;
            diesel::delete(orgs::table.find(id.0)).execute(conn)?;
            diesel::delete(accounts::table.find(id.0)).execute(conn)?;
            Ok(())
        })
    }
}

impl Membership {
    /// The user's membership, if any.
    pub fn for_user(conn: &mut DbConn, user: UserId) -> QueryResult<Option<Membership>> {
        memberships::table
            .inner_join(orgs::table.inner_join(accounts::table))
            .filter(memberships::user_id.eq(user.0))
            .select((
                memberships::org_id,
                accounts::handle,
                orgs::name,
                memberships::role,
            ))
            .first::<(i64, String, String, String)>(conn)
            .optional()
            .map(|m| {
                m.map(|(org_id, org_handle, org_name, role)| Membership {
                    org_id: OrgId(org_id),
                    org_handle,
                    org_name,
                    role: Role::parse(&role).unwrap_or(Role::OrgUser),
                })
            })
    }

    /// Number of admins the organization has.
    pub fn admin_count(conn: &mut DbConn, org: OrgId) -> QueryResult<i64> {
        memberships::table
            .filter(memberships::org_id.eq(org.0))
            .filter(memberships::role.eq(Role::Admin.as_str()))
            .count()
            .get_result(conn)
    }

    /// Removes `user` from `org`. When they are its last admin, `successor` (a member's
    /// handle) is made admin in the same transaction; without one, leaving is refused.
    pub fn leave(
        conn: &mut DbConn,
        org: OrgId,
        user: UserId,
        successor: Option<&str>,
    ) -> Result<(), LeaveError> {
        crate::db::transaction(conn, |conn| {
            Org::lock(conn, org)?;
            let role: Option<String> = memberships::table
                .filter(memberships::org_id.eq(org.0))
                .filter(memberships::user_id.eq(user.0))
                .select(memberships::role)
                .first(conn)
                .optional()?;
            let Some(role) = role else {
                return Err(LeaveError::NotMember);
            };
            if let Some(handle) = successor.map(str::trim).filter(|s| !s.is_empty()) {
                let successor_id: Option<i64> = memberships::table
                    .inner_join(accounts::table.on(accounts::id.eq(memberships::user_id)))
                    .filter(memberships::org_id.eq(org.0))
                    .filter(accounts::handle.eq(handle))
                    .filter(memberships::user_id.ne(user.0))
                    .select(memberships::user_id)
                    .first(conn)
                    .optional()?;
                let Some(successor_id) = successor_id else {
                    return Err(LeaveError::BadSuccessor);
                };
                diesel::update(memberships::table.filter(memberships::user_id.eq(successor_id)))
                    .set(memberships::role.eq(Role::Admin.as_str()))
                    .execute(conn)?;
            }
            diesel::delete(
                memberships::table
                    .filter(memberships::org_id.eq(org.0))
                    .filter(memberships::user_id.eq(user.0)),
            )
            .execute(conn)?;
            crate::models::team::drop_member(conn, org, user)?;
            if role == Role::Admin.as_str() && Membership::admin_count(conn, org)? == 0 {
                // Rolls the whole transaction back: an org never loses its last admin.
                return Err(LeaveError::LastAdmin);
            }
            Ok(())
        })
    }
}

/// Why a member's role could not be changed, or the member not removed.
#[derive(Debug)]
pub enum MemberChangeError {
    /// No member with this handle in the organization.
    NotMember,
    /// The change would leave the organization without an admin.
    LastAdmin,
    /// Admins leave through "Leave organization", not by removing themselves.
    Myself,
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for MemberChangeError {
    fn from(e: diesel::result::Error) -> Self {
        MemberChangeError::Db(e)
    }
}

/// A role change that happened (or was a no-op when `from == to`).
#[derive(Debug, Clone)]
pub struct RoleChange {
    pub user_id: UserId,
    pub handle: String,
    pub from: Role,
    pub to: Role,
}

/// The member `handle` of `org`: id and role.
fn member_by_handle(
    conn: &mut DbConn,
    org: OrgId,
    handle: &str,
) -> QueryResult<Option<(UserId, Role)>> {
    memberships::table
        .inner_join(accounts::table.on(accounts::id.eq(memberships::user_id)))
        .filter(memberships::org_id.eq(org.0))
        .filter(accounts::handle.eq(handle))
        .select((memberships::user_id, memberships::role))
        .first::<(i64, String)>(conn)
        .optional()
        .map(|m| m.map(|(id, role)| (UserId(id), Role::parse(&role).unwrap_or(Role::OrgUser))))
}

impl Org {
    /// Handles of the organization's admins.
    pub fn admins(conn: &mut DbConn, id: OrgId) -> QueryResult<Vec<String>> {
        memberships::table
            .inner_join(accounts::table.on(accounts::id.eq(memberships::user_id)))
            .filter(memberships::org_id.eq(id.0))
            .filter(memberships::role.eq(Role::Admin.as_str()))
            .select(accounts::handle)
            .order(accounts::handle.asc())
            .load(conn)
    }
}

impl Membership {
    /// Gives the member `handle` another role, recording it. Refused (and rolled
    /// back) when it would leave the organization without an admin.
    pub fn change_role(
        conn: &mut DbConn,
        org: OrgId,
        handle: &str,
        role: Role,
        actor: &AuditActor,
    ) -> Result<RoleChange, MemberChangeError> {
        crate::db::transaction(conn, |conn| {
            Org::lock(conn, org)?;
            let (user_id, from) =
                member_by_handle(conn, org, handle)?.ok_or(MemberChangeError::NotMember)?;
            let change = RoleChange {
                user_id,
                handle: handle.to_owned(),
                from,
                to: role,
            };
            if from == role {
                return Ok(change);
            }
            diesel::update(
                memberships::table
                    .filter(memberships::org_id.eq(org.0))
                    .filter(memberships::user_id.eq(user_id.0)),
            )
            .set(memberships::role.eq(role.as_str()))
            .execute(conn)?;
            if from == Role::Admin && Membership::admin_count(conn, org)? == 0 {
                return Err(MemberChangeError::LastAdmin);
            }
            audit::record(
                conn,
                Some(org),
                actor,
                EventKind::MemberRoleChange,
                &AuditTarget::user(user_id, handle),
                serde_json::json!({ "from": from.as_str(), "to": role.as_str() }),
            )?;
            Ok(change)
        })
    }

    /// Removes the member `handle` from the organization and ends their sessions
    /// (their session epoch moves on). Their personal account and apps stay, and
    /// apps they created in the organization stay in it.
    pub fn remove(
        conn: &mut DbConn,
        org: OrgId,
        handle: &str,
        actor: &AuditActor,
    ) -> Result<UserId, MemberChangeError> {
        crate::db::transaction(conn, |conn| {
            Org::lock(conn, org)?;
            let (user_id, role) =
                member_by_handle(conn, org, handle)?.ok_or(MemberChangeError::NotMember)?;
            if Some(user_id) == actor.user_id {
                return Err(MemberChangeError::Myself);
            }
            diesel::delete(
                memberships::table
                    .filter(memberships::org_id.eq(org.0))
                    .filter(memberships::user_id.eq(user_id.0)),
            )
            .execute(conn)?;
            crate::models::team::record_leaving(
                conn,
                org,
                user_id,
                handle,
                "removed from the organization",
                actor,
            )?;
            crate::models::team::drop_member(conn, org, user_id)?;
            if role == Role::Admin && Membership::admin_count(conn, org)? == 0 {
                return Err(MemberChangeError::LastAdmin);
            }
            diesel::update(users::table.find(user_id.0))
                .set(users::session_epoch.eq(users::session_epoch + 1_i64))
                .execute(conn)?;
            audit::record(
                conn,
                Some(org),
                actor,
                EventKind::MemberRemove,
                &AuditTarget::user(user_id, handle),
                serde_json::json!({ "role": role.as_str() }),
            )?;
            Ok(user_id)
        })
    }

    /// [`Membership::leave`] with its audit trail, in one transaction: the leave,
    /// and the successor's promotion when the last admin hands over.
    pub fn leave_recorded(
        conn: &mut DbConn,
        org: OrgId,
        user: UserId,
        successor: Option<&str>,
        actor: &AuditActor,
    ) -> Result<(), LeaveError> {
        crate::db::transaction(conn, |conn| {
            Org::lock(conn, org)?;
            let successor = successor.map(str::trim).filter(|s| !s.is_empty());
            let before = match successor {
                Some(h) => member_by_handle(conn, org, h)?,
                None => None,
            };
            let role: Option<String> = memberships::table
                .filter(memberships::org_id.eq(org.0))
                .filter(memberships::user_id.eq(user.0))
                .select(memberships::role)
                .first(conn)
                .optional()?;
            crate::models::team::record_leaving(
                conn,
                org,
                user,
                &actor.label,
                "left the organization",
                actor,
            )?;
            Membership::leave(conn, org, user, successor)?;
            if let (Some(handle), Some((sid, from))) = (successor, before) {
                if from != Role::Admin {
                    audit::record(
                        conn,
                        Some(org),
                        actor,
                        EventKind::MemberRoleChange,
                        &AuditTarget::user(sid, handle),
                        serde_json::json!({ "from": from.as_str(), "to": Role::Admin.as_str(), "reason": "handover" }),
                    )?;
                }
            }
            audit::record(
                conn,
                Some(org),
                actor,
                EventKind::MemberLeave,
                &AuditTarget::user(user, &actor.label),
                serde_json::json!({ "role": role, "successor": successor }),
            )?;
            Ok(())
        })
    }
}
