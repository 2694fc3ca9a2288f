"""Exceptions and warnings with messages that say what was wrong and what to do."""


class ShapeError(ValueError):
    """An array reached a layer, loss or model with a shape it cannot take."""


class NotCompiledError(RuntimeError):
    """fit/evaluate was called before compile."""


class DivergenceWarning(RuntimeWarning):
    """Training stopped because the loss became NaN or infinite."""
