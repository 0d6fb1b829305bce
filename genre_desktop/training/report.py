"""The comparison report: new model against the current one on held-out tracks, as HTML and CSV.

``report.html`` is one self-contained page (no scripts, no external files): the summary table
(accuracy and macro F1 of each model, the study's comparison table on the user's own music), the
candidates' cross-validation figures, per-genre precision and recall, and each model's confusion
matrix drawn as a heat map (table cells shaded by the row-normalised count). ``metrics.csv`` and
``confusion.csv`` hold the same figures for a spreadsheet.
"""

from __future__ import annotations

import csv
import html
import io
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from genre_desktop.fsutil import atomic_write_text
from genre_desktop.training.evaluate import OTHER, ModelScores


@dataclass
class Report:
    created: str
    version: str
    labels: list[str]
    counts: dict[str, int]
    warnings: list[str]
    candidates: list[dict[str, Any]]  # name, accuracy, macro_f1, log_loss, seconds
    chosen: str
    heldout: int
    groups_heldout: int
    weight: float
    models: list[ModelScores]
    notes: list[str] = field(default_factory=list)
    verdict: dict[str, Any] = field(default_factory=dict)  # ``can_predict.Verdict.to_dict()``
    fitted_on: int = 0  # tracks the candidates were cross-validated and fitted on (all but the held-out)
    # the bundled ensemble's members: training.member_roles.MemberRole as dicts (who votes, weight, valid figure)
    members: list[dict[str, Any]] = field(default_factory=list)

    def headline(self) -> str:
        """The one figure to judge the new model by, and how it was obtained: what activating it
        gives (the mix with the bundled models) on the held-out artists."""
        if len(self.models) < 3:  # new, new + bundled, current: a report written by train()
            return ""
        mixed = self.models[1]
        return (f"With the bundled models, as activating it would run, it scores accuracy {mixed.accuracy:.0%}, "
                f"macro F1 {mixed.macro_f1:.2f} on {self.heldout} held-out tracks by {self.groups_heldout} "
                f"artists that were never used to fit or choose it (your model alone: "
                f"{self.models[0].accuracy:.0%}, {self.models[0].macro_f1:.2f}; the current model: "
                f"{self.models[2].accuracy:.0%}, {self.models[2].macro_f1:.2f}).")

    def candidates_note(self) -> str:
        """What the candidates' two kinds of figures are, so that they are not read as one."""
        return (f"CV (cross-validated): grouped by artist over the {self.fitted_on or 'other'} tracks the heads "
                f"were fitted on, used only to choose the head. Held-out: the {self.heldout} tracks kept apart, "
                "the figures of the summary (the chosen head's row is 'your new model').")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def model(self, name_prefix: str) -> ModelScores:
        return next(m for m in self.models if m.name.startswith(name_prefix))

    # -- CSV -----------------------------------------------------------------------------------

    def metrics_csv(self) -> str:
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(["model", "genre", "accuracy", "macro_f1", "precision", "recall", "f1", "support"])
        for m in self.models:
            w.writerow([m.name, "(all)", f"{m.accuracy:.4f}", f"{m.macro_f1:.4f}", "", "", "", m.n])
            for g, s in m.per_genre.items():
                w.writerow([m.name, g, "", "", f"{s['precision']:.4f}", f"{s['recall']:.4f}", f"{s['f1']:.4f}",
                            s["support"]])
        return out.getvalue()

    def confusion_csv(self) -> str:
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(["model", "true genre", "predicted", "count"])
        for m in self.models:
            for i, t in enumerate(m.labels):
                for j, p in enumerate(m.labels + [OTHER]):
                    w.writerow([m.name, t, p, m.confusion[i][j]])
        return out.getvalue()

    # -- HTML ----------------------------------------------------------------------------------

    def to_html(self) -> str:
        e = html.escape
        parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Model comparison {e(self.version)}"
                 f"</title><style>{_CSS}</style></head><body>",
                 f"<h1>Your model {e(self.version)} against the current model</h1>",
                 f"<p>{self.heldout} held-out tracks from {self.groups_heldout} artists/albums, never used to fit "
                 f"or choose the new model; created {e(self.created)}. Chosen head: <b>{e(self.chosen)}</b>; "
                 f"weight of your model in the ensemble: <b>{self.weight:.2f}</b>.</p>",
                 f"<p><b>{e(self.headline())}</b></p>" if self.headline() else ""]
        if self.verdict and not self.verdict.get("useful", True):
            parts.append("<h2>Before you activate it</h2><ul class='warn'>"
                         + "".join(f"<li>{e(p)}</li>" for p in self.verdict.get("problems", []))
                         + "".join(f"<li>What would help: {e(a)}</li>" for a in self.verdict.get("advice", []))
                         + "</ul>")
        parts.append("<h2>Summary</h2><table><tr><th class='l'>model</th><th>accuracy</th><th>macro F1</th>"
                     "<th>accuracy on the genres it knows</th><th>genres it knows</th></tr>")
        for m in self.models:
            known = "—" if m.accuracy_known is None else f"{m.accuracy_known:.3f}"
            parts.append(f"<tr><td class='l'>{e(m.name)}</td><td>{m.accuracy:.3f}</td><td>{m.macro_f1:.3f}</td>"
                         f"<td>{known}</td><td>{len(m.known_genres)} of {len(self.labels)}</td></tr>")
        parts.append("</table>")
        parts.append(self._members_html())
        if self.notes:
            parts.append("<ul>" + "".join(f"<li>{e(n)}</li>" for n in self.notes) + "</ul>")
        parts.append("<h2>Training set</h2><table><tr><th class='l'>genre</th><th>tracks</th></tr>")
        parts += [f"<tr><td class='l'>{e(g)}</td><td>{n}</td></tr>" for g, n in self.counts.items()]
        parts.append("</table>")
        if self.warnings:
            parts.append("<ul class='warn'>" + "".join(f"<li>{e(w)}</li>" for w in self.warnings) + "</ul>")
        parts.append("<h2>Candidates</h2><table><tr><th class='l'>head</th><th>cross-validated accuracy</th>"
                     "<th>cross-validated macro F1</th><th>log-loss</th><th>held-out accuracy</th>"
                     "<th>held-out macro F1</th><th>seconds</th></tr>")
        for c in self.candidates:
            held = (f"<td>{c['heldout_accuracy']:.3f}</td><td>{c['heldout_macro_f1']:.3f}</td>"
                    if "heldout_accuracy" in c else "<td>—</td><td>—</td>")
            parts.append(f"<tr><td class='l'>{e(c['name'])}{' (chosen)' if c['name'] == self.chosen else ''}</td>"
                         f"<td>{c['accuracy']:.3f}</td><td>{c['macro_f1']:.3f}</td><td>{c['log_loss']:.3f}</td>{held}"
                         f"<td>{c['seconds']:.1f}</td></tr>")
        parts.append(f"</table><p>{e(self.candidates_note())}</p>")
        parts.append("<h2>Per genre (held-out)</h2><table><tr><th class='l'>genre</th><th>tracks</th>"
                     + "".join(f"<th>{e(m.name)}<br>precision / recall</th>" for m in self.models) + "</tr>")
        for g in self.labels:
            cells = "".join(f"<td>{m.per_genre[g]['precision']:.2f} / {m.per_genre[g]['recall']:.2f}</td>"
                            for m in self.models)
            parts.append(f"<tr><td class='l'>{e(g)}</td><td>{self.models[0].per_genre[g]['support']}</td>{cells}</tr>")
        parts.append("</table>")
        for m in self.models:
            parts.append(f"<h2>Confusion matrix: {e(m.name)}</h2>{heatmap_html(m.labels, m.confusion)}")
        parts.append("</body></html>")
        return "\n".join(parts)

    def _members_html(self) -> str:
        """The bundled models' members as the window's panel lists them: voters with their share of
        the vote, then those shown but not voting, each with its accuracy on the GTZAN valid split."""
        if not self.members:
            return ""
        e = html.escape
        rows = [f"<tr><td class='l'>{e(m['name'])}</td>"
                f"<td class='l'>{'votes' if m['votes'] else 'shown, not voting'}</td>"
                f"<td>{m['weight']:.0%}</td>"
                f"<td>{'—' if m.get('valid_accuracy') is None else format(m['valid_accuracy'], '.0%')}</td>"
                f"<td class='l'>{e(m.get('valid_what') or '')}</td></tr>" for m in self.members]
        return ("<h2>The bundled models' members</h2><table><tr><th class='l'>member</th><th class='l'>role</th>"
                "<th>weight</th><th>valid accuracy</th><th class='l'>measured on</th></tr>" + "".join(rows)
                + "</table><p>The members shown but not voting have weight 0 in the bundled vote; their "
                "figures are those of their own training.</p>")

    def write(self, folder: str | Path) -> list[Path]:
        """Write report.html, metrics.csv and confusion.csv into ``folder`` (atomically, each)."""
        folder = Path(folder)
        files = {"report.html": self.to_html(), "metrics.csv": self.metrics_csv(),
                 "confusion.csv": self.confusion_csv()}
        for name, text in files.items():
            atomic_write_text(folder / name, text)
        return [folder / n for n in files]


