//! Account → Teams and a team's page through the forms: create (with its
//! validation), search, Add Members (org members only, all or nothing), grants
//! with team roles, label restrictions, delete; what a Team Contributor then
//! sees and may do (next request), and the audit trail.

use crate::support::invites::audit_events;
use crate::support::teams::{add_to_team, create_team, grant, label_app, restrict};
use crate::support::{Client, TestApp};

/// acme (admin boss) with five private apps a1..a5 and a Team Contributor `tc`.
fn world() -> (TestApp, Client, Client) {
    let app = TestApp::start();
    let boss = app.org_with_admin("acme", "boss");
    for i in 1..=5 {
        app.create_app(&boss, "acme", &format!("a{i}"), &format!("App {i}"));
    }
    let tc = app.signup("tc");
    app.add_member("acme", "tc", "team_contributor");
    (app, boss, tc)
}

#[test]
fn create_search_validate_and_delete_teams() {
    let (app, boss, tc) = world();
    let list = boss.get("/acme/account/teams");
    assert_eq!(list.status, 200);
    assert!(list.has("[data-testid=no-teams]"));
    assert!(list.has("[data-testid=nav-teams]"));
    assert!(boss.get("/acme/account/teams/new").has("#team-form"));

    // Bad input: 422 with the message next to the field, typed values kept.
    let bad = boss.post_form(
        "/acme/account/teams",
        &[
            ("id", "no spaces"),
            ("name", "Kept"),
            ("default_role", "full_access"),
        ],
    );
    assert_eq!(bad.status, 422);
    assert!(bad.has("[data-field=id]"));
    assert_eq!(bad.attr("#team-name", "value"), "Kept");
    let bad = boss.post_form(
        "/acme/account/teams",
        &[("id", "x"), ("default_role", "owner")],
    );
    assert_eq!(bad.status, 422);
    assert!(bad.has("[data-field=default_role]"));

    create_team(&boss, "acme", "labelers", "labeler_worker");
    create_team(&boss, "acme", "trainers", "model_trainer");
    let dup = boss.post_form(
        "/acme/account/teams",
        &[("id", "labelers"), ("default_role", "full_access")],
    );
    assert_eq!(dup.status, 422);
    assert!(dup.text("[data-field=id]").contains("Another team"));

    let list = boss.get("/acme/account/teams");
    assert_eq!(
        list.attrs("tr[data-team]", "data-team"),
        ["labelers", "trainers"]
    );
    let found = boss.htmx_get("/acme/account/teams?q=TRAIN", Some("team-results"));
    assert_eq!(found.attrs("tr[data-team]", "data-team"), ["trainers"]);
    assert!(!found.has("#team-search"), "htmx gets the results only");

    // Rename and default role.
    let r = boss.post_form(
        "/acme/account/teams/trainers",
        &[("name", "Model people"), ("default_role", "full_access")],
    );
    assert_eq!(r.status, 303);
    let page = boss.get("/acme/account/teams/trainers");
    assert_eq!(page.text("#team-name"), "Model people");

    // Who else may see teams: Organization Contributors yes, the rest not at all.
    let oc = app.signup("oc");
    app.add_member("acme", "oc", "org_contributor");
    assert_eq!(oc.get("/acme/account/teams").status, 200);
    create_team(&oc, "acme", "by-oc", "labeler_lead");
    assert_eq!(tc.get("/acme/account/teams").status, 404);
    assert_eq!(tc.get("/acme/account/teams/labelers").status, 404);
    let r = tc.post_form(
        "/acme/account/teams",
        &[("id", "sneaky"), ("default_role", "full_access")],
    );
    assert_eq!(r.status, 404);
    assert!(!tc.get("/acme/account").has("[data-testid=nav-teams]"));

    let r = boss.post_form("/acme/account/teams/labelers/delete", &[]);
    assert_eq!(r.status, 303);
    assert_eq!(boss.get("/acme/account/teams/labelers").status, 404);
    assert_eq!(
        boss.get("/acme/account/teams")
            .attrs("tr[data-team]", "data-team"),
        ["by-oc", "trainers"]
    );
}

