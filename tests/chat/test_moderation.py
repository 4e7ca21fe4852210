# Russian text is the point here: Cyrillic letters that look Latin are meant.
# ruff: noqa: RUF001
"""Chat moderation against a table of cases: contact details in every common format and the
usual obfuscations, the logistics text that must stay as written, profanity in Russian and
English with its disguises, and the words that hold a profane root without being profane.

Pure function tests: no database, no Django.
"""

from __future__ import annotations

import dataclasses

import pytest

from apps.chat.moderation import CONTACT_MARKER, Finding, Moderated, moderate

HIDDEN = CONTACT_MARKER


# (text, expected text with mask_contacts=True)
PHONES = [
    ("+7 (916) 123-45-67", HIDDEN),
    ("89161234567", HIDDEN),
    ("8-916-123-45-67", HIDDEN),
    ("+44 20 7946 0958", HIDDEN),
    ("+1 415 555 2671", HIDDEN),
    ("+7 916 1234567", HIDDEN),
    ("7 916 123 45 67", HIDDEN),
    ("8(916)1234567", HIDDEN),
    ("+375 29 123-45-67", HIDDEN),
    ("+49 30 1234567", HIDDEN),
    ("+86 138 0013 8000", HIDDEN),
    ("0044 20 7946 0958", HIDDEN),
    ("Call me: 8 916 123 45 67", f"Call me: {HIDDEN}"),
    ("тел. 8 (495) 123-45-67 доб. 123", f"тел. {HIDDEN} доб. 123"),
    ("call me 123-45-67", f"call me {HIDDEN}"),
    ("89161234567, 89031234567", f"{HIDDEN}, {HIDDEN}"),
    ("8 916 123 45 67 и ещё 8 903 765 43 21", f"{HIDDEN} и ещё {HIDDEN}"),
    ("Позвоните мне: 8 (916) 123-45-67, спросите Ивана", f"Позвоните мне: {HIDDEN}, спросите Ивана"),
    # obfuscations: digits separated by spaces, dots, dashes, slashes; odd grouping
    ("8 9 1 6 1 2 3 4 5 6 7", HIDDEN),
    ("8.916.123.45.67", HIDDEN),
    ("8/916/123/45/67", HIDDEN),
    ("89 16 12 34 567", HIDDEN),
    # obfuscations: digits as words, English and Russian, and mixed with digits
    ("nine one six one two three four five six seven", HIDDEN),
    ("восемь девять один шесть один два три четыре пять шесть семь", HIDDEN),
    ("8 девять 1 шесть 123 45 67", HIDDEN),
    ("8 nine 1 six 1 2 3 4 5 6 7", HIDDEN),
    ("восемь-девять-один-шесть-1-2-3-4-5-6-7", HIDDEN),
    ("Мой номер восемь 916 один два три 45 67", f"Мой номер {HIDDEN}"),
    ("plus seven nine one six one two three four five six seven", HIDDEN),
    ("плюс семь девять один шесть один два три четыре пять шесть семь", HIDDEN),
]

EMAILS = [
    ("ivan@mail.ru", HIDDEN),
    ("write to ivan.petrov+cargo@gmail.com please", f"write to {HIDDEN} please"),
    ("ivan.petrov@company.com.ua", HIDDEN),
    ("ivan@mail.ru. It was fine", f"{HIDDEN}. It was fine"),
    ("пишите на ivan@почта.рф", f"пишите на {HIDDEN}"),
    # obfuscations
    ("ivan at mail dot ru", HIDDEN),
    ("IVAN AT MAIL DOT RU", HIDDEN),
    ("ivan (at) mail (dot) ru", HIDDEN),
    ("ivan[at]mail[dot]ru", HIDDEN),
    ("ivan{at}mail{dot}ru", HIDDEN),
    ("ivan[@]mail[.]ru", HIDDEN),
    ("ivan собака mail точка ru", HIDDEN),
    ("ivan (собака) yandex (точка) ru", HIDDEN),
    ("ivan @ mail . ru", HIDDEN),
    ("petrov at company.ru", HIDDEN),
    ("ivan at yandex dot ru or at gmail dot com", f"{HIDDEN} {HIDDEN}"),
]

