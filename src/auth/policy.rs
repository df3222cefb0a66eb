//! The one place that decides access. Handlers resolve the actor once per request
//! (`session::Viewer` or the API's PAT extractor), then ask [`can`]; nothing
//! else compares roles. The table in the README is [`decide`] written out, and
//! `tests/policy_table.rs` walks all of it.

pub use crate::auth::teams::{TeamAccess, TeamRole};
use crate::models::app::{App, ListScope, PrivateApps, Visibility};
use crate::models::app_list::AppCard;
use crate::models::ml_model::MlModel;
use crate::models::org::Membership;
use crate::models::{AccountId, UserId};

pub use crate::auth::action::Action;
pub use crate::auth::roles::{is_known_scope, Role, SCOPES};

/// The signed-in user behind a request, as the policy needs them.
#[derive(Debug, Clone)]
pub struct ActorUser {
    pub id: UserId,
    pub handle: String,
    pub membership: Option<Membership>,
    /// `Some` when the request is authenticated by a PAT: only these scopes apply.
    pub scopes: Option<Vec<String>>,
    /// The user's team grants and label restrictions (empty outside teams).
    pub teams: std::sync::Arc<TeamAccess>,
}

/// Whoever is asking; `user` is `None` when signed out.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user: Option<ActorUser>,
}

/// How the actor relates to the account that owns a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// Signed out.
    Anonymous,
    /// Signed in, but neither the owner nor a member of the owning org.
    Stranger,
    /// The personal account that owns the resource.
    Owner,
    /// A member of the owning organization, with their role (for an app: one
    /// no team of theirs is granted, or a role on which grants change nothing).
    Member(Role),
    /// A Team Contributor in an app granted to one of their teams, with the
    /// strongest team role granted.
    Granted(TeamRole),
    /// A member, with their role, whose teams' label restriction excludes the app
    /// (admins are exempt: for them it changes nothing).
    Restricted(Role),
}

impl Relation {
    /// Every relation, in the order of the README table's rows.
    pub const ALL: [Relation; 17] = [
        Relation::Anonymous,
        Relation::Stranger,
        Relation::Owner,
        Relation::Member(Role::Admin),
        Relation::Member(Role::OrgContributor),
        Relation::Member(Role::TeamContributor),
        Relation::Granted(TeamRole::FullAccess),
        Relation::Granted(TeamRole::ModelTrainer),
        Relation::Granted(TeamRole::LabelerLead),
        Relation::Granted(TeamRole::LabelerWorker),
        Relation::Member(Role::OrgUser),
        Relation::Member(Role::FinancialManager),
        Relation::Restricted(Role::Admin),
        Relation::Restricted(Role::OrgContributor),
        Relation::Restricted(Role::TeamContributor),
        Relation::Restricted(Role::OrgUser),
        Relation::Restricted(Role::FinancialManager),
    ];

    /// The README's name for the row.
    pub fn label(self) -> &'static str {
        match self {
            Relation::Anonymous => "signed out",
            Relation::Stranger => "other user",
            Relation::Owner => "owner (personal)",
            Relation::Member(Role::Admin) => "org admin",
            Relation::Member(Role::OrgContributor) => "org contributor",
            Relation::Member(Role::TeamContributor) => "team contributor",
            Relation::Member(Role::OrgUser) => "org user",
            Relation::Member(Role::FinancialManager) => "financial manager",
            Relation::Granted(TeamRole::FullAccess) => "team contributor, Full Access grant",
            Relation::Granted(TeamRole::ModelTrainer) => "team contributor, Model Trainer grant",
            Relation::Granted(TeamRole::LabelerLead) => "team contributor, Labeler Lead grant",
            Relation::Granted(TeamRole::LabelerWorker) => "team contributor, Labeler Worker grant",
            Relation::Restricted(Role::Admin) => "org admin, label restricted",
            Relation::Restricted(Role::OrgContributor) => "org contributor, label restricted",
            Relation::Restricted(Role::TeamContributor) => {
                "team contributor with every grant, label restricted"
            }
            Relation::Restricted(Role::OrgUser) => "org user, label restricted",
            Relation::Restricted(Role::FinancialManager) => "financial manager, label restricted",
        }
    }
}

/// The outcome of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// The actor may see the resource but not do this: 403.
    Forbidden,
    /// The actor may not know the resource exists: 404.
    Hidden,
}

