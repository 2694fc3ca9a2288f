"""Library-wide settings: the default float type and the language the book speaks.

Mirrors ``keras.config.floatx()``. float32 is the default for speed; gradient checks use
float64 (pass ``dtype="float64"`` to a layer or model).

``set_language("zh")``, said once in the setup cell of each Chinese chapter, makes everything
dlkit prints for the book's reader Chinese: the lines of ``dlkit.exercises.check``, the verdict
line of ``dlkit.gradcheck.compare`` and the labels of the ``dlkit.viz`` widgets. Messages of
errors (exceptions), model summaries and progress bars stay English, as Keras's do.
"""
import numpy as np

_floatx = np.float32
LANGUAGES = ("en", "zh")
_language = "en"


def floatx():
    """The default float dtype of new layers (``numpy.float32`` unless changed)."""
    return _floatx


def set_floatx(dtype):
    """Set the default float dtype: "float32" or "float64"."""
    global _floatx
    _floatx = standardize_dtype(dtype)


def standardize_dtype(dtype):
    """Turn None/"float32"/np.float64/... into numpy.float32 or numpy.float64, or raise."""
    if dtype is None:
        return _floatx
    dt = np.dtype(dtype).type
    if dt not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
    return dt


def language():
    """The language of the book's messages and widget labels: "en" (default) or "zh"."""
    return _language


def set_language(language):
    """Speak ``language`` ("en" or "zh") in every later check line, comparison and widget."""
    global _language
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; choose one of {list(LANGUAGES)}")
    _language = language
