"""Figures to PNG bytes, and the static picture every widget leaves behind.

Every plot in ``dlkit.viz`` is a ``matplotlib.figure.Figure`` drawn on the Agg canvas, not a
pyplot figure: pyplot keeps a global registry of open figures (the usual leak in widget
callbacks), while a bare Figure is freed like any other object once nothing refers to it.

Widgets show their figure as PNG bytes in an ``ipywidgets.Image`` and replace the bytes on
every change. The browser swaps the picture when the new one has loaded, so there is no
flicker, and no ``Output`` widget or ``clear_output`` is needed (those flicker, fight tqdm
and break nbval). ``WidgetFigure._repr_mimebundle_`` adds the current picture as ``image/png``
and a stable ``text/plain`` beside the widget view, so a saved notebook shows the figure on
GitHub, in nbconvert HTML and anywhere else without a running kernel.
"""
import base64
import contextlib
import io
import time

from ..words import say

__all__ = ["new_figure", "figure_to_png", "PNG", "WidgetFigure", "log_slider", "has_kernel"]

# No "Software" entry (it holds matplotlib's version) and no timestamp: the same figure gives
# the same bytes on every run, so saved notebooks do not change when re-run.
_PNG_METADATA = {"Software": None}


def new_figure(figsize=(8.0, 3.6), dpi=80, layout="constrained"):
    """A Figure on the Agg canvas that pyplot does not track (so it can never leak).

    It displays as a PNG in a notebook even when pyplot was never imported (IPython only
    learns to show plain Figures when the inline backend starts, on ``import pyplot``).
    Widgets redrawn on every slider move pass layout=None and place their axes once: the
    constrained layout engine costs about a third of each redraw.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = _figure_class()(figsize=figsize, dpi=dpi, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _figure_class():
    global _Figure
    if _Figure is None:
        from matplotlib.figure import Figure

        class _Figure(Figure):
            def _repr_png_(self):
                return figure_to_png(self)

        # the repr (a notebook's saved text/plain) stays "<Figure size 720x304 with 2 Axes>"
        _Figure.__name__ = _Figure.__qualname__ = "Figure"
    return _Figure


_Figure = None


def figure_to_png(fig, dpi=None):
    """The figure as PNG bytes (deterministic: no software version or date in the file)."""
    buf = io.BytesIO()
    # zlib level 1: a third larger than the default level 6, but encodes about 3x faster
    fig.savefig(buf, format="png", dpi=dpi or fig.dpi, metadata=_PNG_METADATA,
                pil_kwargs={"compress_level": 1})
    return buf.getvalue()


class PNG:
    """PNG bytes that display as a picture, with a fixed text for plain-text front ends.

    ``display(PNG(data, "<LiveCurves: loss>"))`` shows the picture in Jupyter and the text in
    a terminal or under nbval, which compares text only: a fixed text keeps nbval passing
    while the picture changes.
    """

    def __init__(self, data, text="<figure>"):
        self.data, self.text = data, text

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"image/png": base64.b64encode(self.data).decode("ascii"), "text/plain": self.text}

    def __repr__(self):
        return self.text


def has_kernel():
    """True inside a Jupyter kernel (a front end may be attached), False in a script or shell."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    ip = get_ipython()
    return ip is not None and getattr(ip, "kernel", None) is not None


def log_slider(description, value, low, high, **kwargs):
    """A FloatLogSlider from 10**low to 10**high that only updates when released; its
    description (English) is shown in the book's language."""
    import ipywidgets as w

    return w.FloatLogSlider(value=value, base=10, min=low, max=high, step=0.05,
                            description=say(description), continuous_update=False,
                            readout_format=".2g", style={"description_width": "initial"},
                            **kwargs)


class WidgetFigure:
    """Base of the interactive widgets: a Figure shown as an ``ipywidgets.Image``.

    Subclasses build ``self.figure``, the controls in ``self.controls`` (name -> widget) and
    the layout in ``self.widget``, and call ``self.refresh()`` after drawing, which renders
    the figure into ``self.image``. ``self.renders`` counts refreshes (tests use it to see
    that an observer fired) and ``self.last_render_seconds`` times the last one.
    """

    def _init_image(self):
        import ipywidgets as w

        self.image = w.Image(format="png")
        self.renders = 0
        self.last_render_seconds = 0.0
        self.png = b""

    def refresh(self):
        t = time.perf_counter()
        self.png = figure_to_png(self.figure)
        self.image.value = self.png
        self.renders += 1
        self.last_render_seconds = time.perf_counter() - t

    def set(self, **values):
        """Set several controls at once, redrawing once: ``w.set(learning_rate=0.1, steps=50)``."""
        unknown = sorted(set(values) - set(self.controls))
        if unknown:
            raise KeyError(f"{type(self).__name__} has no control(s) {unknown}; "
                           f"controls are {sorted(self.controls)}")
        with self._hold():
            for k, v in values.items():
                self.controls[k].value = v
        return self

    @contextlib.contextmanager
    def _hold(self, redraw=False):
        """Inside ``with self._hold():`` observers run but do not redraw; at the end, one
        redraw if any of them asked for one (or ``redraw``)."""
        if not getattr(self, "_held", 0):
            self._dirty = redraw
        self._dirty = self._dirty or redraw
        self._held = getattr(self, "_held", 0) + 1
        try:
            yield
        finally:
            self._held -= 1
        if not self._held and self._dirty:
            self._dirty = False
            self.update()

    def _changed(self, change=None, redraw=None):
        """Observer of every control: recompute and redraw (once, at the end, inside ``set``).
        ``redraw`` (default ``self.update``) is a cheaper redraw for a control that needs less
        than everything; inside ``set`` the one redraw at the end is always ``update``."""
        if getattr(self, "_held", 0):
            self._dirty = True
        else:
            (redraw or self.update)()

    def update(self):
        raise NotImplementedError

    def _attach_click(self):
        """With ipyevents installed, a click on the picture calls ``self.on_click(event)``."""
        try:
            from ipyevents import Event
        except ImportError:
            self._click_events = None
            return
        self._click_events = Event(source=self.image, watched_events=["click"])
        self._click_events.on_dom_event(self.on_click)

    def _clicked_point(self, event, ax):
        """(x, y) in ``ax``'s data coordinates of a click (an ipyevents event dict), or None
        when the click fell outside ``ax``. The picture may be shown scaled: the event's
        bounding rectangle gives its size on screen."""
        fig_w, fig_h = self.figure.canvas.get_width_height()
        px = event["relativeX"] * fig_w / max(event.get("boundingRectWidth") or fig_w, 1)
        py = fig_h - event["relativeY"] * fig_h / max(event.get("boundingRectHeight") or fig_h, 1)
        if not ax.bbox.contains(px, py):
            return None
        x, y = ax.transData.inverted().transform((px, py))
        return float(x), float(y)

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = dict(self.widget._repr_mimebundle_() or {})
        bundle["image/png"] = base64.b64encode(self.png).decode("ascii")
        bundle["text/plain"] = repr(self)
        return bundle
