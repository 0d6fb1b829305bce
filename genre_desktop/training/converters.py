"""skl2onnx's conversion of the members the app's own export does not write (k-NN, gradient boosting).

Development only: skl2onnx and onnxmltools are in the ``dev`` extra, and only the tools that train
the bundled models export those members; a user's model never needs this module
(:mod:`training.onnx_heads` writes it).
"""

from __future__ import annotations

import warnings
from typing import Any

_XGB_REGISTERED = False


def _register_xgboost_converter() -> None:
    """Teach skl2onnx to convert XGBClassifier inside a Pipeline (onnxmltools' converter)."""
    global _XGB_REGISTERED  # one-time registration in skl2onnx's own global registry
    if _XGB_REGISTERED:
        return
    from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes
    from xgboost import XGBClassifier

    update_registered_converter(
        XGBClassifier, "XGBoostXGBClassifier", calculate_linear_classifier_output_shapes,
        convert_xgboost, options={"nocl": [True, False], "zipmap": [True, False, "columns"]},
    )
    _XGB_REGISTERED = True


def convert(model: Any, n_features: int, name: str, input_name: str) -> bytes:
    """ONNX bytes of a fitted pipeline by skl2onnx (no ZipMap; outputs ``label``, ``probabilities``)."""
    clf = model.steps[-1][1]
    try:
        from skl2onnx import convert_sklearn
        from skl2onnx.common.data_types import FloatTensorType
    except ImportError as exc:
        raise RuntimeError(f"exporting a {type(clf).__name__} model needs skl2onnx and onnxmltools "
                           "(pip install 'genre-desktop[dev]')") from exc
    _register_xgboost_converter()
    with warnings.catch_warnings():
        # skl2onnx reads SVC.probA_/probB_, which sklearn 1.9 flags as deprecated even when unused.
        warnings.simplefilter("ignore", FutureWarning)
        onx = convert_sklearn(
            model,
            name=name or type(clf).__name__,
            initial_types=[(input_name, FloatTensorType([None, n_features]))],
            options={id(clf): {"zipmap": False}},
            target_opset={"": 17, "ai.onnx.ml": 3},
        )
    return onx.SerializeToString()