def heat_colour(share: float) -> str:
    """White to a deep blue as ``share`` goes 0 -> 1."""
    share = min(max(share, 0.0), 1.0)
    r, g, b = (int(round(255 + (t - 255) * share)) for t in (31, 78, 160))
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap_html(labels: list[str], confusion: list[list[int]]) -> str:
    """A confusion matrix as an HTML table, cells shaded by the share of their row."""
    e = html.escape
    cols = labels + [OTHER]
    rows = ["<table class='heat'><tr><th class='l'>true \\ predicted</th>" + "".join(f"<th>{e(c)}</th>" for c in cols) + "</tr>"]
    for label, row in zip(labels, confusion):
        total = sum(row) or 1
        cells = []
        for count in row:
            share = count / total
            ink = "#fff" if share > 0.55 else "#000"
            cells.append(f"<td style='background:{heat_colour(share)};color:{ink}'>{count}</td>")
        rows.append(f"<tr><th class='l'>{e(label)}</th>{''.join(cells)}</tr>")
    rows.append("</table>")
    return "".join(rows)


_CSS = """body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #bbb;padding:.25em .6em;text-align:right}th{background:#f0f0f0}
.l{text-align:left}.heat td{min-width:2.5em;text-align:center}
.warn li{color:#8a4b00}"""
