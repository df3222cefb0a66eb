//! My Apps search: a case-insensitive substring of the app's name or id, whichever
//! way the database answers it (on SQLite, a rare term of 3+ characters goes through
//! the trigram index, a common or short one through the LIKE filter alone; on
//! PostgreSQL always the LIKE filter). The results must be the same.

use crate::support::TestApp;

#[test]
fn search_matches_substrings_of_names_and_ids() {
    let app = TestApp::start();
    let c = app.signup("alice");
    for (id, name) in [
        ("charlie", "Charlie"),
        ("bravo", "Bravo Vision"),
        ("ecole", "École Vision"),
        ("pct", "50% off"),
        ("quote", "Say \"hi\""),
        ("zz-handle-only", "Plain"),
    ] {
        app.create_app(&c, "alice", id, name);
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let search = |q: &str| {
        let page = c.get(&format!("/alice/apps?q={}", urlencode(q)));
        assert_eq!(page.status, 200, "q={q}");
        page.app_ids()
    };
    assert_eq!(search("arl"), ["charlie"], "inside a word");
    assert_eq!(search("ARL"), ["charlie"], "whatever the case");
    assert_eq!(search("ar"), ["charlie"], "two characters");
    assert_eq!(search("vision"), ["ecole", "bravo"], "newest first");
    assert_eq!(search("ÉCOLE"), ["ecole"], "non-ASCII letters fold too");
    assert_eq!(search("50%"), ["pct"], "% is a plain character");
    assert_eq!(search("%"), ["pct"]);
    assert_eq!(search("0_"), Vec::<String>::new(), "_ is a plain character");
    assert_eq!(
        search("y \"h"),
        ["quote"],
        "double quotes are plain characters"
    );
    assert_eq!(search("handle-on"), ["zz-handle-only"], "the id counts too");
    assert_eq!(search("nothing like it"), Vec::<String>::new());

    // Renaming moves the app in the index; deleting takes it out.
    let renamed = c.post_form(
        "/alice/charlie/settings",
        &[
            ("id", "delta"),
            ("name", "Delta"),
            ("description", ""),
            ("visibility", "private"),
        ],
    );
    assert_eq!(renamed.status, 303);
    assert_eq!(search("arl"), Vec::<String>::new());
    assert_eq!(search("elt"), ["delta"]);
    let deleted = c.post_form("/alice/bravo/delete", &[("confirm", "bravo")]);
    assert_eq!(deleted.status, 303);
    assert_eq!(search("vision"), ["ecole"]);
}

#[test]
fn common_and_rare_terms_page_alike_with_pins() {
    let app = TestApp::start();
    let c = app.signup("alice");
    // On SQLite the index's 21 newest hits of a term estimate how many there are:
    // "common" matches all 205 apps and "common 1" the hundred c100-c199 (their
    // newest hits are dense: more than 200 estimated, the LIKE walk), "odd" every
    // other app (about 100 estimated: the index's candidates) and "mon 042" one
    // (read by id).
    for i in 0..205 {
        let parity = if i % 2 == 1 { "odd" } else { "even" };
        app.create_app(
            &c,
            "alice",
            &format!("c{i:03}"),
            &format!("Common {i:03} {parity}"),
        );
    }
    let pin = c.post_form("/alice/c100/pin", &[("pinned", "true")]);
    assert_eq!(pin.status, 303);

    // Walks every page of a search sorted by name and returns (pinned, the rest).
    let all_pages = |q: &str| {
        let (mut pinned, mut rest) = (Vec::new(), Vec::new());
        for page in 1.. {
            let p = c.get(&format!(
                "/alice/apps?q={}&sort=name&dir=asc&page={page}",
                urlencode(q)
            ));
            assert_eq!(p.status, 200);
            pinned.extend(p.attrs("li.app-card.pinned", "data-app-id"));
            rest.extend(p.attrs("li.app-card:not(.pinned)", "data-app-id"));
            let full = p.count("li.app-card:not(.pinned)");
            if !p.has("a[rel=next]") {
                assert!(full <= 24);
                break;
            }
            assert_eq!(full, 24, "{q} page {page} is full");
        }
        (pinned, rest)
    };
    let expected = |range: std::ops::Range<usize>| -> Vec<String> {
        range
            .filter(|i| *i != 100)
            .map(|i| format!("c{i:03}"))
            .collect()
    };

    let (pinned, rest) = all_pages("common");
    assert_eq!(pinned, ["c100"], "the pin, on page 1 only");
    assert_eq!(rest, expected(0..205), "every match once, in order");

    let (pinned, rest) = all_pages("common 1");
    assert_eq!(pinned, ["c100"]);
    assert_eq!(rest, expected(100..200));

    let (pinned, rest) = all_pages("odd");
    assert_eq!(pinned, Vec::<String>::new());
    let odd: Vec<String> = (0..205)
        .filter(|i| i % 2 == 1)
        .map(|i| format!("c{i:03}"))
        .collect();
    assert_eq!(rest, odd);
    let (pinned, rest) = all_pages("even");
    assert_eq!(pinned, ["c100"]);
    let even: Vec<String> = (0..205)
        .filter(|i| i % 2 == 0 && *i != 100)
        .map(|i| format!("c{i:03}"))
        .collect();
    assert_eq!(rest, even);

    let (pinned, rest) = all_pages("mon 042");
    assert_eq!(pinned, Vec::<String>::new());
    assert_eq!(rest, ["c042"]);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The background worker merges the trigram index's segments (one per writing
/// transaction) so that a search reads one; on PostgreSQL there is no such index.
#[test]
fn the_search_index_is_merged_into_one_segment() {
    use atrium::models::app_list::tidy_search_index;
    use diesel::prelude::*;

    let app = TestApp::start();
    let c = app.signup("alice");
    for i in 0..6 {
        app.create_app(&c, "alice", &format!("tidy{i}"), &format!("Tidy {i}"));
    }
    let mut conn = app.state.pool.get().expect("connection");
    if crate::support::database_kind() == "postgres" {
        assert_eq!(tidy_search_index(&mut conn).expect("tidy"), None);
        return;
    }
    let segments = |conn: &mut atrium::db::DbConn| -> i64 {
        diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT count(DISTINCT segid) FROM apps_search_idx)",
        ))
        .get_result(conn)
        .expect("segments")
    };
    let before = segments(&mut conn);
    let merged = tidy_search_index(&mut conn).expect("tidy");
    // (The worker may have merged them in between: it looks every 15 s.)
    assert!(
        merged == Some(before) || merged.is_none(),
        "{merged:?} of {before}"
    );
    assert_eq!(segments(&mut conn), 1);
    assert_eq!(
        tidy_search_index(&mut conn).expect("tidy"),
        None,
        "one left"
    );
    drop(conn);
    let page = c.get("/alice/apps?q=tidy&sort=name");
    assert_eq!(
        page.app_ids(),
        ["tidy0", "tidy1", "tidy2", "tidy3", "tidy4", "tidy5"]
    );
    assert_eq!(c.get("/alice/apps?q=dy%203").app_ids(), ["tidy3"]);
}