#[test]
fn only_org_members_join_and_grants_decide_what_a_team_contributor_sees() {
    let (app, boss, tc) = world();
    let outsider = app.signup("outsider");
    create_team(&boss, "acme", "crew", "labeler_worker");

    // The dialog lists the org's members only.
    let dialog = boss.get("/acme/account/teams/crew/members/add?q=");
    let offered = dialog.attrs("[data-candidate]", "data-candidate");
    assert!(offered.contains(&"tc".to_owned()), "{offered:?}");
    assert!(!offered.contains(&"outsider".to_owned()));
    let searched = boss.htmx_get(
        "/acme/account/teams/crew/members/add?q=outs",
        Some("member-candidates"),
    );
    assert!(searched.has("[data-testid=no-candidates]"));

    // Anyone outside the org refuses the whole request, with a clear message.
    let r = boss.post_form(
        "/acme/account/teams/crew/members/add",
        &[("member", "tc"), ("member", "outsider")],
    );
    assert_eq!(r.status, 422);
    assert!(r
        .text("#add-members-error")
        .contains("outsider is not a member"));
    assert!(boss
        .get("/acme/account/teams/crew")
        .has("[data-testid=no-team-members]"));
    add_to_team(&boss, "acme", "crew", &["tc"]);
    assert_eq!(
        boss.get("/acme/account/teams/crew")
            .attrs("tr[data-member]", "data-member"),
        ["tc"]
    );

    // Without grants: only public apps (none here).
    assert!(tc.get("/acme/apps").app_ids().is_empty());
    grant(&boss, "acme", "crew", "a2", "default");
    grant(&boss, "acme", "crew", "a4", "model_trainer");
    let mut seen = tc.get("/acme/apps").app_ids();
    seen.sort();
    assert_eq!(seen, ["a2", "a4"]);
    assert_eq!(tc.get("/acme/a2").status, 200);
    assert_eq!(tc.get("/acme/a1").status, 404, "guessing an ungranted app");
    assert_eq!(tc.get("/acme/a1/inputs").status, 404);

    // Only the org's own apps can be granted.
    app.create_app(&outsider, "outsider", "mine", "Mine");
    let r = boss.post_form(
        "/acme/account/teams/crew/apps",
        &[("app", "mine"), ("role", "full_access")],
    );
    assert_eq!(r.status, 422);
    assert!(r
        .text("[data-field=app]")
        .contains("only the organization's own apps"));
    assert_eq!(r.attr("#grant-app", "value"), "mine");

    // Team roles inside the app: a Labeler Worker (the default) creates concepts
    // but does not edit the app; a Model Trainer does not label.
    let r = tc.post_form("/acme/a2/concepts", &[("id", "cat")]);
    assert_eq!(r.status, 303, "{}", r.body);
    let r = tc.post_form(
        "/acme/a2",
        &[("name", "Renamed"), ("visibility", "private")],
    );
    assert_eq!(r.status, 403);
    assert_eq!(
        tc.post_form("/acme/a4/concepts", &[("id", "dog")]).status,
        403
    );
    // Changing the team's default role changes the default grants at once.
    let r = boss.post_form(
        "/acme/account/teams/crew",
        &[("name", "crew"), ("default_role", "full_access")],
    );
    assert_eq!(r.status, 303);
    let r = tc.post_form(
        "/acme/a2",
        &[("name", "Renamed"), ("visibility", "private")],
    );
    assert_eq!(r.status, 303);
    // Full Access still neither deletes nor duplicates apps.
    let r = tc.post_form("/acme/a2/delete", &[("confirm", "a2")]);
    assert_eq!(r.status, 403);

    // Revoking and removing take effect on the next request.
    let r = boss.post_form("/acme/account/teams/crew/apps/a4/revoke", &[]);
    assert_eq!(r.status, 303);
    assert_eq!(tc.get("/acme/a4").status, 404);
    assert_eq!(tc.get("/acme/apps").app_ids(), ["a2"]);
    let r = boss.post_form("/acme/account/teams/crew/members/tc/remove", &[]);
    assert_eq!(r.status, 303);
    assert_eq!(tc.get("/acme/a2").status, 404);
    assert!(tc.get("/acme/apps").app_ids().is_empty());
}