LINKS = [
    ("https://example.com/path?a=1.", f"{HIDDEN}."),
    ("http://example.com", HIDDEN),
    ("HTTPS://EXAMPLE.COM/Path", HIDDEN),
    ("ftp://files.example.org/a.pdf", HIDDEN),
    ("see https://ru.wikipedia.org/wiki/Foo_(bar).", f"see {HIDDEN}."),
    ("www.example.org", HIDDEN),
    ("see example.com.", f"see {HIDDEN}."),
    ("shop.example.co.uk/path", HIDDEN),
    ("our site cargo-line.ru, welcome", f"our site {HIDDEN}, welcome"),
    ("сайт пример.рф", f"сайт {HIDDEN}"),
    ("example dot com", HIDDEN),
    ("example (dot) com", HIDDEN),
    ("example[.]com", HIDDEN),
    ("EXAMPLE.COM", HIDDEN),
    ("vk.com/id12345", HIDDEN),
]

HANDLES = [
    ("@username", HIDDEN),
    ("@ivan_petrov, please call", f"{HIDDEN}, please call"),
    ("my insta @cargo.master", f"my insta {HIDDEN}"),
    ("t.me/user", HIDDEN),
    ("https://t.me/ivan_petrov", HIDDEN),
    ("telegram.me/ivan", HIDDEN),
    ("wa.me/79161234567", HIDDEN),
    ("https://wa.me/79161234567?text=hi", HIDDEN),
    ("tg://resolve?domain=ivan", HIDDEN),
    ("viber://chat?number=79161234567", HIDDEN),
    ("telegram: user", f"telegram: {HIDDEN}"),
    ("tg: user", f"tg: {HIDDEN}"),
    ("tg @ivan", f"tg {HIDDEN}"),
    ("Telegram - ivan_petrov", f"Telegram - {HIDDEN}"),
    ("skype: name", f"skype: {HIDDEN}"),
    ("skype:ivan.petrov", f"skype:{HIDDEN}"),
    ("телеграм: ivan_petrov", f"телеграм: {HIDDEN}"),
    ("телеграм ivan_petrov", f"телеграм {HIDDEN}"),
    ("мой ник в телеге: ivan_p", f"мой ник в телеге: {HIDDEN}"),
    ("скайп: ivan.petrov", f"скайп: {HIDDEN}"),
    ("whatsapp 89161234567", f"whatsapp {HIDDEN}"),
    ("viber +7 916 123 45 67", f"viber {HIDDEN}"),
    ("вотсап 89161234567", f"вотсап {HIDDEN}"),
    ("ватсап: +7 916 123 45 67", f"ватсап: {HIDDEN}"),
    ("по вотсапу +7 916 123 45 67", f"по вотсапу {HIDDEN}"),
    ("вайбер: 89161234567", f"вайбер: {HIDDEN}"),
    ("WhatsApp/Viber: +7 916 123 45 67", f"WhatsApp/Viber: {HIDDEN}"),
]

