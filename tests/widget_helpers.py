"""What the widget tests share: the PNG signature, and a count of the live matplotlib figures
(a widget that redraws must not leave figures behind)."""
import gc

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def live_figures():
    """The number of matplotlib Figures alive after a garbage collection."""
    from matplotlib.figure import Figure

    gc.collect()
    # type(o), not isinstance(o): isinstance asks a weakref.proxy for its __class__, which
    # raises ReferenceError when the proxy is dead (Numba's compiled libraries keep some)
    return sum(issubclass(type(o), Figure) for o in gc.get_objects())
