# Russian text is the point here: Cyrillic letters that look Latin are meant, lookalikes above all.
# ruff: noqa: RUF001, RUF002, RUF003
"""Profanity in chat text, Russian and English, from the word lists in data/.

Pure: text in, spans out, no Django. `find_profanity(text)` returns ("profanity", start, end)
for each profane word, the span covering the whole word as written ("нахуй", "f.u.c.k").

How a word is recognised, whatever its disguise:
- the text is read in lower case, "ё" as "е"; a whole-text pass points at the words worth a
  look: an entry as typed ("fuck", "пиздец"), or a word with a seam where a disguise can hide
  (a digit or symbol among letters, Latin and Cyrillic letters side by side);
- each such word is read under two views: a Latin one (Cyrillic lookalikes and leetspeak read
  as Latin letters: "fuсk" with a Cyrillic "с", "sh1t", "@ss", "$hit", "bu11shit") and a
  Cyrillic one (Latin lookalikes and digits read as Cyrillic letters: "xyй", "6ля", "пиzдец");
- every letter of an entry may repeat ("fuuuck", "бляяя");
- a word spelled letter by letter with separators ("f.u.c.k", "х у й") is joined and checked;
- a view counts only for a word with at least one letter of its script (a Latin "E60" read
  as Cyrillic is "ебо", and is a model number), and only when no allow-list entry covers the
  word: Russian roots live inside innocent words ("застрахуйте" holds "хуй").

Entry syntax (repeated in each data file's head), one entry per line, "#" starts a comment:
  word     the whole word only
  stem*    a word that starts with stem
  *stem    a word that ends with stem
  *root*   a word that contains root
An entry in Latin letters is looked for in the Latin view, one in Cyrillic in the Cyrillic
view, whichever file it is in (profanity_ru.txt lists transliterated mat, "blyat", too).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path

Span = tuple[str, int, int]

DATA = Path(__file__).resolve().parent / "data"
WORD_LISTS = ("profanity_en.txt", "profanity_ru.txt")
ALLOW_LISTS = ("profanity_allow_en.txt", "profanity_allow_ru.txt")

_LATIN = re.compile(r"[a-z]")
_CYRILLIC = re.compile(r"[а-яё]")

# Cyrillic letters that look like Latin ones, and leetspeak, read as Latin letters.
_LATIN_VIEW = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
        "с": "c", "т": "t", "у": "y", "х": "x", "і": "i",
        "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s",
    }
)  # fmt: skip
# The same with "1" read as "l" ("bu11shit"): leetspeak uses it for both.
_LATIN_VIEW_L = str.maketrans({**_LATIN_VIEW, ord("1"): "l"})
# Latin letters that look like (or transliterate) Cyrillic ones, and digits, read as Cyrillic.
_CYRILLIC_VIEW = str.maketrans(
    {
        "ё": "е", "a": "а", "b": "б", "c": "с", "d": "д", "e": "е", "h": "х", "i": "и", "і": "и", "k": "к",
        "l": "л", "m": "м", "n": "п", "o": "о", "p": "р", "s": "с", "t": "т", "u": "и", "x": "х", "y": "у",
        "z": "з", "0": "о", "3": "з", "4": "ч", "6": "б", "@": "а",
    }
)  # fmt: skip

# A word as written: letters, digits and the leetspeak symbols; "!" only inside ("sh!t").
_WORD_AFTER = re.compile(r"(?:[\w@$]|!(?=[\w@$]))*")
_WORD_SYMBOLS = frozenset("_@$!")
_INNER_EXCLAMATION = re.compile(r"(?<=\w)!(?=\w)")
# Where a disguise can hide in a word: a digit or symbol between letters ("sh1t", "a$$hole",
# "пи3дец") or opening a word ("6ля", "@ss", "$hit"); Latin and Cyrillic letters side by side
# ("fuсk" with a Cyrillic "с", "xyй"). Codes such as "MSCU1234565" or "m3" are not seams. Each
# opens with a character class, so the engine rejects most positions at once.
_LEET_SEAM = re.compile(
    r"[0-9@$!](?:(?<=[a-zа-я][0-9@$!])(?=[0-9@$!]*[a-zа-я])|(?<![\w@$][0-9@$!])(?=[0-9@$]*[a-zа-я]{2}))"
)
_SCRIPT_SEAM = re.compile(r"[a-z](?=[а-я])|[а-я](?=[a-z])")
# A word spelled letter by letter: "f.u.c.k", "f u c k", "х-у-й", "s*h*i*t".
_SPELLED_WORD = re.compile(r"[\w@$](?<![\w@$][\w@$])(?<!_)(?:[ .\-_*·]{1,2}[\w@$](?<!_)){2,}(?![\w@$])")
_SPELLING_SEPARATORS = re.compile(r"[ .\-_*·]")


@dataclass(frozen=True)
class _Entry:
    stem: str
    at_start: bool  # the word must start with the stem
    at_end: bool  # the word must end with the stem

    @classmethod
    def parse(cls, line: str) -> _Entry:
        stem = line.strip("*").lower().replace("ё", "е")
        if not stem or "*" in stem:
            raise ValueError(f"profanity list entry {line!r}: '*' only at the ends")
        return cls(stem=stem, at_start=not line.startswith("*"), at_end=not line.endswith("*"))

    @property
    def script(self) -> str:
        latin, cyrillic = bool(_LATIN.search(self.stem)), bool(_CYRILLIC.search(self.stem))
        if latin == cyrillic:
            raise ValueError(f"profanity list entry {self.stem!r}: Latin or Cyrillic letters, not both")
        return "latin" if latin else "cyrillic"

    def pattern_after_first_letter(self, *, repeats: bool) -> str:
        """The entry as a regular expression for what follows its first letter (see `_compile`).

        With `repeats`, each run of one letter may be longer in the text ("fuuuck", "asss"):
        "ss" becomes "s{2,}+". Possessive, as a run is always followed by another letter: no
        backtracking, so a 4,000-letter "aaaa..." costs one pass, not 4,000."""
        runs = [(letter, len(list(group))) for letter, group in itertools.groupby(self.stem)]
        pattern = "(?<!\\w.)" if self.at_start else ""
        for index, (letter, count) in enumerate(runs):
            escaped = re.escape(letter)
            count -= index == 0  # the first letter is already matched
            if repeats:
                pattern += f"{escaped}{{{count},}}+"
            else:
                pattern += escaped * count
        return pattern + ("(?!\\w)" if self.at_end else "")


def _read_entries(names) -> list[_Entry]:
    entries = []
    for name in names:
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                entries.append(_Entry.parse(line))
    return entries


def _compile(entries, script: str, *, repeats: bool) -> re.Pattern | None:
    """One pattern for the entries of `script`, grouped by first letter: "f(?:uck|...)|s(?:...)".

    Each group opens with a plain character, so Python's engine skips, in C, every position
    where no entry can start, and at a position that can, tries only that letter's entries. (A
    leading lookbehind, or an alternation of 100 entries, makes it try each at every position:
    ~15 times slower on a long message.) The start-of-word check comes after the first letter."""
    groups: dict[str, list[str]] = {}
    for entry in entries:
        if entry.script == script:
            groups.setdefault(entry.stem[0], []).append(entry.pattern_after_first_letter(repeats=repeats))
    if not groups:
        return None
    # Longest first within a group: the match then covers the most specific entry.
    return re.compile(
        "|".join(
            re.escape(first) + "(?:" + "|".join(sorted(patterns, key=len, reverse=True)) + ")"
            for first, patterns in groups.items()
        )
    )


_PROFANE = _read_entries(WORD_LISTS)
_ALLOWED = _read_entries(ALLOW_LISTS)
_PROFANE_LATIN = _compile(_PROFANE, "latin", repeats=True)
_PROFANE_CYRILLIC = _compile(_PROFANE, "cyrillic", repeats=True)
_ALLOWED_LATIN = _compile(_ALLOWED, "latin", repeats=False)
_ALLOWED_CYRILLIC = _compile(_ALLOWED, "cyrillic", repeats=False)


def lower_keeping_length(text: str) -> str:
    """`text` in lower case, character for character, so spans in it are spans in `text`
    (str.lower turns "İ" into two characters)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(character.lower() if len(character.lower()) == 1 else character for character in text)


