"""The installed PySide6 must not leak references to True on Signal.emit().

PySide6 6.12.0 does (CPython < 3.12 then aborts with "bool_dealloc" after a few thousand emits);
pyproject.toml excludes it. This runs in a fresh interpreter WITHOUT genre_desktop's guard
(jobs/pyside_fix.py), so it fails if the dependency pin ever lets a leaking release in.
"""

import subprocess
import sys

PROBE = """
import sys
from PySide6.QtCore import QCoreApplication, QObject, Signal
class O(QObject):
    s = Signal(int)
app = QCoreApplication([])
o = O()
o.s.connect(lambda v: None)
before = sys.getrefcount(True)
for i in range(2000):
    o.s.emit(i)
print(sys.getrefcount(True) - before)
"""


def test_signal_emit_keeps_true_alive():
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120,
                            env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    delta = int(result.stdout.strip().splitlines()[-1])
    assert delta >= -5, f"PySide6 lost {-delta} references to True over 2000 emits"
