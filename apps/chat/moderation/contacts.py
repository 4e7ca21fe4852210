# Russian text is the point here: Cyrillic letters that look Latin are meant.
# ruff: noqa: RUF001
"""Contact details in chat text: phone numbers, e-mail addresses, links and messenger handles,
including the obfuscations people use to slip them past a filter ("ivan at mail dot ru",
"8 9 1 6 ...", "восемь девять один шесть ...").

Pure: text in, spans out, no Django. `find_contacts(text)` returns (kind, start, end) spans in
`text`, unsorted and possibly overlapping; the package's `moderate` merges them.

The filter runs in a logistics chat, where numbers are everywhere (weights, prices, dates,
order and container numbers), so every rule here is shaped as much by what it must leave
alone as by what it must find: a phone is a run of digits that libphonenumber accepts as a
grouped number, or that is spelled out digit by digit, or that follows "tel"/"whatsapp"; a
run after "INN"/"order"/"№", a date, a time or a letter-prefixed identifier is not one.

Speed: a pattern that opens with a lookbehind or an optional group makes Python's regex
engine try it at every position of a 4,000-character message. So each detector first looks
for what its contact cannot lack ("@", "://", a digit, ".ru"), with a pattern that opens
with plain characters (the engine then skips ahead in C), and runs its full pattern only there.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher

from apps.chat.moderation.profanity import lower_keeping_length

Span = tuple[str, int, int]

# Top-level domains a bare domain may end with. Curated, not the full IANA list: with every
# TLD, ordinary text turns into domains ("readme.md", "logo.ai", "main.rs", "ok.so").
TLDS = [
    "com", "net", "org", "info", "biz", "edu", "gov", "ru", "su", "рф", "ua", "by", "kz", "uz", "kg", "tj", "tm",
    "az", "ge", "am", "lv", "lt", "ee", "pl", "de", "fr", "it", "es", "pt", "nl", "be", "ch", "at", "se", "no",
    "fi", "dk", "cz", "sk", "hu", "ro", "bg", "gr", "ie", "uk", "eu", "us", "ca", "mx", "br", "ar", "cl", "au",
    "nz", "cn", "jp", "kr", "hk", "sg", "tw", "vn", "th", "in", "tr", "ae", "il", "io", "co", "me", "tv", "app",
    "dev", "online", "site", "shop", "store", "xyz", "pro", "tech", "cloud", "club", "top", "space", "website",
    "link", "live"
]  # fmt: skip
# "no", "at" and "am" are real TLDs but also words that follow a dot in ordinary text
# ("Ref.No", "10.am"); a spelled-out domain ("example dot com") may end in a transliteration.
_BARE_TLDS = [tld for tld in TLDS if tld not in {"no", "at", "am"}]
_SPELLED_TLDS = [*TLDS, "ру", "ком", "орг", "рус"]


def _alternation(words) -> str:
    # Longest first: "com" before "co", so the alternation never stops at a shorter word.
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


# In lower case or all in capitals ("EXAMPLE.COM"), never capitalised: "done.It" is a sentence
# short of its space.
_BARE_TLD = rf"(?-i:{_alternation(_BARE_TLDS)}|{_alternation(tld.upper() for tld in _BARE_TLDS)})"
_ANY_TLD = rf"(?:{_alternation(_SPELLED_TLDS)})"
_LABEL = r"[^\W_][\w\-]*"
_TRAILING_PUNCTUATION = ".,;:!?)]}>»\"'"
_NOT_IN_URL = r"[^\s<>\"'«»]"

# --- E-mail addresses ----------------------------------------------------------------------

# "@" or a bracketed "at" can be spaced freely: nobody writes "(at)" for anything else.
_AT_STRONG = r"\s*(?:@|[(\[{<]\s*(?:at|собака|собачка|@)\s*[)\]}>])\s*"
# A bare word "at" is ordinary English ("meet at the dock"), so it counts only when a dot
# follows in a form that does not end a sentence (tight, spelled out or bracketed).
_AT_WORD = r"\s+(?:at|собака|собачка)\s+"
# "dot" or "точка" as a word, or bracketed; a bracketed "." too ("example[.]com").
_DOT_SPELLED = r"(?:\s*[(\[{<]\s*(?:dot|точка|тчк|\.)\s*[)\]}>]\s*|\s+(?:dot|точка|тчк)\s+)"
_DOT_ANY = rf"(?:{_DOT_SPELLED}|\s*\.\s*)"
_DOT_TIGHT_OR_SPELLED = rf"(?:{_DOT_SPELLED}|\.)"
# A domain ends at the first TLD that no tight ".label" follows: "mail.ru. Thanks" ends at
# "ru", "company.com.ua" goes on to "ua".
_DOMAIN_END = r"(?![\w\-])(?!\.(?-i:[a-z]))"
_EMAIL = re.compile(
    rf"(?<![\w.+\-])\w[\w.+\-]*"
    rf"(?:{_AT_STRONG}{_LABEL}(?:{_DOT_ANY}{_LABEL}){{0,6}}?{_DOT_ANY}{_ANY_TLD}"
    # After a bare "at", a tight dot counts only before a lower-case TLD: "at home.It is" is a
    # sentence short of a space.
    rf"|{_AT_WORD}{_LABEL}(?:{_DOT_TIGHT_OR_SPELLED}{_LABEL}){{0,6}}?(?:{_DOT_SPELLED}{_ANY_TLD}|\.{_BARE_TLD}))"
    rf"{_DOMAIN_END}",
    re.IGNORECASE,
)
# Where an address can be: an "@", or an "at"/"собака" that is a word of its own.
_EMAIL_HINT = re.compile(r"@|a(?<![^\W_]a)t(?!\w)|соба(?<![^\W_]соба)[кч]")
_LOCAL_PART_SYMBOLS = frozenset("_.+-")
_BEFORE_AT_SYMBOLS = frozenset("([{<")

# --- Links ---------------------------------------------------------------------------------

_URL = re.compile(rf"(?<![\w@])(?:(?:https?|ftp)://|www\.){_NOT_IN_URL}+", re.IGNORECASE)
_BARE_DOMAIN = re.compile(rf"(?<![\w@.\-/])(?:{_LABEL}\.){{1,8}}{_BARE_TLD}(?![\w\-])(?:[/?#]{_NOT_IN_URL}*)?")
_BARE_DOMAIN_HINT = re.compile(rf"\.{_BARE_TLD}(?![\w\-])")
_SPELLED_DOMAIN = re.compile(
    rf"(?<![\w@.\-]){_LABEL}(?:{_DOT_SPELLED}{_LABEL}){{0,6}}?{_DOT_SPELLED}{_ANY_TLD}{_DOMAIN_END}", re.IGNORECASE
)
_SPELLED_DOMAIN_HINT = re.compile(r"dot|точк|тчк|[(\[{<] ?\. ?[)\]}>]")

# --- Messenger handles ---------------------------------------------------------------------

_MESSENGER_URL = re.compile(
    r"(?<![\w.\-])(?:https?://)?(?:www\.)?"
    r"(?:t\.me|telegram\.(?:me|dog)|wa\.me|api\.whatsapp\.com|chat\.whatsapp\.com|viber\.click|m\.me)"
    rf"/{_NOT_IN_URL}+"
    rf"|(?<![\w.\-])(?:tg|viber|whatsapp|skype)://{_NOT_IN_URL}+",
    re.IGNORECASE,
)
_MESSENGER_URL_HINT = re.compile(r"\.me/|://|\.dog/|whatsapp\.com|viber\.click")
# Telegram and Instagram usernames: Latin letters, digits, "_" and ".", from a letter; not
# the middle of an e-mail address ("ivan@mail.ru").
_AT_HANDLE = re.compile(r"(?<![\w@.+\-])@[A-Za-z][A-Za-z0-9_.]{2,31}")
_MESSENGER_STEMS = [
    "telegram", "телеграм", "телег", "tg", "тг", "тлг", "whatsapp", "whats", "вотсап", "ватсап", "вацап", "воцап",
    "viber", "вайбер", "вибер", "skype", "скайп", "wechat", "вичат", "icq", "аська", "discord", "дискорд",
    "instagram", "insta", "инстаграм", "инста", "snapchat", "vk", "вк"
]  # fmt: skip
# In lower case (the pattern runs on the lowered text); Russian case endings: "в телеге",
# "по вотсапу", "в скайпе".
_MESSENGER = rf"(?:{_alternation(_MESSENGER_STEMS)}|whats app)(?:[а-яё]{{0,4}})"
_HANDLE_AFTER_MESSENGER = re.compile(
    rf"(?<![\w@]){_MESSENGER}(?:\s*[/,|]\s*{_MESSENGER})*"
    r"(?P<separator>\s*[:=\-–—]\s*|\s+)"
    r"(?P<target>\+?\d[\d \-()]{4,}\d|@?[a-z][\w.]{2,31})"
)
_MESSENGER_HINT = re.compile(_alternation(_MESSENGER_STEMS))
# Words that can follow "telegram:" without being a handle ("whatsapp: same number").
_NOT_HANDLES = frozenset({
    "none", "same", "also", "yes", "not", "please", "only", "the", "this", "that", "what", "with", "from", "have",
    "will", "when", "where", "here", "there", "sure", "fine", "okay", "works", "available", "later", "soon",
    "maybe", "number", "phone"
})  # fmt: skip

# --- Phones --------------------------------------------------------------------------------

DIGIT_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
    "ноль": "0", "нуль": "0", "один": "1", "одна": "1", "одно": "1", "два": "2", "две": "2", "три": "3",
    "четыре": "4", "пять": "5", "шесть": "6", "семь": "7", "восемь": "8", "девять": "9",
}  # fmt: skip
_PLUS_WORDS = ("plus", "плюс")
_DIGIT_WORD = rf"\b(?:{_alternation(DIGIT_WORDS)})\b"
# Separators between the pieces of one number: spaces, dots, dashes, slashes, brackets,
# and invisible characters inserted to break a filter. No newline: a list of quantities,
# one per line, is not a phone number.
_SEPARATOR_CHARACTERS = " \t\u00a0\u2009\u202f\u200b\u200c\u200d\u2060.-–—/()_*"
_SEPARATOR_CHARACTER = f"[{re.escape(_SEPARATOR_CHARACTERS)}]"
_SEPARATOR = rf"(?:{_SEPARATOR_CHARACTER}{{1,4}}|\s+(?:dash|тире|дефис)\s+)"
_UNIT = rf"(?:\d+|{_DIGIT_WORD})"
# A run of digits and digit words, in the lowered text (digit words in lower case).
_PHONE_RUN = re.compile(rf"(?:(?:\+|\b(?:plus|плюс)\b)\s*)?\(?{_UNIT}(?:{_SEPARATOR}{_UNIT})*")
# Where a phone can start: seven digits or more with separators ("(?<!\d\d)" after the first
# digit rather than a lookbehind before it: see the module's note on speed), or a digit word.
_LONG_NUMBER = re.compile(rf"\d(?<!\d\d)(?:{_SEPARATOR_CHARACTER}{{0,4}}\d){{6,}}")
_DIGIT_WORD_HINT = re.compile(_alternation([*DIGIT_WORDS, *_PLUS_WORDS]))
_UNITS_OF_RUN = re.compile(rf"\d+|{_DIGIT_WORD}")

_BLANK = "\x00"
# What looks like digits but is not a phone, blanked out of a copy of the text around a run
# (same length, so the spans stay those of the original) before the run is looked at again.
# Each alternative opens with a character, the not-after-a-digit checks follow it.
_NOT_PHONES = re.compile(
    r"\d(?<!\d\d)\d?[./](?:0?[1-9]|1[0-2])[./](?:(?:19|20)\d{2}|\d{2})(?!\d)"  # 12.03.2026
    r"|\d(?<!\d\d)\d?-(?:0?[1-9]|1[0-2])-(?:19|20)\d{2}(?!\d)"  # 12-03-2026
    r"|[12](?<!\d[12])\d{3}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?!\d)"  # 2026-03-12
    r"|\d(?<!\d\d)\d?:[0-5]\d(?::[0-5]\d)?(?!\d)"  # 10:30
    r"|[^\W\d_](?<!\w[^\W\d_])[^\W\d_]*+[\-_#/]?\d[\w\-]*"  # ORD-2026-000123, MSCU1234565
    r"|[№#]\s*\d[\d\-]*"  # № 4521
)
_LEADING_LETTERS = re.compile(r"[^\W\d_]+")
_LETTERS_BEFORE = 8  # of an identifier ("ORD-", "MSCU") before the digits of a run
_CONTEXT = 40  # characters a run reaches back over to its "+" and first digits
# The word just before a run says what the number is: "INN 7707083893" is a tax number,
# "tel 4951234567" a phone whatever libphonenumber thinks of it.
_WORD_BEFORE = re.compile(r"([^\W\d_]+)[\W_]{0,4}$")
_IDENTIFIER_WORDS = frozenset({
    "inn", "ogrn", "ogrnip", "kpp", "bik", "okpo", "iban", "swift", "bic", "awb", "invoice", "order", "rfq",
    "tracking", "track", "trk", "container", "cmr", "ref", "reference", "contract", "account", "acc", "sku", "ean",
    "upc", "code", "id", "vin", "imo", "mmsi", "seal", "booking", "waybill", "инн", "огрн", "огрнип", "кпп", "бик",
    "окпо", "счет", "счёт", "счета", "заказ", "заказа", "накладная", "накладной", "трек", "трека", "контейнер",
    "договор", "договора", "артикул", "код", "пломба", "рейс"
})  # fmt: skip
_PHONE_WORDS = frozenset({
    "tel", "phone", "phones", "mob", "mobile", "cell", "call", "whatsapp", "viber", "telegram", "тел", "телефон",
    "телефона", "телефону", "моб", "мобильный", "сотовый", "звони", "звоните", "позвоните", "позвони", "набери",
    "наберите", "номер", "вотсап", "ватсап", "вайбер"
})  # fmt: skip
# A number followed by a unit or a currency is a quantity: "1 250 000 000 RUB".
_UNIT_AFTER = re.compile(
    r"\s*(?:kg|кг|t|т|tons?|тонн\w*|rub|руб\w*|₽|usd|\$|eur|€|cny|¥|km|км|m3|м3|cm|см|mm|мм|pcs|шт|pallets?|"
    r"паллет\w*|%)(?![^\W\d_])"
)
_THOUSANDS = re.compile(r"\d{1,3}(?:[ \u00a0\u2009\u202f.,]\d{3})+")
_LOCAL_RUSSIAN = re.compile(r"\d{3}-\d{2}-\d{2}")  # "123-45-67": a city number without its code


def _runs(pattern: re.Pattern, hint: re.Pattern, text: str):
    """Matches of `pattern` in `text`, tried only where `hint` finds something: `pattern` must
    match at the hint's start. Non-overlapping, left to right."""
    position = 0
    while (found := hint.search(text, position)) is not None:
        match = pattern.match(text, found.start())
        if match is None or match.end() == match.start():
            position = found.start() + 1
            continue
        yield match
        position = match.end()


