"""Dependency-free plotting for bench.py: a PNG encoder (zlib + struct), a 5x7
bitmap font and histogram / bar-chart drawing. Python standard library only."""
import math
import struct
import zlib

# 5x7 bitmap font: 7 rows of 5 pixels ('#' = ink). Lower case is drawn as
# upper case; unknown characters as '?'.
_FONT_SRC = {
    "0": ".###. #...# #..## #.#.# ##..# #...# .###.",
    "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
    "2": ".###. #...# ....# ...#. ..#.. .#... #####",
    "3": "##### ...#. ..#.. ...#. ....# #...# .###.",
    "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.",
    "5": "##### #.... ####. ....# ....# #...# .###.",
    "6": "..##. .#... #.... ####. #...# #...# .###.",
    "7": "##### ....# ...#. ..#.. .#... .#... .#...",
    "8": ".###. #...# #...# .###. #...# #...# .###.",
    "9": ".###. #...# #...# .#### ....# ...#. .##..",
    "A": ".###. #...# #...# ##### #...# #...# #...#",
    "B": "####. #...# #...# ####. #...# #...# ####.",
    "C": ".###. #...# #.... #.... #.... #...# .###.",
    "D": "###.. #..#. #...# #...# #...# #..#. ###..",
    "E": "##### #.... #.... ####. #.... #.... #####",
    "F": "##### #.... #.... ####. #.... #.... #....",
    "G": ".###. #...# #.... #.### #...# #...# .####",
    "H": "#...# #...# #...# ##### #...# #...# #...#",
    "I": ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
    "J": "..### ...#. ...#. ...#. ...#. #..#. .##..",
    "K": "#...# #..#. #.#.. ##... #.#.. #..#. #...#",
    "L": "#.... #.... #.... #.... #.... #.... #####",
    "M": "#...# ##.## #.#.# #.#.# #...# #...# #...#",
    "N": "#...# #...# ##..# #.#.# #..## #...# #...#",
    "O": ".###. #...# #...# #...# #...# #...# .###.",
    "P": "####. #...# #...# ####. #.... #.... #....",
    "Q": ".###. #...# #...# #...# #.#.# #..#. .##.#",
    "R": "####. #...# #...# ####. #.#.. #..#. #...#",
    "S": ".#### #.... #.... .###. ....# ....# ####.",
    "T": "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
    "U": "#...# #...# #...# #...# #...# #...# .###.",
    "V": "#...# #...# #...# #...# #...# .#.#. ..#..",
    "W": "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.",
    "X": "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
    "Y": "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..",
    "Z": "##### ....# ...#. ..#.. .#... #.... #####",
    " ": "..... ..... ..... ..... ..... ..... .....",
    "_": "..... ..... ..... ..... ..... ..... #####",
    ".": "..... ..... ..... ..... ..... .##.. .##..",
    ",": "..... ..... ..... ..... .##.. ..#.. .#...",
    "-": "..... ..... ..... .###. ..... ..... .....",
    "/": "....# ....# ...#. ..#.. .#... #.... #....",
    "%": "##... ##..# ...#. ..#.. .#... #..## ...##",
    "(": "...#. ..#.. .#... .#... .#... ..#.. ...#.",
    ")": ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",
    ":": "..... .##.. .##.. ..... .##.. .##.. .....",
    "=": "..... ..... ##### ..... ##### ..... .....",
    "+": "..... ..#.. ..#.. ##### ..#.. ..#.. .....",
    "<": "...#. ..#.. .#... #.... .#... ..#.. ...#.",
    ">": ".#... ..#.. ...#. ....# ...#. ..#.. .#...",
    "[": ".###. .#... .#... .#... .#... .#... .###.",
    "]": ".###. ...#. ...#. ...#. ...#. ...#. .###.",
    "#": ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.",
    "*": "..... ..#.. #.#.# .###. #.#.# ..#.. .....",
    "|": "..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
    "?": ".###. #...# ....# ...#. ..#.. ..... ..#..",
    "'": "..#.. ..#.. .#... ..... ..... ..... .....",
}
FONT = {ch: [row for row in rows.split()] for ch, rows in _FONT_SRC.items()}
GLYPH_W, GLYPH_H = 5, 7


def png_bytes(width, height, rgb):
    """Encodes an RGB image (bytes/bytearray, rows top to bottom) as PNG."""
    stride = width * 3
    raw = bytearray()
    for y in range(height):
        raw.append(0)  # filter: none
        raw += rgb[y * stride:(y + 1) * stride]

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
            + chunk(b"IEND", b""))