/// Why [`can`] said no.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// Answer 404: the resource is not visible to the actor.
    NotFound,
    /// Answer 403 with this reason.
    Forbidden(&'static str),
    /// The PAT lacks the scope (the API answers 11007).
    MissingScope(&'static str),
}

/// The whole table: what a relation may do. `Hidden` wherever the actor could
/// not otherwise learn that the resource exists.
pub fn decide(relation: Relation, action: Action) -> Decision {
    use Action::*;
    use Decision::*;
    use Relation::*;
    match (relation, action) {
        // Admins are exempt from label restrictions; for everyone else the
        // organization's part does not depend on the app.
        (Restricted(Role::Admin), a) => decide(Member(Role::Admin), a),
        (Restricted(role), a) if a.is_org_action() || a == CreateApp => decide(Member(role), a),
        // Siloed access: an app lacking the team's labels is out of reach, public
        // or not, whatever the grants and the org role (the listing leaves it out).
        (Restricted(_), ListApps) => Allow,
        (Restricted(_), _) => Hidden,
        // A grant changes what happens inside the app only.
        (Granted(_), a) if a.is_org_action() || a == CreateApp => {
            decide(Member(Role::TeamContributor), a)
        }
        (Granted(team_role), a) => team_role.decide(a),

        // Everyone, even signed out, may read public apps and list an owner's public apps.
        (_, ListApps) | (_, ReadPublicApp) => Allow,
        // Public models: any signed-in user may open them and predict with them.
        (Anonymous, ReadPublicModel | PredictPublicModel) => Hidden,
        (_, ReadPublicModel | PredictPublicModel) => Allow,
        (Anonymous, _) | (Stranger, _) => Hidden,

        (Owner, a) if a.is_org_action() => Hidden,
        (Owner, _) => Allow,

        (Member(Role::Admin), _) => Allow,

        // Only admins see and manage members and security; to everyone else the
        // screens do not exist.
        (Member(_), ViewMembers | ManageMembers | ViewSecurity | ManageSecurity) => Hidden,
        // Organization Contributors manage teams too; nobody else sees them.
        (Member(Role::OrgContributor), ViewTeams | ManageTeams) => Allow,
        (Member(_), ViewTeams | ManageTeams) => Hidden,

        (Member(Role::OrgContributor), UpdateOrg | DeleteOrg) => Forbidden,
        (Member(Role::OrgContributor), _) => Allow,

        (Member(Role::OrgUser), ReadPrivateApp | PinApp | ViewOrg | LeaveOrg) => Allow,
        (Member(Role::OrgUser), ReadContent | Predict | StarModel) => Allow,
        (Member(Role::OrgUser), EditInputs | EditModels | TrainModel) => Forbidden,
        (Member(Role::OrgUser), UpdateApp | DeleteApp | DuplicateApp | CreateApp) => Forbidden,
        (Member(Role::OrgUser), UpdateOrg | DeleteOrg) => Forbidden,

        // Team contributors reach only apps granted to their teams (none without teams).
        (Member(Role::TeamContributor), ViewOrg | LeaveOrg) => Allow,
        (Member(Role::TeamContributor), CreateApp | UpdateOrg | DeleteOrg) => Forbidden,
        (Member(Role::TeamContributor), _) => Hidden,

        // Financial managers see billing only.
        (Member(Role::FinancialManager), ViewOrg | LeaveOrg) => Allow,
        (Member(Role::FinancialManager), CreateApp | UpdateOrg | DeleteOrg) => Forbidden,
        (Member(Role::FinancialManager), _) => Hidden,
    }
}

impl Actor {
    /// A signed-out actor.
    pub fn anonymous() -> Actor {
        Actor { user: None }
    }

    pub fn user_id(&self) -> Option<UserId> {
        self.user.as_ref().map(|u| u.id)
    }

    /// The actor's membership, if signed in and in an organization.
    pub fn membership(&self) -> Option<&Membership> {
        self.user.as_ref().and_then(|u| u.membership.as_ref())
    }

    /// How the actor relates to one app: as to its owner, with their team grants
    /// and label restrictions when they are a member of the owning organization.
    pub fn relation_to_app<'a>(&self, app: impl Into<AppFacts<'a>>) -> Relation {
        let app = app.into();
        let relation = self.relation_to(app.owner);
        let (Relation::Member(role), Some(u)) = (relation, &self.user) else {
            return relation;
        };
        if role == Role::Admin {
            return relation;
        }
        if !u.teams.admits(app.labels) {
            return Relation::Restricted(role);
        }
        match u.teams.grant(app.id) {
            Some(team_role) if role == Role::TeamContributor => Relation::Granted(team_role),
            _ => relation,
        }
    }

    /// How the actor relates to `owner`.
    pub fn relation_to(&self, owner: AccountId) -> Relation {
        match &self.user {
            None => Relation::Anonymous,
            Some(u) if u.id.0 == owner.0 => Relation::Owner,
            Some(u) => match &u.membership {
                Some(m) if m.org_id.0 == owner.0 => Relation::Member(m.role),
                _ => Relation::Stranger,
            },
        }
    }

    fn check_scope(&self, action: Action) -> Result<(), Denied> {
        match self.user.as_ref().and_then(|u| u.scopes.as_ref()) {
            Some(scopes) if !scopes.iter().any(|s| s == action.scope()) => {
                Err(Denied::MissingScope(action.scope()))
            }
            _ => Ok(()),
        }
    }
}

