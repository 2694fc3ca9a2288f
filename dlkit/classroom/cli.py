"""``python -m dlkit assign release SRC OUT`` and ``python -m dlkit assign grade SRC SUBS``."""
import sys

__all__ = ["add_parser"]


def cmd_release(args):
    from .release import release  # lazy: `python -m dlkit` builds its parser without nbformat

    written = release(args.src, args.out)
    for path in written:
        print(f"wrote {path}")
    print(f"{len(written)} student notebook(s): solutions replaced by stubs, hidden tests "
          "removed, outputs cleared")
    return 0


def cmd_grade(args):
    from .grade import grade  # lazy: `python -m dlkit` builds its parser without nbformat
    from .results import output_paths, summary_table  # lazy: as above

    results = grade(args.src, args.submissions, args.out, cell_timeout=args.cell_timeout,
                    timeout=args.timeout, memory=args.memory, jobs=args.jobs, seed=args.seed,
                    progress=not args.quiet, feedback=args.feedback)
    print(summary_table(results))
    print("wrote " + ", ".join(str(p) for p in output_paths(args.out)))
    return 0


def _run(func):
    def wrapped(args):
        try:
            return func(args)
        except (ValueError, FileNotFoundError) as e:   # AssignmentError is a ValueError
            print(f"error: {e}", file=sys.stderr)
            return 2
    return wrapped


def add_parser(subparsers):
    """Register ``assign`` (with ``release`` and ``grade``) on the dlkit command line."""
    p = subparsers.add_parser("assign", help="classroom: release student copies, grade "
                              "submissions", description="Classroom tools (nbgrader-compatible "
                              "notebooks; see book/assignments/README.md).")
    sub = p.add_subparsers(dest="assign_command", required=True)
    r = sub.add_parser("release", help="write student copies of solution notebooks")
    r.add_argument("src", help="a solution notebook or a folder of them")
    r.add_argument("out", help="folder for the student copies")
    r.set_defaults(func=_run(cmd_release))
    g = sub.add_parser("grade", help="grade a folder of submissions of one assignment")
    g.add_argument("src", help="the solution notebook (holds the hidden tests)")
    g.add_argument("submissions", help="folder: <student>.ipynb or <student>/.../<name>.ipynb")
    g.add_argument("--out", default="grades.csv", help="grades file; <stem>_tests.csv and "
                   "<stem>.json are written beside it (default grades.csv)")
    g.add_argument("--jobs", type=int, default=2, help="students graded at once (default 2)")
    g.add_argument("--timeout", type=float, default=300,
                   help="seconds per notebook (default 300)")
    g.add_argument("--cell-timeout", type=float, default=60,
                   help="seconds per cell; the kernel is interrupted after it (default 60)")
    g.add_argument("--memory", default="2G", help="address-space limit per kernel (default 2G)")
    g.add_argument("--seed", type=int, default=0, help="seed for random, NumPy and dlkit")
    g.add_argument("--feedback", help="folder for the executed notebooks (teacher's eyes only: "
                   "they contain the hidden tests)")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g.set_defaults(func=_run(cmd_grade))
    return p