def _blank_not_phones(match: re.Match) -> str:
    letters = _LEADING_LETTERS.match(match.group())
    if letters is not None and letters.group() in DIGIT_WORDS:
        return match.group()  # "девять-1-6...": a spelled phone, not an identifier
    return _BLANK * len(match.group())


def _digits(raw: str) -> str:
    """The digits a run spells, with digit words read as digits."""
    return "".join(DIGIT_WORDS.get(unit, unit) for unit in _UNITS_OF_RUN.findall(raw))


def _is_spelled(raw: str) -> bool:
    """A run written to dodge a filter: digit words ("nine one six", "восемь 916"), or ten and
    more single digits with one and the same separator ("8 9 1 6 1 2 3 4 5 6 7"). A list of
    decimals ("1.5 2.5 3.5") alternates its separators and stays a list."""
    units = _UNITS_OF_RUN.findall(raw)
    if raw.startswith(_PLUS_WORDS) or any(not unit.isdigit() for unit in units):
        return True
    if len(units) < 10 or any(len(unit) != 1 for unit in units):
        return False
    return len(set(_UNITS_OF_RUN.split(raw)[1:-1])) == 1


def _word_before(lowered: str, start: int) -> str:
    line_start = lowered.rfind("\n", 0, start) + 1
    match = _WORD_BEFORE.search(lowered, max(line_start, start - 24), start)
    return match.group(1) if match else ""