/// What an action is aimed at.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// An owner's namespace (listing, creating apps).
    Owner(AccountId),
    /// One app.
    App(&'a App),
    /// One app of a listing, as its card was read.
    Card(&'a AppCard),
    /// An organization (its Account page).
    Org(AccountId),
    /// One model of an app: public models are open to every signed-in user.
    Model(&'a App, &'a MlModel),
}

/// Decides whether `actor` may do `action` to `target`.
pub fn can(actor: &Actor, action: Action, target: Target<'_>) -> Result<(), Denied> {
    let (owner, action) = match target {
        Target::Owner(owner) | Target::Org(owner) => (owner, action),
        Target::Model(app, model) => return can_on_model(actor, action, app, model),
        Target::App(app) => return can_on_app(actor, action, app.into()),
        Target::Card(card) => return can_on_app(actor, action, card.into()),
    };
    decided(actor, actor.relation_to(owner), action, false)
}

/// What the policy reads of an app: whose it is, whether it is public, its
/// compliance labels and its id (for team grants).
#[derive(Debug, Clone, Copy)]
pub struct AppFacts<'a> {
    pub id: i64,
    pub owner: AccountId,
    pub public: bool,
    pub labels: &'a str,
}

impl<'a> From<&'a App> for AppFacts<'a> {
    fn from(app: &'a App) -> Self {
        AppFacts {
            id: app.id,
            owner: app.owner(),
            public: app.visibility() == Visibility::Public,
            labels: &app.labels,
        }
    }
}

impl<'a> From<&'a AppCard> for AppFacts<'a> {
    fn from(card: &'a AppCard) -> Self {
        AppFacts {
            id: card.id,
            owner: card.owner(),
            public: card.public,
            labels: &card.labels,
        }
    }
}

/// [`can`] for one app.
fn can_on_app(actor: &Actor, action: Action, app: AppFacts<'_>) -> Result<(), Denied> {
    let read = if app.public {
        Action::ReadPublicApp
    } else {
        Action::ReadPrivateApp
    };
    let relation = actor.relation_to_app(app);
    // Whoever cannot read the app cannot learn anything else about it.
    if decide(relation, read) != Decision::Allow {
        return Err(Denied::NotFound);
    }
    let action = match action {
        // What is inside an app is as readable as the app itself.
        Action::ReadPrivateApp | Action::ReadPublicApp | Action::ReadContent => read,
        other => other,
    };
    decided(actor, relation, action, true)
}

/// The answer of [`can`] once the relation is known; `visible` when the target
/// is an app the actor can read.
fn decided(actor: &Actor, relation: Relation, action: Action, visible: bool) -> Result<(), Denied> {
    if action != Action::ListApps
        && action != Action::ReadPublicApp
        && relation == Relation::Anonymous
    {
        return Err(Denied::NotFound);
    }
    match decide(relation, action) {
        Decision::Allow => actor.check_scope(action),
        // An app the actor can read is no secret: say what is refused instead of 404.
        Decision::Hidden if visible => {
            actor.check_scope(action)?;
            Err(Denied::Forbidden(forbidden_reason(relation, action)))
        }
        Decision::Hidden => Err(Denied::NotFound),
        Decision::Forbidden => {
            actor.check_scope(action)?;
            Err(Denied::Forbidden(forbidden_reason(relation, action)))
        }
    }
}

/// Decides what a user does to their own account that no row of the table covers
/// (personal access tokens, creating an organization, listing their memberships):
/// only the account's own user may, and a PAT also needs `scope`. Anyone else
/// gets [`Denied::NotFound`], so other accounts' tokens and memberships stay unseen.
pub fn can_self(actor: &Actor, account: AccountId, scope: &'static str) -> Result<(), Denied> {
    match &actor.user {
        Some(u) if u.id.0 == account.0 => match &u.scopes {
            Some(scopes) if !scopes.iter().any(|s| s == scope) => Err(Denied::MissingScope(scope)),
            _ => Ok(()),
        },
        _ => Err(Denied::NotFound),
    }
}

/// Whether the actor may put `scope` on a new token: it must be a known scope, and a
/// PAT can only hand out scopes it carries itself (no escalation through `keys:write`).
pub fn can_grant_scope(actor: &Actor, scope: &str) -> Result<(), Denied> {
    let Some((known, _)) = SCOPES.iter().find(|(s, _)| *s == scope) else {
        return Err(Denied::Forbidden("Unknown scope."));
    };
    match actor.user.as_ref().and_then(|u| u.scopes.as_ref()) {
        Some(scopes) if !scopes.iter().any(|s| s == scope) => Err(Denied::MissingScope(known)),
        _ if actor.user.is_none() => Err(Denied::NotFound),
        _ => Ok(()),
    }
}

