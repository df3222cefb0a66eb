//! `/v2` invitations: create (all or none, refused addresses named, rate
//! limited, failed mail reported on the invitation), list, get and cancel as the
//! organization's admins (11101 for everyone else), and accept / decline by id
//! for the account an invitation is bound to; with the audit rows written.

use serde_json::{json, Value};

use crate::api_members::{acme, api, role_of};
use crate::api_support::{token_with, Api, Reply};
use crate::support::invites::{audit_events, expire_invitations, membership, outbox_links};
use crate::support::smtp::closed_port;
use crate::support::TestApp;

/// The `id`s of `invitations[]`, in order.
fn invitation_ids(r: &Reply) -> Vec<String> {
    r.json["invitations"]
        .as_array()
        .unwrap_or_else(|| panic!("no invitations[] in {}", r.json))
        .iter()
        .map(|i| i["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn invite_body(list: &[(&str, &str)]) -> Value {
    json!({ "invitations": list
        .iter()
        .map(|(email, role)| json!({"invitee_email": email, "role": {"id": role}}))
        .collect::<Vec<_>>() })
}

#[test]
fn invitations_are_created_listed_read_and_cancelled() {
    let app = TestApp::start();
    acme(&app);
    let ann = api(&app, "ann");
    let base = "/v2/organizations/acme/invitations";

    let made = ann.post(
        base,
        invite_body(&[
            ("New.Person@Example.org", "org_user"),
            ("bob@example.com", "admin"),
        ]),
    );
    assert_eq!(made.code(), 10000, "{:?}", made.json);
    let invs = made.json["invitations"]
        .as_array()
        .expect("invitations")
        .clone();
    assert_eq!(invs.len(), 2);
    assert_eq!(invs[0]["invitee_email"], "new.person@example.org");
    assert_eq!(invs[0]["role"]["id"], "org_user");
    assert_eq!(invs[1]["role"]["id"], "admin");
    for i in &invs {
        assert_eq!(i["status"], "PENDING");
        assert_eq!(i["organization"]["id"], "acme");
        assert_eq!(i["inviter"]["id"], "ann");
        assert_eq!(i["delivery"]["state"], "sent", "{i}");
        assert!(i["expires_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    }
    // The mail went out, with a link that opens the invitation page.
    let links = outbox_links(&app, "new.person@example.org");
    assert_eq!(links.len(), 1);
    assert_eq!(app.client().get(&links[0]).status, 200);
    let trail: Vec<(String, String, String)> = audit_events(&app, "acme")
        .into_iter()
        .map(|e| (e.event_type, e.actor_label, e.source_ip))
        .collect();
    assert_eq!(
        trail,
        vec![
            (
                "invitation.create".to_owned(),
                "ann".to_owned(),
                "127.0.0.1".to_owned()
            );
            2
        ]
    );

    // Bad input: 11102 naming the entry; nothing created.
    let too_many: Vec<(String, &str)> = (0..51)
        .map(|i| (format!("p{i}@x.co"), "org_user"))
        .collect();
    let too_many: Vec<(&str, &str)> = too_many.iter().map(|(e, r)| (e.as_str(), *r)).collect();
    for (body, needle) in [
        (json!({}), "invitations"),
        (invite_body(&too_many), "at most 50"),
        (
            invite_body(&[("ok@x.co", "org_user"), ("not-an-email", "org_user")]),
            "invitations[1].invitee_email",
        ),
        (
            json!({"invitations": [{"invitee_email": "ok@x.co"}]}),
            "invitations[0].role.id",
        ),
        (
            invite_body(&[("ok@x.co", "owner")]),
            "invitations[0].role.id",
        ),
        (
            invite_body(&[("ok@x.co", "org_user"), ("OK@x.co", "admin")]),
            "listed twice",
        ),
    ] {
        let r = ann.post(base, body.clone());
        assert_eq!((r.http, r.code()), (400, 11102), "{body}: {:?}", r.json);
        assert!(r.details().contains(needle), "{body}: {}", r.details());
    }
    // Members and pending invitees are refused, and the whole batch with them.
    let refused = ann.post(
        base,
        invite_body(&[
            ("fresh@x.co", "org_user"),
            ("con@example.com", "org_user"),
            ("bob@example.com", "org_user"),
        ]),
    );
    assert_eq!(
        (refused.http, refused.code()),
        (409, 11102),
        "{:?}",
        refused.json
    );
    assert!(
        refused
            .details()
            .contains("invitations[1].invitee_email: con@example.com is already a member"),
        "{}",
        refused.details()
    );
    assert!(
        refused.details().contains(
            "invitations[2].invitee_email: bob@example.com already has a pending invitation"
        ),
        "{}",
        refused.details()
    );
    let listed = ann.get(base);
    assert_eq!(listed.code(), 10000);
    assert_eq!(listed.json["invitations"].as_array().map(Vec::len), Some(2));
    assert!(outbox_links(&app, "fresh@x.co").is_empty());

    // Only admins; scopes apply.
    for user in ["con", "usr", "fin", "tc", "stranger"] {
        let r = api(&app, user).post(base, invite_body(&[("x@x.co", "org_user")]));
        assert_eq!(r.code(), 11101, "{user}: {:?}", r.json);
    }
    let (_, read_only) = token_with(&app, "ann", &["orgs:read"], None);
    let ro = Api::new(&app, Some(&read_only));
    assert_eq!(ro.get(base).code(), 10000);
    assert_eq!(
        ro.post(base, invite_body(&[("x@x.co", "org_user")])).code(),
        11007
    );

    // Listing is newest first; one invitation reads by id.
    let ids = invitation_ids(&listed);
    let bob_id = invs[1]["id"].as_str().expect("id").to_owned();
    let new_id = invs[0]["id"].as_str().expect("id").to_owned();
    assert_eq!(
        {
            let mut sorted = ids.clone();
            sorted.sort();
            sorted
        },
        {
            let mut both = vec![bob_id.clone(), new_id.clone()];
            both.sort();
            both
        }
    );
    let one = ann.get(&format!("{base}/{new_id}"));
    assert_eq!(one.code(), 10000);
    assert_eq!(
        one.json["invitation"]["invitee_email"],
        "new.person@example.org"
    );
    assert_eq!(ann.get(&format!("{base}/nope")).code(), 11101);
    assert_eq!(
        api(&app, "con").get(&format!("{base}/{new_id}")).code(),
        11101
    );

    // Cancel: all or none; only pending ones.
    for (body, needle) in [
        (json!({}), "invitations"),
        (
            json!({"invitations": [{"status": "CANCELLED"}]}),
            "invitations[0].id",
        ),
        (
            json!({"invitations": [{"id": new_id, "status": "ACCEPTED"}]}),
            "invitations[0].status",
        ),
        (
            json!({"invitations": [{"id": new_id}, {"id": new_id}]}),
            "listed twice",
        ),
    ] {
        let r = ann.patch(base, body.clone());
        assert_eq!((r.http, r.code()), (400, 11102), "{body}: {:?}", r.json);
        assert!(r.details().contains(needle), "{body}: {}", r.details());
    }
    let unknown = ann.patch(
        base,
        json!({"invitations": [{"id": new_id, "status": "CANCELLED"}, {"id": "nope"}]}),
    );
    assert_eq!((unknown.http, unknown.code()), (404, 11101));
    assert_eq!(
        ann.get(&format!("{base}/{new_id}")).json["invitation"]["status"],
        "PENDING"
    );
    assert_eq!(
        api(&app, "con")
            .patch(base, json!({"invitations": [{"id": new_id}]}))
            .code(),
        11101
    );
    let cancelled = ann.patch(
        base,
        json!({"invitations": [{"id": new_id, "status": "CANCELLED"}], "action": "overwrite"}),
    );
    assert_eq!(cancelled.code(), 10000, "{:?}", cancelled.json);
    assert_eq!(cancelled.json["invitations"][0]["status"], "CANCELLED");
    assert_eq!(
        ann.get(&format!("{base}/{new_id}")).json["invitation"]["status"],
        "CANCELLED"
    );
    let event = audit_events(&app, "acme").pop().expect("an audit row");
    assert_eq!(
        (event.event_type.as_str(), event.target_id.as_str()),
        ("invitation.cancel", new_id.as_str())
    );
    let twice = ann.patch(base, json!({"invitations": [{"id": new_id}]}));
    assert_eq!((twice.http, twice.code()), (409, 11102));
    assert!(twice.details().contains("CANCELLED"), "{}", twice.details());
    // The cancelled link no longer opens.
    assert_eq!(app.client().get(&links[0]).status, 410);

    // Expired invitations read as EXPIRED.
    expire_invitations(&app, "acme");
    assert_eq!(
        ann.get(&format!("{base}/{bob_id}")).json["invitation"]["status"],
        "EXPIRED"
    );
}

#[test]
fn invitees_accept_and_decline_by_id() {
    let app = TestApp::start();
    acme(&app);
    app.signup("bob");
    app.org_with_admin("beta", "carl");
    app.signup("dora");
    let ann = api(&app, "ann");
    let base = "/v2/organizations/acme/invitations";
    let made = ann.post(
        base,
        invite_body(&[
            ("bob@example.com", "org_contributor"),
            ("carl@example.com", "org_user"),
            ("dora@example.com", "org_user"),
        ]),
    );
    assert_eq!(made.code(), 10000, "{:?}", made.json);
    let id_of = |i: usize| {
        made.json["invitations"][i]["id"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let (bob_id, carl_id, dora_id) = (id_of(0), id_of(1), id_of(2));

    // The invitee sees their own invitations, with the ids to answer.
    let bob = api(&app, "bob");
    let mine = bob.get("/v2/users/me/organization_invitations");
    assert_eq!(mine.code(), 10000, "{:?}", mine.json);
    assert_eq!(invitation_ids(&mine), vec![bob_id.as_str()]);
    assert_eq!(mine.json["invitations"][0]["organization"]["id"], "acme");
    assert!(mine.json["invitations"][0].get("delivery").is_none());
    assert_eq!(
        ann.get("/v2/users/bob/organization_invitations").code(),
        11101
    );

    // Nobody else can answer it: not the admin, not through another user's path.
    let accept = |who: &Api, user: &str, id: &str| {
        who.post(
            &format!("/v2/users/{user}/organization_invitation_accept/{id}"),
            json!({}),
        )
    };
    assert_eq!(accept(&ann, "me", &bob_id).code(), 11101);
    assert_eq!(accept(&ann, "bob", &bob_id).code(), 11101);
    assert_eq!(accept(&bob, "me", "nope").code(), 11101);
    let (_, read_only) = token_with(&app, "bob", &["orgs:read"], None);
    assert_eq!(
        accept(&Api::new(&app, Some(&read_only)), "me", &bob_id).code(),
        11007
    );
    assert_eq!(role_of(&app, "bob"), None);

    let joined = accept(&bob, "bob", &bob_id);
    assert_eq!(joined.code(), 10000, "{:?}", joined.json);
    assert_eq!(joined.json["organization"]["id"], "acme");
    assert_eq!(joined.json["role"]["id"], "org_contributor");
    assert_eq!(role_of(&app, "bob").as_deref(), Some("org_contributor"));
    let event = audit_events(&app, "acme").pop().expect("an audit row");
    assert_eq!(
        (
            event.event_type.as_str(),
            event.actor_label.as_str(),
            event.source_ip.as_str()
        ),
        ("invitation.accept", "bob", "127.0.0.1")
    );
    let twice = accept(&bob, "me", &bob_id);
    assert_eq!((twice.http, twice.code()), (409, 11102));
    assert!(twice.details().contains("ACCEPTED"), "{}", twice.details());
    assert_eq!(
        ann.get(&format!("{base}/{bob_id}")).json["invitation"]["status"],
        "ACCEPTED"
    );

    // Someone in another organization: told to leave first; nothing changes.
    let carl = api(&app, "carl");
    let busy = accept(&carl, "me", &carl_id);
    assert_eq!((busy.http, busy.code()), (409, 11102), "{:?}", busy.json);
    assert!(busy.details().contains("beta inc"), "{}", busy.details());
    assert!(
        busy.details().contains("leave it first"),
        "{}",
        busy.details()
    );
    assert_eq!(
        membership(&app, "carl"),
        Some(("beta".to_owned(), "admin".to_owned()))
    );
    assert_eq!(
        ann.get(&format!("{base}/{carl_id}")).json["invitation"]["status"],
        "PENDING"
    );
    let declined = carl.post(
        &format!("/v2/users/me/organization_invitation_decline/{carl_id}"),
        json!({}),
    );
    assert_eq!(declined.code(), 10000, "{:?}", declined.json);
    assert_eq!(
        ann.get(&format!("{base}/{carl_id}")).json["invitation"]["status"],
        "DECLINED"
    );
    let event = audit_events(&app, "acme").pop().expect("an audit row");
    assert_eq!(event.event_type, "invitation.decline");
    assert_eq!(
        membership(&app, "carl"),
        Some(("beta".to_owned(), "admin".to_owned()))
    );

    // Expired: a clear refusal.
    expire_invitations(&app, "acme");
    let dora = api(&app, "dora");
    let late = accept(&dora, "me", &dora_id);
    assert_eq!((late.http, late.code()), (410, 11102), "{:?}", late.json);
    assert!(late.details().contains("expired"), "{}", late.details());
    assert_eq!(role_of(&app, "dora"), None);
    assert_eq!(
        dora.get("/v2/users/me/organization_invitations").json["invitations"],
        json!([])
    );
}

#[test]
fn invitations_are_rate_limited_and_failed_mail_is_reported() {
    let app = TestApp::start_with(|c| {
        c.invite_rate_limit = 3;
        c.smtp_url = Some(format!("smtp://127.0.0.1:{}", closed_port()));
        c.smtp_timeout_secs = 2;
    });
    app.org_with_admin("acme", "ann");
    let ann = api(&app, "ann");
    let base = "/v2/organizations/acme/invitations";

    // The SMTP server is down: the invitations exist and say why no mail went out.
    let made = ann.post(
        base,
        invite_body(&[("a@x.co", "org_user"), ("b@x.co", "admin")]),
    );
    assert_eq!(made.code(), 10000, "{:?}", made.json);
    for i in made.json["invitations"].as_array().expect("invitations") {
        assert_eq!(i["delivery"]["state"], "failed", "{i}");
        assert!(
            i["delivery"]["error"]
                .as_str()
                .is_some_and(|e| !e.is_empty()),
            "{i}"
        );
    }
    let listed = ann.get(base);
    for i in listed.json["invitations"].as_array().expect("invitations") {
        assert_eq!(i["delivery"]["state"], "failed", "{i}");
    }

    // Two more would pass the hourly allowance of 3: refused whole.
    let limited = ann.post(
        base,
        invite_body(&[("c@x.co", "org_user"), ("d@x.co", "org_contributor")]),
    );
    assert_eq!(
        (limited.http, limited.code()),
        (429, 11005),
        "{:?}",
        limited.json
    );
    assert!(
        limited.details().contains("1 remain"),
        "{}",
        limited.details()
    );
    assert_eq!(invitation_ids(&ann.get(base)).len(), 2);
    assert_eq!(
        ann.post(base, invite_body(&[("c@x.co", "org_user")]))
            .code(),
        10000
    );
}
