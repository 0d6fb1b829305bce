"""Issue 22 item 11: which members vote and with what weight, which are shown but do not vote (the
study's CNN, weight-0 members), each with its valid figure: the per-model panel and ``models list``."""

from __future__ import annotations

import pytest

from genre_desktop.core.prediction import Prediction
from genre_desktop.paths import bundled_models_dir
from genre_desktop.training.member_roles import describe_roles, load_roles, member_roles


@pytest.fixture(scope="module")
def roles():
    roles = load_roles(bundled_models_dir())
    if not roles:
        pytest.skip("no bundled manifest")
    return roles


def test_roles_follow_the_manifest(roles):
    from genre_desktop.inference.manifest import load_manifest

    manifest = load_manifest(bundled_models_dir(), verify=False)
    by_name = {r.name: r for r in roles}
    voters = {n for n, w in manifest.weights.items() if w > 0 and manifest.get(n).raw.get("votes", True) is not False}
    assert {r.name for r in roles if r.votes} == voters
    assert sum(r.weight for r in roles if r.votes) == pytest.approx(1.0)
    assert all(r.weight == 0 for r in roles if not r.votes)
    assert not by_name["cnn"].votes and by_name["cnn"].valid_accuracy == pytest.approx(
        manifest.get("cnn").metrics["valid_clip"]["accuracy"])
    assert [r.votes for r in roles] == sorted((r.votes for r in roles), reverse=True)  # voters first
    assert member_roles(manifest) == roles


def test_the_panel_shows_voters_with_weights_and_the_rest_apart(qtbot, roles):
    from genre_desktop.ui.predictions_panel import PredictionsPanel

    panel = PredictionsPanel()
    qtbot.addWidget(panel)
    panel.set_member_roles(roles)
    voters = [r for r in roles if r.votes]
    models = {r.name: {"rock": 0.6, "pop": 0.4} for r in voters}
    models["cnn"] = {"jazz": 0.7, "rock": 0.3}
    models["user:v1"] = {"lo-fi": 0.9, "rock": 0.1}
    panel.set_prediction(Prediction("/x.mp3", genres=[("rock", 0.7), ("pop", 0.3)], models=models))
    panel.show()
    table, shown = panel.models_table, panel.shown_table
    rows = {table.item(r, 0).text(): [table.item(r, c).text() for c in range(1, 4)] for r in range(table.rowCount())}
    assert set(rows) == {r.name for r in voters} | {"user:v1"}
    for r in voters:
        assert rows[r.name][2] == f"{r.weight:.0%}"
        assert r.valid_text() in table.item([table.item(i, 0).text() for i in range(table.rowCount())].index(r.name), 0).toolTip()
    assert table.item(0, 0).text() == voters[0].name  # largest weight first
    assert not table.isColumnHidden(3) and table.horizontalHeaderItem(3).text() == "Weight"
    assert shown.isVisible() and panel.shown_heading.text() == "Shown, not voting"
    assert [shown.item(r, 0).text() for r in range(shown.rowCount())] == ["cnn"]
    cnn = next(r for r in roles if r.name == "cnn")
    assert shown.item(0, 1).text().startswith("jazz") and shown.item(0, 3).text() == f"{cnn.valid_accuracy:.0%}"
    absent = [r for r in roles if not r.votes and r.name != "cnn"]
    for r in absent:  # weight-0 members that gave nothing here: named with their valid figure
        assert f"{r.name} ({r.valid_text()})" in panel.shown_note.text()
    assert panel.shown_note.isVisible() == bool(absent)
    panel.set_prediction(Prediction("/y.mp3", genres=[("jazz", 0.7)], models={"cnn": {"jazz": 0.7}}))
    assert not panel.models_heading.isVisible() and not table.isVisible()  # no empty "Voting members"
    assert shown.isVisible() and shown.rowCount() == 1


def test_models_list_says_who_votes(capsys, roles):
    from genre_desktop.cli import main

    main(["models", "list"])
    out = capsys.readouterr().out
    lines = describe_roles(roles)
    assert "Voting members" in out and "Shown, not voting" in out
    for line in lines:
        assert line in out
    assert "cnn" in out.split("Shown, not voting")[1]
