//! The actions the policy decides on ([`crate::auth::policy::can`]): what an actor
//! may try, the README table's columns, and the token scope each one needs.

/// Something an actor may try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See an owner's apps listing (what it shows is [`list_scope`]).
    ListApps,
    /// Open a private app.
    ReadPrivateApp,
    /// Open a public app.
    ReadPublicApp,
    /// Create an app under the owner.
    CreateApp,
    /// Edit an app's name, description, visibility.
    UpdateApp,
    /// Delete an app.
    DeleteApp,
    /// Duplicate an app (the copy belongs to the same owner).
    DuplicateApp,
    /// Pin an app to the top of one's own listing.
    PinApp,
    /// See the organization's Account page.
    ViewOrg,
    /// Edit the organization's name and billing e-mail.
    UpdateOrg,
    /// Delete the organization.
    DeleteOrg,
    /// Leave the organization.
    LeaveOrg,
    /// See the Members screen: members, pending invitations.
    ViewMembers,
    /// Invite, resend, rescind, change roles, remove members.
    ManageMembers,
    /// See the Security page: the password policy and identity providers.
    ViewSecurity,
    /// Change the password policy, identity providers and sign-in requirements.
    ManageSecurity,
    /// See the Teams screen: teams, their members, grants and restrictions.
    ViewTeams,
    /// Create, rename, delete teams; add and remove their members; grant and
    /// revoke apps; set label restrictions.
    ManageTeams,
    /// Read an app's inputs, concepts, models and versions (follows reading the app).
    ReadContent,
    /// Upload, label and delete inputs; create and rename concepts.
    EditInputs,
    /// Create, edit, delete models and their versions; change a model's visibility.
    EditModels,
    /// Train a model (create a version).
    TrainModel,
    /// Predict with one of the app's models.
    Predict,
    /// Star a model one can read.
    StarModel,
    /// Open a public model of an app one cannot otherwise read.
    ReadPublicModel,
    /// Predict with a public model of an app one cannot otherwise read.
    PredictPublicModel,
}

impl Action {
    /// Every action, in the order of the README table's columns.
    pub const ALL: [Action; 18] = [
        Action::ListApps,
        Action::ReadPrivateApp,
        Action::ReadPublicApp,
        Action::CreateApp,
        Action::UpdateApp,
        Action::DeleteApp,
        Action::DuplicateApp,
        Action::PinApp,
        Action::ViewOrg,
        Action::UpdateOrg,
        Action::DeleteOrg,
        Action::LeaveOrg,
        Action::ViewMembers,
        Action::ManageMembers,
        Action::ViewSecurity,
        Action::ManageSecurity,
        Action::ViewTeams,
        Action::ManageTeams,
    ];

    /// The app-content actions, in the order of the README's content table.
    pub const CONTENT: [Action; 8] = [
        Action::ReadContent,
        Action::EditInputs,
        Action::EditModels,
        Action::TrainModel,
        Action::Predict,
        Action::StarModel,
        Action::ReadPublicModel,
        Action::PredictPublicModel,
    ];

    /// The README's name for the column.
    pub fn label(self) -> &'static str {
        match self {
            Action::ListApps => "list apps",
            Action::ReadPrivateApp => "read private app",
            Action::ReadPublicApp => "read public app",
            Action::CreateApp => "create app",
            Action::UpdateApp => "edit app",
            Action::DeleteApp => "delete app",
            Action::DuplicateApp => "duplicate app",
            Action::PinApp => "pin app",
            Action::ViewOrg => "view org account",
            Action::UpdateOrg => "edit org",
            Action::DeleteOrg => "delete org",
            Action::LeaveOrg => "leave org",
            Action::ViewMembers => "view members",
            Action::ManageMembers => "manage members",
            Action::ViewSecurity => "view security",
            Action::ManageSecurity => "manage security",
            Action::ViewTeams => "view teams",
            Action::ManageTeams => "manage teams",
            Action::ReadContent => "read inputs & models",
            Action::EditInputs => "edit inputs & concepts",
            Action::EditModels => "edit models",
            Action::TrainModel => "train model",
            Action::Predict => "predict",
            Action::StarModel => "star model",
            Action::ReadPublicModel => "read public model",
            Action::PredictPublicModel => "predict with public model",
        }
    }

    /// The PAT scope the action needs.
    pub fn scope(self) -> &'static str {
        match self {
            Action::ListApps | Action::ReadPrivateApp | Action::ReadPublicApp => "apps:read",
            Action::CreateApp
            | Action::UpdateApp
            | Action::DeleteApp
            | Action::DuplicateApp
            | Action::PinApp => "apps:write",
            Action::ViewOrg | Action::ViewMembers | Action::ViewSecurity | Action::ViewTeams => {
                "orgs:read"
            }
            Action::UpdateOrg
            | Action::DeleteOrg
            | Action::LeaveOrg
            | Action::ManageMembers
            | Action::ManageSecurity
            | Action::ManageTeams => "orgs:write",
            Action::ReadContent | Action::ReadPublicModel => "apps:read",
            Action::EditInputs => "inputs:write",
            Action::EditModels | Action::StarModel => "models:write",
            Action::TrainModel => "models:train",
            Action::Predict | Action::PredictPublicModel => "predict",
        }
    }

    pub(crate) fn is_org_action(self) -> bool {
        matches!(
            self,
            Action::ViewOrg
                | Action::UpdateOrg
                | Action::DeleteOrg
                | Action::LeaveOrg
                | Action::ViewMembers
                | Action::ManageMembers
                | Action::ViewSecurity
                | Action::ManageSecurity
                | Action::ViewTeams
                | Action::ManageTeams
        )
    }
}
