"""Which text encoding a shapefile's attributes are in: .cpg, then the DBF language driver byte,
then UTF-8, then GB18030 (the domain primer's order). Other formats are UTF-8 by definition.

GDAL itself honours the .cpg and the language driver byte; this module only looks at both to
*report* the choice (GDAL does not say where its choice came from) and supplies the last two
steps, which GDAL lacks: it falls back to ISO-8859-1, which turns GBK text into mojibake.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

#: DBF language driver ids (byte 29) of the code pages met in Chinese data (ESRI's table).
LDID_CODEPAGES = {
    0x4D: "CP936",
    0x7A: "CP936",
    0x4F: "CP950",
    0x78: "CP950",
    0x4E: "CP949",
    0x7B: "CP932",
    0x13: "CP932",
    0x01: "CP437",
    0x03: "CP1252",
    0x57: "CP1252",
    0x1A: "CP850",
}
#: Code page numbers in .cpg files -> Python codec names.
CPG_ALIASES = {"936": "GBK", "65001": "UTF-8", "950": "BIG5", "1252": "CP1252", "UTF8": "UTF-8"}


@dataclass(frozen=True)
class EncodingChoice:
    """The encoding to read with (``None``: let GDAL decide) and why, for the ingest report."""

    encoding: str | None
    source: str  # config | cpg | ldid | utf8-test | gb18030-fallback | format

    def label(self) -> str:
        return f"{self.encoding or 'UTF-8'} ({self.source})"


def is_shapefile(path: Path) -> bool:
    """A ``.shp`` or ``.dbf`` file, or a zip holding one."""
    suffix = path.suffix.lower()
    if suffix in (".shp", ".dbf"):
        return True
    if suffix == ".zip":
        return any(n.lower().endswith(".shp") for n in _zip_names(path))
    return False


def detect_encoding(path: Path, layer: str | None = None) -> EncodingChoice | None:
    """The first two steps for a shapefile: its .cpg, then the language driver byte.

    Returns ``None`` when neither says anything (the caller then tests UTF-8, then GB18030).
    """
    cpg = _sidecar(path, layer, ".cpg")
    if cpg is not None:
        text = cpg.decode("ascii", "ignore").strip()
        if text:
            return EncodingChoice(CPG_ALIASES.get(text.upper(), text), "cpg")
    dbf = _sidecar(path, layer, ".dbf", head=32)
    if dbf is not None and len(dbf) > 29:
        ldid = dbf[29]
        if ldid in LDID_CODEPAGES and ldid != 0x57:  # 0x57 "ANSI" says nothing definite
            return EncodingChoice(LDID_CODEPAGES[ldid], f"ldid {ldid}")
    return None


def _zip_names(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as z:
            return z.namelist()
    except (OSError, zipfile.BadZipFile):
        return []


def _sidecar(path: Path, layer: str | None, ext: str, head: int | None = None) -> bytes | None:
    """Bytes of the shapefile's companion file with extension ``ext`` (inside a zip too)."""
    if path.suffix.lower() == ".zip":
        names = [n for n in _zip_names(path) if n.lower().endswith(ext)]
        if layer is not None:
            names = [n for n in names if Path(n).stem == layer] or names
        if len(names) != 1:
            return None
        with zipfile.ZipFile(path) as z, z.open(names[0]) as fh:
            return fh.read(head) if head else fh.read()
    for cand in (path.with_suffix(ext), path.with_suffix(ext.upper())):
        if cand.is_file():
            with open(cand, "rb") as fh:
                return fh.read(head) if head else fh.read()
    return None


#: What GDAL is told a shapefile is in when Tushu decodes it itself: every byte maps to one
#: character, so ``text.encode(RAW)`` gives back the file's bytes exactly.
RAW = "ISO-8859-1"
LIKELY = ("UTF-8", "GB18030")


@dataclass(frozen=True)
class Decoded:
    """Attribute names and values decoded from raw bytes, with what had to be repaired."""

    columns: list[str]
    values: dict[str, list]
    warnings: list[str]


def _bytes(text: str) -> bytes:
    return text.encode(RAW)


def guess_encoding(blobs: list[bytes]) -> str | None:
    """The first of UTF-8 and GB18030 that decodes every blob strictly (None: neither)."""
    for enc in LIKELY:
        try:
            for b in blobs:
                b.decode(enc)
            return enc
        except UnicodeDecodeError:
            continue
    return None


def decode_name(raw: bytes, encoding: str) -> tuple[str, bool]:
    """A DBF field name: names hold 10 bytes, so a multi-byte character may be cut at the
    end; the cut bytes are dropped. Returns the name and whether it was cut."""
    try:
        return raw.decode(encoding), False
    except UnicodeDecodeError as err:
        if err.end >= len(raw) and err.start >= len(raw) - 3:
            return raw[: err.start].decode(encoding, "replace"), True
        raise


def decode_layer(names: list[str], texts: dict[str, list], choice: EncodingChoice) -> Decoded:
    """Decode field ``names`` and the string values ``texts`` (column → values, None kept),
    read from a shapefile as :data:`RAW`, with ``choice.encoding``.

    Raises ``UnicodeDecodeError`` when a value does not decode. Names cut mid-character are
    repaired and names made unique (``名_2``), each with a warning.
    """
    enc = choice.encoding or "UTF-8"
    warnings: list[str] = []
    columns: list[str] = []
    for name in names:
        fixed, cut = decode_name(_bytes(name), enc)
        if cut:
            warnings.append(f"field name cut mid-character (10-byte DBF limit) read as {fixed!r}")
        base, k = fixed, 2
        while fixed in columns:
            fixed, k = f"{base}_{k}", k + 1
        if fixed != base:
            warnings.append(f"field name {base!r} occurs more than once; column {len(columns)}"
                            f" renamed {fixed!r}")  # fmt: skip
        columns.append(fixed)
    memo: dict[str, str] = {}

    def text(v):
        if not isinstance(v, str):
            return v
        if v not in memo:
            memo[v] = _bytes(v).decode(enc)
        return memo[v]

    values = {col: [text(v) for v in texts[col]] for col in texts}
    return Decoded(columns, values, warnings)


def check_explicit(blobs: list[bytes], encoding: str) -> str | None:
    """Why text decoded with an explicit ``encoding`` is wrong (None: it looks right): the
    bytes do not decode, give replacement characters, or are plainly UTF-8 read as another
    code page (which decodes to mojibake without an error)."""
    wide = [b for b in blobs if any(c > 127 for c in b)]
    if not wide:
        return None
    try:
        text = [b.decode(encoding) for b in wide]
    except UnicodeDecodeError:
        return "do not decode"
    if any("\ufffd" in t for t in text):
        return "hold replacement characters (�)"
    if encoding.replace("-", "").upper() != "UTF8" and guess_encoding(wide) == "UTF-8":
        return "are garbled (they are UTF-8)"
    return None