def _validated_spans(window: str, offset: int) -> list[Span]:
    """Phones libphonenumber finds in `window`, valid and grouped as that country groups
    them: "8 916 123 45 67" is, "48 36 24 12 60" is not, though both are valid numbers."""
    international_prefix = window.startswith("00")
    if international_prefix:
        window = " +" + window[2:]  # the same length, so the spans still line up
    spans = []
    for match in PhoneNumberMatcher(window, "RU", leniency=Leniency.STRICT_GROUPING):
        start = 0 if international_prefix and match.start == 1 else match.start
        spans.append(("phone", offset + start, offset + match.end))
    return spans


def _is_mobile_or_international(digits: str, *, international: bool) -> bool:
    try:
        number = phonenumbers.parse(("+" if international else "") + digits, None if international else "RU")
    except phonenumbers.NumberParseException:
        return False
    if international:
        return phonenumbers.is_possible_number(number)
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def _phones_in_run(lowered: str, start: int, end: int) -> list[Span]:
    """The phones in the run lowered[start:end], one that no date or identifier cuts through."""
    raw = lowered[start:end]
    digits = _digits(raw)
    if not 7 <= len(digits) <= 15 and not (len(digits) > 15 and len(raw) <= 60):
        return []
    if end < len(lowered) and (lowered[end].isalpha() or _UNIT_AFTER.match(lowered, end)):
        return []  # "5kg", "1 250 000 000 rub"
    if _is_spelled(raw):
        # Nobody spells a long number out digit by digit but to hide a phone number.
        return [("phone", start, end)] if 7 <= len(digits) <= 15 else []
    international = raw.startswith(("+", "00"))
    word_before = _word_before(lowered, start)
    if not international and (word_before in _IDENTIFIER_WORDS or _THOUSANDS.fullmatch(raw)):
        return []
    validated = _validated_spans(raw, start)
    if validated:
        return validated
    if len(digits) <= 15 and (
        word_before in _PHONE_WORDS
        or _is_mobile_or_international(digits, international=international)
        or _LOCAL_RUSSIAN.fullmatch(raw)
    ):
        # Grouped oddly ("89 16 12 34 567", "8/916/123/45/67") to dodge a filter, but a
        # mobile number, an international one, or announced as a phone.
        return [("phone", start, end)]
    return []