# Logistics text, and ordinary words with "at"/"dot" in them: nothing to mask.
NOT_CONTACTS = [
    "20 pallets, 1500 kg",
    "price 12 500 RUB",
    "pickup 12.03.2026 at 10:30",
    "order ORD-2026-000123",
    "RFQ-2026-000045",
    "container MSCU1234565",
    "dimensions 120x80x150 cm",
    "temperature 2-8 °C",
    "ETA 3 days",
    "invoice № 4521",
    "Incoterms FCA",
    "a 40 ft container",
    "I will be at the dock at 5",
    "see the document",
    "version 2.0",
    "that data is dotted",
    "meet at the warehouse",
    "The data is at the server",
    "Look at that!",
    "I'm at home.It is",
    "done.It was fine",
    "it's 5 p.m. (approx.)",
    "call me @ 5",
    "meet me at the terminal dot gate 3",
    "Order ORD-2026-000123 and RFQ-2026-000045 are linked",
    "Seal number 1234567, container MSCU1234565",
    "Rate 145 000 RUB for 20 pallets, 1500 kg",
    "Pickup 12.03.2026 10:30, 22 pallets, 18 500 kg, rate 145 000 RUB, order ORD-2026-000123.",
    "pickup 12/03/2026 10:30-12:00",
    "Loading 2026-03-12 at 08:00",
    "ГРУЗ: 20 паллет, 1500 кг, 12 500 руб.",
    "Invoice #123456789",
    "ИНН 7707083893, КПП 770701001",
    "ОГРН 1027700132195",
    "AWB 176-12345675",
    "Bank account 40702810900000012345, BIK 044525225",
    "счёт 40702810900000012345",
    "tracking 1Z999AA10123456784",
    "Temperature +2..+8 °C",
    "deliver 1-2 pallets on 3-4 March",
    "Delivery window 14:00-18:00, dock 5, gate 12",
    "Version 2.0 of the document, see section 3.1.2",
    "Dimensions 1200 x 800 x 1500 mm",
    "pallet 120*80*150",
    "Coordinates 55.7558, 37.6173",
    "price 1 250 000 000 RUB",
    "сумма 1 234 567,89 руб.",
    "total $12,500.00",
    "boxes 48 36 24 12 60",
    "weights 1.5 2.5 3.5 4.5 5.5",
    "номер заказа 2026000123",
    "Заказ № 4521 от 12.03.2026",
    "e.g. this, i.e. that",
    "Mr. Smith and Mrs. Jones",
    "г.москва, ул.ленина, д. 5",
    "readme.md and logo.ai",
    "write me in whatsapp please",
    "telegram is better",
    "Telegram: we use it",
    "phone number please",
]

# (text, expected text), whatever mask_contacts says
PROFANITY = [
    ("fuck this", "f*** this"),
    ("what the fuck", "what the f***"),
    ("You are a fucking idiot", "You are a f****** idiot"),
    ("FUCK YOU", "F*** YOU"),
    ("motherfucker", "m***********"),
    ("bullshit!", "b*******!"),
    ("son of a bitch", "son of a b****"),
    ("asshole", "a******"),
    ("You dumbass", "You d******"),
    ("cunt", "c***"),
    # disguises: repeated letters, leetspeak, lookalikes, separators
    ("fuuuuuck", "f*******"),
    ("sh1t happens", "s*** happens"),
    ("Sh1t", "S***"),
    ("sh!t", "s***"),
    ("$hit", "$***"),
    ("@ss", "@**"),
    ("a$$hole", "a******"),
    ("b1tch", "b****"),
    ("fuсk with a Cyrillic с", "f*** with a Cyrillic с"),
    ("F.U.C.K", "F******"),
    ("go f u c k yourself", "go f****** yourself"),
    ("b.i.t.c.h", "b********"),
    # Russian
    ("Иди нахуй", "Иди н****"),
    ("хуёвый", "х*****"),
    ("какого хуя", "какого х**"),
    ("охуенно", "о******"),
    ("похуй", "п****"),
    ("это пиздец, а не доставка", "это п*****, а не доставка"),
    ("бля, опять опоздали", "б**, опять опоздали"),
    ("блять", "б****"),
    ("сука", "с***"),
    ("сучка", "с****"),
    ("ты мудак", "ты м****"),
    ("Ну ты и пидорас", "Ну ты и п******"),
    ("заебал", "з*****"),
    ("отъебись", "о*******"),
    ("долбоёб", "д******"),
    ("ёбаный", "ё*****"),
    ("ёб твою мать", "ё* твою мать"),
    ("Хуй", "Х**"),
    ("хули ты хулиган", "х*** ты хулиган"),
    ("blyat", "b****"),
    # Russian disguises: Latin lookalikes and digits inside Cyrillic words, repeats, separators
    ("xyй", "x**"),
    ("6ля", "6**"),
    ("пиzдец", "п*****"),
    ("пи3дец", "п*****"),
    ("бляяять", "б******"),
    ("х у й", "х****"),
]

