//! `/v2` organizations and members: every endpoint, as each role (non-admins get
//! the does-not-exist code), the last-admin refusals, scopes, bad input (nothing
//! half-written), the audit rows the API writes, and a member listing whose
//! query count does not grow with the members. Invitations: `api_invitations.rs`.

use serde_json::json;

use crate::api_support::{token, token_with, Api, Reply};
use crate::support::invites::{audit_events, membership};
use crate::support::TestApp;

/// `acme` with admin `ann` and one member of every other role, plus `stranger`.
pub(crate) fn acme(app: &TestApp) {
    app.org_with_admin("acme", "ann");
    for (user, role) in [
        ("con", "org_contributor"),
        ("usr", "org_user"),
        ("fin", "financial_manager"),
        ("tc", "team_contributor"),
    ] {
        app.signup(user);
        app.add_member("acme", user, role);
    }
    app.signup("stranger");
}

pub(crate) fn api(app: &TestApp, user: &str) -> Api {
    Api::new(app, Some(&token(app, user)))
}

/// The `user.id`s of `organization_members[]`, in order.
fn member_ids(r: &Reply) -> Vec<String> {
    r.json["organization_members"]
        .as_array()
        .unwrap_or_else(|| panic!("no organization_members[] in {}", r.json))
        .iter()
        .map(|m| m["user"]["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// `user`'s role, if they are in an organization.
pub(crate) fn role_of(app: &TestApp, user: &str) -> Option<String> {
    membership(app, user).map(|(_, role)| role)
}

#[test]
fn an_organization_is_read_edited_and_deleted_by_its_admins() {
    let app = TestApp::start();
    acme(&app);
    let ann = api(&app, "ann");

    let got = ann.get("/v2/organizations/acme");
    assert_eq!(got.code(), 10000, "{:?}", got.json);
    assert_eq!(got.json["organization"]["id"], "acme");
    assert_eq!(got.json["organization"]["name"], "acme inc");
    assert_eq!(
        got.json["organization"]["billing_email"],
        "billing@acme.com"
    );
    // Every member may read it; outsiders cannot tell it from a missing one.
    for member in ["con", "usr", "fin", "tc"] {
        assert_eq!(
            api(&app, member).get("/v2/organizations/acme").code(),
            10000
        );
    }
    let stranger = api(&app, "stranger");
    let hidden = stranger.get("/v2/organizations/acme");
    let missing = stranger.get("/v2/organizations/nope");
    assert_eq!((hidden.http, hidden.code()), (404, 11101));
    assert_eq!(
        hidden.details().replace("acme", "X"),
        missing.details().replace("nope", "X")
    );
    // A user's handle is not an organization.
    assert_eq!(ann.get("/v2/organizations/ann").code(), 11101);

    // Bad input: a clear 11102 naming the field, nothing saved.
    for (body, needle) in [
        (json!({}), "organization"),
        (
            json!({"organization": {"billing_email": "nope"}}),
            "organization.billing_email",
        ),
        (
            json!({"organization": {"name": "n".repeat(101)}}),
            "organization.name",
        ),
        (
            json!({"organization": {"id": "other", "name": "X"}}),
            "organization.id",
        ),
        (
            json!({"organization": {"name": "X"}, "action": "remove"}),
            "remove",
        ),
        (
            json!({"organization": {"name": "X"}, "action": "explode"}),
            "action",
        ),
    ] {
        let r = ann.patch("/v2/organizations/acme", body.clone());
        assert_eq!((r.http, r.code()), (400, 11102), "{body}: {:?}", r.json);
        assert!(r.details().contains(needle), "{body}: {}", r.details());
    }
    assert_eq!(
        ann.get("/v2/organizations/acme").json["organization"]["name"],
        "acme inc"
    );

    let patched = ann.patch(
        "/v2/organizations/acme",
        json!({"organization": {"name": "Acme <Renamed> ü", "ignored": 1}, "action": "merge"}),
    );
    assert_eq!(patched.code(), 10000, "{:?}", patched.json);
    assert_eq!(patched.json["organization"]["name"], "Acme <Renamed> ü");
    assert_eq!(
        patched.json["organization"]["billing_email"],
        "billing@acme.com"
    );

    // Contributors may not edit or delete (403 with the reason); outsiders get 11101.
    let con = api(&app, "con");
    let refused = con.patch(
        "/v2/organizations/acme",
        json!({"organization": {"name": "Mine"}}),
    );
    assert_eq!((refused.http, refused.code()), (403, 11007));
    assert!(
        refused.details().contains("admins"),
        "{}",
        refused.details()
    );
    assert_eq!(con.delete("/v2/organizations/acme").code(), 11007);
    assert_eq!(stranger.delete("/v2/organizations/acme").code(), 11101);
    // Scopes: orgs:read reads, but does not write.
    let (_, read_only) = token_with(&app, "ann", &["orgs:read"], None);
    let ro = Api::new(&app, Some(&read_only));
    assert_eq!(ro.get("/v2/organizations/acme").code(), 10000);
    assert_eq!(
        ro.patch(
            "/v2/organizations/acme",
            json!({"organization": {"name": "X"}})
        )
        .code(),
        11007
    );
    assert_eq!(ro.delete("/v2/organizations/acme").code(), 11007);
    let (_, apps_only) = token_with(&app, "ann", &["apps:read"], None);
    assert_eq!(
        Api::new(&app, Some(&apps_only))
            .get("/v2/organizations/acme")
            .code(),
        11007
    );

    let deleted = ann.delete("/v2/organizations/acme");
    assert_eq!(deleted.code(), 10000, "{:?}", deleted.json);
    assert_eq!(ann.get("/v2/organizations/acme").code(), 11101);
    assert_eq!(role_of(&app, "con"), None);
    assert_eq!(
        ann.get("/v2/users/me/organizations").json["organizations"],
        json!([])
    );
}

#[test]
fn only_admins_list_members_and_the_list_pages_and_searches() {
    let app = TestApp::start();
    acme(&app);
    let ann = api(&app, "ann");

    let all = ann.get("/v2/organizations/acme/members");
    assert_eq!(all.code(), 10000, "{:?}", all.json);
    assert_eq!(member_ids(&all), ["ann", "con", "fin", "tc", "usr"]);
    let first = &all.json["organization_members"][0];
    assert_eq!(first["user"]["primary_email"], "ann@example.com");
    assert_eq!(first["role"], json!({"id": "admin", "name": "Admin"}));
    assert!(first["created_at"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));

    let page2 = ann.get("/v2/organizations/acme/members?page=2&per_page=2");
    assert_eq!(member_ids(&page2), ["fin", "tc"]);
    let searched = ann.get("/v2/organizations/acme/members?search=FIN%40EXAMPLE");
    assert_eq!(member_ids(&searched), ["fin"]);
    let none = ann.get("/v2/organizations/acme/members?search=%25");
    assert_eq!(member_ids(&none), Vec::<String>::new());

    for (query, needle) in [
        ("per_page=1001", "per_page"),
        ("per_page=abc", "per_page"),
        ("page=-1", "page"),
        (&*format!("search={}", "x".repeat(101)), "search"),
    ] {
        let r = ann.get(&format!("/v2/organizations/acme/members?{query}"));
        assert_eq!((r.http, r.code()), (400, 11102), "{query}: {:?}", r.json);
        assert!(r.details().contains(needle), "{query}: {}", r.details());
    }

    // Every other role, and outsiders, get the does-not-exist code.
    for user in ["con", "usr", "fin", "tc", "stranger"] {
        let r = api(&app, user).get("/v2/organizations/acme/members");
        assert_eq!((r.http, r.code()), (404, 11101), "{user}: {:?}", r.json);
        let r = api(&app, user).get("/v2/organizations/acme/invitations");
        assert_eq!((r.http, r.code()), (404, 11101), "{user}: {:?}", r.json);
    }
    let (_, apps_only) = token_with(&app, "ann", &["apps:read", "orgs:write"], None);
    assert_eq!(
        Api::new(&app, Some(&apps_only))
            .get("/v2/organizations/acme/members")
            .code(),
        11007
    );
    assert_eq!(
        Api::new(&app, None)
            .get("/v2/organizations/acme/members")
            .code(),
        11008
    );
}

#[test]
fn roles_change_all_or_nothing_and_the_last_admin_stays() {
    let app = TestApp::start();
    acme(&app);
    let ann = api(&app, "ann");

    let changed = ann.patch(
        "/v2/organizations/acme/members",
        json!({"organization_members": [{"id": "usr", "role_id": "org_contributor"}], "action": "overwrite"}),
    );
    assert_eq!(changed.code(), 10000, "{:?}", changed.json);
    assert_eq!(
        changed.json["organization_members"][0]["role"]["id"],
        "org_contributor"
    );
    assert_eq!(
        changed.json["organization_members"][0]["previous_role"]["id"],
        "org_user"
    );
    assert_eq!(role_of(&app, "usr").as_deref(), Some("org_contributor"));
    let event = audit_events(&app, "acme").pop().expect("an audit row");
    assert_eq!(event.event_type, "member.role_change");
    assert_eq!(event.actor_label, "ann");
    assert_eq!(event.target_label, "usr");
    assert_eq!(event.source_ip, "127.0.0.1");
    assert_eq!(event.details_json()["to"], "org_contributor");

    // Bad input names the entry; nothing changes, not even the valid entries.
    for (body, needle) in [
        (json!({}), "organization_members"),
        (json!({"organization_members": []}), "organization_members"),
        (
            json!({"organization_members": [{"role_id": "admin"}]}),
            "organization_members[0].id",
        ),
        (
            json!({"organization_members": [{"id": "con"}]}),
            "organization_members[0].role_id",
        ),
        (
            json!({"organization_members": [{"id": "con", "role_id": "org_user"}, {"id": "fin", "role_id": "owner"}]}),
            "organization_members[1].role_id",
        ),
        (
            json!({"organization_members": [{"id": "con", "role_id": "org_user"}, {"id": "con", "role_id": "admin"}]}),
            "listed twice",
        ),
        (
            json!({"organization_members": [{"id": "con", "role_id": "org_user"}], "action": "remove"}),
            "DELETE",
        ),
    ] {
        let r = ann.patch("/v2/organizations/acme/members", body.clone());
        assert_eq!((r.http, r.code()), (400, 11102), "{body}: {:?}", r.json);
        assert!(r.details().contains(needle), "{body}: {}", r.details());
    }
    let unknown = ann.patch(
        "/v2/organizations/acme/members",
        json!({"organization_members": [{"id": "con", "role_id": "org_user"}, {"id": "stranger", "role": {"id": "admin"}}]}),
    );
    assert_eq!((unknown.http, unknown.code()), (404, 11101));
    assert!(unknown.details().contains("organization_members[1]"));
    assert_eq!(role_of(&app, "con").as_deref(), Some("org_contributor"));
    assert_eq!(role_of(&app, "stranger"), None);

    // The only admin cannot be demoted, and nothing of the batch is written.
    let last = ann.patch(
        "/v2/organizations/acme/members",
        json!({"organization_members": [{"id": "fin", "role_id": "org_user"}, {"id": "me", "role_id": "org_user"}]}),
    );
    assert_eq!((last.http, last.code()), (409, 11102), "{:?}", last.json);
    assert!(last.details().contains("only admin"), "{}", last.details());
    assert_eq!(role_of(&app, "ann").as_deref(), Some("admin"));
    assert_eq!(role_of(&app, "fin").as_deref(), Some("financial_manager"));

    // One request can hand over: the promotion is applied first.
    let handover = ann.patch(
        "/v2/organizations/acme/members",
        json!({"organization_members": [{"id": "ann", "role_id": "org_user"}, {"id": "con", "role_id": "ADMIN"}]}),
    );
    assert_eq!(handover.code(), 10000, "{:?}", handover.json);
    assert_eq!(member_ids(&handover), ["ann", "con"]);
    assert_eq!(role_of(&app, "ann").as_deref(), Some("org_user"));
    assert_eq!(role_of(&app, "con").as_deref(), Some("admin"));
    // ann is no longer an admin: the members do not exist for her any more.
    assert_eq!(ann.get("/v2/organizations/acme/members").code(), 11101);
    assert_eq!(
        ann.patch(
            "/v2/organizations/acme/members",
            json!({"organization_members": [{"id": "ann", "role_id": "admin"}]})
        )
        .code(),
        11101
    );
    // Scopes: orgs:read lists but does not change.
    let (_, read_only) = token_with(&app, "con", &["orgs:read"], None);
    let ro = Api::new(&app, Some(&read_only));
    assert_eq!(ro.get("/v2/organizations/acme/members").code(), 10000);
    let r = ro.patch(
        "/v2/organizations/acme/members",
        json!({"organization_members": [{"id": "usr", "role_id": "org_user"}]}),
    );
    assert_eq!((r.http, r.code()), (403, 11007));
    assert_eq!(
        ro.delete("/v2/organizations/acme/members/usr").code(),
        11007
    );
}

#[test]
fn members_are_removed_and_leave() {
    let app = TestApp::start();
    acme(&app);
    app.create_app(&app.signup("maker"), "maker", "own-app", "Own");
    app.add_member("acme", "maker", "org_contributor");
    let ann = api(&app, "ann");
    let fin = api(&app, "fin");
    assert_eq!(fin.get("/v2/organizations/acme").code(), 10000);

    let removed = ann.delete("/v2/organizations/acme/members/fin");
    assert_eq!(removed.code(), 10000, "{:?}", removed.json);
    assert_eq!(role_of(&app, "fin"), None);
    let event = audit_events(&app, "acme").pop().expect("an audit row");
    assert_eq!(
        (event.event_type.as_str(), event.target_label.as_str()),
        ("member.remove", "fin")
    );
    assert_eq!(event.source_ip, "127.0.0.1");
    // The removed member's very next request no longer reaches the org.
    assert_eq!(fin.get("/v2/organizations/acme").code(), 11101);
    assert_eq!(
        fin.get("/v2/users/me/organizations").json["organizations"],
        json!([])
    );
    // A removed member keeps their personal apps.
    let maker = api(&app, "maker");
    assert_eq!(
        ann.delete("/v2/organizations/acme/members/maker").code(),
        10000
    );
    assert_eq!(maker.get("/v2/users/maker/apps/own-app").code(), 10000);

    let again = ann.delete("/v2/organizations/acme/members/fin");
    assert_eq!((again.http, again.code()), (404, 11101));
    let myself = ann.delete("/v2/organizations/acme/members/me");
    assert_eq!((myself.http, myself.code()), (409, 11102));
    assert!(myself.details().contains("leave"), "{}", myself.details());
    for user in ["con", "usr", "tc", "stranger"] {
        let r = api(&app, user).delete("/v2/organizations/acme/members/tc");
        assert_eq!(r.code(), 11101, "{user}: {:?}", r.json);
    }
    assert_eq!(role_of(&app, "tc").as_deref(), Some("team_contributor"));

    // Leaving: any member; not the last admin; not outsiders.
    let usr = api(&app, "usr");
    let left = usr.delete("/v2/organizations/acme/leave");
    assert_eq!(left.code(), 10000, "{:?}", left.json);
    assert_eq!(role_of(&app, "usr"), None);
    let event = audit_events(&app, "acme").pop().expect("an audit row");
    assert_eq!(
        (event.event_type.as_str(), event.actor_label.as_str()),
        ("member.leave", "usr")
    );
    assert_eq!(usr.delete("/v2/organizations/acme/leave").code(), 11101);
    assert_eq!(
        api(&app, "stranger")
            .delete("/v2/organizations/acme/leave")
            .code(),
        11101
    );
    let (_, read_only) = token_with(&app, "tc", &["orgs:read"], None);
    assert_eq!(
        Api::new(&app, Some(&read_only))
            .delete("/v2/organizations/acme/leave")
            .code(),
        11007
    );
    let last = ann.delete("/v2/organizations/acme/leave");
    assert_eq!((last.http, last.code()), (409, 11102));
    assert!(last.details().contains("only admin"), "{}", last.details());
    assert_eq!(role_of(&app, "ann").as_deref(), Some("admin"));
}

#[test]
fn listing_every_member_costs_the_same_queries_whatever_their_number() {
    use atrium::models::user::{NewUser, User};
    let app = TestApp::start();
    let web = app.org_with_admin("big", "boss");
    let boss = api(&app, "boss");
    // The Members screen too (page 1, and searched): the same statements with 1
    // member and with 61, in handle order from the (org_id, member_handle) index.
    let screen = |path: &str| {
        web.get(path); // warm
        let before = app.queries();
        let page = web.get(path);
        assert_eq!(page.status, 200, "{}", page.body);
        (app.queries() - before, page)
    };
    let (screen_small, _) = screen("/big/account/members");
    let (search_small, _) = screen("/big/account/members?q=m05");
    let path = "/v2/organizations/big/members?per_page=1000";
    let measure = || {
        boss.get(path); // warm
        let before = app.queries();
        let r = boss.get(path);
        assert_eq!(r.code(), 10000);
        (app.queries() - before, member_ids(&r).len())
    };
    let (small, n) = measure();
    assert_eq!(n, 1);
    assert!(small > 0, "the pool counts statements");
    {
        let mut conn = app.state.pool.get().expect("conn");
        for i in 0..60 {
            let handle = format!("m{i:03}");
            User::create(
                &mut conn,
                NewUser {
                    handle: &handle,
                    email: &format!("{handle}@example.com"),
                    name: "",
                    password_hash: "not-a-real-hash",
                },
            )
            .expect("user");
        }
    }
    for i in 0..60 {
        app.add_member("big", &format!("m{i:03}"), "org_user");
    }
    let (large, n) = measure();
    assert_eq!(n, 61);
    assert_eq!(
        small, large,
        "queries per listing: {small} with 1 member, {large} with 61"
    );
    let (screen_large, page) = screen("/big/account/members");
    assert_eq!(screen_small, screen_large, "Members page statements grew");
    let shown = page.attrs("tr[data-member]", "data-member");
    let mut expected = vec!["boss".to_owned()];
    expected.extend((0..49).map(|i| format!("m{i:03}")));
    assert_eq!(shown, expected, "page 1: 50 members by handle");
    assert!(page.has("a[rel=next]"));
    let (search_large, found) = screen("/big/account/members?q=m05");
    assert_eq!(
        search_small, search_large,
        "searched Members page statements grew"
    );
    assert_eq!(found.count("tr[data-member]"), 10, "m050..m059");
}
