"""A bot message drawn the way Slack shows it, from its Block Kit, with Pillow.

Not part of the bot: it draws the README's picture of a brief, and returns the lines of text it
drew so a test can check the picture says what the view says. Run
`python -m tests.support.block_picture docs/brief.png` to redraw it.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

S = 2  # drawn at twice Slack's size, so the picture stays crisp on a high-density screen
WIDTH = 720 * S
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FACES = {
    (False, False): "DejaVuSans.ttf",
    (True, False): "DejaVuSans-Bold.ttf",
    (False, True): "DejaVuSans-Oblique.ttf",
    (True, True): "DejaVuSans-BoldOblique.ttf",
}
MONO = "DejaVuSansMono.ttf"

INK = "#1d1c1d"
GREY = "#616061"
RULE = "#dddddd"
LINK = "#1264a3"
CODE_INK = "#c01343"
CODE_BG = "#f6f6f6"
GREEN = "#007a5a"
BUTTON_EDGE = "#bbbabb"

# Slack draws emoji as pictures and DejaVu has none of them: each emoji the bot sends becomes a
# glyph the font has, in the emoji's colour, or is left out with the space after it.
EMOJI: dict[str, tuple[str, str]] = {
    "🔴": ("●", "#e01e5a"),
    "✅": ("✔", "#2eb67d"),
    "⚠": ("⚠", "#e8912d"),
    "👉": ("➜", "#1264a3"),
    "🆕": ("NEW", "#1d9bd1"),
    "👥": ("", INK),
    "⏳": ("", INK),
}
_EMOJI = re.compile("(" + "|".join(map(re.escape, EMOJI)) + ")\ufe0f?( ?)")
# Slack's mrkdwn: a marker opens before a non-space and closes after one, within a line.
_SPAN = re.compile(
    r"`(?P<code>[^`\n]+)`"
    r"|<(?P<url>[^<>|\n]+)(?:\|(?P<label>[^<>\n]+))?>"
    r"|(?<![\w*])\*(?=\S)(?P<bold>[^*\n]+?)(?<=\S)\*(?!\w)"
    r"|(?<![\w_])_(?=\S)(?P<italic>[^_\n]+?)(?<=\S)_(?!\w)"
    r"|(?<![\w~])~(?=\S)(?P<strike>[^~\n]+?)(?<=\S)~(?!\w)"
)


@dataclass(frozen=True)
class Style:
    size: int = 15 * S
    colour: str = INK
    bold: bool = False
    italic: bool = False
    code: bool = False
    strike: bool = False

    @property
    def font(self) -> ImageFont.FreeTypeFont:
        return _font(MONO if self.code else FACES[self.bold, self.italic], self.size)


@dataclass(frozen=True)
class Run:
    text: str
    style: Style


@dataclass(frozen=True)
class Picture:
    image: Image.Image
    lines: list[str]  # every line of text drawn, top to bottom, as a reader reads it


@lru_cache
def _font(face: str, size: int) -> ImageFont.FreeTypeFont:
    path = FONT_DIR / face
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: install the DejaVu fonts (fonts-dejavu)")
    return ImageFont.truetype(str(path), size)


@lru_cache
def _missing_mask(font: ImageFont.FreeTypeFont) -> bytes:
    return bytes(font.getmask("\ue000"))  # a private-use code point: the font's empty box


@lru_cache(maxsize=4096)
def _has_glyph(font: ImageFont.FreeTypeFont, char: str) -> bool:
    return bytes(font.getmask(char)) != _missing_mask(font)


def _check_glyphs(text: str, font: ImageFont.FreeTypeFont) -> None:
    """An empty box in the README's picture is worse than an error here."""
    for char in set(text) - {" "}:
        if not _has_glyph(font, char):
            raise ValueError(
                f"{Path(str(font.path)).name} has no glyph for {char!r}: map it in EMOJI"
            )


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _emoji_runs(text: str, style: Style) -> list[Run]:
    runs, start = [], 0
    for found in _EMOJI.finditer(text):
        runs.append(Run(text[start : found.start()], style))
        glyph, colour = EMOJI[found.group(1)]
        if glyph:
            emoji = replace(style, colour=colour, bold=True, italic=False)
            runs += [Run(glyph, emoji), Run(found.group(2), style)]
        start = found.end()
    return [*runs, Run(text[start:], style)]


def parse(text: str, style: Style, mrkdwn: bool = True) -> list[Run]:
    """`text` as styled runs, markers and escapes gone, emoji made drawable."""
    if not mrkdwn:
        return [r for r in _emoji_runs(text, style) if r.text]
    runs, start = [], 0
    for found in _SPAN.finditer(text):
        runs += _emoji_runs(_unescape(text[start : found.start()]), style)
        start = found.end()
        kind = found.lastgroup
        if kind == "code":
            runs.append(Run(_unescape(found["code"]), replace(style, code=True, colour=CODE_INK)))
        elif kind in ("url", "label"):
            label = found["label"] or found["url"]
            runs += _emoji_runs(_unescape(label), replace(style, colour=LINK))
        else:
            inner = replace(
                style,
                bold=style.bold or kind == "bold",
                italic=style.italic or kind == "italic",
                strike=style.strike or kind == "strike",
            )
            runs += parse(found[str(kind)], inner)
    runs += _emoji_runs(_unescape(text[start:]), style)
    return [r for r in runs if r.text]