/// A model: what the app allows, and for public models also what any signed-in
/// user may do (open it, predict with it, star it).
fn can_on_model(actor: &Actor, action: Action, app: &App, model: &MlModel) -> Result<(), Denied> {
    let through_app = can(actor, action, Target::App(app));
    if through_app.is_ok() || !model.is_public() {
        return through_app;
    }
    let public_action = match action {
        Action::ReadContent | Action::ReadPublicModel | Action::StarModel => {
            Action::ReadPublicModel
        }
        Action::Predict | Action::PredictPublicModel => Action::PredictPublicModel,
        _ => return through_app,
    };
    match decide(actor.relation_to_app(app), public_action) {
        Decision::Allow => {
            actor.check_scope(public_action)?;
            // Starring changes the actor's own list: it needs the write scope too.
            if action == Action::StarModel {
                actor.check_scope(Action::StarModel)?;
            }
            Ok(())
        }
        _ => through_app,
    }
}

fn forbidden_reason(relation: Relation, action: Action) -> &'static str {
    match (relation, action) {
        (_, Action::UpdateOrg) => "Only the organization's admins can edit it.",
        (_, Action::DeleteOrg) => "Only the organization's admins can delete it.",
        (Relation::Member(Role::OrgUser), _) => {
            "Your role (Organization User) is read-only in this organization's apps."
        }
        (Relation::Granted(TeamRole::FullAccess), _) => {
            "Team roles do not create, duplicate or delete apps."
        }
        (Relation::Granted(TeamRole::ModelTrainer), _) => {
            "Your team role in this app (Model Trainer) does not allow this."
        }
        (Relation::Granted(TeamRole::LabelerLead), _) => {
            "Your team role in this app (Labeler Lead) does not allow this."
        }
        (Relation::Granted(TeamRole::LabelerWorker), _) => {
            "Your team role in this app (Labeler Worker) does not allow this."
        }
        (_, Action::CreateApp) => "Your role in this organization cannot create apps.",
        (Relation::Anonymous | Relation::Stranger, Action::Predict) => {
            "Only the app's members can predict with this private model."
        }
        (Relation::Anonymous | Relation::Stranger, _) => {
            "You can view this app, but not change it."
        }
        _ => "Your role does not allow this.",
    }
}

/// Whether a member may still sign in with a password while their organization
/// requires SSO: admins may (the documented break-glass path), nobody else.
pub fn password_allowed_under_sso(role: Role) -> bool {
    role == Role::Admin
}

/// How a signed-in user shows that an invitation is addressed to them.
#[derive(Debug, Clone, Copy)]
pub enum InviteeProof<'a> {
    /// They followed the e-mailed link (which proves the mailbox): their account's
    /// address must be the invited one.
    Link {
        user_email: &'a str,
        invited_email: &'a str,
    },
    /// They answer from inside the app: the invitation must be bound to their
    /// account (the account that had the address when it was sent).
    Bound {
        user: UserId,
        invitee: Option<UserId>,
    },
}

/// Decides whether a user may accept or decline an invitation. Nobody else may:
/// not even the organization's admins.
pub fn may_answer_invitation(proof: InviteeProof<'_>) -> Result<(), Denied> {
    match proof {
        InviteeProof::Link {
            user_email,
            invited_email,
        } if user_email.trim().eq_ignore_ascii_case(invited_email.trim()) => Ok(()),
        InviteeProof::Link { .. } => Err(Denied::Forbidden(
            "This invitation was sent to another email address.",
        )),
        InviteeProof::Bound { user, invitee } if invitee == Some(user) => Ok(()),
        InviteeProof::Bound { .. } => Err(Denied::NotFound),
    }
}

/// Which of `owner`'s apps the actor may see in a listing: what
/// [`Actor::relation_to_app`] lets them read, as a filter the database applies
/// (public apps, the private ones of their role or their teams' grants, and only
/// apps carrying the labels their teams are restricted to).
pub fn list_scope(actor: &Actor, owner: AccountId) -> ListScope {
    let relation = actor.relation_to(owner);
    let private = if decide(relation, Action::ReadPrivateApp) == Decision::Allow {
        PrivateApps::All
    } else {
        PrivateApps::None
    };
    let (Relation::Member(role), Some(u)) = (relation, &actor.user) else {
        return ListScope::from_parts(private, Vec::new());
    };
    if role == Role::Admin {
        return ListScope::All;
    }
    let private = match private {
        PrivateApps::None if role == Role::TeamContributor && !u.teams.grants.is_empty() => {
            PrivateApps::GrantedTo(u.id)
        }
        other => other,
    };
    ListScope::from_parts(private, u.teams.required_labels.clone())
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