# Words that hold a profane root, or look like one, and are not profane (the Scunthorpe problem)
NOT_PROFANITY = [
    "Scunthorpe assessment class pass cocktail Essex therapist",
    "assistant assume bass Dickens cockpit peacock shiitake cumulative analysis title passage",
    "Matsushita Yamashita Slutsk Wankel Fukushima",
    "употреблять оскорблять психиатр хлебать себя небо команда рубль сукно мудрый",
    "поставка доставка отправка упаковка ребята хлеб употребление оскорбление",
    "сабля колебля ансамбля стебля гребля корабля рубля рублями",
    "застрахуйте груз, не психуй",
    "страховка застраховать страхуем страхую груз, страхуя психуйте тебя себе небольшой хлебозавод учебный",
    "мудрость сукровица мандарин педиатр хула херес Херсон херувим шлюз гандбол хлебнуть хлебануть",
    "What the f*ck",  # already masked by its writer
]

CASES = [
    *[pytest.param(text, True, expected, id=f"phone: {text}") for text, expected in PHONES],
    *[pytest.param(text, True, expected, id=f"email: {text}") for text, expected in EMAILS],
    *[pytest.param(text, True, expected, id=f"link: {text}") for text, expected in LINKS],
    *[pytest.param(text, True, expected, id=f"handle: {text}") for text, expected in HANDLES],
    *[pytest.param(text, True, text, id=f"not a contact: {text}") for text in NOT_CONTACTS],
    *[pytest.param(text, False, expected, id=f"profanity: {text}") for text, expected in PROFANITY],
    *[pytest.param(text, True, expected, id=f"profanity, contacts masked: {text}") for text, expected in PROFANITY],
    *[pytest.param(text, True, text, id=f"not profanity: {text}") for text in NOT_PROFANITY],
    # mask_contacts=False: contacts stay as written, profanity is still masked
    *[
        pytest.param(text, False, text, id=f"contacts kept: {text}")
        for text, _ in [*PHONES[:6], *EMAILS[:8], *LINKS[:4], *HANDLES[:6]]
    ],
    pytest.param("а ну нахуй отсюда, 89161234567", False, "а ну н**** отсюда, 89161234567", id="profanity only"),
    pytest.param("а ну нахуй отсюда, 89161234567", True, f"а ну н**** отсюда, {HIDDEN}", id="profanity and phone"),
    pytest.param(
        "Call me at +7-916-123-45-67 or email ivan.petrov@gmail.com",
        True,
        f"Call me at {HIDDEN} or email {HIDDEN}",
        id="a phone and an e-mail in one sentence",
    ),
]


@pytest.mark.parametrize(("text", "mask_contacts", "expected_text"), CASES)
def test_moderation_masks_what_the_table_says_and_nothing_else(text, mask_contacts, expected_text):
    # given a message; when it is moderated
    moderated = moderate(text, mask_contacts=mask_contacts)

    # then the text the other side sees is the expected one
    assert moderated.text == expected_text
    assert moderated.changed is (expected_text != text)


def test_findings_give_the_kind_and_the_span_in_the_original_text():
    text = "call me +7 916 123-45-67, fucking hell, or ivan at mail dot ru, t.me/ivan, example.com"

    moderated = moderate(text, mask_contacts=True)

    assert [(finding.kind, text[finding.start : finding.end]) for finding in moderated.findings] == [
        ("phone", "+7 916 123-45-67"),
        ("profanity", "fucking"),
        ("email", "ivan at mail dot ru"),
        ("handle", "t.me/ivan"),
        ("link", "example.com"),
    ]
    starts = [finding.start for finding in moderated.findings]
    assert starts == sorted(starts)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("wa.me/79161234567", "handle"),  # a link to a messenger that holds a phone number
        ("https://t.me/ivan_petrov", "handle"),  # a URL and a handle
        ("ivan at mail dot ru", "email"),  # an e-mail whose domain is also a spelled-out link
        ("ivan @mail.ru", "email"),  # an e-mail whose "@mail.ru" also reads as a handle
        ("fuck@mail.ru", "email"),  # profanity inside a contact goes with the contact
    ],
)
def test_overlapping_findings_merge_into_one_finding_of_the_strongest_kind(text, kind):
    moderated = moderate(text, mask_contacts=True)

    assert moderated.findings == (Finding(kind=kind, start=0, end=len(text)),)
    assert moderated.text == HIDDEN