def _is_profane(word: str) -> bool:
    """Whether `word` (lower case, "ё" as "е") is profane under one of its views and covered by
    no allow-list entry of that view. A view counts only for a word with at least one letter
    of its script: the Latin "e60" read as Cyrillic is "ебо", and is a model number."""
    if "!" in word:
        word = _INNER_EXCLAMATION.sub("i", word)
    for table, profane, allowed, script in _VIEWS:
        if profane is None or not script.search(word) or (table is _LATIN_VIEW_L and "1" not in word):
            continue
        view = word.translate(table)
        if profane.search(view) and not (allowed is not None and allowed.search(view)):
            return True
    return False


_VIEWS = (
    (_LATIN_VIEW, _PROFANE_LATIN, _ALLOWED_LATIN, _LATIN),
    (_LATIN_VIEW_L, _PROFANE_LATIN, _ALLOWED_LATIN, _LATIN),
    (_CYRILLIC_VIEW, _PROFANE_CYRILLIC, _ALLOWED_CYRILLIC, _CYRILLIC),
)


def _word_around(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of the whole word of `text` that holds text[start:end]."""
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in _WORD_SYMBOLS):
        start -= 1
    return start, _WORD_AFTER.match(text, end).end()


def _profane_words(lowered: str) -> set[tuple[int, int]]:
    """Spans of the profane words of a text in lower case with "ё" as "е".

    Reading only the words the passes point at under the views is cheaper than translating the
    whole text into each view: most words are plain, and a plain word is its own view."""
    latin, cyrillic = _LATIN.search(lowered) is not None, _CYRILLIC.search(lowered) is not None
    passes = [_LEET_SEAM]
    if latin:
        passes.append(_PROFANE_LATIN)
    if cyrillic:
        passes.append(_PROFANE_CYRILLIC)
    if latin and cyrillic:
        passes.append(_SCRIPT_SEAM)
    candidates: set[tuple[int, int]] = set()
    for pattern in passes:
        if pattern is None:
            continue
        covered = 0
        for match in pattern.finditer(lowered):
            if match.start() < covered:
                continue  # another hit in the word just taken ("хуйхуйхуй...")
            word = _word_around(lowered, match.start(), match.end())
            candidates.add(word)
            covered = word[1]
    return {(start, end) for start, end in candidates if _is_profane(lowered[start:end])}


def _spelled_words(lowered: str) -> set[tuple[int, int]]:
    """Spans of the words spelled letter by letter ("f.u.c.k") that are profane when joined."""
    return {
        (match.start(), match.end())
        for match in _SPELLED_WORD.finditer(lowered)
        if _is_profane(_SPELLING_SEPARATORS.sub("", match.group()))
    }


def find_profanity(text: str) -> list[Span]:
    """Every profane word of `text` as ("profanity", start, end), one span per word, sorted."""
    lowered = lower_keeping_length(text).replace("ё", "е")
    spans = _profane_words(lowered) | _spelled_words(lowered)
    return [("profanity", start, end) for start, end in sorted(spans)]
