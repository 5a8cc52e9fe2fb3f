"""Histograms and bar charts of benchmark results, drawn with matplotlib (Debian:
python3-matplotlib, installed by `boot/ensure-deps.sh bench`). `available()` says
whether it can be imported; without it the runner writes no pictures and says so."""
import math

COLORS = ["#1f5fbf", "#d9622b", "#2e9e4f", "#9b3fb5", "#8c6d31"]


def available():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def fmt_num(v):
    """A short readable number: 1,234 / 12.3 / 0.12."""
    if v is None:
        return "-"
    if abs(v) >= 100:
        return "{:,}".format(int(round(v)))
    return "%.1f" % v if abs(v) >= 10 else "%.2f" % v


def bin_edges(values, bins=60):
    """`bins` + 1 edges over all values, log-spaced when max/min > 20 (values at or
    below zero then fall in the first bin)."""
    lo, hi = min(values), max(values)
    pos = [v for v in values if v > 0]
    if pos and hi / min(pos) > 20:
        a, b = math.log10(min(pos)), math.log10(hi)
        return [10 ** (a + (b - a) * i / bins) for i in range(bins + 1)], True
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    return [lo + (hi - lo) * i / bins for i in range(bins + 1)], False


def histogram(path, title, unit, series, bins=60):
    """One panel per series ({label, values, p50, p99}), on a shared x axis, with
    dashed p50/p99 lines; written as PNG to `path`."""
    plt = _plt()
    edges, log = bin_edges([v for s in series for v in s["values"]], bins)
    fig, axes = plt.subplots(len(series), 1, sharex=True, squeeze=False,
                             figsize=(10, 2.6 * len(series) + 0.8))
    for i, (ax, s) in enumerate(zip(axes[:, 0], series)):
        color = s.get("color") or COLORS[i % len(COLORS)]
        vals = [max(v, edges[0]) for v in s["values"]]
        ax.hist(vals, bins=edges, color=color, alpha=0.85)
        for key, style in (("p50", "--"), ("p99", ":")):
            if s.get(key) is not None:
                ax.axvline(s[key], color="black", linestyle=style, linewidth=1,
                           label="%s %s" % (key, fmt_num(s[key])))
        ax.set_title(s["label"], fontsize=9, loc="left")
        ax.set_ylabel("count")
        ax.legend(fontsize=8, loc="upper right")
        if log:
            ax.set_xscale("log")
    axes[-1, 0].set_xlabel(unit)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(str(path), dpi=100)
    plt.close(fig)


def bars(path, title, ylabel, groups):
    """A bar chart: groups = [(x label, value)]."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.bar([g for g, _ in groups], [v for _, v in groups], color=COLORS[0])
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    fig.tight_layout()
    fig.savefig(str(path), dpi=100)
    plt.close(fig)