def _run_starts(lowered: str) -> list[int]:
    """Where the runs that can hold a phone start, sorted."""
    starts = {match.start() for match in _LONG_NUMBER.finditer(lowered)}
    for match in _DIGIT_WORD_HINT.finditer(lowered):
        if match.start() == 0 or not lowered[match.start() - 1].isalnum():
            starts.add(match.start())
    return sorted(starts)


def _run_start(lowered: str, found: int) -> int:
    """Where the run found at `found` starts: "+7 (" before "916 123 45 67", "8 " before
    "девять"."""
    start = position = found
    while position > 0 and found - position < _CONTEXT:
        character = lowered[position - 1]
        if not (character.isdigit() or character == "+" or character in _SEPARATOR_CHARACTERS):
            break
        position -= 1
        if character.isdigit() or character in "+(":
            start = position
    return start


def _phone_spans(lowered: str) -> list[Span]:
    spans: list[Span] = []
    covered = 0
    for found in _run_starts(lowered):
        if found < covered:
            continue
        run = _PHONE_RUN.match(lowered, _run_start(lowered, found))
        if run is None or run.end() <= found:
            run = _PHONE_RUN.match(lowered, found)
        if run is None:
            continue
        covered = run.end()
        if len(_digits(run.group())) < 7:
            continue  # "one pallet", "20 boxes"
        # Blank the dates, times and identifiers in the run, then look again at what is left. A
        # date or a time starts with a digit, so inside the run; an identifier's letters and a
        # "№" come before it, and a few of them are enough to recognise it.
        window_start = max(0, run.start() - _LETTERS_BEFORE)
        shadow = _NOT_PHONES.sub(_blank_not_phones, lowered[window_start : run.end()])
        for part in _PHONE_RUN.finditer(shadow, run.start() - window_start, run.end() - window_start):
            spans.extend(_phones_in_run(lowered, window_start + part.start(), window_start + part.end()))
    return spans


