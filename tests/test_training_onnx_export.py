"""The user model's ONNX export without converters: exact against scikit-learn/XGBoost, valid ONNX,
and ``train`` working in a process where the development packages cannot be imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from media import corrected_library

from genre_desktop.training import classical, heads, onnx_heads

# What the dev extra (and the train extra) bring and a plain install or the bundle lacks.
DEV_ONLY = ("skl2onnx", "onnxmltools", "onnxconverter_common", "onnx", "onnxscript", "torch", "pytest")


def _data(k: int, seed: int = 0, n: int = 150, d: int = 24):
    rng = np.random.default_rng(seed + k)
    y = np.arange(n) % k
    X = rng.normal(size=(n, d))
    X[:, : k] += np.eye(k)[y] * 1.2  # learnable, not separable
    return classical.as_float32_inputs(X * 3.0 + 5.0), y


def _fitted(kind: str, k: int):
    X, y = _data(k)
    params = heads.CANDIDATES[kind][0]
    head = heads.fit_head(kind, params, X, y, n_labels=k)
    return head, X


@pytest.mark.parametrize("kind", ["logreg", "svm", "xgboost"])
@pytest.mark.parametrize("k", [2, 3, 7])
def test_every_user_head_exports_exactly(kind, k):
    head, X = _fitted(kind, k)
    data = onnx_heads.export(head.pipeline, X.shape[1], f"user_{kind}")
    rng = np.random.default_rng(99)
    X_new = classical.as_float32_inputs(rng.normal(size=(300, X.shape[1])) * 4.0 + 5.0)  # beyond the training range too
    import onnxruntime as ort

    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    label, proba = sess.run(["label", "probabilities"], {"features": X_new.astype(np.float32)})
    expected = head.pipeline.predict_proba(X_new)
    assert proba.dtype == np.float32 and proba.shape == (300, k)
    # float32 rounding of the output is all that separates them
    assert float(np.max(np.abs(proba - expected))) < 1e-6
    assert np.array_equal(label, proba.argmax(axis=1))
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-6)


def test_the_written_bytes_are_valid_onnx():
    onnx = pytest.importorskip("onnx")  # the dev extra: the official checker judges our encoder
    for kind in ("logreg", "svm", "xgboost"):
        head, X = _fitted(kind, 4)
        model = onnx.load_from_string(onnx_heads.export(head.pipeline, X.shape[1], f"user_{kind}"))
        onnx.checker.check_model(model, full_check=True)
        assert [o.name for o in model.graph.output] == ["label", "probabilities"]
        assert model.graph.input[0].name == "features"


def test_the_trainer_exports_without_the_converters(monkeypatch):
    """heads.export_onnx (what the trainer calls) with skl2onnx and onnx unimportable."""
    for name in DEV_ONLY:
        monkeypatch.setitem(sys.modules, name, None)  # import raises ImportError
    for kind in ("logreg", "svm", "xgboost"):
        head, X = _fitted(kind, 3)
        assert heads.export_onnx(head, X[:50], X.shape[1])


def test_a_member_only_the_converters_write_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "skl2onnx", None)
    X, y = _data(3)
    knn = classical.build_pipeline("knn").fit(X, y)
    assert not onnx_heads.supports(knn)
    with pytest.raises(RuntimeError, match=r"KNeighborsClassifier model needs skl2onnx"):
        classical.to_onnx_bytes(knn, n_features=X.shape[1])


def test_xgboost_base_margin_and_missing_values():
    """A shifted target (non-zero base score) and NaN inputs follow the trees' default branches."""
    X, y = _data(3)
    pipe = classical.build_pipeline("xgboost", 0, clf__n_estimators=30, clf__max_depth=4)
    X_missing = X.copy()
    X_missing[::7, 3] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(X_missing, np.where(np.arange(len(y)) % 10 == 0, 2, y))  # unbalanced: base score matters
    data = onnx_heads.export(pipe, X.shape[1])
    probe = X.copy()
    probe[::3, 3] = np.nan
    got = classical.onnx_proba(data, probe)
    assert float(np.max(np.abs(got - pipe.predict_proba(probe)))) < 1e-6


# A process as a plain `pip install` or the bundle has it: the development packages cannot be imported.
_BLOCKED_RUN = textwrap.dedent("""
    import importlib.abc, sys
    BLOCKED = {blocked!r}

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{{name}} is not installed here (blocked by the test)")
            return None

    sys.meta_path.insert(0, Blocker())
    from genre_desktop.cli import main
    code = main(sys.argv[1:])
    leaked = sorted(n for n in sys.modules if n.split(".")[0] in BLOCKED)
    print("LEAKED", leaked, file=sys.stderr)
    sys.exit(code)
""")


@pytest.mark.slow
def test_train_runs_where_the_dev_packages_cannot_be_imported(tmp_path):
    from genre_desktop.paths import app_dirs

    store_path = app_dirs().store_path
    corrected_library(tmp_path / "music", store_path)
    script = tmp_path / "blocked.py"
    script.write_text(_BLOCKED_RUN.format(blocked=DEV_ONLY))
    env = dict(os.environ)

    def run(*args):
        return subprocess.run([sys.executable, str(script), *args], env=env, capture_output=True, text=True,
                              timeout=600)

    done = run("train", "--activate")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "LEAKED []" in done.stderr and "Traceback" not in done.stderr
    listed = run("models", "list", "--json")
    active = next(v for v in json.loads(listed.stdout) if v["active"])
    classified = run("classify", "--json", str(tmp_path / "music" / "techno" / "0.wav"))
    assert classified.returncode == 0, classified.stderr
    result = json.loads(classified.stdout)[0]
    assert result["error"] is None and active["version"] in result["model_version"]
    assert run("models", "rollback").returncode == 0
    back = json.loads(run("classify", "--json", str(tmp_path / "music" / "techno" / "0.wav")).stdout)[0]
    assert active["version"] not in back["model_version"]
