"""Build the genre tree the app ships (``genre_desktop/core/genre_tree.json``) from AudioSet.

Developer tool, not the app::

    .venv/bin/python tools/build_genre_tree.py [--source DIR] [--out genre_desktop/core]

Reads the AudioSet ontology (``audioset_ontology.json``, CC BY-SA 4.0) and the tagger's class list
(``class_labels_indices.csv``, CC BY 4.0) from ``--source`` (default: the first
``shared/models/efficientat`` found beside or above the repository) and writes the tree and its
licence notice (``genre_tree.LICENSE.txt``) into ``--out``. The same sources give the same bytes.

What it does, each rule with its reason (the notice lists the same changes):

- **Nodes:** every class under AudioSet's "Music genre" (the abstract root itself is not a node:
  its children are the tree's top level). Classes AudioSet marks "blacklist" (Grime, Trap, Dub,
  Jungle, Cumbia, ...) are kept: they are genres a library holds even though the network has no
  output for them (``class_index`` null). The nodes that are classes of the tagger record their
  output index: the 50 genre classes (216-265) and Chant and Mantra (30, 31: AudioSet puts
  them under "Singing" as well).
- **Names:** AudioSet's name without the word "music" ("Hip hop music" -> "Hip hop", "Music of
  Asia" -> "Asia"), each word capitalised except "and", "of", "for" ("Drum and Bass"); then
  :data:`NAMES` replaces the few where tags spell the genre otherwise, each with its reason
  ("Hip-Hop" and "R&B" as in ID3's genre list and the bundled aliases, "Latin", "African",
  "Indie", ...). AudioSet's own name stays an alias of its node.
- **Keys:** the name in lowercase ASCII words joined by "-" ("&" is "and"): "hip-hop",
  "r-and-b", "drum-and-bass". A key is never renamed: when the output file already exists its
  keys are kept by AudioSet id, so renaming a node later keeps its key (settings store keys).
- **Aliases:** :data:`ALIASES`, spellings a librarian's tags use that the identity rule
  (``genre_desktop.core.genre.name_key``: case, punctuation, "&"/"and", "'n'", a trailing
  "music") does not already equate ("DnB", "RnB", "Metal", "Punk", "EDM").
- **One parent each:** the ontology is a DAG. Beatboxing sits under both "Hip hop music" and
  "Vocal music"; the tree keeps the first parent in the ontology's order (Hip-Hop, where the class
  list also puts it) and records the others in ``also_under``. Chant's other parent, "Singing",
  is outside the genre subtree and is not recorded. :data:`PARENTS` moves Swing from Country to
  Jazz (AudioSet's own description is the big-band jazz of the 1930s-40s).
- **GTZAN's ten:** :data:`GTZAN` names the node of each bundled label; nine are the same genre by
  name, and "metal" is Heavy Metal (AudioSet's only metal class; GTZAN's metal clips are heavy and
  thrash metal).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from genre_desktop.core.genre_tree import name_key  # noqa: E402

GENRE_ROOT = "/m/0kpv1t"  # "Music genre"
SOURCE_PAIR = ("audioset_ontology.json", "class_labels_indices.csv")

# Spellings that differ from the rule (AudioSet name without "music", words capitalised).
NAMES = {
    "/m/0glt670": "Hip-Hop",  # ID3v1 genre 7 and the bundled alias of "hiphop"
    "/m/06j6l": "R&B",  # ID3v1 genre 14 and what tags say; "Rhythm and Blues" stays an alias
    "/m/0g293": "Latin",  # "Music of Latin America": ID3's and the stores' "Latin"
    "/m/0164x2": "African",  # "Music of Africa"
    "/m/028sqc": "Asian",  # "Music of Asia"
    "/m/0dq0md": "Bollywood",  # "Music of Bollywood"
    "/m/05fw6t": "Children's Music",  # "Music for children": the stores' name
    "/m/05rwpb": "Indie",  # "Independent music": what tags say
    "/m/0z9c": "A Cappella",  # AudioSet spells it "A capella"; the misspelling stays an alias
    "/m/01f9gb": "Jungle",  # "Oldschool jungle": the genre's name in tags
    "/m/08cyft": "Electronic Dance Music",
}

# Other spellings of a node that name_key() does not already equate (keys: AudioSet ids).
ALIASES = {
    "/m/06j6l": ["RnB"],
    "/m/0283d": ["DnB", "D&B"],
    "/m/03lty": ["Metal"],
    "/m/05r6t": ["Punk"],
    "/m/0dl5d": ["Prog Rock", "Prog"],
    "/m/05w3f": ["Psych Rock"],
    "/m/08cyft": ["EDM"],
    "/m/0g293": ["Latin American"],
    "/m/0164x2": ["African Music"],
    "/m/028sqc": ["Asian Music"],
    "/m/0dq0md": ["Filmi"],
    "/m/05fw6t": ["Children's", "Kids"],
    "/m/0bmfpc": ["UKG"],
    "/m/05q7ms": ["Baile Funk"],
    "/m/02mscn": ["Contemporary Christian", "CCM"],
}

# Parents that differ from the ontology, with the reason in the module docstring.
PARENTS = {"/m/015y_n": "/m/03_d0"}  # Swing: Country -> Jazz

# The bundled GTZAN labels -> AudioSet ids.
GTZAN = {
    "blues": "/m/0155w", "classical": "/m/0ggq0m", "country": "/m/01lyv", "disco": "/m/026z9",
    "hiphop": "/m/0glt670", "jazz": "/m/03_d0", "metal": "/m/03lty", "pop": "/m/064t9",
    "reggae": "/m/06cqb", "rock": "/m/06by7",
}

_LOWER_WORDS = {"and", "of", "for"}

ATTRIBUTION = (
    "Derived from the AudioSet ontology (https://github.com/audioset/ontology, commit d417d32) by "
    "Google LLC, licensed under CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/), and "
    "the AudioSet class label indices (class_labels_indices.csv, as distributed with "
    "fschmid56/EfficientAT), licensed under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/). "
    "This derived file is licensed under CC BY-SA 4.0."
)
CHANGES = [
    "Only the \"Music genre\" subtree is kept; its abstract root is dropped.",
    "Names are rewritten for tags (the word \"music\" dropped, words capitalised, a few conventional "
    "spellings such as Hip-Hop and R&B); AudioSet's names are kept as aliases.",
    "Aliases, stable keys, the GTZAN label of ten nodes and the class index of the nodes that are "
    "classes of the AudioSet tagger (the 50 genre classes 216-265, and Chant and Mantra, 30-31) "
    "are added.",
    "Each node keeps one parent (the first in the ontology); other parents are listed in also_under.",
    "Swing is moved from Country to Jazz.",
]


def default_source() -> Path | None:
    """The first ``shared/models/efficientat`` beside or above the repository (worktrees sit deeper)."""
    for base in (ROOT.parent, *ROOT.parents[1:]):
        candidate = base / "shared" / "models" / "efficientat"
        if all((candidate / name).is_file() for name in SOURCE_PAIR):
            return candidate
    return None


def readable_name(audioset_id: str, audioset_name: str) -> str:
    if audioset_id in NAMES:
        return NAMES[audioset_id]
    words = re.sub(r"(?i)^music of |^music for | music$", "", audioset_name).replace("-", " ").split()
    return " ".join(w if w in _LOWER_WORDS and i else w[:1].upper() + w[1:] for i, w in enumerate(words))


def slug(name: str) -> str:
    words = re.findall(r"[a-z0-9]+", name.casefold().replace("&", " and ").replace("'", ""))
    return "-".join(words)


def _genre_order(ontology: list[dict]) -> list[tuple[dict, str | None, list[str]]]:
    """(class, parent id, other parent ids) for every class under the genre root, depth first."""
    by_id = {c["id"]: c for c in ontology}
    placed: dict[str, tuple[dict, str | None, list[str]]] = {}
    order: list[str] = []

    def visit(class_id: str, parent: str | None) -> None:
        if class_id in placed:
            placed[class_id][2].append(parent)
            return
        placed[class_id] = (by_id[class_id], parent, [])
        order.append(class_id)
        for child in by_id[class_id]["child_ids"]:
            visit(child, class_id)

    for top in by_id[GENRE_ROOT]["child_ids"]:
        visit(top, None)
    return [placed[i] for i in order]


def build(ontology: list[dict], class_indices: dict[str, int], old_keys: dict[str, str] | None = None) -> dict:
    """The tree document for the sources given (``old_keys``: AudioSet id -> key already published)."""
    entries = _genre_order(ontology)
    keys: dict[str, str] = {}
    for cls, _parent, _others in entries:
        keys[cls["id"]] = (old_keys or {}).get(cls["id"]) or slug(readable_name(cls["id"], cls["name"]))
    gtzan_of = {audioset_id: label for label, audioset_id in GTZAN.items()}
    nodes = []
    for cls, parent, others in entries:
        audioset_id = cls["id"]
        name = readable_name(audioset_id, cls["name"])
        parent = PARENTS.get(audioset_id, parent)
        if audioset_id in PARENTS:
            others = []
        aliases = [cls["name"], *ALIASES.get(audioset_id, [])]
        seen = {name_key(name)}
        unique = []
        for alias in aliases:  # only spellings the identity rule does not already equate
            if name_key(alias) not in seen:
                seen.add(name_key(alias))
                unique.append(alias)
        nodes.append({
            "key": keys[audioset_id], "name": name, "parent": keys[parent] if parent else None,
            "audioset_id": audioset_id, "class_index": class_indices.get(audioset_id),
            "aliases": unique, "also_under": [keys[p] for p in others if p], "gtzan": gtzan_of.get(audioset_id),
        })
    _check(nodes)
    return {
        "format": 1,
        "title": "Genre Desktop genre tree",
        "attribution": ATTRIBUTION,
        "changes": CHANGES,
        "built_by": "tools/build_genre_tree.py",
        "nodes": nodes,
    }


def _check(nodes: list[dict]) -> None:
    """Every key unique, every spelling names one node, every GTZAN label placed."""
    keys = [n["key"] for n in nodes]
    if len(set(keys)) != len(keys):
        raise SystemExit(f"duplicate keys: {sorted(k for k in keys if keys.count(k) > 1)}")
    owner: dict[str, str] = {}
    for n in nodes:
        for spelling in (n["name"], n["key"], *n["aliases"], *([n["gtzan"]] if n["gtzan"] else [])):
            other = owner.setdefault(name_key(spelling), n["key"])
            if other != n["key"]:
                raise SystemExit(f"{spelling!r} would name both {other!r} and {n['key']!r}")
    if sorted(n["gtzan"] for n in nodes if n["gtzan"]) != sorted(GTZAN):
        raise SystemExit("a GTZAN label is not in the tree")


def render(document: dict) -> str:
    """JSON with one node per line (small diffs when the tree changes); ends with a newline."""
    head = {k: v for k, v in document.items() if k != "nodes"}
    text = json.dumps(head, indent=1, ensure_ascii=False)[:-2]
    lines = [json.dumps(n, ensure_ascii=False) for n in document["nodes"]]
    return text + ',\n "nodes": [\n  ' + ",\n  ".join(lines) + "\n ]\n}\n"


def licence_notice(document: dict) -> str:
    changes = "\n".join(f"- {c}" for c in document["changes"])
    return (
        "genre_tree.json: the genre tree of Genre Desktop\n\n"
        f"{document['attribution']}\n\n"
        "AudioSet ontology: (c) Google LLC, https://research.google.com/audioset/ontology/ ,\n"
        "CC BY-SA 4.0: https://creativecommons.org/licenses/by-sa/4.0/legalcode\n"
        "AudioSet class labels: CC BY 4.0: https://creativecommons.org/licenses/by/4.0/legalcode\n\n"
        f"Changes made to the ontology:\n{changes}\n\n"
        "Built by tools/build_genre_tree.py of Genre Desktop from those two files; the rest of Genre\n"
        "Desktop is under its own licence (GPL-3.0-or-later).\n"
    )


def load_sources(source: Path) -> tuple[list[dict], dict[str, int]]:
    ontology = json.loads((source / SOURCE_PAIR[0]).read_text(encoding="utf-8"))
    with open(source / SOURCE_PAIR[1], newline="", encoding="utf-8") as handle:
        indices = {row["mid"]: int(row["index"]) for row in csv.DictReader(handle)}
    return ontology, indices


def published_keys(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    return {n["audioset_id"]: n["key"] for n in json.loads(path.read_text(encoding="utf-8"))["nodes"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=None,
                        help="folder holding audioset_ontology.json and class_labels_indices.csv")
    parser.add_argument("--out", type=Path, default=ROOT / "genre_desktop" / "core")
    args = parser.parse_args(argv)
    source = args.source or default_source()
    if source is None:
        parser.error("no shared/models/efficientat found; pass --source")
    ontology, indices = load_sources(source)
    target = args.out / "genre_tree.json"
    document = build(ontology, indices, published_keys(target))
    args.out.mkdir(parents=True, exist_ok=True)
    target.write_text(render(document), encoding="utf-8")
    (args.out / "genre_tree.LICENSE.txt").write_text(licence_notice(document), encoding="utf-8")
    in_network = sum(n["class_index"] is not None for n in document["nodes"])
    print(f"{target}: {len(document['nodes'])} genres, {in_network} of them network classes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
