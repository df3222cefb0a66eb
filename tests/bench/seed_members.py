#!/usr/bin/env python3
"""Seeds N members into one organization directly in Atrium's SQLite file.

Used by tests/bench/run for the Members benchmarks: inviting 1,000 people through
the forms would take longer than the benchmark. Each member is a user account
(an `accounts` row of kind 'user', a `users` row, and a `memberships` row) like the
ones sign-up and accepting an invitation write; the password hash is a fixed,
valid argon2id hash that nobody knows the password of (nobody signs in as them).
Roles rotate over the four non-admin roles.

usage: seed_members.py <sqlite file> <org handle> <count>
"""

import datetime
import sqlite3
import sys

ROLES = ["org_contributor", "team_contributor", "org_user", "financial_manager"]
FIRST = ["Ada", "Brook", "Cyrus", "Dana", "Emil", "Farah", "Gus", "Hana", "Ivo", "Jun"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Silva", "Novak", "Haddad", "Kowal"]
# argon2id of a random secret nobody kept.
HASH = ("$argon2id$v=19$m=19456,t=2,p=1$c2VlZHNlZWRzZWVkc2VlZA$"
        "3Nw5z8Hk0G2l7l2s0cH1lWmFqYk9Yb1JzV3RQbXk4Yk0")


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    path, org, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    db = sqlite3.connect(path, timeout=30)
    db.execute("PRAGMA foreign_keys = ON")
    row = db.execute(
        "SELECT id FROM accounts WHERE handle = ? AND kind = 'org'", (org,)
    ).fetchone()
    if row is None:
        print(f"seed_members.py: no organization {org!r}", file=sys.stderr)
        return 1
    org_id = row[0]
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    with db:
        for i in range(count):
            handle = f"member-{i:05d}"
            cur = db.execute(
                "INSERT INTO accounts (handle, kind, created_at) VALUES (?, 'user', ?)",
                (handle, stamp),
            )
            uid = cur.lastrowid
            name = f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]} {i}"
            db.execute(
                "INSERT INTO users (id, email, name, password_hash, password_changed_at, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (uid, f"{handle}@members.example.com", name, HASH, stamp, stamp, stamp),
            )
            db.execute(
                "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES (?, ?, ?, ?)",
                (org_id, uid, ROLES[i % len(ROLES)], stamp),
            )
    db.close()
    print(f"seeded {count} members into {org}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