def png_read_header(data):
    """Checks a PNG written by png_bytes (signature, chunk CRCs, image data
    size) and returns (width, height). Raises ValueError if malformed."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("bad PNG signature")
    pos, width, height, idat = 8, None, None, b""
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            raise ValueError("bad CRC in %r chunk" % kind)
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    if width is None or len(zlib.decompress(idat)) != height * (1 + 3 * width):
        raise ValueError("bad PNG image data")
    return width, height


class Canvas:
    def __init__(self, width, height, bg=(255, 255, 255)):
        self.w, self.h = width, height
        self.px = bytearray(bytes(bg) * (width * height))

    def set(self, x, y, color, alpha=1.0):
        if 0 <= x < self.w and 0 <= y < self.h:
            i = (y * self.w + x) * 3
            if alpha >= 1.0:
                self.px[i:i + 3] = bytes(color)
            else:
                for k in range(3):
                    self.px[i + k] = int(self.px[i + k] * (1 - alpha) + color[k] * alpha)

    def rect(self, x0, y0, x1, y1, color, alpha=1.0):
        """Fills [x0, x1) x [y0, y1)."""
        x0, x1 = max(0, int(x0)), min(self.w, int(x1))
        y0, y1 = max(0, int(y0)), min(self.h, int(y1))
        if alpha >= 1.0:
            row = bytes(color) * max(0, x1 - x0)
            for y in range(y0, y1):
                i = (y * self.w + x0) * 3
                self.px[i:i + len(row)] = row
        else:
            for y in range(y0, y1):
                for x in range(x0, x1):
                    self.set(x, y, color, alpha)

    def hline(self, x0, x1, y, color):
        self.rect(x0, y, x1 + 1, y + 1, color)

    def vline(self, x, y0, y1, color, dash=0):
        for y in range(int(y0), int(y1) + 1):
            if not dash or (y // dash) % 2 == 0:
                self.set(int(x), y, color)

    def text(self, x, y, s, color=(0, 0, 0), scale=2, vertical=False):
        """Draws s with its top-left corner at (x, y); vertical text reads
        bottom to top with (x, y) its bottom-left corner."""
        for ch in str(s):
            glyph = FONT.get(ch.upper(), FONT["?"])
            for gy, row in enumerate(glyph):
                for gx, bit in enumerate(row):
                    if bit != "#":
                        continue
                    for sy in range(scale):
                        for sx in range(scale):
                            if vertical:
                                self.set(x + gy * scale + sy, y - (gx * scale + sx), color)
                            else:
                                self.set(x + gx * scale + sx, y + gy * scale + sy, color)
            if vertical:
                y -= (GLYPH_W + 1) * scale
            else:
                x += (GLYPH_W + 1) * scale

    @staticmethod
    def text_width(s, scale=2):
        return len(str(s)) * (GLYPH_W + 1) * scale - scale

    def png(self):
        return png_bytes(self.w, self.h, self.px)


def fmt_num(v):
    """Compact axis label: 950, 1.5K, 12K, 3.4M."""
    a = abs(v)
    for div, suf in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if a >= div:
            q = v / div
            return ("%.1f" % q).rstrip("0").rstrip(".") + suf if abs(q) < 10 else "%d%s" % (round(q), suf)
    if a >= 10 or v == int(v):
        return "%d" % round(v)
    return ("%.2f" % v).rstrip("0").rstrip(".")


def nice_ticks(lo, hi, log, max_ticks=8):
    """Tick values within [lo, hi]: 1-2-5 decades for log, a 1-2-5 step else."""
    if log:
        ticks = []
        e = math.floor(math.log10(lo))
        while 10 ** e <= hi * 1.0001:
            for m in (1, 2, 5):
                t = m * 10 ** e
                if lo * 0.9999 <= t <= hi * 1.0001:
                    ticks.append(t)
            e += 1
        if len(ticks) > max_ticks:
            ticks = [t for t in ticks if str(int(t) if t >= 1 else t)[0] == "1"] or ticks
        return ticks
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / max_ticks
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    t = math.ceil(lo / step) * step
    ticks = []
    while t <= hi + step * 1e-9:
        ticks.append(t)
        t += step
    return ticks


PALETTE = [(52, 101, 164), (230, 120, 30), (60, 150, 60), (170, 60, 160)]


def histogram_png(title, unit, series, bins=60):
    """series: list of dicts {label, values, color?, p50?, p99?}. One panel per
    series, all on the same x axis (log-spaced bins when the range is wide), each
    with its own count axis. Returns PNG bytes."""
    series = [s for s in series if s["values"]]
    allv = [v for s in series for v in s["values"]]
    if not allv:
        raise ValueError("no samples")
    lo, hi = min(allv), max(allv)
    pos = [v for v in allv if v > 0]
    log = bool(pos) and min(pos) > 0 and max(pos) / min(pos) > 20
    if log:
        lo = min(pos)
    if hi <= lo:
        hi = lo + 1
    if log:
        llo, lhi = math.log(lo), math.log(hi)

        def xfrac(v):
            return 0.0 if v <= lo else min(1.0, (math.log(v) - llo) / (lhi - llo))
    else:
        def xfrac(v):
            return min(1.0, max(0.0, (v - lo) / (hi - lo)))

    W, left, right = 1000, 110, 30
    top, panel_h, plot_h, bottom = 50, 270, 200, 40
    H = top + panel_h * len(series) + bottom
    c = Canvas(W, H)
    pw = W - left - right
    c.text(left, 14, title, scale=3)
    black = (0, 0, 0)
    for k, s in enumerate(series):
        color = s.get("color") or PALETTE[k % len(PALETTE)]
        counts = [0] * bins
        for v in s["values"]:
            counts[min(bins - 1, int(xfrac(v) * bins))] += 1
        cmax = max(counts)
        yt = nice_ticks(0, cmax, False, 5)
        step = yt[1] - yt[0] if len(yt) > 1 else 1
        ymax = max(1, math.ceil(cmax / step) * step)
        yt = [t for t in nice_ticks(0, ymax, False, 5) if t <= ymax]
        y0 = top + k * panel_h + 30          # plot top
        y1 = y0 + plot_h                     # plot bottom (x axis)
        # label
        c.text(left, y0 - 24, s["label"], color=color, scale=2)
        # y axis: counts
        for t in yt:
            y = y1 - int(t / ymax * plot_h)
            c.hline(left - 5, left + pw, y, (225, 225, 225))
            c.hline(left - 5, left, y, black)
            lab = fmt_num(t)
            c.text(left - 10 - c.text_width(lab), y - 7, lab)
        c.text(14, y1 - 40, "COUNT", vertical=True)
        # bars
        for b, n in enumerate(counts):
            if not n:
                continue
            bx0 = left + b * pw // bins
            bx1 = left + (b + 1) * pw // bins - 1
            bh = max(2, int(n / ymax * plot_h))
            c.rect(bx0, y1 - bh, bx1, y1, color)
        # percentile markers
        for key, dash in (("p50", 4), ("p99", 2)):
            v = s.get(key)
            if v is None:
                continue
            x = left + int(xfrac(v) * (pw - 1))
            c.vline(x, y0, y1, black, dash=dash)
            lx = x + 4 if x + 4 + c.text_width("P99") < W else x - 4 - c.text_width("P99")
            c.text(lx, y0 + (0 if key == "p50" else 16), key.upper(), scale=2)
        # axes
        c.hline(left, left + pw, y1, black)
        c.vline(left, y0, y1, black)
        # x ticks
        for t in nice_ticks(lo, hi, log):
            x = left + int(xfrac(t) * (pw - 1))
            c.vline(x, y1, y1 + 5, black)
            lab = fmt_num(t)
            c.text(x - c.text_width(lab) // 2, y1 + 9, lab)
    xlabel = unit.upper() + (" (LOG SCALE, %d BINS)" % bins if log else " (%d BINS)" % bins)
    c.text(left + (pw - c.text_width(xlabel)) // 2, H - bottom + 10, xlabel)
    return c.png()


def bars_png(title, ylabel, groups):
    """A grouped bar chart: groups = [(x label, [(series label, value), ...])].
    Returns PNG bytes."""
    labels = []
    for _, vals in groups:
        for name, _ in vals:
            if name not in labels:
                labels.append(name)
    vmax = max([v for _, vals in groups for _, v in vals if v is not None] or [1]) or 1
    W, H, left, right, top, bottom = 1000, 440, 110, 30, 100, 50
    c = Canvas(W, H)
    pw, ph = W - left - right, H - top - bottom
    c.text(left, 14, title, scale=3)
    for k, name in enumerate(labels):
        c.rect(left + k * 220, 54, left + k * 220 + 14, 68, PALETTE[k % len(PALETTE)])
        c.text(left + k * 220 + 20, 54, name)
    y1 = top + ph
    for t in nice_ticks(0, vmax, False, 6):
        y = y1 - int(t / vmax * ph)
        c.hline(left - 5, left + pw, y, (225, 225, 225))
        lab = fmt_num(t)
        c.text(left - 10 - c.text_width(lab), y - 7, lab)
    c.text(14, y1 - 20, ylabel, vertical=True)
    gw = pw / max(1, len(groups))
    bw = max(4, int(gw * 0.7 / max(1, len(labels))))
    for g, (xlab, vals) in enumerate(groups):
        gx = left + int(g * gw + gw * 0.15)
        for name, v in vals:
            if v is None:
                continue
            k = labels.index(name)
            bh = int(v / vmax * ph)
            c.rect(gx + k * bw, y1 - bh, gx + (k + 1) * bw - 2, y1, PALETTE[k % len(PALETTE)])
            lab = fmt_num(v)
            c.text(gx + k * bw + (bw - 2 - c.text_width(lab)) // 2, y1 - bh - 18, lab)
        c.text(left + int(g * gw + gw / 2) - c.text_width(xlab) // 2, y1 + 10, xlab)
    c.hline(left, left + pw, y1, (0, 0, 0))
    c.vline(left, top, y1, (0, 0, 0))
    return c.png()