def test_each_contact_becomes_one_marker():
    moderated = moderate("ivan@mail.ru, petr@mail.ru and 89161234567", mask_contacts=True)

    assert moderated.text == f"{HIDDEN}, {HIDDEN} and {HIDDEN}"
    assert [finding.kind for finding in moderated.findings] == ["email", "email", "phone"]


def test_a_profane_word_keeps_its_first_letter_and_its_length():
    moderated = moderate("well, fuck", mask_contacts=False)

    assert moderated.text == "well, f***"
    assert len(moderated.text) == len("well, fuck")
    assert moderated.findings == (Finding(kind="profanity", start=6, end=10),)


def test_flags_say_what_was_masked():
    contacts_only = moderate("call 89161234567", mask_contacts=True)
    profanity_only = moderate("shit, call 89161234567", mask_contacts=False)
    clean = moderate("20 pallets at the dock at 5", mask_contacts=True)

    assert (contacts_only.contacts_masked, contacts_only.profanity_masked, contacts_only.changed) == (True, False, True)
    assert (profanity_only.contacts_masked, profanity_only.profanity_masked, profanity_only.changed) == (
        False,
        True,
        True,
    )
    assert (clean.contacts_masked, clean.profanity_masked, clean.changed) == (False, False, False)
    assert clean == Moderated(text="20 pallets at the dock at 5", findings=())


def test_without_mask_contacts_no_contact_is_found_or_reported():
    moderated = moderate("ivan@mail.ru, 89161234567, t.me/ivan, example.com", mask_contacts=False)

    assert moderated.findings == ()
    assert moderated.contacts_masked is False


def test_the_result_cannot_be_changed_after_the_fact():
    moderated = moderate("89161234567", mask_contacts=True)

    with pytest.raises(dataclasses.FrozenInstanceError):
        moderated.text = "89161234567"  # type: ignore[misc]


def test_an_empty_message_stays_empty():
    assert moderate("", mask_contacts=True) == Moderated(text="", findings=())


def test_a_long_message_has_every_contact_and_word_masked_and_its_text_kept():
    # given a 4,000-character message, the most the chat accepts, with a contact every few lines
    line = "Pickup 12.03.2026 at 10:30, order ORD-2026-000123, 22 pallets, 18 500 kg. "
    contact_line = "Call 8 916 123 45 67 or ivan@mail.ru, бля. "
    text = ((line * 3 + contact_line) * 20)[:4000]

    moderated = moderate(text, mask_contacts=True)

    kinds = [finding.kind for finding in moderated.findings]
    assert kinds.count("phone") == kinds.count("email") == kinds.count("profanity") == text.count(contact_line)
    assert moderated.text.count(line) == text.count(line)


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        pytest.param("@a" * 2000, [], id="at-signs"),
        pytest.param("ivan@" * 800, [], id="at-chains"),
        pytest.param("dot " * 1000, [], id="dots"),
        pytest.param("a." * 2000, [], id="dotted letters"),
        pytest.param("a " * 2000, [], id="spaced letters"),
        pytest.param("1-" * 2000, [], id="dashes"),
        pytest.param("one " * 1000, [], id="digit words"),
        pytest.param("хуй" * 1333, ["profanity"], id="one long word"),
        pytest.param("http://" + "a" * 3993, ["link"], id="long URL"),
    ],
)
def test_a_pathological_message_is_moderated_like_any_other(text, kinds):
    """Inputs that make a careless pattern backtrack for seconds (each letter of an entry may
    repeat, a domain may have many labels); here they come back like any other message."""
    moderated = moderate(text, mask_contacts=True)

    assert [finding.kind for finding in moderated.findings] == kinds
    assert all(finding.end - finding.start == len(text) for finding in moderated.findings)
