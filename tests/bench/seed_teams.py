#!/usr/bin/env python3
"""Seeds the Team Contributor case of tests/bench/run into Atrium's SQLite file.

Makes <member> a Team Contributor of <org>, creates <teams> teams, puts the member
in every one of them and grants <grants> of the org's private apps (every tenth
app by id, offset 3, so none of the 1-in-5 public ones), spread evenly over the
teams with the four team roles in turn -- the rows the team forms would write.

usage: seed_teams.py <sqlite file> <org handle> <member handle> <teams> <grants>
"""

import datetime
import sqlite3
import sys

ROLES = ["full_access", "model_trainer", "labeler_lead", "labeler_worker"]


def main() -> int:
    if len(sys.argv) != 6:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    path, org, member = sys.argv[1], sys.argv[2], sys.argv[3]
    teams, grants = int(sys.argv[4]), int(sys.argv[5])
    db = sqlite3.connect(path, timeout=30)
    db.execute("PRAGMA foreign_keys = ON")
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    org_id = db.execute("SELECT id FROM accounts WHERE handle = ?", (org,)).fetchone()[0]
    user_id = db.execute("SELECT id FROM accounts WHERE handle = ?", (member,)).fetchone()[0]
    apps = [
        r[0]
        for r in db.execute(
            "SELECT id FROM apps WHERE owner_id = ? AND visibility = 'private' ORDER BY id",
            (org_id,),
        )
    ]
    chosen = [a for i, a in enumerate(apps) if i % 8 == 3][:grants]
    if len(chosen) < grants:
        print(f"seed_teams.py: only {len(chosen)} private apps to grant", file=sys.stderr)
        return 1
    with db:
        db.execute(
            "INSERT INTO memberships (org_id, user_id, role, created_at) "
            "VALUES (?, ?, 'team_contributor', ?)",
            (org_id, user_id, now),
        )
        team_ids = []
        for t in range(teams):
            cur = db.execute(
                "INSERT INTO teams (org_id, team_id, name, default_role, restricted_labels, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, '', ?, ?)",
                (org_id, f"team-{t:03d}", f"Team {t:03d}", ROLES[t % 4], now, now),
            )
            team_ids.append(cur.lastrowid)
            db.execute(
                "INSERT INTO team_members (team_id, user_id, created_at) VALUES (?, ?, ?)",
                (cur.lastrowid, user_id, now),
            )
        db.executemany(
            "INSERT INTO team_apps (team_id, app_id, role, created_at) VALUES (?, ?, ?, ?)",
            [
                (team_ids[i % teams], app, ROLES[i % 4] if i % 3 else None, now)
                for i, app in enumerate(chosen)
            ],
        )
    db.close()
    print(f"{member}: team contributor in {teams} teams with {grants} granted apps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