def _trimmed(start: int, raw: str) -> tuple[int, int]:
    """A link's span without the sentence's punctuation after it ("see example.com/a.")."""
    trimmed = raw.rstrip(_TRAILING_PUNCTUATION)
    # Keep a closing bracket that closes one the link opened (Wikipedia's "Foo_(bar)").
    while raw[len(trimmed) : len(trimmed) + 1] == ")" and trimmed.count("(") > trimmed.count(")"):
        trimmed += ")"
    return start, start + len(trimmed)


def _local_part_start(text: str, at: int) -> int:
    """Where the local part of an address whose "@" (or "at") is at `at` would start."""
    position = at
    while position > 0 and (text[position - 1].isspace() or text[position - 1] in _BEFORE_AT_SYMBOLS):
        position -= 1
    while (
        position > 0
        and at - position < 64
        and (text[position - 1].isalnum() or text[position - 1] in _LOCAL_PART_SYMBOLS)
    ):
        position -= 1
    return position


def _email_spans(text: str, lowered: str) -> list[Span]:
    spans: list[Span] = []
    covered = 0
    for hint in _EMAIL_HINT.finditer(lowered):
        if hint.start() < covered:
            continue
        match = _EMAIL.match(text, _local_part_start(text, hint.start()))
        if match is not None and match.end() > hint.start():
            spans.append(("email", match.start(), match.end()))
            covered = match.end()
    return spans


