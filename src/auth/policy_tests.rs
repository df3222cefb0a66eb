//! Unit tests of the policy module (kept apart so `policy.rs` stays readable).

use super::*;

#[test]
fn role_ids_round_trip() {
    for r in Role::ALL {
        assert_eq!(Role::parse(r.as_str()), Some(r));
    }
    assert_eq!(Role::parse("owner"), None);
}

fn pat(id: i64, scopes: &[&str]) -> Actor {
    Actor {
        user: Some(ActorUser {
            id: UserId(id),
            handle: format!("u{id}"),
            membership: None,
            scopes: Some(scopes.iter().map(|s| (*s).to_owned()).collect()),
            teams: Default::default(),
        }),
    }
}

#[test]
fn own_account_and_granted_scopes() {
    let me = pat(1, &["keys:read", "apps:read"]);
    assert_eq!(can_self(&me, AccountId(1), "keys:read"), Ok(()));
    assert_eq!(
        can_self(&me, AccountId(1), "keys:write"),
        Err(Denied::MissingScope("keys:write"))
    );
    assert_eq!(
        can_self(&me, AccountId(2), "keys:read"),
        Err(Denied::NotFound)
    );
    assert_eq!(
        can_self(&Actor::anonymous(), AccountId(1), "keys:read"),
        Err(Denied::NotFound)
    );
    assert_eq!(can_grant_scope(&me, "apps:read"), Ok(()));
    assert_eq!(
        can_grant_scope(&me, "apps:write"),
        Err(Denied::MissingScope("apps:write"))
    );
    assert!(can_grant_scope(&me, "root").is_err());
    let session = Actor {
        user: Some(ActorUser {
            scopes: None,
            ..me.user.clone().expect("user")
        }),
    };
    assert_eq!(can_grant_scope(&session, "orgs:write"), Ok(()));
    assert_eq!(can_self(&session, AccountId(1), "keys:write"), Ok(()));
}

#[test]
fn only_admins_see_members() {
    for rel in Relation::ALL {
        for a in [Action::ViewMembers, Action::ManageMembers] {
            let admin = [
                Relation::Member(Role::Admin),
                Relation::Restricted(Role::Admin),
            ];
            let expected = if admin.contains(&rel) {
                Decision::Allow
            } else {
                Decision::Hidden
            };
            assert_eq!(decide(rel, a), expected, "{rel:?} {a:?}");
        }
    }
}

#[test]
fn only_the_addressee_answers_an_invitation() {
    let link = |u, i| {
        may_answer_invitation(InviteeProof::Link {
            user_email: u,
            invited_email: i,
        })
    };
    assert_eq!(link("a@x.co", "a@x.co"), Ok(()));
    assert!(matches!(
        link("b@x.co", "a@x.co"),
        Err(Denied::Forbidden(_))
    ));
    let bound = |u, i: Option<i64>| {
        may_answer_invitation(InviteeProof::Bound {
            user: UserId(u),
            invitee: i.map(UserId),
        })
    };
    assert_eq!(bound(1, Some(1)), Ok(()));
    assert_eq!(bound(1, Some(2)), Err(Denied::NotFound));
    assert_eq!(bound(1, None), Err(Denied::NotFound));
}

#[test]
fn nobody_outside_sees_private_things() {
    for rel in [Relation::Anonymous, Relation::Stranger] {
        for a in Action::ALL {
            let expected = if matches!(a, Action::ListApps | Action::ReadPublicApp) {
                Decision::Allow
            } else {
                Decision::Hidden
            };
            assert_eq!(decide(rel, a), expected, "{rel:?} {a:?}");
        }
    }
}
