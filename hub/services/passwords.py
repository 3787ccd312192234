"""The password policy for accounts: at least 12 characters and not trivially guessable.

Refused, with a Dutch reason: shorter than 12; one character or a short pattern repeated
(``aaaaaaaaaaaa``, ``abcabcabcabc``); a run along the alphabet, the digits or the keyboard
(``abcdefghijkl``, ``123456789012``, ``qwertyuiopas``); the e-mail address or its local part; and a
shipped list of common Dutch and English passwords, also with digits or signs added at the end
(``Welkom2024!``, ``wachtwoord12``). Hashing stays scrypt (hub/services/users.py).
"""

from __future__ import annotations

import re

from shared.errors import InputError

MIN_PASSWORD_LENGTH = 12

#: Common passwords and the words they are built from (lower case); a password that is one of these,
#: perhaps followed by digits or signs, is refused.
COMMON = frozenset("""
password passw0rd wachtwoord wachtw00rd welkom welkom01 welkomwelkom geheim geheimpje qwerty azerty
letmein iloveyou admin administrator beheerder jeugdhub jeugdhulp gemeente school schooltje regio
zomer winter lente herfst voorjaar najaar januari februari maart april augustus september oktober
november december maandag dinsdag woensdag donderdag vrijdag zaterdag zondag
monkey dragon football voetbal ajax feyenoord psv sunshine princess master superman batman
trustno1 changeme veranderen veranderdit wijzigen starten inloggen login test testtest test1234
nederland amsterdam rotterdam utrecht denhaag holland oranje koning koningin
""".split())

_SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiopasdfghjklzxcvbnm", "azertyuiopqsdfghjklmwxcvbn",
              "1qaz2wsx3edc4rfv5tgb6yhn7ujm")


def _weak(message: str) -> InputError:
    return InputError(message, code="weak_password")


def _repeats(text: str) -> bool:
    """A pattern of at most a third of the password, repeated (``aaaa…``, ``abab…``, ``wachtwachtwacht``)."""
    n = len(text)
    return any(n % size == 0 and text == text[:size] * (n // size) for size in range(1, n // 2 + 1))


def _is_sequence(text: str) -> bool:
    for seq in _SEQUENCES:
        for s in (seq * 2, (seq * 2)[::-1]):
            if text in s:
                return True
    return False


def check(password: str, email: str = "") -> None:
    """Raise :class:`InputError` (code ``weak_password``) when the password does not meet the policy."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise _weak(f"Het wachtwoord moet minstens {MIN_PASSWORD_LENGTH} tekens hebben.")
    low = password.lower()
    if _repeats(low):
        raise _weak("Het wachtwoord is een herhaling van hetzelfde teken of patroon; kies iets dat niet te raden is.")
    if _is_sequence(low):
        raise _weak("Het wachtwoord is een reeks (zoals abcdef… of 123456…); kies iets dat niet te raden is.")
    local = (email or "").strip().lower().partition("@")[0]
    if local and len(local) >= 3 and local in low:
        raise _weak("Het wachtwoord mag uw e-mailadres (of het deel vóór de @) niet bevatten.")
    core = re.sub(r"[\d\W_]+$", "", low)
    core = re.sub(r"^[\d\W_]+", "", core)
    if low in COMMON or core in COMMON or (core and _repeats(core) and core[: len(core) // 2] in COMMON):
        raise _weak("Dit wachtwoord komt voor in lijsten met veelgebruikte wachtwoorden; kies een ander.")