def _link_spans(text: str, lowered: str) -> list[Span]:
    spans: list[Span] = []
    if "://" in text or "www." in lowered:
        spans.extend(("link", *_trimmed(match.start(), match.group())) for match in _URL.finditer(text))
    if _BARE_DOMAIN_HINT.search(text):
        for match in _BARE_DOMAIN.finditer(text):
            start, end = _trimmed(match.start(), match.group())
            spans.append(("link", start, end))
    if _SPELLED_DOMAIN_HINT.search(lowered):
        spans.extend(("link", match.start(), match.end()) for match in _SPELLED_DOMAIN.finditer(text))
    return spans


def _handle_spans(text: str, lowered: str) -> list[Span]:
    spans: list[Span] = []
    if _MESSENGER_URL_HINT.search(lowered):
        spans.extend(("handle", *_trimmed(match.start(), match.group())) for match in _MESSENGER_URL.finditer(text))
    if "@" in text:
        spans.extend(
            ("handle", match.start(), match.start() + len(match.group().rstrip(".")))
            for match in _AT_HANDLE.finditer(text)
        )
    for match in _runs(_HANDLE_AFTER_MESSENGER, _MESSENGER_HINT, lowered):
        target, start = match.group("target"), match.start("target")
        if target[0] in "+0123456789":
            spans.append(("phone", start, match.end("target")))
            continue
        target = target.rstrip(".")
        announced = any(character in match.group("separator") for character in ":=")
        looks_like_handle = target.startswith("@") or any(c.isdigit() or c in "_." for c in target)
        if looks_like_handle or (announced and len(target) >= 4 and target not in _NOT_HANDLES):
            spans.append(("handle", start, start + len(target)))
    return spans


def find_contacts(text: str) -> list[Span]:
    """Every contact detail in `text` as (kind, start, end), kind one of "phone", "email",
    "link", "handle". Spans may overlap (an e-mail's domain is also a domain); the caller
    merges them."""
    lowered = lower_keeping_length(text)
    return [
        *_email_spans(text, lowered),
        *_link_spans(text, lowered),
        *_handle_spans(text, lowered),
        *_phone_spans(lowered),
    ]