def readable(text: str, mrkdwn: bool = True) -> str:
    """What a reader sees of a Block Kit text: `*Pricing* &amp; more` is `Pricing & more`."""
    return "".join(run.text for run in parse(text, Style(), mrkdwn))


@dataclass(frozen=True)
class _Piece:
    x: int
    run: Run


class _Canvas:
    """A tall white page that blocks are drawn down; cropped to what was used."""

    def __init__(self, width: int) -> None:
        self.image = Image.new("RGB", (width, 12000), "white")
        self.draw = ImageDraw.Draw(self.image)
        self.lines: list[str] = []

    def text(self, runs: list[Run], x: int, y: int, width: int, line_height: int) -> int:
        """Draws `runs` wrapped to `width` from (x, y); returns the y below them."""
        for line in _wrap(runs, width):
            size = max((p.run.style.size for p in line), default=15 * S)
            baseline = y + (line_height + size * 7 // 10) // 2
            for piece in line:
                self._piece(x + piece.x, baseline, piece.run)
            self.lines.append("".join(p.run.text for p in line))
            y += line_height
        return y

    def _piece(self, x: int, baseline: int, run: Run) -> None:
        style, font = run.style, run.style.font
        _check_glyphs(run.text, font)
        width = round(font.getlength(run.text))
        if style.code:
            box = (x - 2 * S, baseline - style.size, x + width + 2 * S, baseline + 5 * S)
            self.draw.rounded_rectangle(box, 3 * S, fill=CODE_BG, outline=RULE, width=S)
        self.draw.text((x, baseline), run.text, font=font, fill=style.colour, anchor="ls")
        if style.strike:
            middle = baseline - style.size * 3 // 10
            self.draw.line((x, middle, x + width, middle), fill=style.colour, width=S)

    def button(self, label: str, x: int, y: int, primary: bool) -> None:
        style = Style(size=13 * S, bold=True, colour="white" if primary else INK)
        box = (x, y, x + button_width(label), y + 28 * S)
        fill, edge = (GREEN, GREEN) if primary else ("white", BUTTON_EDGE)
        self.draw.rounded_rectangle(box, 4 * S, fill=fill, outline=edge, width=S)
        self._piece(x + 12 * S, y + 19 * S, Run(label, style))
        self.lines.append(label)

    def crop(self, bottom: int) -> Image.Image:
        if bottom > self.image.height:
            raise ValueError(f"the message needs {bottom} px, more than the page's height")
        return self.image.crop((0, 0, self.image.width, bottom))


def button_width(label: str) -> int:
    return round(Style(size=13 * S, bold=True).font.getlength(label)) + 24 * S


def _tokens(runs: list[Run]) -> list[Run]:
    """Words, single spaces and line breaks, each with its style."""
    return [Run(part, run.style) for run in runs for part in re.split(r"(\n| )", run.text) if part]


def _wrap(runs: list[Run], width: int) -> list[list[_Piece]]:
    """Greedy wrapping at spaces; a bulleted line's continuation hangs under its text."""
    lines: list[list[_Piece]] = [[]]
    x = indent = 0
    for token in _tokens(runs):
        font = token.style.font
        if token.text == "\n":
            lines.append([])
            x = indent = 0
            continue
        if token.text == " ":
            if lines[-1]:
                x += round(font.getlength(" "))
            continue
        if not lines[-1] and x == 0 and token.text == "•":
            indent = round(font.getlength("• "))
        size = round(font.getlength(token.text))
        if lines[-1] and x + size > width:
            lines.append([])
            x = indent
        elif lines[-1] and x > _right(lines[-1]):
            # Keep the space in the line's text, in the style of the word before it.
            lines[-1].append(_Piece(_right(lines[-1]), Run(" ", lines[-1][-1].run.style)))
        lines[-1].append(_Piece(x, token))
        x += size
    return lines


def _right(line: list[_Piece]) -> int:
    last = line[-1]
    return last.x + round(last.run.style.font.getlength(last.run.text))


def render_message(
    blocks: list[dict[str, Any]], app: str = "SalesMemory", time: str = "9:41 AM"
) -> Picture:
    """The message as Slack's desktop app shows it: the app's name and badge, then each block."""
    canvas = _Canvas(WIDTH)
    left, top = 20 * S, 16 * S
    avatar = (left, top + 2 * S, left + 36 * S, top + 38 * S)
    canvas.draw.rounded_rectangle(avatar, 6 * S, fill="#4a154b")
    initials = Style(size=15 * S, bold=True, colour="white")
    canvas.draw.text(
        ((avatar[0] + avatar[2]) // 2, (avatar[1] + avatar[3]) // 2),
        "SM",
        font=initials.font,
        fill="white",
        anchor="mm",
    )
    x = avatar[2] + 8 * S
    width = WIDTH - x - 28 * S
    y = _title(canvas, app, time, x, top)
    for block in blocks:
        y = _block(canvas, block, x, y + 6 * S, width)
    return Picture(canvas.crop(y + 16 * S), canvas.lines)


def _title(canvas: _Canvas, app: str, time: str, x: int, y: int) -> int:
    name = Style(bold=True)
    canvas.text([Run(app, name)], x, y, WIDTH, 22 * S)
    x += round(name.font.getlength(app)) + 6 * S
    badge = Style(size=10 * S, bold=True, colour=GREY)
    badge_width = round(badge.font.getlength("APP")) + 8 * S
    canvas.draw.rounded_rectangle((x, y + 4 * S, x + badge_width, y + 18 * S), 3 * S, "#e8e8e8")
    canvas.draw.text((x + 4 * S, y + 15 * S), "APP", font=badge.font, fill=GREY, anchor="ls")
    stamp = Style(size=12 * S, colour=GREY)
    canvas.draw.text(
        (x + badge_width + 8 * S, y + 16 * S), time, font=stamp.font, fill=GREY, anchor="ls"
    )
    canvas.lines[-1] += f" APP {time}"
    return y + 22 * S


def _block(canvas: _Canvas, block: dict[str, Any], x: int, y: int, width: int) -> int:
    """Draws one block; returns the y below it. A block type it does not know is an error, so
    the picture cannot quietly leave out what the view sends."""
    kind = block["type"]
    if kind == "header":
        runs = parse(block["text"]["text"], Style(size=18 * S, bold=True), mrkdwn=False)
        return canvas.text(runs, x, y + 4 * S, width, 26 * S) + 4 * S
    if kind == "divider":
        canvas.draw.line((x, y + 8 * S, x + width, y + 8 * S), fill=RULE, width=S)
        return y + 16 * S
    if kind == "context":
        small = Style(size=12 * S, colour=GREY)
        elements: list[Run] = []
        for element in block["elements"]:
            elements += [Run(" ", small), *_text_runs(element, small)]
        return canvas.text(elements[1:], x, y, width, 18 * S) + 4 * S
    if kind == "actions":
        left, y = x, y + 4 * S
        for element in block["elements"]:
            label = readable(element["text"]["text"], mrkdwn=False)
            if left > x and left + button_width(label) > x + width:
                left, y = x, y + 36 * S
            canvas.button(label, left, y, element.get("style") == "primary")
            left += button_width(label) + 8 * S
        return y + 32 * S
    if kind == "section" and "accessory" not in block:
        if "text" in block:
            y = canvas.text(_text_runs(block["text"], Style()), x, y, width, 22 * S)
        return _fields(canvas, block.get("fields", []), x, y, width)
    raise ValueError(f"cannot draw a {kind} block: {sorted(block)}")


def _text_runs(text: dict[str, Any], style: Style) -> list[Run]:
    return parse(text["text"], style, mrkdwn=text["type"] == "mrkdwn")


def _fields(canvas: _Canvas, fields: list[dict[str, Any]], x: int, y: int, width: int) -> int:
    """Two columns, row by row, as Slack lays out a section's fields."""
    column = (width - 16 * S) // 2
    for row in range(0, len(fields), 2):
        bottoms = [
            canvas.text(_text_runs(field, Style()), x + i * (column + 16 * S), y, column, 22 * S)
            for i, field in enumerate(fields[row : row + 2])
        ]
        y = max(bottoms) + 8 * S
    return y


def save(picture: Picture, path: Path) -> None:
    """A small PNG, its drawn text kept in it so a test can compare it with the view."""
    info = PngInfo()
    info.add_itxt("Description", "\n".join(picture.lines))
    # A palette a third the size of full colour; octree keeps a small glyph's own colour.
    image = picture.image.quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    palette = image.getpalette() or []
    paper = image.getpixel((0, 0))
    assert isinstance(paper, int)
    palette[paper * 3 : paper * 3 + 3] = [255, 255, 255]  # the page stays pure white
    image.putpalette(palette)
    image.save(path, optimize=True, pnginfo=info)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.block_picture",
        description="Draw a pre-call brief for a sample prospect, built by the bot's own brief "
        "view from a schema-checked model answer, as a Slack-like PNG.",
    )
    parser.add_argument("out", type=Path, help="where to write the PNG, e.g. docs/brief.png")
    args = parser.parse_args(argv)
    # Imported only now: the bot's modules take seconds to load, and --help needs none of them.
    from tests.support.sample_brief import sample_brief_blocks

    picture = render_message(sample_brief_blocks())
    save(picture, args.out)
    print(f"{args.out}: {picture.image.width}x{picture.image.height}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
