"""The workflow both faces share (Qt-free): the workspace (``workspace``: dirs, settings, store,
journal, tag service, analysis description), the library session (``session``: tracks, decisions
and their undo, saving, scans, other processes' writes, the write plan; its store and file work
in ``session_store``), the one analysis driver (``analysis``), the write plan (``plan``), the
review queue's rules (``review``), workflow rules (``workflow``) and where analyses run
(``executors``). Import the module that defines a name; this package re-exports nothing."""
