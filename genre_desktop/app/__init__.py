"""The workflow both faces share (Qt-free): a workspace (dirs, settings, store, journal, tag
service, analysis description), planning writes, the review queue's rules, workflow rules."""

from genre_desktop.app.plan import PlannedChange, new_genres, plan_changes
from genre_desktop.app.review import ReviewRules, in_queue
from genre_desktop.app.workflow import RESUME_KEY, prediction_fields, should_resume, to_analyze, under_root
from genre_desktop.app.workspace import Workspace

__all__ = ["RESUME_KEY", "PlannedChange", "ReviewRules", "Workspace", "in_queue", "new_genres", "plan_changes",
           "prediction_fields", "should_resume", "to_analyze", "under_root"]
