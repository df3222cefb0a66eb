#!/usr/bin/env python3
"""Seeds N apps into one owner's account directly in Atrium's SQLite file.

Used by tests/bench/run: creating 10,000 apps through the web form would take
longer than the benchmark itself. The rows look like the ones the server writes
(same columns, lower-cased name, timestamps in diesel's "%Y-%m-%d %H:%M:%S.%f"
text form) and the owner's `accounts.app_count` moves with them in the same
transaction, as `App::create` does.

Names are "<Adjective> <Noun> <kind> <nnnn>" built from fixed word lists, so a
search for one noun matches about 1 app in 25 and a search for a 4-digit number
matches exactly one app.

usage: seed.py <sqlite file> <owner handle> <creator handle> <count>
"""

import datetime
import random
import sqlite3
import sys

ADJECTIVES = [
    "Amber", "Brisk", "Calm", "Daring", "Eager", "Fabled", "Gentle", "Hidden",
    "Ivory", "Jolly", "Keen", "Lucid", "Mellow", "Nimble", "Opal", "Placid",
    "Quiet", "Rapid", "Silent", "Tidy", "Upbeat", "Vivid", "Wistful", "Young",
    "Zesty", "Bold", "Cosmic", "Dusky", "Frosty", "Golden",
]
# 25 nouns: a search for one of them matches about 4 % of the apps.
NOUNS = [
    "Falcon", "Harbor", "Meadow", "Canyon", "Glacier", "Lantern", "Orchid",
    "Pebble", "Quarry", "Raven", "Summit", "Thicket", "Willow", "Beacon",
    "Comet", "Delta", "Ember", "Fjord", "Grove", "Heron", "Island", "Juniper",
    "Kestrel", "Lagoon", "Mesa",
]
KINDS = [
    "classifier", "detector", "segmenter", "tagger", "reader", "embedder",
    "moderator", "counter",
]
DESCRIPTIONS = [
    "",
    "Finds the objects our field teams care about.",
    "Tags incoming images for the review queue.",
    "Experimental model; do not use in production yet.",
]


def main() -> int:
    if len(sys.argv) != 5:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    path, owner, creator, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    rng = random.Random(42)
    db = sqlite3.connect(path, timeout=30)
    db.execute("PRAGMA foreign_keys = ON")
    row = db.execute("SELECT id FROM accounts WHERE handle = ?", (owner,)).fetchone()
    if row is None:
        print(f"seed.py: no account {owner!r}", file=sys.stderr)
        return 1
    owner_id = row[0]
    row = db.execute("SELECT id FROM accounts WHERE handle = ?", (creator,)).fetchone()
    if row is None:
        print(f"seed.py: no account {creator!r}", file=sys.stderr)
        return 1
    creator_id = row[0]

    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)

    def stamp(t: datetime.datetime) -> str:
        # Six fractional digits, as diesel writes a microsecond timestamp whose
        # microseconds are not a multiple of 1000.
        micro = rng.randrange(1, 1000) + 1000 * rng.randrange(0, 1000)
        return t.strftime("%Y-%m-%d %H:%M:%S") + f".{micro:06d}"

    rows = []
    for i in range(count):
        adj = ADJECTIVES[i % len(ADJECTIVES)]
        noun = NOUNS[(i // len(ADJECTIVES)) % len(NOUNS)]
        kind = KINDS[i % len(KINDS)]
        name = f"{adj} {noun} {kind} {i:04d}"
        handle = f"{adj}-{noun}-{kind}-{i:04d}".lower()
        created = now - datetime.timedelta(seconds=rng.randrange(86400, 400 * 86400))
        age = int((now - created).total_seconds())
        updated = created + datetime.timedelta(seconds=rng.randrange(0, min(30 * 86400, age)))
        visibility = "public" if i % 5 == 0 else "private"
        rows.append((
            owner_id, handle, name, name.lower(), DESCRIPTIONS[i % len(DESCRIPTIONS)],
            "en", visibility, creator_id, stamp(created), stamp(updated),
        ))
    with db:
        db.executemany(
            "INSERT INTO apps (owner_id, handle, name, name_lower, description, "
            "default_language, visibility, created_by, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        db.execute(
            "UPDATE accounts SET app_count = app_count + ? WHERE id = ?", (count, owner_id)
        )
    db.close()
    print(f"seeded {count} apps into {owner}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