#[test]
fn a_label_restriction_beats_grants_and_org_roles_but_not_admins() {
    let (app, boss, tc) = world();
    let oc = app.signup("oc");
    app.add_member("acme", "oc", "org_contributor");
    let admin2 = app.signup("admin2");
    app.add_member("acme", "admin2", "admin");
    create_team(&boss, "acme", "open", "full_access");
    create_team(&boss, "acme", "siloed", "full_access");
    add_to_team(&boss, "acme", "open", &["tc"]);
    add_to_team(&boss, "acme", "siloed", &["tc", "oc", "admin2"]);
    grant(&boss, "acme", "open", "a1", "full_access");
    grant(&boss, "acme", "open", "a2", "full_access");
    label_app(&boss, "acme", "a2", "HIPAA, gdpr");

    // Bad labels: message next to the field, typed value kept.
    let r = boss.post_form(
        "/acme/account/teams/siloed/restriction",
        &[("labels", "hip%aa")],
    );
    assert_eq!(r.status, 422);
    assert_eq!(r.attr("#restriction-labels", "value"), "hip%aa");
    let r = boss.post_form("/acme/a1/settings/labels", &[("labels", "no way!")]);
    assert_eq!(r.status, 422);
    assert!(r.has("[data-field=labels]"));

    restrict(&boss, "acme", "siloed", "hipaa");
    let page = boss.get("/acme/account/teams/siloed");
    assert!(page
        .text("#restriction-statement")
        .contains("can only reach apps labelled hipaa"));

    // The grant through the unrestricted team does not help: a1 lacks hipaa.
    assert_eq!(tc.get("/acme/apps").app_ids(), ["a2"]);
    assert_eq!(tc.get("/acme/a1").status, 404);
    assert_eq!(tc.get("/acme/a2").status, 200);
    // The org role does not help either.
    assert_eq!(oc.get("/acme/apps").app_ids(), ["a2"]);
    assert_eq!(oc.get("/acme/a3").status, 404);
    assert_eq!(oc.get("/acme/a3/inputs").status, 404);
    // Public apps lacking the label are out of reach too.
    let r = boss.post_form("/acme/a3", &[("name", "a3"), ("visibility", "public")]);
    assert_eq!(r.status, 303);
    assert_eq!(oc.get("/acme/a3").status, 404);
    // Admins are exempt.
    assert_eq!(admin2.get("/acme/apps").app_ids().len(), 5);
    assert_eq!(admin2.get("/acme/a1").status, 200);
    // The app list shows labels.
    let list = boss.get("/acme/apps");
    assert_eq!(
        list.attrs("li[data-app-id=a2] [data-label]", "data-label"),
        ["gdpr", "hipaa"]
    );

    // Lifting the restriction gives the grants back on the next request.
    restrict(&boss, "acme", "siloed", "");
    let mut seen = tc.get("/acme/apps").app_ids();
    seen.sort();
    assert_eq!(seen, ["a1", "a2", "a3"]);
}

#[test]
fn dependent_rows_go_with_members_apps_and_teams_and_everything_is_audited() {
    let (app, boss, tc) = world();
    let leaver = app.signup("leaver");
    app.add_member("acme", "leaver", "org_user");
    create_team(&boss, "acme", "crew", "labeler_lead");
    add_to_team(&boss, "acme", "crew", &["tc", "leaver"]);
    grant(&boss, "acme", "crew", "a1", "default");
    grant(&boss, "acme", "crew", "a1", "model_trainer");
    grant(&boss, "acme", "crew", "a2", "default");
    restrict(&boss, "acme", "crew", "gdpr");
    let r = boss.post_form("/acme/a2/delete", &[("confirm", "a2")]);
    assert_eq!(r.status, 303);
    let page = boss.get("/acme/account/teams/crew");
    assert_eq!(page.attrs("tr[data-app]", "data-app"), ["a1"]);
    assert_eq!(page.attr("tr[data-app=a1]", "data-role"), "model_trainer");

    // Leaving the org, or being removed from it, takes one out of its teams.
    let r = leaver.post_form("/acme/account/leave", &[]);
    assert_eq!(r.status, 303, "{}", r.body);
    let r = boss.post_form("/acme/account/members/tc/remove", &[]);
    assert_eq!(r.status, 303);
    assert!(boss
        .get("/acme/account/teams/crew")
        .has("[data-testid=no-team-members]"));
    drop(tc);
    let r = boss.post_form("/acme/account/teams/crew/delete", &[]);
    assert_eq!(r.status, 303);

    let kinds: Vec<String> = audit_events(&app, "acme")
        .into_iter()
        .map(|e| e.event_type)
        .filter(|k| k.starts_with("team.") || k.starts_with("app."))
        .collect();
    assert_eq!(
        kinds,
        [
            "team.create",
            "team.member_add",
            "team.member_add",
            "team.app_add",
            "team.app_add",
            "team.app_add",
            "team.update",
            "team.member_remove",
            "team.member_remove",
            "team.delete",
        ]
    );
    label_app(&boss, "acme", "a1", "pci");
    let last = audit_events(&app, "acme").pop().expect("event");
    assert_eq!(last.event_type, "app.labels_update");
    assert_eq!(last.actor_label, "boss");
    assert_eq!(last.target_label, "acme/a1");
}
